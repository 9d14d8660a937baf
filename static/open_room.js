// Open a classroom room on this run. The presenter token stays in this browser only.
(() => {
  "use strict";
  const button = document.getElementById("open-room");
  if (!button) return;
  const message = document.getElementById("open-room-message");
  button.addEventListener("click", async () => {
    const response = await fetch("/api/rooms", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ run: button.dataset.run }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status !== 201) {
      message.textContent = `No room: ${body.detail || response.statusText}`;
      return;
    }
    localStorage.setItem(`room-token:${body.code}`, body.presenter_token);
    location.assign(`/rooms/${body.code}/present`);
  });
})();
