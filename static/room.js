// A classroom room over its websocket (htmx's hx-ws on #room). The server renders what the
// room shows (role, question, tally, reveal) and htmx swaps it in; this script keeps what only
// the browser knows: the presenter token and member id it holds, and which step it shows.
(() => {
  "use strict";
  const room = document.getElementById("room");
  if (!room) return;
  const code = room.dataset.code;
  const runId = room.dataset.run;
  const base = document.body.dataset.root || ""; // where the visualizer is mounted
  const presenterPage = room.dataset.role === "presenter";
  const stage = document.getElementById("stage");
  const status = document.getElementById("room-status");
  const position = document.getElementById("position");
  const total = Number(room.dataset.total || 0);
  const state = {
    presenting: false, // what the server admitted this page as
    roomCursor: Number(room.dataset.cursor || 0),
    cursor: Number(room.dataset.cursor || 0),
    following: true,
    pending: [], // cursors this presenter sent; their echoes are not moves to follow
    connection: null,
  };

  // -- the presenter token: it arrives in the URL fragment and never goes to the server's logs

  function takeTokenFromAddress() {
    const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (!match) return;
    localStorage.setItem(`room-token:${code}`, decodeURIComponent(match[1]));
    const rest = location.hash.replace(/(^#|&)token=[^&]+/, "$1").replace(/^#&/, "#");
    history.replaceState(null, "", location.pathname + location.search + (rest === "#" ? "" : rest));
  }

  function token() {
    return presenterPage ? localStorage.getItem(`room-token:${code}`) || "" : "";
  }

  function showPresenterLink() {
    const box = document.getElementById("presenter-link-box");
    const link = document.getElementById("presenter-link");
    const noToken = document.getElementById("no-token");
    if (noToken) noToken.hidden = token() !== "";
    if (!box || !link || token() === "") return;
    link.href = `${location.origin}/rooms/${code}/present#token=${encodeURIComponent(token())}`;
    box.hidden = false;
  }

  // -- the connection: htmx opens it; the query carries who this browser is ------------------

  room.addEventListener("htmx:ws:before:connection", (event) => {
    const params = new URLSearchParams();
    if (token()) params.set("token", token());
    const name = localStorage.getItem("room-name");
    if (!presenterPage && name) params.set("name", name);
    const member = localStorage.getItem(`room-member:${code}`);
    if (member) params.set("member", member);
    const connection = event.detail.connection;
    const query = params.toString();
    connection.url = connection.url.split("?")[0] + (query ? `?${query}` : "");
  });
  room.addEventListener("htmx:ws:after:connection", (event) => {
    state.connection = event.detail.connection;
  });
  room.addEventListener("htmx:ws:close", (event) => {
    if (event.detail.code >= 4400) return; // refused: the error message says why
    status.textContent = "Connection lost; reconnecting…";
  });
  room.addEventListener("htmx:ws:after:message:incoming", async (event) => {
    receive(await event.detail.message.json());
  });

  function send(message) {
    const socket = state.connection && state.connection.socket;
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function receive(message) {
    if (message.type === "welcome") {
      state.presenting = message.role === "presenter";
      state.pending = [];
      if (message.member) localStorage.setItem(`room-member:${code}`, message.member);
    } else if (message.type === "cursor") {
      moved(message.cursor);
    } else if (message.type === "error" && !message.content) {
      status.textContent = message.message; // a refused connection: shown as text
    }
  }

  // -- following the room's cursor --------------------------------------------------------------

  function moved(cursor) {
    state.roomCursor = cursor;
    if (state.presenting && state.pending.length && state.pending[0] === cursor) {
      state.pending.shift(); // our own step coming back: we are already there, or further
      return;
    }
    state.pending = [];
    if (presenterPage) {
      location.hash = `step=${cursor}`; // the player moves there
    } else if (state.following) {
      show(cursor);
    }
  }

  let renderToken = 0;
  async function show(cursor) {
    state.cursor = cursor;
    position.textContent = `${cursor} / ${total}`;
    const token = ++renderToken;
    const response = await fetch(`${base}/runs/${runId}/stage?cursor=${cursor}`);
    if (!response.ok || token !== renderToken) return;
    const html = await response.text();
    if (token !== renderToken) return;
    await htmx.swap({ target: stage, swap: "innerMorph", text: html, sourceElement: stage });
    window.centreStage(stage);
  }

  function follow(on) {
    state.following = on;
    room.classList.toggle("looking-back", !on);
    if (on) show(state.roomCursor);
  }

  function look(step) {
    follow(false);
    show(Math.max(0, Math.min(total, state.cursor + step)));
  }

  // -- controls ---------------------------------------------------------------------------------

  if (presenterPage) {
    takeTokenFromAddress();
    showPresenterLink();
    stage.addEventListener("player:rendered", (event) => {
      const cursor = event.detail.cursor;
      if (!state.presenting || cursor === state.roomCursor) return;
      state.roomCursor = cursor;
      state.pending.push(cursor);
      send({ type: "goto", cursor });
    });
  } else {
    const looks = { back: () => look(-1), forward: () => look(1), follow: () => follow(true) };
    room.addEventListener("click", (event) => {
      const button = event.target.closest("[data-look]");
      if (button) looks[button.dataset.look]();
    });
    // A clicker or the keyboard: arrows and Page Up/Down look around, Space or F follows.
    const keys = { back: "back", forward: "forward", toggle: "follow", end: "follow" };
    document.addEventListener("keydown", (event) => {
      const action = window.playbackKey(event, { f: "toggle" });
      if (action && keys[action]) looks[keys[action]]();
    });
    const nameInput = document.getElementById("name");
    nameInput.value = localStorage.getItem("room-name") || "";
    document.getElementById("name-form").addEventListener("submit", () => {
      localStorage.setItem("room-name", nameInput.value); // kept for the next visit
    });
  }
})();
