/* The book's trained network, run in the browser: the pure forward pass (no page, no DOM).
 *
 * cnnlib/book/network_explorer.py puts into the page the network's input shape, layers
 * and weights (one base64 byte string; filters and dense weights as float16, the rest as
 * float32). This file
 *   1. decodes the weights            (cnnlibDecodeNetwork),
 *   2. runs the forward pass          (cnnlibForward, through cnnlibLayerTypes: one entry
 *                                      per layer type with its forward function, the
 *                                      same formulas as cnnlib, its one-line
 *                                      description, and its explanation of one output
 *                                      number: that number recomputed, the lines that
 *                                      show how, and the window of the previous layer
 *                                      it comes from; plain data, which the page draws).
 * network_explorer.js (the page) is inlined after it, into the same function scope, so
 * every top-level name here starts with cnnlib. Node can load this file alone
 * (module.exports below), which is how tests/unit/book/test_network_forward_js.py checks
 * it against cnnlib. Activations are Float32Arrays of shape [H, W, C] (index
 * (y·W + x)·C + c), like cnnlib's (N, H, W, C) without N; sums are accumulated in
 * JavaScript's float64.
 */

// ---- 1. weights ---------------------------------------------------------------------

function cnnlibHalfToFloat(bits) {
  // IEEE 754 half precision: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * Math.pow(2, -24);  // subnormal
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * Math.pow(2, exponent - 15);
}

function cnnlibDecodeNetwork(spec) {
  if (spec.format !== "cnnlib-js-1") throw new Error("unknown network format " + spec.format);
  const binary = atob(spec.data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const tensor = (entry) => {
    const n = entry.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = entry.dtype === "f16"
        ? cnnlibHalfToFloat(view.getUint16(entry.offset + 2 * i, true))
        : view.getFloat32(entry.offset + 4 * i, true);
    }
    return out;
  };
  return spec.layers.map((layer) => {
    const decoded = {};
    for (const key in layer) {
      const value = layer[key];
      decoded[key] = value && typeof value === "object" && "offset" in value
        ? tensor(value) : value;
    }
    return decoded;
  });
}

// ---- 2. the forward pass: one entry per layer type -------------------------------------
//
// Each entry: forward(layer, x) -> {shape, data}; describe(layer) -> one line of text;
// explain(layer, prev, out, y, x, ch) -> {total, lines, window} for the number at row y,
// column x, channel ch of `out` (the layer's output; for a vector, y = ch = 0 and x is
// the unit) computed from `prev` (the previous layer's output, or the input pixels):
//   total   that number recomputed on its own, step by step as `lines` show it;
//   lines   in order: a string (one sentence), {grid: values, size: f} (an f×f block of
//           numbers, null for padding) or {table: {head: [text, ...], rows: [[cell, ...],
//           ...]}} with a cell a string or a {grid, size};
//   window  the part of `prev` it comes from, {y, x, size, channel} (channel null: all
//           channels), or null.

// v with `digits` decimals (3 if omitted), never "-0.00"
function cnnlibFormat(v, digits) {
  const text = v.toFixed(digits === undefined ? 3 : digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

// t[y, x, c] of an [H, W, C] activation
function cnnlibValueAt(t, y, x, c) {
  return t.data[(y * t.shape[1] + x) * t.shape[2] + c];
}

const cnnlibLayerTypes = {
  // (x - mean) / std per channel: raw pixels 0–255 -> standardized inputs
  Standardize: {
    describe: () => "Standardize: (pixel − channel mean) / channel std",
    forward(layer, x) {
      const [h, w, c] = x.shape, out = new Float32Array(x.data.length);
      for (let i = 0; i < out.length; i++) {
        out[i] = (x.data[i] - layer.mean[i % c]) / layer.std[i % c];
      }
      return { shape: [h, w, c], data: out };
    },
    explain(L, prev, out, y, x, ch) {
      const fmt = cnnlibFormat, xv = cnnlibValueAt(prev, y, x, ch);
      const total = (xv - L.mean[ch]) / L.std[ch];
      return {
        total: total,
        lines: ["(pixel − μ) / σ = (" + xv + " − " + fmt(L.mean[ch], 2) + ") / " +
                fmt(L.std[ch], 2) + " = " + fmt(total, 4)],
        window: { y: y, x: x, size: 1, channel: ch },
      };
    },
  },

  // out[y, x, k] = bias[k] + Σ_{dy, dx, c} weight[k, dy, dx, c] · in[y·S + dy − P, x·S + dx − P, c]
  Conv2D: {
    describe: (L) => "Conv2D: " + L.out_channels + " filters " + L.kernel_size + "×" +
      L.kernel_size + "×" + L.in_channels + ", stride " + L.stride + ", padding " + L.padding,
    forward(layer, x) {
      const [h, w, c] = x.shape;
      const f = layer.kernel_size, s = layer.stride, p = layer.padding, k = layer.out_channels;
      const h2 = Math.floor((h - f + 2 * p) / s) + 1, w2 = Math.floor((w - f + 2 * p) / s) + 1;
      const out = new Float32Array(h2 * w2 * k), wt = layer.weight, inp = x.data;
      for (let oy = 0; oy < h2; oy++) {
        for (let ox = 0; ox < w2; ox++) {
          for (let kk = 0; kk < k; kk++) {
            let sum = layer.bias[kk];
            for (let dy = 0; dy < f; dy++) {
              const iy = oy * s + dy - p;
              if (iy < 0 || iy >= h) continue;  // zero padding adds nothing
              for (let dx = 0; dx < f; dx++) {
                const ix = ox * s + dx - p;
                if (ix < 0 || ix >= w) continue;
                const wBase = ((kk * f + dy) * f + dx) * c, iBase = (iy * w + ix) * c;
                for (let cc = 0; cc < c; cc++) sum += wt[wBase + cc] * inp[iBase + cc];
              }
            }
            out[(oy * w2 + ox) * k + kk] = sum;
          }
        }
      }
      return { shape: [h2, w2, k], data: out };
    },
    // for the page: the window, the filter and the sum behind out[y, x, ch]
    explain(L, prev, out, y, x, ch) {
      const fmt = cnnlibFormat;
      const f = L.kernel_size, s = L.stride, p = L.padding, c = L.in_channels;
      const y0 = y * s - p, x0 = x * s - p, rows = [];
      let total = L.bias[ch], padded = false;
      for (let cc = 0; cc < c; cc++) {
        const win = [], filt = [];
        let partial = 0;
        for (let dy = 0; dy < f; dy++) {
          for (let dx = 0; dx < f; dx++) {
            const iy = y0 + dy, ix = x0 + dx, wv = L.weight[((ch * f + dy) * f + dx) * c + cc];
            const inside = iy >= 0 && iy < prev.shape[0] && ix >= 0 && ix < prev.shape[1];
            const xv = inside ? cnnlibValueAt(prev, iy, ix, cc) : null;
            win.push(xv); filt.push(wv);
            if (inside) partial += xv * wv; else padded = true;
          }
        }
        total += partial;
        rows.push([String(cc), { grid: win, size: f }, { grid: filt, size: f }, fmt(partial, 4)]);
      }
      return {
        total: total,
        lines: [
          "The " + f + "×" + f + "×" + c + " window of the previous layer's output at rows " +
            y0 + "…" + (y0 + f - 1) + ", columns " + x0 + "…" + (x0 + f - 1) +
            " (outlined above it), times filter " + ch + ", summed, plus the bias:",
          { table: { head: ["input channel", "window", "filter " + ch, "Σ window × filter"],
                     rows: rows } },
          "Sum over the " + c + " input channels " + fmt(total - L.bias[ch], 4) + " + bias " +
            fmt(L.bias[ch], 4) + " = " + fmt(total, 4) +
            (padded ? "  (\"pad\": zero padding, adds nothing)" : ""),
        ],
        window: { y: y0, x: x0, size: f, channel: null },
      };
    },
  },

  // evaluation mode: γ (x − running mean) / √(running var + ε) + β, per channel
  BatchNorm2D: {
    describe: () => "BatchNorm2D (evaluation mode: running statistics)",
    forward(layer, x) {
      const c = x.shape[2], out = new Float32Array(x.data.length);
      const scale = layer.weight.map((g, i) => g / Math.sqrt(layer.running_var[i] + layer.eps));
      for (let i = 0; i < out.length; i++) {
        const ch = i % c;
        out[i] = (x.data[i] - layer.running_mean[ch]) * scale[ch] + layer.bias[ch];
      }
      return { shape: x.shape, data: out };
    },
    explain(L, prev, out, y, x, ch) {
      const fmt = cnnlibFormat, xv = cnnlibValueAt(prev, y, x, ch);
      const mu = L.running_mean[ch], v = L.running_var[ch], g = L.weight[ch], b = L.bias[ch];
      const total = g * (xv - mu) / Math.sqrt(v + L.eps) + b;
      return {
        total: total,
        lines: [
          "γ (x − μ) / √(σ² + ε) + β = " + fmt(g, 4) + " × (" + fmt(xv, 4) + " − " + fmt(mu, 4) +
            ") / √(" + fmt(v, 4) + " + " + L.eps + ") + " + fmt(b, 4) + " = " + fmt(total, 4),
          "μ and σ² are the running mean and variance of channel " + ch + " from training.",
        ],
        window: { y: y, x: x, size: 1, channel: ch },
      };
    },
  },

  ReLU: {
    describe: () => "ReLU",
    forward(layer, x) {
      return { shape: x.shape, data: x.data.map((v) => (v > 0 ? v : 0)) };
    },
    explain(L, prev, out, y, x, ch) {
      const map = out.shape.length === 3, xv = map ? cnnlibValueAt(prev, y, x, ch) : prev.data[x];
      const total = Math.max(0, xv);
      return {
        total: total,
        lines: ["max(0, " + cnnlibFormat(xv, 4) + ") = " + cnnlibFormat(total, 4)],
        window: map ? { y: y, x: x, size: 1, channel: ch } : null,
      };
    },
  },

  // the largest value of each F×F window, channel by channel
  MaxPool2D: {
    describe: (L) => "MaxPool2D " + L.kernel_size + "×" + L.kernel_size + ", stride " + L.stride,
    forward(layer, x) {
      const [h, w, c] = x.shape, f = layer.kernel_size, s = layer.stride;
      const h2 = Math.floor((h - f) / s) + 1, w2 = Math.floor((w - f) / s) + 1;
      const out = new Float32Array(h2 * w2 * c);
      for (let oy = 0; oy < h2; oy++) {
        for (let ox = 0; ox < w2; ox++) {
          for (let cc = 0; cc < c; cc++) {
            let best = -Infinity;
            for (let dy = 0; dy < f; dy++) {
              for (let dx = 0; dx < f; dx++) {
                best = Math.max(best, x.data[((oy * s + dy) * w + ox * s + dx) * c + cc]);
              }
            }
            out[(oy * w2 + ox) * c + cc] = best;
          }
        }
      }
      return { shape: [h2, w2, c], data: out };
    },
    explain(L, prev, out, y, x, ch) {
      const fmt = cnnlibFormat, f = L.kernel_size, s = L.stride, win = [];
      for (let dy = 0; dy < f; dy++) {
        for (let dx = 0; dx < f; dx++) win.push(cnnlibValueAt(prev, y * s + dy, x * s + dx, ch));
      }
      const total = Math.max(...win);
      return {
        total: total,
        lines: [
          "The largest of the " + f + "×" + f + " window at rows " + y * s + "…" + (y * s + f - 1) +
            ", columns " + x * s + "…" + (x * s + f - 1) + " of channel " + ch +
            " of the previous layer:",
          { grid: win, size: f },
          "max = " + fmt(total, 4),
        ],
        window: { y: y * s, x: x * s, size: f, channel: ch },
      };
    },
  },

  // (H, W, C) -> (H·W·C,): the memory order is already cnnlib's flatten order
  Flatten: {
    describe: () => "Flatten",
    forward(layer, x) {
      return { shape: [x.data.length], data: x.data };
    },
    explain(L, prev, out, y, x) {
      const [, w, c] = prev.shape;
      const c0 = x % c, x0 = Math.floor(x / c) % w, y0 = Math.floor(x / (c * w));
      const total = cnnlibValueAt(prev, y0, x0, c0);
      return {
        total: total,
        lines: ["Unit " + x + " = (row " + y0 + " · " + w + " + column " + x0 + ") · " + c +
                " + channel " + c0 + ": the previous layer's value there, " +
                cnnlibFormat(total, 4)],
        window: { y: y0, x: x0, size: 1, channel: c0 },
      };
    },
  },

  Dropout: {
    describe: () => "Dropout (evaluation mode: passes everything through)",
    forward(layer, x) {  // evaluation mode: the identity
      return x;
    },
    explain(L, prev, out, y, x, ch) {
      const map = out.shape.length === 3;
      const total = map ? cnnlibValueAt(prev, y, x, ch) : prev.data[x];
      return {
        total: total,
        lines: ["In evaluation mode dropout passes every value through: " +
                cnnlibFormat(total, 4)],
        window: map ? { y: y, x: x, size: 1, channel: ch } : null,
      };
    },
  },

  // out[j] = bias[j] + Σ_i in[i] · weight[i, j], weight stored (in, out)
  Linear: {
    describe: (L) => "Linear (dense) " + L.in_features + " → " + L.out_features,
    forward(layer, x) {
      const n = x.data.length, m = layer.bias.length, out = new Float32Array(m);
      for (let j = 0; j < m; j++) {
        let sum = layer.bias[j];
        for (let i = 0; i < n; i++) sum += x.data[i] * layer.weight[i * m + j];
        out[j] = sum;
      }
      return { shape: [m], data: out };
    },
    explain(L, prev, out, y, x) {
      const fmt = cnnlibFormat, n = prev.data.length, m = L.bias.length;
      const terms = Array.from(prev.data, (v, k) => [k, v, L.weight[k * m + x]]);
      const total = L.bias[x] + terms.reduce((acc, t) => acc + t[1] * t[2], 0);
      terms.sort((a, b) => Math.abs(b[1] * b[2]) - Math.abs(a[1] * a[2]));
      return {
        total: total,
        lines: [
          "bias + Σ input[k] × weight[k, " + x + "] over all " + n + " inputs. The ten largest terms:",
          { table: { head: ["input k", "input[k]", "weight[k, " + x + "]", "product"],
                     rows: terms.slice(0, 10).map(([k, v, w]) =>
                       [String(k), fmt(v, 4), fmt(w, 4), fmt(v * w, 4)]) } },
          "All " + n + " products sum to " + fmt(total - L.bias[x], 4) + "; + bias " +
            fmt(L.bias[x], 4) + " = " + fmt(total, 4),
        ],
        window: null,
      };
    },
  },
};

function cnnlibSoftmax(logits) {
  const top = Math.max(...logits);
  const z = Array.from(logits, (v) => Math.exp(v - top));
  const total = z.reduce((a, b) => a + b, 0);
  return z.map((v) => v / total);
}

// pixels: H·W·C numbers 0–255 in (row, column, channel) order, inputShape [H, W, C] (the
// exported network's input_shape). Returns every layer's output (outputs[i] is layer
// i's) and the class probabilities.
function cnnlibForward(layers, inputShape, pixels) {
  const size = inputShape[0] * inputShape[1] * inputShape[2];
  if (!pixels || pixels.length !== size) {
    throw new Error("cnnlibPredict needs " + inputShape.join("·") + " = " + size +
                    " pixel values, got " + (pixels ? pixels.length : pixels));
  }
  let x = { shape: inputShape.slice(), data: Float32Array.from(pixels) };
  const outputs = [];
  for (const layer of layers) {
    x = cnnlibLayerTypes[layer.type].forward(layer, x);
    outputs.push(x);
  }
  return { outputs: outputs, probs: cnnlibSoftmax(x.data) };
}

if (typeof module !== "undefined" && module.exports) {  // Node, for the tests
  module.exports = { cnnlibHalfToFloat, cnnlibDecodeNetwork, cnnlibLayerTypes, cnnlibSoftmax,
                     cnnlibForward };
}
