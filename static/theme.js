// The projector theme: large type and strong contrast, remembered by this browser.
(() => {
  "use strict";
  const root = document.documentElement;
  const apply = (on) => {
    root.classList.toggle("projector", on);
    const button = document.getElementById("theme-toggle");
    if (button) button.setAttribute("aria-pressed", String(on));
  };
  apply(localStorage.getItem("theme") === "projector"); // before first paint: no flash
  document.addEventListener("DOMContentLoaded", () => {
    apply(root.classList.contains("projector"));
    document.getElementById("theme-toggle").addEventListener("click", () => {
      const on = !root.classList.contains("projector");
      localStorage.setItem("theme", on ? "projector" : "default");
      apply(on);
    });
  });
})();
