// A classroom room over its websocket. The presenter's player drives the cursor; students
// follow it, may look back privately, and answer the questions the presenter opens.
(() => {
  "use strict";
  const room = document.getElementById("room");
  if (!room) return;
  const code = room.dataset.code;
  const runId = room.dataset.run;
  const presenting = room.dataset.role === "presenter";
  const stage = document.getElementById("stage");
  const status = document.getElementById("room-status");
  const questionPanel = presenting ? document.getElementById("tally") : document.getElementById("question");
  const state = {
    socket: null, roomCursor: 0, cursor: 0, total: 0, following: true, question: null, retry: 500,
    serverMoves: false, // the presenter follows the server only where the server moves the room
  };

  // -- connection -----------------------------------------------------------------------

  function connect(name) {
    const params = new URLSearchParams();
    if (presenting) params.set("token", localStorage.getItem(`room-token:${code}`) || "");
    if (name) params.set("name", name);
    const member = localStorage.getItem(`room-member:${code}`);
    if (member) params.set("member", member);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/rooms/${code}?${params}`);
    state.socket = socket;
    socket.addEventListener("message", (event) => receive(JSON.parse(event.data)));
    socket.addEventListener("open", () => { state.retry = 500; });
    socket.addEventListener("close", (event) => {
      if (socket !== state.socket) return;
      if (event.code >= 4400) return; // refused: the error message says why
      status.textContent = "Connection lost; reconnecting…";
      setTimeout(() => connect(name), state.retry);
      state.retry = Math.min(state.retry * 2, 8000);
    });
  }

  function send(message) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(message));
    }
  }

  // -- showing a cursor -----------------------------------------------------------------

  let renderToken = 0;
  async function show(cursor) {
    state.cursor = cursor;
    const position = document.getElementById("position");
    if (position && !presenting) position.textContent = `${cursor} / ${state.total}`;
    if (presenting) {
      if (cursor !== Number(stage.dataset.cursor)) location.hash = `step=${cursor}`; // the player moves
      return;
    }

    const token = ++renderToken;
    const response = await fetch(`/runs/${runId}/stage?cursor=${cursor}`);
    if (!response.ok || token !== renderToken) return;
    const html = await response.text();
    if (token !== renderToken) return;
    await htmx.swap({ target: stage, swap: "innerMorph", text: html, sourceElement: stage });
    window.centreStage(stage);
  }

  function follow(on) {
    state.following = on;
    room.classList.toggle("looking-back", !on);
    status.textContent = on ? "Following the presenter." : "Looking on your own. Press Follow to rejoin.";
    if (on) show(state.roomCursor);
  }

  // -- messages -------------------------------------------------------------------------

  function receive(message) {
    switch (message.type) {
      case "welcome":
        state.total = message.events || 0;
        state.serverMoves = true; // land where the room is
        if (message.member) localStorage.setItem(`room-member:${code}`, message.member);
        status.textContent = presenting ? "Presenting: your steps move every student." : "Following the presenter.";
        if (message.question) showQuestion(message.question);
        break;
      case "cursor":
        state.roomCursor = message.cursor;
        // A presenter's own steps come back as echoes, possibly behind where it already is:
        // it moves only where the server moved the room (joining, a question, a reveal).
        if (presenting && !state.serverMoves) break;
        state.serverMoves = false;
        if (state.following) show(message.cursor);
        break;
      case "members":
        document.getElementById("members").textContent = message.count
          ? `${message.count} student${message.count > 1 ? "s" : ""}: ${message.names.join(", ") || "no names given"}`
          : "No students yet.";
        break;
      case "question":
        showQuestion(message);
        break;
      case "tally":
        showTally(message);
        break;
      case "answered":
        for (const button of questionPanel.querySelectorAll("[data-choice]")) {
          button.setAttribute("aria-pressed", String(Number(button.dataset.choice) === message.choice));
        }
        break;
      case "reveal":
        showReveal(message);
        break;
      case "question_closed":
        state.question = null;
        questionPanel.replaceChildren();
        break;
      case "error":
        state.serverMoves = false; // whatever was asked did not happen
        status.textContent = message.message;
        break;
    }
  }

  // Build the question's markup with textContent only: names and texts are never HTML.
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showQuestion(question) {
    state.question = question;
    const box = element("div", "question");
    box.append(element("p", "question-label", "Predict"), element("p", "ask", question.ask));
    const list = element("div", "choices");
    question.choices.forEach((text, index) => {
      const item = element(presenting ? "p" : "button", "choice-button", text);
      item.dataset.choice = String(index);
      if (!presenting) {
        item.type = "button";
        item.setAttribute("aria-pressed", String(question.answer === index));
        item.addEventListener("click", () => send({ type: "answer", choice: index }));
      }
      list.append(item);
    });
    box.append(list);
    if (presenting) {
      const actions = element("p", "question-actions");
      const reveal = element("button", "primary", "Reveal what happened");
      reveal.type = "button";
      reveal.addEventListener("click", () => { state.serverMoves = true; send({ type: "reveal" }); });
      const close = element("button", "", "Close the question");
      close.type = "button";
      close.addEventListener("click", () => send({ type: "close_question" }));
      actions.append(reveal, close);
      box.append(element("p", "tally-line", "No answers yet."), actions);
    }
    questionPanel.replaceChildren(box);
    if (question.right !== undefined && question.right !== null) showReveal(question);
  }

  function showTally(tally) {
    if (!state.question) return;
    const rows = questionPanel.querySelectorAll("[data-choice]");
    rows.forEach((row, index) => {
      const count = tally.counts[index] || 0;
      row.textContent = `${state.question.choices[index]} — ${count}`;
      row.style.setProperty("--share", `${tally.answered ? (100 * count) / tally.answered : 0}%`);
    });
    const line = questionPanel.querySelector(".tally-line");
    if (line) line.textContent = `${tally.answered} of ${tally.members} students answered.`;
  }

  function showReveal(reveal) {
    for (const row of questionPanel.querySelectorAll("[data-choice]")) {
      const right = Number(row.dataset.choice) === reveal.right;
      row.classList.toggle("right", right);
      row.prepend(right ? "✓ " : "");
      if (!presenting) row.disabled = true;
    }
    const box = questionPanel.querySelector(".question");
    if (box && reveal.explain) box.append(element("p", "explain", reveal.explain));
  }

  // -- controls -------------------------------------------------------------------------

  if (presenting) {
    stage.addEventListener("player:rendered", (event) => {
      if (event.detail.cursor === state.roomCursor) return;
      state.roomCursor = event.detail.cursor;
      send({ type: "goto", cursor: event.detail.cursor });
    });
    room.addEventListener("click", (event) => {
      const button = event.target.closest("[data-ask]");
      if (!button) return;
      state.serverMoves = true;
      send({ type: "open_question", question: Number(button.dataset.ask) });
    });
    connect("");
  } else {
    room.addEventListener("click", (event) => {
      const button = event.target.closest("[data-look]");
      if (!button) return;
      const look = button.dataset.look;
      if (look === "follow") return follow(true);
      follow(false);
      show(Math.max(0, Math.min(state.total, state.cursor + (look === "back" ? -1 : 1))));
    });
    const form = document.getElementById("name-form");
    const nameInput = document.getElementById("name");
    nameInput.value = localStorage.getItem("room-name") || "";
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      localStorage.setItem("room-name", nameInput.value);
      if (state.socket) state.socket.close();
      connect(nameInput.value); // a new name: join again under it
    });
    connect(nameInput.value); // follow at once; a name can be given any time
  }
})();
