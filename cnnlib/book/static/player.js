/* A frame player for the book's animations: no Python kernel, no network.
 *
 * cnnlib/book/animations.py computes every frame with cnnlib at build time and writes them
 * into the page as JSON: one SVG drawing that stays (the grids' outlines and labels)
 * and, per frame, the SVG that changes (highlights and the numbers filled in so far)
 * and a caption. This script only shows frame i: it computes nothing itself.
 * Controls: first, step back, play/pause, step forward, and a slider over the frames.
 * The current frame index is kept in the root's data-cnnp-frame attribute (for tests).
 */
function cnnlibPlayer(root) {
  "use strict";
  if (!root || root.getAttribute("data-cnnp-ready")) return;
  root.setAttribute("data-cnnp-ready", "1");

  const data = JSON.parse(root.querySelector('script[data-cnnp="frames"]').textContent);
  const part = (name) => root.querySelector('[data-cnnp="' + name + '"]');
  const stage = part("stage"), caption = part("caption"), slider = part("slider");
  const readout = part("readout"), play = part("play");
  const n = data.frames.length;
  let index = 0, timer = null;

  slider.max = String(n - 1);

  function show(i) {
    index = Math.max(0, Math.min(n - 1, i));
    const frame = data.frames[index];
    stage.innerHTML = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ' + data.width +
      " " + data.height + '" width="' + data.width + '" role="img" aria-label="' +
      data.label + '">' + data.base + frame[0] + "</svg>";
    caption.textContent = frame[1];
    slider.value = String(index);
    readout.textContent = "frame " + (index + 1) + " / " + n;
    root.setAttribute("data-cnnp-frame", String(index));
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "\u25B6 Play";
    play.setAttribute("aria-pressed", "false");
  }

  function start() {
    if (index >= n - 1) show(0);  // play at the end starts again
    play.textContent = "\u2016 Pause";
    play.setAttribute("aria-pressed", "true");
    timer = setInterval(() => {
      if (index >= n - 1) { stop(); return; }
      show(index + 1);
    }, data.interval);
  }

  play.addEventListener("click", () => (timer === null ? start() : stop()));
  part("first").addEventListener("click", () => { stop(); show(0); });
  part("back").addEventListener("click", () => { stop(); show(index - 1); });
  part("next").addEventListener("click", () => { stop(); show(index + 1); });
  slider.addEventListener("input", () => { stop(); show(parseInt(slider.value, 10)); });
  show(0);
}
