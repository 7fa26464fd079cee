"""Vectorized conv and pooling agree with the plain-loop reference, on every geometry."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib.core import functional as F
from cnnlib.core.naive import conv2d_naive, pool2d_naive
from cnnlib.core.shapes import conv_output_size, pool_output_size


@st.composite
def conv_case(draw):
    f = draw(st.integers(1, 5))
    s = draw(st.integers(1, 3))
    p = draw(st.integers(0, 2))
    # Pick an output size, then the input size that makes the geometry fit exactly.
    h2, w2 = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = (h2 - 1) * s + f - 2 * p, (w2 - 1) * s + f - 2 * p
    if h < 1 or w < 1:
        h, w = (h2 - 1) * s + f, (w2 - 1) * s + f
        p = 0
    n, c, k = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**31))
    return n, h, w, c, k, f, s, p, seed


@settings(max_examples=60, deadline=None)
@given(conv_case())
def test_conv2d_matches_naive_loops(case):
    n, h, w, c, k, f, s, p, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c))
    weight = rng.standard_normal((k, f, f, c))
    bias = rng.standard_normal(k)
    y = F.conv2d(x, weight, bias, s, p)
    assert y.shape == (n, conv_output_size(h, f, s, p), conv_output_size(w, f, s, p), k)
    np.testing.assert_allclose(y, conv2d_naive(x, weight, bias, s, p), rtol=1e-10, atol=1e-10)


@st.composite
def pool_case(draw):
    f, s = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h2, w2 = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return n, (h2 - 1) * s + f, (w2 - 1) * s + f, c, f, s, draw(st.integers(0, 2**31))


@settings(max_examples=60, deadline=None)
@given(pool_case(), st.sampled_from(["max", "avg"]))
def test_pooling_matches_naive_loops(case, kind):
    n, h, w, c, f, s, seed = case
    x = np.random.default_rng(seed).standard_normal((n, h, w, c))
    fast = F.max_pool2d if kind == "max" else F.avg_pool2d
    reduce = np.max if kind == "max" else np.mean
    y = fast(x, f, s)
    assert y.shape == (n, pool_output_size(h, f, s), pool_output_size(w, f, s), c)
    np.testing.assert_allclose(y, pool2d_naive(x, f, s, reduce), rtol=1e-12, atol=1e-12)


def test_seed_worked_example_has_depth_K_not_3():
    """5×5×3 input, K=2 filters of 3×3, stride 2, padding 1 -> 3×3×2 (the seed says 3×3×3)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 5, 5, 3))
    weight = rng.standard_normal((2, 3, 3, 3))
    assert F.conv2d(x, weight, np.zeros(2), stride=2, padding=1).shape == (1, 3, 3, 2)


def test_conv2d_by_hand_on_tiny_example():
    """A 3×3 image of 0..8 and a filter picking the center: output equals the center pixel."""
    x = np.arange(9, dtype=np.float64).reshape(1, 3, 3, 1)
    center = np.zeros((1, 3, 3, 1))
    center[0, 1, 1, 0] = 1
    assert F.conv2d(x, center, np.array([0.5])).item() == 4.5
    # With padding 1 every pixel is the center once: the filter reproduces the image.
    np.testing.assert_array_equal(F.conv2d(x, center, None, 1, 1), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_keeps_the_input_dtype(dtype):
    x = np.ones((2, 6, 6, 3), dtype)
    weight = np.ones((4, 3, 3, 3), dtype)
    assert F.conv2d(x, weight, np.zeros(4, dtype), 1, 1).dtype == dtype
    assert F.max_pool2d(x).dtype == dtype
    assert F.avg_pool2d(x, 3, 3).dtype == dtype


def test_max_pool_gradient_goes_to_first_of_tied_maxima():
    x = np.zeros((1, 2, 2, 1))
    y, cache = F.max_pool2d_forward(x, 2, 2)
    dx = F.max_pool2d_backward(np.ones_like(y), cache)
    assert dx.sum() == 1.0, "a tie must not multiply the gradient"
    assert dx[0, 0, 0, 0] == 1.0


def test_overlapping_max_pool_adds_gradients_of_shared_inputs():
    """F=3, S=2: the center pixel of a 5×5 input is the max of all four windows."""
    x = np.zeros((1, 5, 5, 1))
    x[0, 2, 2, 0] = 10.0
    y, cache = F.max_pool2d_forward(x, 3, 2)
    assert y.shape == (1, 2, 2, 1) and np.all(y == 10.0)
    dx = F.max_pool2d_backward(np.ones_like(y), cache)
    assert dx[0, 2, 2, 0] == 4.0 and dx.sum() == 4.0


@pytest.mark.parametrize("fn", [F.relu, F.tanh, F.sigmoid])
def test_activations_keep_shape_and_dtype(fn):
    x = np.linspace(-5, 5, 24, dtype=np.float32).reshape(2, 3, 4)
    y = fn(x)
    assert y.shape == x.shape and y.dtype == np.float32


def test_sigmoid_is_finite_and_exact_at_extremes():
    x = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=np.float32)
    with np.errstate(all="raise"):
        y = F.sigmoid(x)
    np.testing.assert_allclose(y, [0.0, 9.357623e-14, 0.5, 1.0, 1.0], atol=1e-7)
    assert np.all((y >= 0) & (y <= 1))


def test_relu_values():
    np.testing.assert_array_equal(F.relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "b_shape", "message"),
    [
        ((2, 5, 5), (1, 3, 3, 3), (1,), r"x must be a 4-D array \(N, H, W, C\), got shape \(2, 5, 5\)"),
        ((1, 5, 5, 3), (1, 3, 3, 2), (1,), r"filter depth C = 2 must equal the input depth C = 3"),
        ((1, 5, 5, 3), (1, 3, 2, 3), (1,), r"weight must be a 4-D array \(K, F, F, C\) with square"),
        ((1, 5, 5, 3), (2, 3, 3, 3), (3,), r"bias must have shape \(K,\) = \(2,\), got \(3,\)"),
    ],
)
def test_conv2d_rejects_mismatched_shapes(x_shape, w_shape, b_shape, message):
    with pytest.raises(ValueError, match=message):
        F.conv2d(np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape))


def test_conv2d_rejects_geometry_that_does_not_fit():
    with pytest.raises(ValueError, match=r"not divisible by stride S = 2"):
        F.conv2d(np.zeros((1, 6, 6, 1)), np.zeros((1, 3, 3, 1)), stride=2)


def test_pooling_rejects_windows_that_do_not_fit():
    with pytest.raises(ValueError, match=r"\(W - F\) = 3 is not divisible by stride S = 2"):
        F.max_pool2d(np.zeros((1, 5, 5, 1)), 2, 2)
    with pytest.raises(ValueError, match=r"x must be a 4-D array"):
        F.avg_pool2d(np.zeros((5, 5)), 2, 2)
