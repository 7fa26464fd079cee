/* The stride/padding explorer in the browser: no Python kernel, no network.
 *
 * cnnlib/book/conv_explorer_html.py inlines this file into a page together with a table that
 * Python computed with cnnlib.book.geometry.describe_conv for every slider setting: whether
 * it fits, how many filter positions there are per axis, the formula with the numbers
 * filled in and the error message, word for word. This script only looks those up and
 * draws; it computes no rule of its own (only where the k-th position starts, k * S, and
 * where a dilated filter's taps lie, d pixels apart).
 */
function cnnlibConvExplorer(root) {
  "use strict";
  if (!root || root.getAttribute("data-cnnx-ready")) return;
  root.setAttribute("data-cnnx-ready", "1");

  const SVG_NS = "http://www.w3.org/2000/svg";
  const PARAMS = ["w", "f", "s", "p"];
  const data = JSON.parse(root.querySelector('script[data-cnnx="table"]').textContent);
  const part = (name) => root.querySelector('[data-cnnx="' + name + '"]');
  const inputs = {};
  for (const name of [...PARAMS, "d", "k", "step"]) {
    inputs[name] = root.querySelector('input[data-cnnx-param="' + name + '"]');
  }

  // ---- the table (mirror of cnnlib.book.conv_explorer_html.lookup) ----------------------------
  // A row is a string, one character per number (cnnlib.book.conv_explorer_html._pack).
  const unpack = (packed) => Array.from(packed, (ch) => ch.charCodeAt(0) - 0x40);

  function decodeText(row, at) {
    if (row[at] < 0) return [null, at + 1];
    const pieces = data.templates[row[at]].split("\u0000");
    let text = pieces[0];
    for (let i = 1; i < pieces.length; i++) text += String(row[at + i]) + pieces[i];
    return [text, at + pieces.length];
  }

  function lookup(v) {
    let index = 0;
    for (const name of PARAMS) {
      const [lo, hi] = data.ranges[name];
      index = index * (hi - lo + 1) + (v[name] - lo);
    }
    const row = unpack(data.rows[index]);
    let at = 0;
    for (let d = data.ranges.d[0]; d < v.d; d++) {  // skip the smaller dilations' entries
      at = decodeText(row, decodeText(row, at + 2)[1])[1];
    }
    const [formula, after] = decodeText(row, at + 2);
    const [error] = decodeText(row, after);
    return { ok: row[at] === 1, positions: row[at + 1], formula: formula, error: error };
  }

  // ---- SVG helpers ---------------------------------------------------------------------
  function el(parent, tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const key in attrs) node.setAttribute(key, attrs[key]);
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  function clear(svg, width, height) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  }

  const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");
  const MARGIN = 4, HEAD = 22;  // px around the grids; room for a line of text above

  // ---- the padded input, the filter positions --------------------------------------------
  function drawInput(v, e, starts, step) {
    const svg = part("input");
    const padded = v.w + 2 * v.p;
    const span = v.d * (v.f - 1) + 1;  // padded cells one position spans; F when d = 1
    let hang = null;  // invalid settings: the step that hangs over the edge
    if (!e.ok) {
      const left = starts.length ? starts[starts.length - 1] + v.s : 0;
      hang = { left: left, over: left + span - padded };
    }
    const wide = Math.max(padded, hang ? hang.left + span : 0);
    const tall = Math.max(padded, hang ? span : 0);
    const cs = Math.max(8, Math.min(26, Math.floor(300 / wide)));
    clear(svg, wide * cs + 2 * MARGIN, tall * cs + HEAD + 2 * MARGIN);
    const x = (c) => MARGIN + c * cs, y = (r) => HEAD + MARGIN + r * cs;

    // Which padded rows/columns some filter position reads (all of them unless S > F, or
    // the gaps between a dilated filter's taps are never read).
    const covered = new Array(padded).fill(!e.ok);
    if (e.ok) for (const s0 of starts) for (let j = 0; j < v.f; j++) covered[s0 + j * v.d] = true;
    const isPad = (i) => i < v.p || i >= v.p + v.w;
    for (let r = 0; r < padded; r++) {
      for (let c = 0; c < padded; c++) {
        const kind = isPad(r) || isPad(c) ? "pad" : (covered[r] && covered[c] ? "in" : "skip");
        el(svg, "rect", { x: x(c), y: y(r), width: cs, height: cs, class: "cnnx-cell cnnx-" + kind });
        if (kind === "pad" && cs >= 14) {
          el(svg, "text", { x: x(c + 0.5), y: y(r + 0.5), class: "cnnx-zero" }, "0");
        }
      }
    }

    const skipped = e.ok && covered.some((c, i) => !c && !isPad(i));
    // Floored sizes: cells after the last position. Python accepted the setting, so they
    // are zero padding (or pixels the stride skips between positions anyway).
    const leftover = e.ok ? padded - (starts[starts.length - 1] + span) : 0;
    root.setAttribute("data-cnnx-leftover", String(leftover));
    part("input-caption").textContent = e.ok
      ? "Input with zero padding (grey). Dots: where the filter's centre lands." +
        (v.d > 1 ? " Filled squares: the " + v.f + " × " + v.f + " taps of the outlined position, " +
          v.d + " pixels apart; the filter reads only those." : "") +
        (skipped ? (v.d > 1 ? " Pink: pixels no position reads (they fall between the taps," +
          " or the stride skips them)." : " Pink: pixels no position covers (the stride is larger" +
          " than the filter).") : "") +
        (leftover > 0 ? " The last " +
          (leftover === 1 ? "padded row and column are" : leftover + " padded rows and columns are") +
          " left over: S does not divide " + (v.d > 1 ? "W + 2P − d(F − 1) − 1" : "W − F + 2P") +
          ", so the size is floored, but no real pixel the filter would reach is lost." : "")
      : "Blue: the positions that fit along the top row. Red, dashed: the next step, which " +
        "hangs over the edge; flooring would drop it, and the real pixels only it would read.";
    if (e.ok) {
      for (const top of starts) {
        for (const left of starts) {
          el(svg, "circle", { cx: x(left + span / 2), cy: y(top + span / 2), r: Math.max(2, cs / 8),
                              class: "cnnx-dot" });
        }
      }
      const n = starts.length, shown = step === 0 ? 0 : step - 1;
      const top = starts[Math.floor(shown / n)], left = starts[shown % n];
      el(svg, "rect", { x: x(left), y: y(top), width: span * cs, height: span * cs,
                        class: "cnnx-window" + (step === 0 ? " cnnx-window-all" : "") });
      if (v.d > 1) {  // the dilated filter's taps: the only cells it reads
        for (let i = 0; i < v.f; i++) {
          for (let j = 0; j < v.f; j++) {
            el(svg, "rect", { x: x(left + j * v.d) + cs / 4, y: y(top + i * v.d) + cs / 4,
                              width: cs / 2, height: cs / 2, class: "cnnx-tap" });
          }
        }
      }
      if (leftover > 0) {  // the strips after the last position, outlined (dashed)
        const from = padded - leftover;
        el(svg, "rect", { x: x(from), y: y(0), width: leftover * cs, height: padded * cs,
                          class: "cnnx-leftover" });
        el(svg, "rect", { x: x(0), y: y(from), width: padded * cs, height: leftover * cs,
                          class: "cnnx-leftover" });
      }
      el(svg, "text", { x: MARGIN, y: HEAD - 7, class: "cnnx-note" },
         "padded input " + padded + "×" + padded + " (W = " + v.w + ", P = " + v.p +
         (v.d > 1 ? ", d = " + v.d : "") + ")" +
         (leftover > 0 ? "; dashed: left over" : ""));
    } else {
      for (const left of starts) {
        el(svg, "rect", { x: x(left), y: y(0), width: span * cs, height: span * cs, class: "cnnx-fit" });
      }
      el(svg, "rect", { x: x(hang.left), y: y(0), width: span * cs, height: span * cs, class: "cnnx-hang" });
      const where = starts.length
        ? "after " + plural(starts.length, "step") + ", the next one hangs over the edge by "
        : "the first step already hangs over the edge by ";
      el(svg, "text", { x: MARGIN, y: HEAD - 7, class: "cnnx-note cnnx-note-bad" },
         where + plural(hang.over, "cell"));
    }
  }

  // ---- the output volume: K sheets of W2 x W2 units ------------------------------------
  function drawOutput(v, e, step) {
    const svg = part("output");
    const caption = part("output-caption");
    if (!e.ok) {
      clear(svg, 220, 60);
      el(svg, "text", { x: MARGIN, y: 30, class: "cnnx-note cnnx-note-bad" }, "no output: the filter does not fit");
      caption.textContent = "No output for these settings.";
      return;
    }
    const n = e.positions;
    const cs = Math.max(8, Math.min(26, Math.floor(240 / n)));
    const shift = Math.max(4, Math.round(cs * 0.35));
    const depth = (v.k - 1) * shift;
    clear(svg, n * cs + depth + 2 * MARGIN, n * cs + depth + HEAD + 2 * MARGIN);
    for (let sheet = v.k - 1; sheet >= 0; sheet--) {  // back to front
      const g = el(svg, "g", { class: sheet === 0 ? "cnnx-sheet cnnx-front" : "cnnx-sheet cnnx-back" });
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) {
          el(g, "rect", { x: MARGIN + sheet * shift + c * cs, y: HEAD + MARGIN + depth - sheet * shift + r * cs,
                          width: cs, height: cs, class: "cnnx-out" });
        }
      }
    }
    if (step > 0) {
      const r = Math.floor((step - 1) / n), c = (step - 1) % n;
      el(svg, "rect", { x: MARGIN + c * cs, y: HEAD + MARGIN + depth + r * cs, width: cs, height: cs,
                        class: "cnnx-out-current" });
    }
    el(svg, "text", { x: MARGIN, y: HEAD - 7, class: "cnnx-note" },
       "output " + n + "×" + n + "×" + v.k + " (depth = K = " + v.k + ")");
    caption.textContent = "Output: one sheet of " + n + "×" + n + " numbers per filter, K = " +
      v.k + " sheets.";
  }

  // ---- one redraw from the slider values ----------------------------------------------
  function render() {
    const v = {};
    for (const name in inputs) v[name] = parseInt(inputs[name].value, 10);
    const e = lookup(v);
    const starts = [];
    for (let i = 0; i < e.positions; i++) starts.push(i * v.s);
    const total = e.ok ? e.positions * e.positions : 0;
    inputs.step.max = String(total);
    inputs.step.disabled = !e.ok;
    if (v.step > total) inputs.step.value = String(total);
    v.step = parseInt(inputs.step.value, 10);

    for (const name in inputs) {
      root.querySelector('[data-cnnx-readout="' + name + '"]').textContent = inputs[name].value;
    }
    root.classList.toggle("cnnx-invalid", !e.ok);
    part("formula").textContent = e.formula;
    part("w2").textContent = e.ok ? String(e.positions) : "none";
    part("d2").textContent = String(v.k);
    part("volume").textContent = e.ok ? e.positions + " × " + e.positions + " × " + v.k : "none";
    const error = part("error");
    error.hidden = e.ok;
    error.textContent = e.ok ? "" : e.error;

    let text;
    if (!e.ok) {
      text = "These settings do not fit, so the filter has no positions.";
    } else if (v.step === 0) {
      text = "The filter lands " + e.positions + " × " + e.positions + " = " + plural(total, "time") +
        ". Move “Filter position” (or press Play) to follow it, one output number at a time.";
    } else {
      const n = e.positions, r = Math.floor((v.step - 1) / n), c = (v.step - 1) % n;
      const span = v.d * (v.f - 1) + 1;
      const every = v.d > 1 ? " (every " + (v.d === 2 ? "2nd" : v.d === 3 ? "3rd" : v.d + "th") + ")" : "";
      text = "Position " + v.step + " of " + total + ": padded rows " + starts[r] + "–" +
        (starts[r] + span - 1) + every + ", columns " + starts[c] + "–" + (starts[c] + span - 1) +
        every + " → output unit (row " + r + ", column " + c + ") of each of the " +
        plural(v.k, "sheet") + ".";
    }
    part("steptext").textContent = text;
    drawInput(v, e, starts, v.step);
    drawOutput(v, e, v.step);
  }

  // ---- play: step through the positions ----------------------------------------------
  let timer = null;
  const play = part("play");
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "▶ Play";
  }
  play.addEventListener("click", () => {
    if (timer !== null) return stop();
    play.textContent = "❚❚ Pause";
    timer = setInterval(() => {
      const total = parseInt(inputs.step.max, 10);
      if (!document.body.contains(root) || total === 0) return stop();
      inputs.step.value = String(parseInt(inputs.step.value, 10) % total + 1);
      render();
    }, 700);
  });

  for (const name in inputs) inputs[name].addEventListener("input", render);
  render();
  // The step the page was generated with (only meaningful once the step slider's max is set).
  const initialStep = parseInt(root.getAttribute("data-cnnx-step") || "0", 10);
  if (initialStep > 0) {
    inputs.step.value = String(initialStep);
    render();
  }
}
