"""The network explorer (cnnlib.book.network_explorer) in headless Chromium, offline.

Two pages:

* a standalone page built here from a small network of the reference architecture
  (narrower, random weights with non-trivial batch-norm statistics): cnnlibPredict
  against cnnlib on the 500 test images and on random pixels, the file picker and
  drag-and-drop (with a check of the centre crop), a click on a feature map, no console
  errors, no requests outside the page;
* chapter 11 of the built book (the trained model): cnnlibPredict against the
  probabilities cnnlib computed at build time (they are in the page), and, when chapter
  10's saved model file is the one the page was built from, against cnnlib on all 500
  test images, with the accuracy.

Needs Debian's chromium + chromium-driver; skips only when they are absent (set
CNNLIB_REQUIRE_BROWSER=1 to fail instead). Test images: $CNNLIB_DATA or the shared
subset beside the repository; without either, random images stand in for them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from browser_helpers import (
    console_errors,
    drain_logs,
    file_url,
    load,
    outside_requests,
)
from conftest import REPO_ROOT
from networks import small_network

from cnnlib.book.network_explorer import (
    gallery_indices,
    layer_outputs,
    network_explorer_page,
    probabilities,
    rounded_model,
)
from cnnlib.nn.serialization import load_model
from cnnlib.training.data import load_cifar10, load_cifar10_label_names

CHAPTER_11 = "chapters/11_inside_the_network"
# float16 weights against cnnlib's float32 ones: what the page's rounding may cost in
# probability. Measured: up to 1.3e-3 for the small random network below on random
# pixels; chapter 11 asserts < 2e-3 for the trained model on the test images.
ROUNDING_TOLERANCE = 2e-3
# The JavaScript forward pass against cnnlib on the same (rounded) weights: only
# float32-versus-float64 arithmetic differs.
ARITHMETIC_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def test_set() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(500 test images, labels, class names): CIFAR-10's when available."""
    folder = os.environ.get("CNNLIB_DATA") or str(REPO_ROOT.parent / "shared" / "data" / "cifar10")
    if Path(folder).is_dir():
        _, _, x_test, y_test = load_cifar10(folder, subset="book")
        return x_test[:500], y_test[:500], load_cifar10_label_names(folder)
    rng = np.random.default_rng(5)
    return (rng.integers(0, 256, (500, 32, 32, 3), dtype=np.uint8), np.arange(500) % 10,
            [f"class {k}" for k in range(10)])


def predict_in_browser(driver, images: np.ndarray, chunk: int = 100) -> np.ndarray:
    """cnnlibPredict on every image (N, 32, 32, 3), in chunks: (N, 10) probabilities."""
    out = []
    for start in range(0, len(images), chunk):
        flat = images[start:start + chunk].reshape(-1, 3072).tolist()
        out += driver.execute_script(
            "return arguments[0].map(p => cnnlibPredict(p));", flat)
    return np.array(out, dtype=np.float64)


# ---------------------------------------------------------------- the standalone page

@pytest.fixture(scope="module")
def small(test_set):
    return small_network(seed=2)


@pytest.fixture(scope="module")
def standalone(driver, small, test_set, tmp_path_factory):
    """The standalone explorer page, loaded; returns its path."""
    x, y, names = test_set
    picks = gallery_indices(y, per_class=5)
    page = tmp_path_factory.mktemp("explorer") / "network.html"
    page.write_text(network_explorer_page(small, x[picks], y[picks], names), encoding="utf-8")
    drain_logs(driver)
    load(driver, file_url(page))
    return page


def test_predict_agrees_with_cnnlib_on_the_test_images(driver, standalone, small, test_set):
    x, y, _ = test_set
    js = predict_in_browser(driver, x)
    exact, rounded = probabilities(small, x), probabilities(rounded_model(small), x)
    assert js.shape == (500, 10)
    np.testing.assert_allclose(js.sum(axis=1), 1, atol=1e-9)
    np.testing.assert_allclose(js, rounded, rtol=0, atol=ARITHMETIC_TOLERANCE)
    np.testing.assert_allclose(js, exact, rtol=0, atol=ROUNDING_TOLERANCE)
    assert abs(np.mean(js.argmax(1) == y) - np.mean(exact.argmax(1) == y)) <= 0.005
    # the network must not be trivial: its answers differ from image to image
    assert exact.max() > 0.5 and len(set(exact.argmax(1))) > 1


def test_predict_agrees_with_cnnlib_on_random_pixels(driver, standalone, small):
    x = np.random.default_rng(11).integers(0, 256, (50, 32, 32, 3), dtype=np.uint8)
    x[:5] = 0  # extremes too: black,
    x[5:10] = 255  # and white
    js = predict_in_browser(driver, x)
    np.testing.assert_allclose(js, probabilities(rounded_model(small), x), rtol=0,
                               atol=ARITHMETIC_TOLERANCE)
    np.testing.assert_allclose(js, probabilities(small, x), rtol=0, atol=ROUNDING_TOLERANCE)


def test_predict_refuses_a_wrong_number_of_pixels(driver, standalone):
    message = driver.execute_script(
        "try { cnnlibPredict(new Array(100).fill(0)); return null; }"
        " catch (e) { return e.message; }")
    assert message and "3072" in message and "100" in message


def test_the_page_classifies_with_cnnlib_predict(driver, standalone, small, test_set):
    """Clicking a gallery image goes through window.cnnlibPredict: a wrapper that counts
    calls and changes the answer shows both in the page."""
    x, y, names = test_set
    picks = gallery_indices(y, per_class=5)
    thumbs = driver.execute_script(
        "return [...document.querySelectorAll('.cnnn-gallery-col')].map(col =>"
        " col.querySelectorAll('.cnnn-thumb').length)")
    assert thumbs == [5] * 10
    driver.execute_script("""
window._realPredict = window.cnnlibPredict; window._calls = 0;
window.cnnlibPredict = (pixels, outputs) => {
  window._calls += 1;
  const p = window._realPredict(pixels, outputs);
  return p.map((v, k) => (k === 3 ? 1 : 0));  // always class 3, certain
};""")
    try:
        driver.find_element("css selector", '.cnnn-thumb[data-cnnn-index="7"]').click()
        shown = _shown(driver)
        assert driver.execute_script("return window._calls") == 1
        assert shown["top"] == f"The network says: {names[3]} (100.0 %)"
    finally:
        driver.execute_script("window.cnnlibPredict = window._realPredict;")
    driver.find_element("css selector", '.cnnn-thumb[data-cnnn-index="7"]').click()
    shown = _shown(driver)
    exact = np.round(probabilities(small, x[picks[7:8]])[0], 6)  # as the page stores it
    js = np.array(driver.execute_script("return cnnlibPredict(arguments[0])",
                                        x[picks[7]].reshape(-1).tolist()))
    assert f"truly {names[y[picks[7]]]}" in shown["caption"]
    for k, text in enumerate(shown["bars"]):  # this page's value, then cnnlib's at build time
        assert text == f"{100 * js[k]:.1f} %  (cnnlib: {100 * exact[k]:.1f} %)"


def _shown(driver) -> dict:
    return driver.execute_script("""
const q = s => document.querySelector(s);
return {caption: q('[data-cnnn="input-caption"]').textContent,
        top: q('[data-cnnn="top"]').textContent,
        crop: q('[data-cnnn="crop"]').hidden,
        error: q('[data-cnnn="error"]').hidden ? null : q('[data-cnnn="error"]').textContent,
        bars: [...document.querySelectorAll('.cnnn-bar-value')].map(e => e.textContent),
        layers: document.querySelectorAll('[data-cnnn-layer]').length,
        pixels: Array.from(q('[data-cnnn="crop-result"]').getContext('2d')
                           .getImageData(0, 0, 32, 32).data)};""")


def _three_band_png(path: Path) -> Path:
    """A 96×32 picture: red, green and blue thirds. Its centre square is the green one."""
    img = np.zeros((32, 96, 3), dtype=np.uint8)
    img[:, :32, 0] = img[:, 32:64, 1] = img[:, 64:, 2] = 255
    img[8:24, 40:56] = (255, 255, 0)  # a yellow square in the middle of the green
    plt.imsave(path, img)
    return path


def _check_picture_result(driver, shown: dict, name: str, names: list[str]) -> None:
    assert name in shown["caption"] and shown["error"] is None and not shown["crop"]
    rgba = np.array(shown["pixels"]).reshape(32, 32, 4)
    # the centre crop: green with a yellow square in the middle, no red or blue band
    assert rgba[..., 2].max() < 40 and rgba[..., 1].min() > 200
    assert rgba[2, 2, 0] < 40 and rgba[16, 16, 0] > 200
    pixels = rgba[..., :3].reshape(-1).tolist()
    probs = driver.execute_script("return cnnlibPredict(arguments[0]);", pixels)
    top = int(np.argmax(probs))
    assert shown["top"] == f"The network says: {names[top]} ({100 * probs[top]:.1f} %)"
    assert len(shown["bars"]) == 10 and shown["layers"] > 10


def test_choosing_a_file_classifies_the_centre_of_the_picture(driver, standalone, test_set,
                                                               tmp_path):
    picture = _three_band_png(tmp_path / "bands.png")
    field = driver.find_element("css selector", '[data-cnnn="file"]')
    field.send_keys(str(picture))
    deadline = time.monotonic() + 20
    while "bands.png" not in _shown(driver)["caption"] and time.monotonic() < deadline:
        time.sleep(0.1)
    _check_picture_result(driver, _shown(driver), "bands.png", test_set[2])
    assert console_errors(driver) == []


DROP = """
const [b64, name, zone] = arguments;
const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
const data = new DataTransfer();
data.items.add(new File([bytes], name, {type: "image/png"}));
for (const type of ["dragenter", "dragover", "drop"]) {
  zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
}
"""


def test_dropping_a_file_classifies_it(driver, standalone, test_set, tmp_path):
    picture = _three_band_png(tmp_path / "dropped.png")
    zone = driver.find_element("css selector", '[data-cnnn="drop"]')
    driver.execute_script(DROP, base64.b64encode(picture.read_bytes()).decode(), "dropped.png",
                          zone)
    deadline = time.monotonic() + 20
    while "dropped.png" not in _shown(driver)["caption"] and time.monotonic() < deadline:
        time.sleep(0.1)
    _check_picture_result(driver, _shown(driver), "dropped.png", test_set[2])


def test_dropping_a_file_that_is_no_image_says_so(driver, standalone):
    zone = driver.find_element("css selector", '[data-cnnn="drop"]')
    driver.execute_script(DROP.replace("image/png", "text/plain"),
                          base64.b64encode(b"hello").decode(), "notes.txt", zone)
    error = _shown(driver)["error"]
    assert error and "notes.txt is not an image" in error


def _click_map(driver, layer: int, channel: int, row: int, col: int) -> dict:
    """Click pixel (row, col) of one channel's map like a reader; return the explanation."""
    from selenium.webdriver.common.action_chains import ActionChains

    canvas = driver.find_element(
        "css selector", f'[data-cnnn-layer="{layer}"] canvas[data-cnnn-channel="{channel}"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    h, w = driver.execute_script("return [arguments[0].height, arguments[0].width]", canvas)
    size = canvas.size
    # offsets from the element's centre (Selenium 4), to the centre of the chosen pixel
    dx = (col + 0.5) * size["width"] / w - size["width"] / 2
    dy = (row + 0.5) * size["height"] / h - size["height"] / 2
    ActionChains(driver).move_to_element_with_offset(canvas, int(dx), int(dy)).click().perform()
    return driver.execute_script("""
const box = document.querySelector('[data-cnnn="explain"]');
return {text: box.textContent, value: +box.getAttribute('data-cnnn-value'),
        recomputed: +box.getAttribute('data-cnnn-recomputed'),
        rows: box.querySelectorAll('.cnnn-sum > tr').length,
        windowsIn: document.querySelectorAll('.cnnn-window-in').length,
        windowsOut: document.querySelectorAll('.cnnn-window-out').length};""")


def test_clicking_a_feature_map_shows_the_computation(driver, standalone, small, test_set):
    x, y, _ = test_set
    first = x[gallery_indices(y, per_class=5)[:1]]
    driver.find_element("css selector", '.cnnn-thumb[data-cnnn-index="0"]').click()
    outs = layer_outputs(rounded_model(small), first)
    conv = 4  # the second convolution: 3×3×4 windows of layer 3's 4 channels
    assert type(small.layers[conv]).__name__ == "Conv2D"
    shown = _click_map(driver, conv, 2, 10, 12)
    assert "row 10, column 12, channel 2" in shown["text"], shown["text"]
    assert "rows 9…11, columns 11…13" in shown["text"]
    assert shown["value"] == pytest.approx(outs[conv][0, 10, 12, 2], abs=1e-5)
    assert shown["recomputed"] == pytest.approx(shown["value"], abs=1e-5)
    assert shown["rows"] == 1 + small.layers[conv].in_channels  # header + one per channel
    assert shown["windowsIn"] == small.layers[conv].in_channels and shown["windowsOut"] == 1

    pool = next(i for i, la in enumerate(small.layers) if type(la).__name__ == "MaxPool2D")
    shown = _click_map(driver, pool, 1, 3, 5)
    assert "largest of the 2×2 window at rows 6…7, columns 10…11" in shown["text"]
    assert shown["value"] == pytest.approx(outs[pool][0, 3, 5, 1], abs=1e-5)
    assert shown["value"] == shown["recomputed"]
    assert console_errors(driver) == []


def test_positive_is_red_and_negative_blue_in_every_layer(driver, standalone, small, test_set):
    """One colour rule before and after ReLU: the reader never has to relearn it."""
    x, y, _ = test_set
    driver.find_element("css selector", '.cnnn-thumb[data-cnnn-index="0"]').click()
    outs = layer_outputs(rounded_model(small), x[gallery_indices(y, per_class=5)[:1]])
    conv = next(i for i, la in enumerate(small.layers) if type(la).__name__ == "Conv2D")
    relu = next(i for i, la in enumerate(small.layers) if type(la).__name__ == "ReLU")
    for layer in (conv, relu):
        rgba = np.array(driver.execute_script(f"""
            const c = document.querySelector(
                '[data-cnnn-layer="{layer}"] canvas[data-cnnn-channel="0"]');
            return Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data);
        """)).reshape(-1, 4)[:, :3].astype(int)
        values = outs[layer][0, ..., 0].reshape(-1)
        big = 0.05 * np.abs(outs[layer]).max()  # smaller ones round to white
        positive, negative = values > big, values < -big
        assert positive.any()
        assert np.all(rgba[positive, 0] >= rgba[positive, 2]), f"layer {layer}: positive not red"
        assert np.all(rgba[positive, 2] < 255)
        if layer == conv:
            assert negative.any()
            assert np.all(rgba[negative, 2] >= rgba[negative, 0]), "negative not blue"
    legend = driver.find_element("css selector", '[data-cnnn="legend"]').text
    assert "red is positive" in legend and "blue is negative" in legend


def test_standalone_page_stays_offline_and_quiet(driver, standalone):
    drain_logs(driver)
    load(driver, file_url(standalone))
    assert console_errors(driver) == []
    assert outside_requests(driver) == []


# --------------------------------------------------------------- chapter 11 of the book

@pytest.fixture(scope="module")
def chapter_11(driver, book_html) -> dict:
    """Chapter 11 of a built book (conftest `book_html`), loaded: its gallery and
    build-time probabilities."""
    page = book_html / f"{CHAPTER_11}.html"
    assert page.is_file(), f"{page} was not built"
    drain_logs(driver)
    load(driver, file_url(page))
    text = page.read_text(encoding="utf-8")
    block = re.search(r'data-cnnn="data">(.*?)</script>', text, re.S)
    assert block, "chapter 11 has no network explorer"
    data = json.loads(block.group(1))
    images = np.frombuffer(base64.b64decode(data["images"]), np.uint8).reshape(-1, 32, 32, 3)
    return {"page": page, "data": data, "images": images,
            "console": console_errors(driver), "outside": outside_requests(driver)}


@pytest.mark.book
def test_chapter_11_predicts_what_cnnlib_computed_at_build_time(driver, chapter_11):
    js = predict_in_browser(driver, chapter_11["images"])
    expected = np.array(chapter_11["data"]["cnnlib_probs"])
    assert js.shape == expected.shape == (50, 10)
    np.testing.assert_allclose(js, expected, rtol=0, atol=ROUNDING_TOLERANCE)
    assert chapter_11["console"] == [] and chapter_11["outside"] == []
    size = sum(f.stat().st_size for f in [chapter_11["page"]])
    assert size < 3.5e6, f"chapter 11 weighs {size / 1e6:.1f} MB"


@pytest.mark.book
def test_chapter_11_agrees_with_the_saved_model_on_500_test_images(driver, chapter_11, test_set):
    # Chapter 10 saves one file per training length; the page's own build-time
    # probabilities tell which one it was built from.
    built_from = None
    for path in sorted((REPO_ROOT / "chapters" / "_models").glob("reference-*.npz")):
        model = load_model(path)
        if np.allclose(probabilities(model, chapter_11["images"]),
                       chapter_11["data"]["cnnlib_probs"], rtol=0, atol=2e-6):
            built_from = path
            break
    if built_from is None:
        pytest.skip("none of chapters/_models/*.npz is the model chapter 11 was built from "
                    "(chapter 10 retrained since, or ran elsewhere)")
    x, y, _ = test_set
    start = time.perf_counter()
    js = predict_in_browser(driver, x, chunk=50)
    per_image = (time.perf_counter() - start) / len(x)
    exact = probabilities(model, x)
    gap = float(np.abs(js - exact).max())
    acc_js, acc_cnnlib = np.mean(js.argmax(1) == y), np.mean(exact.argmax(1) == y)
    print(f"\nchapter 9: max |p_js - p_cnnlib| = {gap:.2e}; accuracy JS {acc_js:.1%}, "
          f"cnnlib {acc_cnnlib:.1%}; {1000 * per_image:.0f} ms per image in Chromium")
    assert gap < ROUNDING_TOLERANCE
    assert abs(acc_js - acc_cnnlib) <= 0.005
