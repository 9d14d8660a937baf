// Import a saved trace: read the chosen file and hand it to the API, which checks it.
(() => {
  "use strict";
  const form = document.getElementById("import-form");
  if (!form) return;
  const message = document.getElementById("import-message");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.trace.files[0];
    if (!file) return;
    message.textContent = "Checking the trace…";
    const response = await fetch(`${document.body.dataset.root || ""}/api/runs/import`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: await file.text(),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 201) {
      location.assign(body.url);
    } else {
      message.textContent = `Not imported: ${body.detail || response.statusText}`;
    }
  });
})();
