// Run by test_network_forward_js.py: node forward_check.js FORWARD_JS NETWORK_JSON PIXELS_JSON
// Prints JSON: per image, every layer's output and the probabilities; and the error a
// wrong number of pixels raises.
const fs = require("fs");
const [forwardJs, networkJson, pixelsJson] = process.argv.slice(2);
const f = require(forwardJs);
const network = JSON.parse(fs.readFileSync(networkJson, "utf8"));
const images = JSON.parse(fs.readFileSync(pixelsJson, "utf8"));
const layers = f.cnnlibDecodeNetwork(network);
const results = images.map((pixels) => {
  const r = f.cnnlibForward(layers, network.input_shape, pixels);
  return { outputs: r.outputs.map((o) => ({ shape: o.shape, data: Array.from(o.data) })),
           probs: r.probs };
});
let error = null;
try { f.cnnlibForward(layers, network.input_shape, [1, 2, 3]); } catch (e) { error = e.message; }
const described = layers.map((L) => f.cnnlibLayerTypes[L.type].describe(L));
process.stdout.write(JSON.stringify({ results, error, described }));
