// The live page: keep its list as long as the server keeps requests, and say whether the
// page is connected. The rows themselves are rendered by the server and swapped in by hx-ws.
(() => {
  "use strict";
  const feed = document.getElementById("live-feed");
  if (!feed) return;
  const rows = document.getElementById("requests");
  const status = document.getElementById("live-status");
  const keep = Number(feed.dataset.keep) || 500;

  feed.addEventListener("htmx:ws:after:connection", () => { status.textContent = "live"; });
  feed.addEventListener("htmx:ws:close", () => { status.textContent = "reconnecting…"; });
  feed.addEventListener("htmx:ws:after:message:incoming", () => {
    document.getElementById("no-requests")?.remove();
    while (rows.rows.length > keep) rows.deleteRow(-1);
  });
})();
