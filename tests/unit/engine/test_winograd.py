"""Winograd's F(2×2, 3×3) computes what the textbook im2col convolution computes.

float64: equal to 1e-12. float32: the two differ by rounding only; on the reference
network's layers both stay within 1e-6 · max|y| of the float64 result, and the tests
allow 1e-5 · max|y| between them. The engine dispatch is tested on both sides: Winograd
where it applies (3×3, stride 1, ≥ WINOGRAD_MIN_CHANNELS channels), im2col elsewhere.
"""

import numpy as np
import pytest

from cnnlib import engine as E
from cnnlib.core import functional as F
from cnnlib.engine import winograd as W
from cnnlib.nn.gradcheck import as_float64, gradcheck
from cnnlib.nn.layers import Conv2D

# (N, H, W, C, K): odd and even sizes, non-square, a single tile, batches of 1 and 5.
SHAPES = [(3, 7, 9, 5, 4), (2, 8, 8, 6, 3), (5, 5, 6, 4, 7), (1, 3, 3, 2, 2), (2, 1, 4, 3, 2)]


def case(shape, padding, dtype=np.float64, seed=0):
    n, h, w, c, k = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    weight = (rng.standard_normal((k, 3, 3, c)) * np.sqrt(2 / (9 * c))).astype(dtype)
    bias = rng.standard_normal(k).astype(dtype)
    return x, weight, bias


# Every (shape, padding) pair in which the 3×3 filter fits the padded input.
FITTING = [(shape, padding) for shape in SHAPES for padding in (0, 1, 2)
           if min(shape[1], shape[2]) + 2 * padding >= 3]


@pytest.mark.parametrize(("shape", "padding"), FITTING)
def test_winograd_forward_equals_im2col(shape, padding):
    x, weight, bias = case(shape, padding)
    expected = F.conv2d(x, weight, bias, 1, padding)
    out = np.empty_like(expected)
    W.conv3x3_forward(x, weight, bias, padding, out)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("shape", "padding"), FITTING)
def test_winograd_weight_grad_equals_im2col(shape, padding):
    x, weight, _ = case(shape, padding)
    dout = np.random.default_rng(1).standard_normal(F.conv2d(x, weight, None, 1, padding).shape)
    expected, _ = F.conv2d_weight_grads(dout, (x, weight, 1, padding))
    got = W.weight_grad_from_transformed(W.conv3x3_weight_grad_transformed(x, dout, padding))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("h", "c"), [(32, 32), (16, 64), (8, 128)])
def test_winograd_float32_is_within_the_stated_tolerance(h, c):
    x, weight, bias = case((4, h, h, c, c), 1, np.float32)
    expected = F.conv2d(x, weight, bias, 1, 1)
    out = np.empty_like(expected)
    W.conv3x3_forward(x, weight, bias, 1, out)
    scale = float(np.abs(expected).max())
    err = float(np.abs(out - expected).max())
    assert out.dtype == np.float32
    assert err <= 1e-5 * scale, f"float32 Winograd vs im2col: {err:.2e} > 1e-5 · {scale:.2f}"


def test_transforms_are_the_published_matrices():
    """Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A is the 2×2 correlation of a 4×4 tile d with a 3×3 filter g."""
    rng = np.random.default_rng(0)
    d, g = rng.standard_normal((4, 4)), rng.standard_normal((3, 3))
    y = W.A_T @ ((W.G @ g @ W.G.T) * (W.B_T @ d @ W.B_T.T)) @ W.A_T.T
    direct = np.array([[np.sum(d[i:i + 3, j:j + 3] * g) for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(y, direct, rtol=1e-12, atol=1e-12)


def test_multiplication_counts():
    counts = W.multiplications(64, 32, 32, 32, 32)
    assert counts["im2col"] / counts["winograd"] == 2.25


# --------------------------------------------------------------------------- engine dispatch


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(E.workers, "CHUNK_BYTES", 1)  # one image per chunk: 5 is no multiple of 2


@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("threads", ["1", "2"])
def test_engine_winograd_path_equals_the_textbook_functions(padding, threads, small_chunks,
                                                            monkeypatch):
    monkeypatch.setenv("CNNLIB_NUM_THREADS", threads)
    monkeypatch.setitem(E.conv._winograd, "on", True)
    monkeypatch.setattr(E.conv, "WINOGRAD_MIN_CHANNELS", 2)
    calls = []
    monkeypatch.setattr(W, "input_transform", spy(W.input_transform, calls))
    x, weight, bias = case((5, 7, 6, 3, 4), padding)
    y, cache = E.conv2d_forward(x, weight, bias, 1, padding)
    y_book, cache_book = F.conv2d_forward(x, weight, bias, 1, padding)
    np.testing.assert_allclose(y, y_book, rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(1).standard_normal(y.shape)
    for name, a, b in zip(["dx", "dweight", "dbias"], E.conv2d_backward(dout, cache),
                          F.conv2d_backward(dout, cache_book), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)
    assert calls, "the Winograd path was not taken"


@pytest.mark.parametrize(("f", "stride", "c"), [(3, 2, 4), (5, 1, 4), (3, 1, 1)])
def test_engine_falls_back_to_im2col_elsewhere(f, stride, c, monkeypatch):
    """Not 3×3 stride 1, or thinner than WINOGRAD_MIN_CHANNELS: im2col, same result."""
    monkeypatch.setitem(E.conv._winograd, "on", True)
    monkeypatch.setattr(E.conv, "WINOGRAD_MIN_CHANNELS", 2)
    monkeypatch.setattr(W, "input_transform", refuse)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 9, 9, c))
    weight, bias = rng.standard_normal((4, f, f, c)), rng.standard_normal(4)
    y, cache = E.conv2d_forward(x, weight, bias, stride, 1)
    y_book, cache_book = F.conv2d_forward(x, weight, bias, stride, 1)
    np.testing.assert_allclose(y, y_book, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(y.shape)
    dw, _ = E.conv2d_weight_grads(dout, cache)
    np.testing.assert_allclose(dw, F.conv2d_weight_grads(dout, cache_book)[0], rtol=1e-12,
                               atol=1e-12)


def test_winograd_off_means_im2col(monkeypatch):
    monkeypatch.setitem(E.conv._winograd, "on", False)
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "1")  # one worker: where it could run by default
    assert not E.uses_winograd((64, 3, 3, 64), 1)
    monkeypatch.setattr(W, "input_transform", refuse)
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 32))
    E.conv2d_forward(x, np.ones((32, 3, 3, 32)), None, 1, 1)  # im2col: refuse never runs


@pytest.mark.parametrize(("workers", "blas", "on"),
                         [("1", 1, True), ("2", 1, False), ("4", 1, False),
                          ("1", 2, False), ("2", 2, False)])
def test_by_default_winograd_runs_on_one_core_only(workers, blas, on, monkeypatch):
    """Measured: it wins with one thread and loses with two (benchmarks/results). One
    worker with BLAS on two threads ("chunks in turn") is two cores: im2col."""
    E.workers._blas_libraries()
    monkeypatch.setitem(E.conv._winograd, "on", None)
    monkeypatch.setenv("CNNLIB_NUM_THREADS", workers)
    monkeypatch.setitem(E.workers._state, "blas_threads", [blas] * len(E.workers._state["blas"]))
    assert E.winograd_on() is on
    assert E.uses_winograd((64, 3, 3, 64), 1) is on


@pytest.mark.parametrize(("value", "on"), [("1", True), ("0", False), ("", None), (" ", None)])
def test_the_environment_switches_winograd(value, on, monkeypatch):
    monkeypatch.setenv("CNNLIB_WINOGRAD", value)
    assert E.winograd_requested() is on


def test_a_bad_winograd_setting_names_the_value_and_the_rule(monkeypatch):
    monkeypatch.setenv("CNNLIB_WINOGRAD", "yes")
    with pytest.raises(ValueError, match=r"CNNLIB_WINOGRAD = 'yes' must be 1 \(on\), 0"):
        E.winograd_requested()


@pytest.mark.parametrize("threads", ["1", "2"])
def test_tiles_kept_by_the_forward_pass_give_the_same_weight_gradient(threads, small_chunks,
                                                                      monkeypatch):
    """keep_tiles: the weight gradient reuses the forward's transformed input, and the
    input is transformed once per chunk instead of twice; same result."""
    monkeypatch.setenv("CNNLIB_NUM_THREADS", threads)
    monkeypatch.setitem(E.conv._winograd, "on", True)
    monkeypatch.setattr(E.conv, "WINOGRAD_MIN_CHANNELS", 2)
    x, weight, bias = case((5, 7, 6, 3, 4), 1)
    dout = np.random.default_rng(1).standard_normal((5, 7, 6, 4))
    calls = []
    monkeypatch.setattr(W, "input_transform", spy(W.input_transform, calls))
    _, cache = E.conv2d_forward(x, weight, bias, 1, 1, keep_tiles=True)
    assert len(cache) == 5 and len(calls) == 5  # one transform per chunk (one image each)
    kept = E.conv2d_weight_grads(dout, cache)
    assert len(calls) == 5, "the weight gradient transformed the input again"
    expected = F.conv2d_weight_grads(dout, (x, weight, 1, 1))
    for a, b in zip(kept, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    _, cache = E.conv2d_forward(x, weight, bias, 1, 1)
    assert len(cache) == 4  # not asked: nothing kept, and the gradient transforms again
    E.conv2d_weight_grads(dout, cache)
    assert len(calls) == 15


def test_tiles_kept_for_other_chunks_are_made_again(monkeypatch):
    """If the batch is cut differently in the backward pass (the chunk size or thread
    count changed), the kept tiles are not paired with the wrong images, even when there
    are as many chunks as before (9 images: 3+3+3, then 4+4+1)."""
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "1")
    monkeypatch.setitem(E.conv._winograd, "on", True)
    monkeypatch.setattr(E.conv, "WINOGRAD_MIN_CHANNELS", 2)
    x, weight, bias = case((9, 7, 6, 3, 4), 1)
    dout = np.random.default_rng(1).standard_normal((9, 7, 6, 4))
    per_image = E.conv._winograd_bytes_per_image(x.shape, 4, 1, x.itemsize)
    monkeypatch.setattr(E.workers, "CHUNK_BYTES", 3 * per_image)
    _, cache = E.conv2d_forward(x, weight, bias, 1, 1, keep_tiles=True)
    monkeypatch.setattr(E.workers, "CHUNK_BYTES", 4 * per_image)
    for a, b in zip(E.conv2d_weight_grads(dout, cache),
                    F.conv2d_weight_grads(dout, (x, weight, 1, 1)), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_conv2d_keeps_tiles_only_while_training_and_frees_them(monkeypatch):
    monkeypatch.setitem(E.conv._winograd, "on", True)
    monkeypatch.setattr(E.conv, "WINOGRAD_MIN_CHANNELS", 2)
    layer = Conv2D(3, 4, 3, padding=1, seed=0)
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 3)).astype(np.float32)
    y = layer.forward(x)
    assert len(layer._cache) == 5
    layer.backward_params(np.ones_like(y))
    assert len(layer._cache) == 4  # used up by the weight gradient, then dropped
    layer.forward(x)
    layer.backward(np.ones_like(y))
    assert len(layer._cache) == 4
    layer.eval().forward(x)
    assert len(layer._cache) == 4  # evaluation never keeps them


def test_engine_dispatch_follows_the_reference_network(monkeypatch):
    """When on: the RGB input layer stays on im2col; the deep 3×3 layers take Winograd."""
    monkeypatch.setitem(E.conv._winograd, "on", True)
    assert not E.uses_winograd((32, 3, 3, 3), 1)
    for c, k in [(32, 32), (32, 64), (64, 64), (64, 128), (128, 128)]:
        assert E.uses_winograd((k, 3, 3, c), 1)
    assert not E.uses_winograd((64, 3, 3, 64), 2)


def test_conv2d_layer_gradients_on_the_winograd_path(monkeypatch):
    monkeypatch.setitem(E.conv._winograd, "on", True)
    monkeypatch.setattr(E.conv, "WINOGRAD_MIN_CHANNELS", 2)
    layer = as_float64(Conv2D(3, 2, 3, padding=1, seed=0))
    x = np.random.default_rng(0).standard_normal((2, 5, 4, 3))
    assert gradcheck(layer, x) < 1e-7


def spy(fn, calls):
    def wrapped(*args, **kwargs):
        calls.append(1)
        return fn(*args, **kwargs)
    return wrapped


def refuse(*args, **kwargs):
    raise AssertionError("Winograd ran where im2col should")
