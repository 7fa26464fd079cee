/* The book's trained network, run in the browser: the pure forward pass (no page, no DOM).
 *
 * cnnlib/book/network_explorer.py puts into the page the network's input shape, layers
 * and weights (one base64 byte string; filters and dense weights as float16, the rest as
 * float32). This file
 *   1. decodes the weights            (cnnlibDecodeNetwork),
 *   2. runs the forward pass          (cnnlibForward, through cnnlibLayerTypes: one entry
 *                                      per layer type with its forward function, the
 *                                      same formulas as cnnlib, and its one-line
 *                                      description).
 * network_explorer.js (the page) is inlined after it. Node can load this file alone
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
  },

  ReLU: {
    describe: () => "ReLU",
    forward(layer, x) {
      return { shape: x.shape, data: x.data.map((v) => (v > 0 ? v : 0)) };
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
  },

  // (H, W, C) -> (H·W·C,): the memory order is already cnnlib's flatten order
  Flatten: {
    describe: () => "Flatten",
    forward(layer, x) {
      return { shape: [x.data.length], data: x.data };
    },
  },

  Dropout: {
    describe: () => "Dropout (evaluation mode: passes everything through)",
    forward(layer, x) {  // evaluation mode: the identity
      return x;
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
