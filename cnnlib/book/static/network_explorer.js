/* The network explorer page: gallery, upload, probabilities, feature maps, and how one
 * number of a feature map is computed. Inlined after network_forward.js (same function
 * scope), whose cnnlibDecodeNetwork, cnnlibForward, cnnlibFormat and cnnlibLayerTypes it
 * uses: each layer type's describe gives a layer's heading and its explain the clicked
 * number's explanation as plain data, which this file draws (render) and outlines
 * (highlight). The input shape is the exported network's input_shape. window.cnnlibPredict
 * (pixels in (row, column, channel) order -> class probabilities) is defined here.
 */

function cnnlibNetworkExplorer(root) {
  "use strict";
  if (!root || root.getAttribute("data-cnnn-ready")) return;
  root.setAttribute("data-cnnn-ready", "1");
  const part = (name) => root.querySelector('[data-cnnn="' + name + '"]');
  const data = JSON.parse(part("data").textContent);
  const layers = cnnlibDecodeNetwork(data.network);
  const classes = data.classes;
  const [inH, inW, inC] = data.network.input_shape, inSize = inH * inW * inC;

  // The page's public function, and the one the explorer below classifies with:
  // pixels -> 10 probabilities. An optional array `outputs` receives every layer's output
  // ({shape, data}), which the explorer draws.
  window.cnnlibPredict = (pixels, outputs) => {
    const result = cnnlibForward(layers, data.network.input_shape, pixels);
    if (Array.isArray(outputs)) outputs.push(...result.outputs);
    return result.probs;
  };

  const imageBytes = Uint8Array.from(atob(data.images), (ch) => ch.charCodeAt(0));
  const galleryImage = (i) => imageBytes.subarray(i * inSize, (i + 1) * inSize);
  const fmt = cnnlibFormat;  // v with `digits` decimals, never "-0.00"
  const make = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  function drawRGB(canvas, pixels) {
    canvas.width = inW; canvas.height = inH;
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(inW, inH);
    for (let i = 0; i < inH * inW; i++) {
      img.data[4 * i] = pixels[3 * i]; img.data[4 * i + 1] = pixels[3 * i + 1];
      img.data[4 * i + 2] = pixels[3 * i + 2]; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  // ---- gallery ----
  const gallery = part("gallery");
  const perClass = data.labels.length / classes.length;
  for (let col = 0; col < classes.length; col++) {
    const column = make("div", "cnnn-gallery-col");
    column.appendChild(make("div", "cnnn-gallery-name", classes[col]));
    data.labels.forEach((label, i) => {
      if (label !== col) return;
      const c = make("canvas", "cnnn-thumb");
      c.setAttribute("data-cnnn-index", String(i));
      c.title = "test image " + i + ": " + classes[label];
      drawRGB(c, galleryImage(i));
      c.addEventListener("click", () => show(galleryImage(i), i));
      column.appendChild(c);
    });
    gallery.appendChild(column);
  }
  gallery.setAttribute("data-cnnn-per-class", String(perClass));

  // ---- your own picture: file picker and drag-and-drop ----
  const drop = part("drop"), errorBox = part("error");
  function fail(message) {
    errorBox.hidden = false;
    errorBox.textContent = message;
  }
  function readFile(file) {
    errorBox.hidden = true;
    if (!file) return;
    if (file.type && !file.type.startsWith("image/")) {
      fail(file.name + " is not an image (" + file.type + ")");
      return;
    }
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { classifyPicture(img, file.name); URL.revokeObjectURL(url); };
    img.onerror = () => { fail("the browser cannot read " + file.name + " as an image"); URL.revokeObjectURL(url); };
    img.src = url;
  }
  part("file").addEventListener("change", (e) => readFile(e.target.files[0]));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("cnnn-over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("cnnn-over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("cnnn-over");
    readFile(e.dataTransfer && e.dataTransfer.files[0]);
  });

  // The largest centred square of the picture, scaled to the network's input size.
  function classifyPicture(img, name) {
    const w = img.naturalWidth, h = img.naturalHeight, side = Math.min(w, h);
    const sx = Math.floor((w - side) / 2), sy = Math.floor((h - side) / 2);
    const src = part("crop-source"), scale = Math.min(1, 160 / Math.max(w, h));
    src.width = Math.max(1, Math.round(w * scale)); src.height = Math.max(1, Math.round(h * scale));
    const sctx = src.getContext("2d");
    sctx.drawImage(img, 0, 0, src.width, src.height);
    sctx.strokeStyle = getComputedStyle(root).getPropertyValue("--cnn-highlight").trim();
    sctx.lineWidth = 2;
    sctx.strokeRect(sx * scale + 1, sy * scale + 1, side * scale - 2, side * scale - 2);
    part("crop-caption").textContent = name + ": " + w + "×" + h + ", centre " + side + "×" + side;
    const out = part("crop-result"), octx = out.getContext("2d");
    octx.imageSmoothingEnabled = true; octx.imageSmoothingQuality = "high";
    out.width = inW; out.height = inH;
    octx.clearRect(0, 0, inW, inH);
    octx.fillStyle = "#fff"; octx.fillRect(0, 0, inW, inH);  // transparent pixels become white
    octx.drawImage(img, sx, sy, side, side, 0, 0, inW, inH);
    const rgba = octx.getImageData(0, 0, inW, inH).data, pixels = new Uint8Array(inSize);
    for (let i = 0; i < inH * inW; i++) {
      pixels[3 * i] = rgba[4 * i]; pixels[3 * i + 1] = rgba[4 * i + 1]; pixels[3 * i + 2] = rgba[4 * i + 2];
    }
    part("crop").hidden = false;
    show(pixels, null, name);
  }

  // ---- one image through the network ----
  let current = null;  // {pixels, outputs}

  function show(pixels, index, name) {
    const t0 = performance.now();
    const outputs = [];
    // Looked up on window at every call, so the page runs whatever cnnlibPredict is.
    const probs = window.cnnlibPredict(pixels, outputs);
    const ms = performance.now() - t0;
    current = { pixels: pixels, outputs: outputs };
    root.querySelectorAll(".cnnn-thumb").forEach((c) =>
      c.classList.toggle("cnnn-chosen", Number(c.getAttribute("data-cnnn-index")) === index));
    drawRGB(part("input"), pixels);
    part("input-caption").textContent = index === null
      ? "your picture (" + name + "), " + shapeText(data.network.input_shape)
      : "test image " + index + ", truly " + classes[data.labels[index]] + ", " +
        shapeText(data.network.input_shape);
    drawProbs(probs, index === null ? null : data.cnnlib_probs[index]);
    const top = probs.indexOf(Math.max(...probs));
    part("top").textContent = "The network says: " + classes[top] + " (" +
      (100 * probs[top]).toFixed(1) + " %)";
    part("timing").textContent = "forward pass in this browser: " + ms.toFixed(0) + " ms";
    part("explain").textContent = "(no pixel chosen yet)";
    drawLayers();
  }

  function drawProbs(probs, reference) {
    const box = part("probs");
    box.textContent = "";
    probs.forEach((p, k) => {
      const row = make("div", "cnnn-bar-row");
      row.appendChild(make("span", "cnnn-bar-name", classes[k]));
      const track = make("span", "cnnn-bar-track"), bar = make("span", "cnnn-bar");
      bar.style.width = (100 * p).toFixed(2) + "%";
      track.appendChild(bar);
      row.appendChild(track);
      const text = (100 * p).toFixed(1) + " %" +
        (reference ? "  (cnnlib: " + (100 * reference[k]).toFixed(1) + " %)" : "");
      row.appendChild(make("span", "cnnn-bar-value", text));
      box.appendChild(row);
    });
  }

  // ---- feature maps ----
  const shapeText = (shape) => shape.join("×");
  const describe = (i) => cnnlibLayerTypes[layers[i].type].describe(layers[i]);

  // One colour rule for every layer, so a positive number looks the same before and
  // after a ReLU: white 0, red positive, blue negative. Layers without negative values
  // (after ReLU and pooling) use the red half with a darker end, for more contrast.
  function colour(v, scale, signed) {
    const t = scale > 0 ? Math.max(-1, Math.min(1, v / scale)) : 0;
    if (!signed) return [255 - 75 * t, 255 - 225 * t, 255 - 225 * t];
    return t >= 0 ? [255, 255 - 200 * t, 255 - 200 * t] : [255 + 200 * t, 255 + 200 * t, 255];
  }

  function drawMap(canvas, out, ch, scale, signed) {
    const [h, w, c] = out.shape;
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      const rgb = colour(out.data[i * c + ch], scale, signed);
      img.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
  }

  function drawLayers() {
    const box = part("layers");
    box.textContent = "";
    current.outputs.forEach((out, i) => {
      const section = make("section", "cnnn-layer");
      section.setAttribute("data-cnnn-layer", String(i));
      const L = layers[i];
      section.appendChild(make("div", "cnnn-layer-head",
        "layer " + i + " · " + describe(i) + " · output " + shapeText(out.shape)));
      let maxAbs = 0, min = Infinity;
      for (const v of out.data) { maxAbs = Math.max(maxAbs, Math.abs(v)); min = Math.min(min, v); }
      const signed = min < 0;
      const maps = make("div", "cnnn-maps");
      if (out.shape.length === 3) {
        const size = Math.max(28, Math.round(out.shape[0] * 1.25));
        for (let ch = 0; ch < out.shape[2]; ch++) {
          const cell = make("div", "cnnn-map");
          const canvas = make("canvas");
          canvas.style.width = canvas.style.height = size + "px";
          canvas.title = "layer " + i + ", channel " + ch;
          canvas.setAttribute("data-cnnn-channel", String(ch));
          drawMap(canvas, out, ch, maxAbs, signed);
          canvas.addEventListener("click", (e) => {
            const r = canvas.getBoundingClientRect();
            const x = Math.min(out.shape[1] - 1, Math.floor((e.clientX - r.left) / r.width * out.shape[1]));
            const y = Math.min(out.shape[0] - 1, Math.floor((e.clientY - r.top) / r.height * out.shape[0]));
            explain(i, y, x, ch);
          });
          cell.appendChild(canvas);
          maps.appendChild(cell);
        }
      } else {  // a vector: one square per unit
        const n = out.shape[0];
        const canvas = make("canvas", "cnnn-vector");
        canvas.width = n; canvas.height = 1;
        canvas.style.width = Math.min(700, n * (n <= 16 ? 24 : 3)) + "px";
        canvas.style.height = "20px";
        drawMap(canvas, { shape: [1, n, 1], data: out.data }, 0, maxAbs, signed);
        canvas.setAttribute("data-cnnn-channel", "0");
        canvas.addEventListener("click", (e) => {
          const r = canvas.getBoundingClientRect();
          explain(i, 0, Math.min(n - 1, Math.floor((e.clientX - r.left) / r.width * n)), 0);
        });
        maps.appendChild(canvas);
      }
      section.appendChild(maps);
      if (L.type === "Linear" && out.shape[0] === classes.length) {
        section.appendChild(make("div", "cnnn-small", "scores (logits): " +
          Array.from(out.data, (v, k) => classes[k] + " " + fmt(v, 2)).join(", ")));
      }
      box.appendChild(section);
    });
  }

  // ---- how one number is computed ----
  // Outlines the clicked number (layer i, row y, column x, channel ch) and the window of
  // the previous layer it comes from (an explanation's `window`, or null); the input
  // image (layer -1) has no maps to outline.
  function highlight(i, y, x, ch, from) {
    root.querySelectorAll(".cnnn-window").forEach((n) => n.remove());
    const mark = (li, y0, x0, s, onlyChannel, cls) => {
      const section = root.querySelector('[data-cnnn-layer="' + li + '"]');
      const out = li < 0 ? null : current.outputs[li];
      if (!section || !out || out.shape.length !== 3) return;
      section.querySelectorAll(".cnnn-map").forEach((cell, c) => {
        if (onlyChannel !== null && c !== onlyChannel) return;
        const box = make("div", "cnnn-window " + cls);
        box.style.left = (100 * x0 / out.shape[1]) + "%";
        box.style.top = (100 * y0 / out.shape[0]) + "%";
        box.style.width = (100 * s / out.shape[1]) + "%";
        box.style.height = (100 * s / out.shape[0]) + "%";
        cell.appendChild(box);
      });
    };
    mark(i, y, x, 1, ch, "cnnn-window-out");
    if (from) {
      mark(i - 1, from.y, from.x, from.size,
           from.channel === null || from.channel === undefined ? null : from.channel,
           "cnnn-window-in");
    }
  }

  function grid(values, f) {  // an f×f block of numbers as a small table
    const table = make("table", "cnnn-grid");
    for (let r = 0; r < f; r++) {
      const tr = make("tr");
      for (let q = 0; q < f; q++) tr.appendChild(make("td", "", values[r * f + q] === null ? "pad" : fmt(values[r * f + q], 2)));
      table.appendChild(tr);
    }
    return table;
  }

  // One item of an explanation's `lines` (see network_forward.js): a sentence, a grid of
  // numbers, or a table (which scrolls when taller than the box) of texts and grids.
  function render(item) {
    if (typeof item === "string") return make("div", "cnnn-explain-line", item);
    if (item.grid) return grid(item.grid, item.size);
    const table = make("table", "cnnn-sum"), head = make("tr");
    item.table.head.forEach((t) => head.appendChild(make("th", "", t)));
    table.appendChild(head);
    for (const row of item.table.rows) {
      const tr = make("tr");
      for (const cell of row) {
        const td = make("td", "", typeof cell === "string" ? cell : undefined);
        if (typeof cell !== "string") td.appendChild(grid(cell.grid, cell.size));
        tr.appendChild(td);
      }
      table.appendChild(tr);
    }
    const scroll = make("div", "cnnn-scroll");
    scroll.appendChild(table);
    return scroll;
  }

  function explain(i, y, x, ch) {
    const box = part("explain"), L = layers[i], out = current.outputs[i];
    const prev = i > 0 ? current.outputs[i - 1]
      : { shape: [inH, inW, inC], data: Float32Array.from(current.pixels) };
    const value = out.shape.length === 3 ? out.data[(y * out.shape[1] + x) * out.shape[2] + ch] : out.data[x];
    const result = cnnlibLayerTypes[L.type].explain(L, prev, out, y, x, ch);
    box.textContent = "";
    const where = out.shape.length === 3
      ? "row " + y + ", column " + x + ", channel " + ch : "unit " + x;
    box.appendChild(make("div", "cnnn-explain-head", "Layer " + i + " (" + L.type + "), " + where +
      ": value " + fmt(value, 4)));
    result.lines.forEach((item) => box.appendChild(render(item)));
    highlight(i, y, x, ch, result.window);
    box.setAttribute("data-cnnn-recomputed", String(result.total));
    box.setAttribute("data-cnnn-value", String(value));
  }

  show(galleryImage(0), 0);
}
