"""The browser's forward pass (cnnlib/book/static/network_forward.js) alone, in Node.

Every layer's output and the probabilities against cnnlib on the same float16-rounded
weights. Needs Node (Debian's nodejs, no npm); skips without it unless
CNNLIB_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import json
import os
import re
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


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    model = small_network()
    images = np.random.default_rng(4).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    folder = tmp_path_factory.mktemp("forward")
    (folder / "net.json").write_text(json.dumps(export_network(model)))
    (folder / "pixels.json").write_text(json.dumps(images.reshape(3, -1).tolist()))
    out = subprocess.run([NODE, str(CHECK_JS), str(FORWARD_JS), str(folder / "net.json"),
                          str(folder / "pixels.json")], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return model, images, json.loads(out.stdout)


def test_every_layer_agrees_with_cnnlib_on_the_rounded_weights(run):
    model, images, got = run
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
    model, images, got = run
    np.testing.assert_allclose([r["probs"] for r in got["results"]],
                               probabilities(rounded_model(model), images), atol=1e-5)


def test_a_wrong_number_of_pixels_is_refused_with_what_was_needed(run):
    assert run[2]["error"] == "cnnlibPredict needs 32·32·3 = 3072 pixel values, got 3"


def test_every_layer_type_has_one_entry_with_forward_and_describe(run):
    model, _, got = run
    text = FORWARD_JS.read_text(encoding="utf-8")
    block = text[text.index("const cnnlibLayerTypes = {"):text.index("function cnnlibSoftmax")]
    entries = set(re.findall(r"^  (\w+): \{$", block, re.M))
    assert entries == {cls.__name__ for cls in SUPPORTED}
    assert got["described"][1].startswith("Conv2D: ") and len(got["described"]) == len(model.layers)
