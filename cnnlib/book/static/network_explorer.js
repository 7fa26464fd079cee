/* The network explorer page: gallery, upload, probabilities, feature maps, and how one
 * number of a feature map is computed. Inlined after network_forward.js, whose
 * cnnlibDecodeNetwork, cnnlibForward and cnnlibLayerTypes it uses; window.cnnlibPredict
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
  const fmt = (v, digits) => {
    const text = v.toFixed(digits === undefined ? 3 : digits);
    return /^-0\.?0*$/.test(text) ? text.slice(1) : text;  // no "-0.00"
  };
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
  function highlight(layerIndex, y0, x0, size, channel) {
    root.querySelectorAll(".cnnn-window").forEach((n) => n.remove());
    const mark = (li, y, x, s, onlyChannel, cls) => {
      const section = root.querySelector('[data-cnnn-layer="' + li + '"]');
      const out = li < 0 ? null : current.outputs[li];
      if (!section || !out || out.shape.length !== 3) return;
      section.querySelectorAll(".cnnn-map").forEach((cell, ch) => {
        if (onlyChannel !== null && ch !== onlyChannel) return;
        const box = make("div", "cnnn-window " + cls);
        box.style.left = (100 * x / out.shape[1]) + "%";
        box.style.top = (100 * y / out.shape[0]) + "%";
        box.style.width = (100 * s / out.shape[1]) + "%";
        box.style.height = (100 * s / out.shape[0]) + "%";
        cell.appendChild(box);
      });
    };
    mark(layerIndex, y0.y, y0.x, 1, channel, "cnnn-window-out");
    if (x0) mark(layerIndex - 1, x0.y, x0.x, size, x0.channel === undefined ? null : x0.channel, "cnnn-window-in");
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

  function explain(i, y, x, ch) {
    const box = part("explain"), L = layers[i], out = current.outputs[i];
    const prev = i > 0 ? current.outputs[i - 1] : { shape: [inH, inW, inC], data: Float32Array.from(current.pixels) };
    const value = out.shape.length === 3 ? out.data[(y * out.shape[1] + x) * out.shape[2] + ch] : out.data[x];
    box.textContent = "";
    const where = out.shape.length === 3
      ? "row " + y + ", column " + x + ", channel " + ch : "unit " + x;
    box.appendChild(make("div", "cnnn-explain-head", "Layer " + i + " (" + L.type + "), " + where +
      ": value " + fmt(value, 4)));
    const line = (text) => box.appendChild(make("div", "cnnn-explain-line", text));
    const at = (t, yy, xx, cc) => t.data[(yy * t.shape[1] + xx) * t.shape[2] + cc];
    let total = null;
    if (L.type === "Conv2D") {
      const f = L.kernel_size, s = L.stride, p = L.padding, c = L.in_channels;
      const y0 = y * s - p, x0 = x * s - p;
      line("The " + f + "×" + f + "×" + c + " window of the previous layer's output at rows " +
        y0 + "…" + (y0 + f - 1) + ", columns " + x0 + "…" + (x0 + f - 1) +
        " (outlined above it), times filter " + ch + ", summed, plus the bias:");
      const table = make("table", "cnnn-sum");
      const head = make("tr");
      ["input channel", "window", "filter " + ch, "Σ window × filter"].forEach((t) => head.appendChild(make("th", "", t)));
      table.appendChild(head);
      total = L.bias[ch];
      let padded = false;
      for (let cc = 0; cc < c; cc++) {
        const win = [], filt = [];
        let partial = 0;
        for (let dy = 0; dy < f; dy++) {
          for (let dx = 0; dx < f; dx++) {
            const iy = y0 + dy, ix = x0 + dx, wv = L.weight[((ch * f + dy) * f + dx) * c + cc];
            const inside = iy >= 0 && iy < prev.shape[0] && ix >= 0 && ix < prev.shape[1];
            const xv = inside ? at(prev, iy, ix, cc) : null;
            win.push(xv); filt.push(wv);
            if (inside) partial += xv * wv; else padded = true;
          }
        }
        total += partial;
        const tr = make("tr");
        tr.appendChild(make("td", "", String(cc)));
        const a = make("td"); a.appendChild(grid(win, f)); tr.appendChild(a);
        const b = make("td"); b.appendChild(grid(filt, f)); tr.appendChild(b);
        tr.appendChild(make("td", "", fmt(partial, 4)));
        table.appendChild(tr);
      }
      const scroll = make("div", "cnnn-scroll");
      scroll.appendChild(table);
      box.appendChild(scroll);
      line("Sum over the " + c + " input channels " + fmt(total - L.bias[ch], 4) + " + bias " +
        fmt(L.bias[ch], 4) + " = " + fmt(total, 4) + (padded ? "  (\"pad\": zero padding, adds nothing)" : ""));
      highlight(i, { y: y, x: x }, { y: y0, x: x0, channel: undefined }, f, ch);
    } else if (L.type === "BatchNorm2D") {
      const xv = at(prev, y, x, ch), mu = L.running_mean[ch], v = L.running_var[ch];
      const g = L.weight[ch], b = L.bias[ch];
      total = g * (xv - mu) / Math.sqrt(v + L.eps) + b;
      line("γ (x − μ) / √(σ² + ε) + β = " + fmt(g, 4) + " × (" + fmt(xv, 4) + " − " + fmt(mu, 4) +
        ") / √(" + fmt(v, 4) + " + " + L.eps + ") + " + fmt(b, 4) + " = " + fmt(total, 4));
      line("μ and σ² are the running mean and variance of channel " + ch + " from training.");
      highlight(i, { y: y, x: x }, { y: y, x: x, channel: ch }, 1, ch);
    } else if (L.type === "ReLU") {
      const xv = out.shape.length === 3 ? at(prev, y, x, ch) : prev.data[x];
      total = Math.max(0, xv);
      line("max(0, " + fmt(xv, 4) + ") = " + fmt(total, 4));
      if (out.shape.length === 3) highlight(i, { y: y, x: x }, { y: y, x: x, channel: ch }, 1, ch);
    } else if (L.type === "MaxPool2D") {
      const f = L.kernel_size, s = L.stride, win = [];
      for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) win.push(at(prev, y * s + dy, x * s + dx, ch));
      total = Math.max(...win);
      line("The largest of the " + f + "×" + f + " window at rows " + y * s + "…" + (y * s + f - 1) +
        ", columns " + x * s + "…" + (x * s + f - 1) + " of channel " + ch + " of the previous layer:");
      box.appendChild(grid(win, f));
      line("max = " + fmt(total, 4));
      highlight(i, { y: y, x: x }, { y: y * s, x: x * s, channel: ch }, f, ch);
    } else if (L.type === "Standardize") {
      const xv = at(prev, y, x, ch);
      total = (xv - L.mean[ch]) / L.std[ch];
      line("(pixel − μ) / σ = (" + xv + " − " + fmt(L.mean[ch], 2) + ") / " + fmt(L.std[ch], 2) +
        " = " + fmt(total, 4));
    } else if (L.type === "Linear") {
      const n = prev.data.length, m = L.bias.length;
      const terms = Array.from(prev.data, (v, k) => [k, v, L.weight[k * m + x]]);
      total = L.bias[x] + terms.reduce((acc, t) => acc + t[1] * t[2], 0);
      terms.sort((a, b) => Math.abs(b[1] * b[2]) - Math.abs(a[1] * a[2]));
      line("bias + Σ input[k] × weight[k, " + x + "] over all " + n + " inputs. The ten largest terms:");
      const table = make("table", "cnnn-sum");
      const head = make("tr");
      ["input k", "input[k]", "weight[k, " + x + "]", "product"].forEach((t) => head.appendChild(make("th", "", t)));
      table.appendChild(head);
      for (const [k, v, w] of terms.slice(0, 10)) {
        const tr = make("tr");
        [String(k), fmt(v, 4), fmt(w, 4), fmt(v * w, 4)].forEach((t) => tr.appendChild(make("td", "", t)));
        table.appendChild(tr);
      }
      box.appendChild(table);
      line("All " + n + " products sum to " + fmt(total - L.bias[x], 4) + "; + bias " + fmt(L.bias[x], 4) +
        " = " + fmt(total, 4));
    } else if (L.type === "Flatten") {
      const [, w, c] = prev.shape;
      const c0 = x % c, x0 = Math.floor(x / c) % w, y0 = Math.floor(x / (c * w));
      total = at(prev, y0, x0, c0);
      line("Unit " + x + " = (row " + y0 + " · " + w + " + column " + x0 + ") · " + c + " + channel " + c0 +
        ": the previous layer's value there, " + fmt(total, 4));
    } else if (L.type === "Dropout") {
      total = prev.data[x];
      line("In evaluation mode dropout passes every value through: " + fmt(total, 4));
    }
    box.setAttribute("data-cnnn-recomputed", total === null ? "" : String(total));
    box.setAttribute("data-cnnn-value", String(value));
  }

  show(galleryImage(0), 0);
}
