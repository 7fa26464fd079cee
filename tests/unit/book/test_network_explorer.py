"""cnnlib.book.network_explorer: the exported network, the rounded model, the page's data.

The browser side (the JavaScript forward pass, cnnlibPredict, upload and clicks) is
tested in tests/browser/test_browser_network.py.
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from networks import small_network

from cnnlib.book.network_explorer import (
    export_network,
    gallery_indices,
    layer_outputs,
    network_explorer_data,
    network_explorer_html,
    probabilities,
    rounded_model,
)
from cnnlib.nn.layers import Sequential, Tanh

CLASSES = [f"class {k}" for k in range(10)]




def decode(spec: dict) -> list[dict]:
    """Python mirror of cnnlibDecodeNetwork: the layers with their tensors as arrays."""
    raw = base64.b64decode(spec["data"])
    layers = []
    for layer in spec["layers"]:
        out = {}
        for key, value in layer.items():
            if isinstance(value, dict) and "offset" in value:
                dtype = "<f2" if value["dtype"] == "f16" else "<f4"
                n = int(np.prod(value["shape"]))
                out[key] = np.frombuffer(raw, dtype, n, value["offset"]).reshape(value["shape"])
            else:
                out[key] = value
        layers.append(out)
    return layers


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)


def test_export_holds_every_tensor_with_its_rounding():
    model = small_network()
    spec = export_network(model)
    assert spec["format"] == "cnnlib-js-1"
    layers = decode(spec)
    assert [entry["type"] for entry in layers] == [type(la).__name__ for la in model.layers]
    checked = 0
    for entry, layer in zip(layers, model.layers, strict=True):
        tensors = {**getattr(layer, "params", {}), **getattr(layer, "buffers", {})}
        assert set(tensors) <= set(entry)
        for name, value in tensors.items():
            half = (entry["type"], name) in {("Conv2D", "weight"), ("Linear", "weight")}
            expected = value.astype(np.float16) if half else value.astype(np.float32)
            np.testing.assert_array_equal(entry[name], expected)
            assert entry[name].shape == value.shape
            checked += 1
    assert checked == sum(len(getattr(la, "params", {})) + len(getattr(la, "buffers", {}))
                          for la in model.layers)
    conv = next(e for e in layers if e["type"] == "Conv2D")
    assert (conv["kernel_size"], conv["stride"], conv["padding"]) == (3, 1, 1)
    bn = next(e for e in layers if e["type"] == "BatchNorm2D")
    assert bn["eps"] == pytest.approx(1e-5)


def test_export_carries_each_layers_config_and_the_input_shape():
    model = small_network()
    spec = export_network(model)
    assert spec["input_shape"] == [32, 32, 3]
    for entry, layer in zip(spec["layers"], model.layers, strict=True):
        assert {k: entry[k] for k in layer.config()} == layer.config()


@pytest.mark.parametrize("shape, match", [
    ((16, 16, 3), r"input_shape = \(16, 16, 3\) does not fit the model: Linear expects"),
    ((32, 32), r"must be \(H, W, C\)"),
    ((32, 0, 3), "positive integers"),
])
def test_export_refuses_an_input_shape_the_model_does_not_take(shape, match):
    with pytest.raises(ValueError, match=match):
        export_network(small_network(), shape)


def test_export_is_json_and_half_the_size_of_float32():
    model = small_network()
    spec = export_network(model)
    assert json.loads(json.dumps(spec)) == spec
    n_bytes = len(base64.b64decode(spec["data"]))
    n_float32 = sum(v.size for v in model.params.values()) * 4
    assert n_bytes < 0.6 * n_float32


def test_unsupported_layer_is_refused():
    model = Sequential(Tanh())
    with pytest.raises(ValueError, match="Tanh.*cannot run in the browser"):
        export_network(model)
    with pytest.raises(ValueError, match="cannot run in the browser"):
        rounded_model(model)


def test_rounded_model_rounds_only_the_big_weights_and_leaves_the_original(images):
    model = small_network()
    before = {k: v.copy() for k, v in model.params.items()}
    rounded = rounded_model(model)
    for (key, value), layer_index in zip(model.params.items(),
                                         [int(k.split(".")[0]) for k in model.params],
                                         strict=True):
        np.testing.assert_array_equal(value, before[key])  # the original is untouched
        kind = type(model.layers[layer_index]).__name__
        got = rounded.params[key]
        if key.endswith("weight") and kind in ("Conv2D", "Linear"):
            np.testing.assert_array_equal(got, value.astype(np.float16).astype(np.float32))
        else:
            np.testing.assert_array_equal(got, value)
    assert rounded is not model
    p, q = probabilities(model, images), probabilities(rounded, images)
    assert 0 < np.abs(p - q).max() < 1e-2  # rounding changes something, but little


def test_probabilities_are_the_softmax_of_one_forward_pass(images):
    model = small_network()
    p = probabilities(model, images)
    logits = model.forward(images).astype(np.float64)
    np.testing.assert_allclose(p, np.exp(logits) / np.exp(logits).sum(1, keepdims=True),
                               rtol=1e-9)
    assert p.shape == (20, 10) and np.allclose(p.sum(axis=1), 1)


def test_layer_outputs_are_every_layer_in_order(images):
    model = small_network()
    outs = layer_outputs(model, images)
    assert len(outs) == len(model.layers)
    np.testing.assert_array_equal(outs[-1], model.forward(images))
    assert outs[1].shape == (20, 32, 32, 4) and outs[-1].shape == (20, 10)


def test_gallery_takes_the_first_images_of_every_class():
    labels = np.array([3, 1, 0, 1, 2, 0, 3, 2, 2, 1, 0, 3])
    picks = gallery_indices(labels, per_class=2)
    np.testing.assert_array_equal(picks, [2, 5, 1, 3, 4, 7, 0, 6])
    with pytest.raises(ValueError, match="every class needs 4 images"):
        gallery_indices(labels, per_class=4)


def test_explorer_data_carries_images_labels_and_cnnlib_probabilities(images):
    model = small_network()
    labels = np.arange(20) % 10
    data = network_explorer_data(model, images, labels, CLASSES)
    raw = np.frombuffer(base64.b64decode(data["images"]), np.uint8).reshape(images.shape)
    np.testing.assert_array_equal(raw, images)
    assert data["labels"] == labels.tolist() and data["classes"] == CLASSES
    np.testing.assert_allclose(data["cnnlib_probs"], probabilities(model, images), atol=1e-6)


@pytest.mark.parametrize("bad, match", [
    (lambda im: im.astype(np.float32), "uint8"),
    (lambda im: im[:, :16], r"input_shape = \(16, 32, 3\) does not fit the model"),
    (lambda im: im[..., :1], r"\(N, H, W, 3\)"),
    (lambda im: im[:0], r"N >= 1"),
])
def test_explorer_data_refuses_bad_images(images, bad, match):
    with pytest.raises(ValueError, match=match):
        network_explorer_data(small_network(), bad(images), np.zeros(20), CLASSES)


def test_explorer_data_refuses_mismatched_labels_and_classes(images):
    with pytest.raises(ValueError, match="20 images but 3 labels"):
        network_explorer_data(small_network(), images, [0, 1, 2], CLASSES)
    with pytest.raises(ValueError, match="10 classes but 3 class names"):
        network_explorer_data(small_network(), images, np.zeros(20), CLASSES[:3])


def test_explorer_html_is_self_contained_and_script_safe(images):
    names = ["</script><b>x</b>"] + CLASSES[1:]  # must not end the data's <script> early
    page = network_explorer_html(small_network(), images, np.arange(20) % 10, names,
                         element_id="net-1")
    assert 'id="net-1"' in page
    data_block = re.search(r'<script type="application/json" data-cnnn="data">(.*?)</script>',
                           page, re.S)
    assert data_block and json.loads(data_block.group(1))["classes"][0] == names[0]
    assert "function cnnlibForward" in page and "window.cnnlibPredict" in page
    assert page.index("function cnnlibForward") < page.index("function cnnlibNetworkExplorer")
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    with pytest.raises(ValueError, match="element_id"):
        network_explorer_html(small_network(), images, np.arange(20) % 10, CLASSES, element_id="1 x")
