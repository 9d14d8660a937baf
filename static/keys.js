// The keys that step through a run, shared by the player and a student's room page. A
// presentation clicker sends arrows or Page Up/Down. A control clicked with the mouse gives
// the keys back to the page; one reached with the keyboard keeps the keys it uses itself.
(() => {
  "use strict";
  const KEYS = {
    " ": "toggle",
    ArrowLeft: "back",
    ArrowRight: "forward",
    PageUp: "back",
    PageDown: "forward",
    Home: "restart",
    End: "end",
  };
  let lastInput = "pointer";
  let focusByKeyboard = false; // how the focused element got its focus
  document.addEventListener("pointerdown", () => { lastInput = "pointer"; }, true);
  document.addEventListener("keydown", () => { lastInput = "key"; }, true);
  document.addEventListener("focusin", () => { focusByKeyboard = lastInput === "key"; }, true);

  const TEXT = "textarea, select[multiple], [contenteditable], "
    + "input:not([type=checkbox], [type=radio], [type=range], [type=button], [type=submit])";

  function ownsKey(target, key) {
    if (!(target instanceof Element)) return false;
    if (target.matches(TEXT)) return true; // typing: every key is the field's
    if (!focusByKeyboard) return false;
    if (key === " ") return target.matches("button, input, select, summary, a");
    return target.matches("select, input[type=range], input[type=radio]");
  }

  // The action a key asks for ("back", "forward", "toggle", "restart", "end", or one of
  // `extra`'s, by lower-case key), with its default prevented; null when it is not ours.
  window.playbackKey = (event, extra = {}) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return null;
    const action = KEYS[event.key] || extra[event.key.toLowerCase()];
    if (!action || ownsKey(event.target, event.key)) return null;
    event.preventDefault();
    return action;
  };
})();
