// Shared by the player and the classroom: after a stage is swapped in, keep the current
// code line and table row in view inside their own scrolling boxes.
window.centreStage = (stage) => {
  for (const selector of [".exec tr.current", ".code .line.current"]) {
    const item = stage.querySelector(selector);
    const box = item && item.closest(".scroll");
    if (!box) continue;
    const top = item.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    box.scrollTop = top - box.clientHeight / 2;
  }
};
