"""A trained network, explorable and runnable in the browser: no kernel, no network.

Chapter 11 shows the model chapter 10 trained as a web page fragment. Python exports the
network (its architecture and every weight) into the page; a small, readable JavaScript
forward pass (cnnlib/book/static/network_forward.js, with the page's code in
network_explorer.js) runs it, so the page classifies any picture a reader drops on it,
and shows every layer's feature maps, with nothing behind the page but the browser:

    from IPython.display import HTML
    from cnnlib.book.network_explorer import network_explorer_html
    HTML(network_explorer_html(model, images, labels, class_names))

The page also defines `window.cnnlibPredict(pixels)`: 3,072 integers 0–255 in (row,
column, channel) order -> the 10 class probabilities of one forward pass in evaluation
mode (no test-time flip).

Size: the two large kinds of tensor (convolution filters and dense weights, 99.9 % of the
numbers) are stored as float16, everything else (biases, batch-norm statistics, input
standardization) as float32. `rounded_model` is the same network with the same rounding,
so Python can measure what the rounding costs; the JavaScript computes in float32/float64
and agrees with `rounded_model` to about 1e-6.

Book: chapter 11, the trained network in the browser.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Sequence

import numpy as np

from ..checks import positive_ints
from ..nn.layers import Conv2D, Dropout, Flatten, Linear, MaxPool2D, ReLU, Sequential
from ..nn.normalization import BatchNorm2D, Standardize
from . import pages

FORMAT = "cnnlib-js-1"
# Tensors stored as float16 in the page: (layer type, parameter name).
HALF_PRECISION = {("Conv2D", "weight"), ("Linear", "weight")}
SUPPORTED = (Standardize, Conv2D, BatchNorm2D, ReLU, MaxPool2D, Flatten, Linear, Dropout)


def _check_supported(model: Sequential) -> None:
    for i, layer in enumerate(model.layers):
        if not isinstance(layer, SUPPORTED):
            raise ValueError(f"layer {i} ({layer!r}) cannot run in the browser: the JavaScript "
                             f"forward pass knows {[c.__name__ for c in SUPPORTED]}")


def export_network(model: Sequential, input_shape: Sequence[int] = (32, 32, 3)) -> dict:
    """The network as JSON types: {"format", "input_shape", "layers": [...], "data"}.

    input_shape: (H, W, C) of one input image; the page sizes its input from it. Each
    layer is {"type": name, **layer.config(), tensor name: {"offset", "dtype", "shape"}}:
    its tensors are slices of one little-endian byte string (`data`, base64) starting at
    byte `offset`, as "f16" (filters, dense weights) or "f32" (the rest). Shapes follow
    cnnlib: conv weight (K, F, F, C), dense weight (in, out). Raises ValueError for a
    layer the page cannot run or an input shape the model does not accept.
    """
    _check_supported(model)
    shape = positive_ints("input_shape", input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape = {input_shape!r} must be (H, W, C) of one image")
    try:  # one blank image through the model, so a wrong shape fails here, not in the page
        copy.deepcopy(model).eval().forward(np.zeros((1, *shape), dtype=np.float32))
    except ValueError as error:
        raise ValueError(f"input_shape = {tuple(shape)} does not fit the model: {error}") from None
    chunks: list[bytes] = []
    offset = 0

    def add(array: np.ndarray, dtype: str) -> dict:
        nonlocal offset
        raw = np.ascontiguousarray(array, dtype="<f2" if dtype == "f16" else "<f4").tobytes()
        entry = {"offset": offset, "dtype": dtype, "shape": list(np.shape(array))}
        chunks.append(raw)
        offset += len(raw)
        return entry

    layers = []
    for layer in model.layers:
        kind = type(layer).__name__
        spec: dict = {"type": kind, **layer.config()}
        for name, value in {**layer.params, **layer.buffers}.items():
            spec[name] = add(value, "f16" if (kind, name) in HALF_PRECISION else "f32")
        layers.append(spec)
    return {"format": FORMAT, "input_shape": list(shape), "layers": layers,
            "data": base64.b64encode(b"".join(chunks)).decode("ascii")}


def rounded_model(model: Sequential) -> Sequential:
    """A copy of `model` (in eval mode) whose weights carry the page's float16 rounding.

    What the browser computes is this network's output; comparing it with `model`'s
    output measures what storing the weights in half precision costs.
    """
    _check_supported(model)
    copied = copy.deepcopy(model).eval()
    for layer in copied.layers:
        for name, value in getattr(layer, "params", {}).items():
            if (type(layer).__name__, name) in HALF_PRECISION:
                layer.params[name] = value.astype(np.float16).astype(value.dtype)
    return copied


def layer_outputs(model: Sequential, images: np.ndarray) -> list[np.ndarray]:
    """Every layer's output for images (N, H, W, C) in evaluation mode: one array per layer.

    The page shows the same list: out[i] is what layer i (model.layers[i]) produced.
    """
    model.eval()
    outputs, h = [], images
    for layer in model.layers:
        h = layer.forward(h)
        outputs.append(h)
    return outputs


def probabilities(model: Sequential, images: np.ndarray) -> np.ndarray:
    """softmax of one eval-mode forward pass (no flip), computed in float64: (N, classes)."""
    logits = model.eval().forward(images).astype(np.float64)
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def gallery_indices(labels: np.ndarray, per_class: int = 5) -> np.ndarray:
    """The first `per_class` images of every class, class by class: (classes·per_class,)."""
    labels = np.asarray(labels)
    picks = [np.flatnonzero(labels == k)[:per_class] for k in range(int(labels.max()) + 1)]
    if any(len(p) < per_class for p in picks):
        raise ValueError(f"every class needs {per_class} images for the gallery; counts are "
                         f"{[len(p) for p in picks]}")
    return np.concatenate(picks)


def network_explorer_data(model: Sequential, images: np.ndarray, labels: Sequence[int],
                  class_names: Sequence[str]) -> dict:
    """Everything the page needs, as JSON types.

    images: uint8 (N, H, W, 3), the gallery, in the model's input size; labels (N,) their
    true classes. The page carries the network (`export_network` with input shape
    (H, W, 3)), the images as base64 bytes, and cnnlib's own
    probabilities for each gallery image (float64 softmax of the float32 model), which the
    page shows next to its own.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3 or not len(images):
        raise ValueError(f"images must be uint8 (N, H, W, 3) with N >= 1, got {images.dtype} "
                         f"{images.shape}")
    labels = [int(k) for k in labels]
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    network = export_network(model, images.shape[1:])  # checks the images fit the model
    probs = probabilities(model, images)
    if probs.shape[1] != len(class_names):
        raise ValueError(f"the model scores {probs.shape[1]} classes but {len(class_names)} "
                         "class names were given")
    return {"network": network, "classes": list(class_names),
            "images": base64.b64encode(images.tobytes()).decode("ascii"),
            "labels": labels, "cnnlib_probs": np.round(probs, 6).tolist()}


def network_explorer_html(model: Sequential, images: np.ndarray, labels: Sequence[int],
                  class_names: Sequence[str], element_id: str | None = None) -> str:
    """An HTML fragment (inline <style>, data and <script>) with the network explorer.

    Defines window.cnnlibPredict. `element_id` names the root element (default: random).
    """
    root_id = pages.element_id(element_id, "cnnn")
    data = pages.script_json(network_explorer_data(model, images, labels, class_names))
    body = f"""<script type="application/json" data-cnnn="data">{data}</script>
<div class="cnnn-title">Inside the trained network</div>
<div class="cnnn-top">
<div class="cnnn-pick">
<div class="cnnn-label">Pick a test image (one column per class):</div>
<div class="cnnn-gallery" data-cnnn="gallery"></div>
<label class="cnnn-drop" data-cnnn="drop">
<span>… or classify your own picture: drop it here, or </span>
<input type="file" accept="image/*" data-cnnn="file" aria-label="choose a picture">
</label>
<div class="cnnn-crop" data-cnnn="crop" hidden>
<figure><canvas data-cnnn="crop-source" aria-label="your picture"></canvas>
<figcaption data-cnnn="crop-caption"></figcaption></figure>
<figure><canvas data-cnnn="crop-result" width="32" height="32"></canvas>
<figcaption>what the network sees: 32×32</figcaption></figure>
</div>
<div class="cnnn-error" data-cnnn="error" role="alert" hidden></div>
</div>
<div class="cnnn-result">
<figure class="cnnn-input"><canvas data-cnnn="input" width="32" height="32"></canvas>
<figcaption data-cnnn="input-caption"></figcaption></figure>
<div class="cnnn-probs"><div class="cnnn-label">Class probabilities (this page's
forward pass)</div><div data-cnnn="probs"></div>
<div class="cnnn-axis">probability: 0 → 1</div>
<div class="cnnn-verdict" data-cnnn="top" aria-live="polite"></div>
<div class="cnnn-small" data-cnnn="timing"></div></div>
</div>
</div>
<div class="cnnn-label">Every layer's output. Click a pixel of any feature map to see how
its number is computed.</div>
<div class="cnnn-legend" data-cnnn="legend">How to read the maps: white is 0, red is
positive, blue is negative, and all maps of one layer share one scale (its largest value
in size). Each stage halves the maps and each of their pixels summarizes a larger patch of
the input, so the deeper maps stop looking like the picture: they show <em>where</em> a
pattern was found, no longer what the picture looks like.</div>
<div class="cnnn-explain" data-cnnn="explain" aria-live="polite">(no pixel chosen yet)</div>
<div class="cnnn-layers" data-cnnn="layers"></div>
<noscript>This explorer needs JavaScript.</noscript>"""
    return pages.fragment("cnnn", root_id, body, css="network_explorer.css",
                          scripts=["network_forward.js", "network_explorer.js"],
                          start="cnnlibNetworkExplorer")


def network_explorer_page(model: Sequential, images: np.ndarray, labels: Sequence[int],
                  class_names: Sequence[str], title: str = "Inside the trained network") -> str:
    """A whole standalone HTML document holding `network_explorer_html(...)`."""
    return pages.page(title, network_explorer_html(model, images, labels, class_names))
