// The player: the run's events, a cursor, and play, pause, step, back, speed.
// The server renders the stage for each cursor; htmx morphs it in, so CSS transitions run.
(() => {
  "use strict";

  const BASE_DELAY_MS = 1200; // one event every 1.2 s at 1x: a human pace, whatever the run's

  const root = document.getElementById("player");
  if (!root) return;
  const runId = root.dataset.run;
  const base = document.body.dataset.root || ""; // where the visualizer is mounted
  const stage = document.getElementById("stage");
  const live = document.getElementById("live");
  const scrubber = document.getElementById("scrubber");
  const position = document.getElementById("position");
  const speedSelect = document.getElementById("speed");
  const liveStatus = document.getElementById("live-status");
  const toggleButton = root.querySelector('[data-action="toggle"]');
  const predictBox = document.getElementById("predict");
  const questionPanel = document.getElementById("question");
  const scoreOutput = document.getElementById("score");

  const state = {
    events: [], // the run's events in seq order, as the websocket delivers them
    ended: false,
    cursor: 0, // how many events are shown
    playing: false,
    wanted: null, // a cursor asked for (#step=N) before that many events had arrived
    timer: null,
    renderToken: 0,
  };
  const snapshots = new Map(); // cursor -> stage HTML, kept once the run has ended
  // Predict mode: where the questions stop, which were asked, and the score.
  const predict = { stops: null, asked: new Set(), right: 0, answered: 0, active: null };

  function requestedStep() {
    const match = /step=(\d+)/.exec(location.hash);
    return match ? Number(match[1]) : null;
  }

  function showPosition() {
    scrubber.max = String(state.events.length);
    scrubber.value = String(state.cursor);
    position.textContent = `${state.cursor} / ${state.events.length}`;
    const label = state.playing ? "Pause" : "Play";
    toggleButton.textContent = state.playing ? "❚❚ Pause" : "▶ Play";
    toggleButton.setAttribute("aria-label", label);
  }

  async function render(cursor) {
    const token = ++state.renderToken;
    let html = snapshots.get(cursor);
    if (html === undefined) {
      const response = await fetch(`${base}/runs/${runId}/stage?cursor=${cursor}`);
      if (!response.ok) return;
      html = await response.text();
      if (state.ended) snapshots.set(cursor, html);
    }
    if (token !== state.renderToken) return; // a later step was asked for meanwhile
    await htmx.swap({ target: stage, swap: "innerMorph", text: html, sourceElement: stage });
    window.centreStage(stage);
    stage.dispatchEvent(new CustomEvent("player:rendered", { detail: { cursor } }));
  }

  function go(cursor) {
    const target = Math.max(0, Math.min(cursor, state.events.length));
    if (target === state.cursor && stage.dataset.cursor === String(target)) return;
    state.cursor = target;
    stage.dataset.cursor = String(target);
    history.replaceState(null, "", `#step=${target}`);
    showPosition();
    render(target);
  }

  function schedule() {
    clearTimeout(state.timer);
    if (!state.playing) return;
    const speed = Number(speedSelect.value) || 1;
    state.timer = setTimeout(tick, BASE_DELAY_MS / speed);
  }

  function tick() {
    if (askIfDue()) return;
    if (state.cursor < state.events.length) {
      go(state.cursor + 1);
    } else if (state.ended) {
      pause();
      return;
    }
    schedule(); // not ended: wait for the next event to arrive
  }

  function play() {
    if (state.ended && state.cursor >= state.events.length) go(0);
    state.playing = true;
    showPosition();
    schedule();
  }

  function pause() {
    state.playing = false;
    clearTimeout(state.timer);
    showPosition();
  }

  const actions = {
    toggle: () => (state.playing ? pause() : play()),
    back: () => { pause(); go(state.cursor - 1); },
    forward: () => { pause(); if (!askIfDue()) go(state.cursor + 1); },
    restart: () => { resetPredictions(); go(0); play(); },
    end: () => { pause(); go(state.events.length); },
  };

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    const action = button && actions[button.dataset.action];
    if (action) action();
  });
  scrubber.addEventListener("input", () => {
    const wanted = Number(scrubber.value); // read before pause() redraws the scrubber
    pause();
    go(wanted);
  });
  speedSelect.addEventListener("change", schedule);

  document.addEventListener("keydown", (event) => {
    const action = window.playbackKey(event);
    if (!action) return;
    if (predict.active === null) {
      actions[action]();
    } else if (action === "forward" && questionPanel.querySelector("[data-correct]")) {
      closeQuestion(); // the verdict is read: a clicker's next moves on
    } // otherwise the question waits for its answer
  });

  function receive(message) {
    if (message.type === "event") {
      if (message.event.seq === state.events.length + 1) state.events.push(message.event);
      if (state.wanted !== null && state.events.length >= state.wanted) {
        go(state.wanted);
        state.wanted = null;
      }
      showPosition();
    } else if (message.type === "end") {
      state.ended = true;
      liveStatus.textContent = message.status === "failed"
        ? `The run failed${message.error ? ": " + message.error : "."}`
        : `All ${state.events.length} events recorded.`;
      if (state.wanted !== null) { go(state.wanted); state.wanted = null; }
      showPosition();
      document.body.dispatchEvent(new CustomEvent("run-ended", { detail: { status: message.status } }));
      if (predictBox.checked) loadStops();
    } else if (message.type === "error") {
      liveStatus.textContent = message.message;
    }
  }

  live.addEventListener("htmx:ws:after:message:incoming", async (event) => {
    receive(await event.detail.message.json());
  });
  live.addEventListener("htmx:ws:close", () => {
    if (!state.ended) liveStatus.textContent = "Connection lost; reconnecting…";
  });
  live.addEventListener("htmx:ws:after:connection", () => {
    if (!state.ended) liveStatus.textContent = "Recording…";
  });

  // -- predict mode -------------------------------------------------------------------------

  async function loadStops() {
    if (predict.stops !== null || !state.ended) return;
    const response = await fetch(`${base}/runs/${runId}/questions`);
    predict.stops = response.ok ? await response.json() : [];
    showScore();
  }

  function showScore() {
    if (!predictBox.checked) { scoreOutput.textContent = ""; return; }
    const total = predict.stops ? predict.stops.length : 0;
    scoreOutput.textContent = total
      ? `Predictions: ${predict.right} right of ${predict.answered} (${total} questions)`
      : "No questions for this run.";
  }

  // Stop and ask when the next event is one a question is about. True while one is open.
  function askIfDue() {
    if (predict.active !== null) return true;
    if (!predictBox.checked || !predict.stops) return false;
    const stop = predict.stops.find((s) => s.cursor === state.cursor && !predict.asked.has(s.question));
    if (!stop) return false;
    pause();
    ask(stop.question);
    return true;
  }

  async function ask(index) {
    predict.active = index;
    predict.asked.add(index);
    await htmx.ajax("GET", `${base}/runs/${runId}/questions/${index}`, { target: questionPanel, swap: "innerHTML" });
    const ask = questionPanel.querySelector(".ask");
    if (ask) ask.focus(); // read out; arrows do not change an answer nobody chose yet
  }

  function resetPredictions() {
    predict.asked.clear();
    predict.right = 0;
    predict.answered = 0;
    if (predict.active !== null) questionPanel.replaceChildren();
    predict.active = null;
    showScore();
  }

  function closeQuestion() {
    questionPanel.replaceChildren();
    predict.active = null;
    play();
  }

  // The answer is posted by htmx (hx-post on the form); the verdict it swaps in is counted.
  questionPanel.addEventListener("htmx:after:swap", () => {
    const verdict = questionPanel.querySelector("[data-correct]");
    if (!verdict || predict.active === null) return;
    predict.answered += 1;
    if (verdict.dataset.correct === "true") predict.right += 1;
    showScore();
    const next = questionPanel.querySelector('[data-action="continue"]');
    if (next) next.focus();
  });
  questionPanel.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button && ["continue", "skip-question"].includes(button.dataset.action)) closeQuestion();
  });
  predictBox.checked = localStorage.getItem("predict-mode") === "on";
  predictBox.addEventListener("change", () => {
    localStorage.setItem("predict-mode", predictBox.checked ? "on" : "off");
    if (predictBox.checked) loadStops();
    showScore();
  });

  // A #step=N link followed on this page moves there too.
  window.addEventListener("hashchange", () => {
    const asked = requestedStep();
    if (asked === null || asked === state.cursor) return;
    pause();
    if (asked <= state.events.length) go(asked);
    else state.wanted = asked;
  });

  const asked = requestedStep();
  stage.dataset.cursor = "0";
  if (asked !== null) {
    state.wanted = asked;
  } else if (root.dataset.status === "running") {
    play(); // a run just started: play it as its events arrive
  }
  showPosition();
})();
