// Run by test_network_forward_js.py:
//   node forward_check.js FORWARD_JS NETWORK_JSON PIXELS_JSON POSITIONS_JSON
// POSITIONS_JSON lists [image, layer, y, x, ch] (for a vector layer y = ch = 0, x the unit).
// Prints JSON: per image, every layer's output and the probabilities; the explanation
// ({total, lines, window}) of every listed position; each layer's description; which of
// forward/describe/explain every layer type has; and the error a wrong number of pixels
// raises.
const fs = require("fs");
const [forwardJs, networkJson, pixelsJson, positionsJson] = process.argv.slice(2);
const f = require(forwardJs);
const read = (path) => JSON.parse(fs.readFileSync(path, "utf8"));
const network = read(networkJson), images = read(pixelsJson), positions = read(positionsJson);
const layers = f.cnnlibDecodeNetwork(network);
const runs = images.map((pixels) => f.cnnlibForward(layers, network.input_shape, pixels));
const results = runs.map((r) => ({
  outputs: r.outputs.map((o) => ({ shape: o.shape, data: Array.from(o.data) })),
  probs: r.probs,
}));
const explained = positions.map(([image, i, y, x, ch]) => {
  const outputs = runs[image].outputs;
  const prev = i > 0 ? outputs[i - 1]
    : { shape: network.input_shape, data: Float32Array.from(images[image]) };
  return f.cnnlibLayerTypes[layers[i].type].explain(layers[i], prev, outputs[i], y, x, ch);
});
let error = null;
try { f.cnnlibForward(layers, network.input_shape, [1, 2, 3]); } catch (e) { error = e.message; }
const described = layers.map((L) => f.cnnlibLayerTypes[L.type].describe(L));
const entries = {};
for (const [type, entry] of Object.entries(f.cnnlibLayerTypes)) {
  entries[type] = ["forward", "describe", "explain"].filter((k) => typeof entry[k] === "function");
}
process.stdout.write(JSON.stringify({ results, explained, error, described, entries }));
