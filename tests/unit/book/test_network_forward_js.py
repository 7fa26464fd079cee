"""The browser's forward pass (cnnlib/book/static/network_forward.js) alone, in Node.

Every layer's output and the probabilities against cnnlib on the same float16-rounded
weights, and every layer type's explanation of one number (recomputed on its own) against
that number. Needs Node (Debian's nodejs, no npm); skips without it unless
CNNLIB_REQUIRE_BROWSER=1. The JavaScript side is forward_check.js beside this file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from networks import small_network

from cnnlib.book.network_explorer import (
    SUPPORTED,
    export_network,
    layer_outputs,
    probabilities,
    rounded_model,
)

NODE = shutil.which("node")
if NODE is None and os.environ.get("CNNLIB_REQUIRE_BROWSER") == "1":
    raise RuntimeError("CNNLIB_REQUIRE_BROWSER=1 but node is not installed")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node (Debian's nodejs)")
FORWARD_JS = resources.files("cnnlib.book").joinpath("static", "network_forward.js")
CHECK_JS = Path(__file__).with_name("forward_check.js")


def sample_positions(model, images: np.ndarray) -> list[list[int]]:
    """[image, layer, y, x, ch] to explain: per image and layer the corners (padding for
    a convolution), the middle and three random positions."""
    rng = np.random.default_rng(7)
    positions = []
    for image in range(len(images)):
        for layer, out in enumerate(layer_outputs(model, images[:1])):
            shape = out.shape[1:]
            if len(shape) == 3:
                h, w, c = shape
                picks = [(0, 0, 0), (h - 1, w - 1, c - 1), (h // 2, w // 2, c // 2)]
                picks += [tuple(int(rng.integers(n)) for n in shape) for _ in range(3)]
            else:
                n = shape[0]
                picks = [(0, 0, 0), (0, n - 1, 0)] + [(0, int(rng.integers(n)), 0)
                                                       for _ in range(3)]
            positions += [[image, layer, *p] for p in picks]
    return positions


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    model = small_network()
    images = np.random.default_rng(4).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    positions = sample_positions(model, images)
    folder = tmp_path_factory.mktemp("forward")
    (folder / "net.json").write_text(json.dumps(export_network(model)))
    (folder / "pixels.json").write_text(json.dumps(images.reshape(3, -1).tolist()))
    (folder / "positions.json").write_text(json.dumps(positions))
    out = subprocess.run([NODE, str(CHECK_JS), str(FORWARD_JS), str(folder / "net.json"),
                          str(folder / "pixels.json"), str(folder / "positions.json")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return model, images, positions, json.loads(out.stdout)


def test_every_layer_agrees_with_cnnlib_on_the_rounded_weights(run):
    model, images, _, got = run
    rounded = rounded_model(model)
    for i, image in enumerate(images):
        expected = layer_outputs(rounded, image[None])
        for layer, (mine, js) in enumerate(zip(expected, got["results"][i]["outputs"],
                                               strict=True)):
            assert list(mine.shape[1:]) == js["shape"], f"layer {layer}"
            scale = max(1.0, float(np.abs(mine).max()))
            np.testing.assert_allclose(np.array(js["data"]), mine.ravel(), atol=1e-4 * scale,
                                       err_msg=f"layer {layer}")


def test_probabilities_agree_with_cnnlib(run):
    model, images, _, got = run
    np.testing.assert_allclose([r["probs"] for r in got["results"]],
                               probabilities(rounded_model(model), images), atol=1e-5)


def test_a_wrong_number_of_pixels_is_refused_with_what_was_needed(run):
    assert run[3]["error"] == "cnnlibPredict needs 32·32·3 = 3072 pixel values, got 3"


def test_every_layer_type_has_one_entry_with_forward_describe_and_explain(run):
    model, _, _, got = run
    assert got["entries"] == {cls.__name__: ["forward", "describe", "explain"]
                              for cls in SUPPORTED}
    assert got["described"][1].startswith("Conv2D: ") and len(got["described"]) == len(model.layers)


def _value(output: dict, y: int, x: int, ch: int) -> float:
    shape, data = output["shape"], output["data"]
    return data[(y * shape[1] + x) * shape[2] + ch] if len(shape) == 3 else data[x]


def test_every_explanation_recomputes_the_number_it_explains(run):
    model, _, positions, got = run
    assert {type(model.layers[p[1]]) for p in positions} == set(SUPPORTED)
    for (image, layer, y, x, ch), explained in zip(positions, got["explained"], strict=True):
        output = got["results"][image]["outputs"][layer]
        scale = float(np.abs(output["data"]).max())
        assert explained["total"] == pytest.approx(_value(output, y, x, ch), rel=1e-4,
                                                   abs=1e-6 * scale), (layer, y, x, ch)


def test_explanations_are_plain_lines_grids_and_tables(run):
    model, _, positions, got = run
    for (image, layer, y, x, ch), explained in zip(positions, got["explained"], strict=True):
        assert explained["lines"] and isinstance(explained["lines"][0], str)
        for item in explained["lines"]:
            if isinstance(item, str):
                continue
            if "grid" in item:
                assert len(item["grid"]) == item["size"] ** 2
                continue
            table = item["table"]
            for row in table["rows"]:
                assert len(row) == len(table["head"])
                for cell in row:
                    assert isinstance(cell, str) or len(cell["grid"]) == cell["size"] ** 2
        la = model.layers[layer]
        kind, window = type(la).__name__, explained["window"]
        if kind == "Conv2D":
            f, s, p = la.kernel_size, la.stride, la.padding
            y0, x0 = y * s - p, x * s - p
            assert window == {"y": y0, "x": x0, "size": f, "channel": None}
            assert f"at rows {y0}…{y0 + f - 1}, columns {x0}…{x0 + f - 1}" in explained["lines"][0]
            rows = explained["lines"][1]["table"]["rows"]
            assert len(rows) == la.in_channels
            padded = any(v is None for row in rows for v in row[1]["grid"])
            h, w, _ = got["results"][image]["outputs"][layer - 1]["shape"]
            assert padded == (min(y0, x0) < 0 or y0 + f > h or x0 + f > w)
            assert ("zero padding" in explained["lines"][2]) == padded
        elif kind == "MaxPool2D":
            f, s = la.kernel_size, la.stride
            assert window == {"y": y * s, "x": x * s, "size": f, "channel": ch}
            assert explained["lines"][0].startswith(
                f"The largest of the {f}×{f} window at rows {y * s}…{y * s + f - 1}")
        elif kind == "Linear":
            assert window is None and len(explained["lines"][1]["table"]["rows"]) == 10
