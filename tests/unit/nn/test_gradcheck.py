"""Every layer's backward pass agrees with central differences (float64, rel. error < 1e-6)."""

import numpy as np
import pytest

from cnnlib import Sigmoid, Tanh
from cnnlib.nn.gradcheck import as_float64, gradcheck, numerical_gradient, relative_error
from cnnlib.nn.layers import AvgPool2D, Conv2D, Flatten, Linear, MaxPool2D, ReLU, Sequential

TOLERANCE = 1e-6


def assert_gradcheck(layer, x, seed=0):
    err = gradcheck(layer, x, seed=seed)
    assert err < TOLERANCE, f"{layer!r} on input {x.shape}: max relative error {err:.3e}"


@pytest.mark.parametrize(
    ("n", "h", "w", "c", "k", "f", "s", "p"),
    [
        (2, 5, 5, 3, 2, 3, 2, 1),  # the source article's worked example
        (1, 6, 6, 2, 3, 3, 1, 0),  # even input, stride 1
        (2, 7, 5, 1, 2, 3, 2, 0),  # non-square
        (1, 4, 4, 3, 2, 2, 2, 0),  # even filter
        (1, 5, 5, 2, 4, 1, 1, 0),  # 1×1 filter
        (1, 4, 4, 2, 2, 5, 1, 2),  # filter larger than the input, saved by padding
        (2, 7, 7, 3, 1, 3, 3, 1),  # stride 3
        (1, 8, 8, 1, 2, 4, 4, 0),  # stride = filter size
    ],
)
def test_conv2d_gradients(n, h, w, c, k, f, s, p):
    rng = np.random.default_rng(7)
    layer = as_float64(Conv2D(c, k, f, stride=s, padding=p, seed=1))
    layer.params["bias"] = rng.standard_normal(k)
    assert_gradcheck(layer, rng.standard_normal((n, h, w, c)))


@pytest.mark.parametrize("pool", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize(("h", "w", "f", "s"), [(4, 4, 2, 2), (5, 5, 3, 2), (6, 4, 2, 1), (9, 6, 3, 3)])
def test_pooling_gradients(pool, h, w, f, s):
    x = np.random.default_rng(3).standard_normal((2, h, w, 3))
    assert_gradcheck(pool(f, s), x)


@pytest.mark.parametrize("layer", [ReLU(), Tanh(), Sigmoid(), Flatten()], ids=repr)
def test_elementwise_and_reshape_gradients(layer):
    x = np.random.default_rng(4).standard_normal((3, 4, 4, 2))
    assert_gradcheck(layer, x)


@pytest.mark.parametrize(("fin", "fout"), [(1, 1), (7, 3), (12, 10)])
def test_linear_gradients(fin, fout):
    layer = as_float64(Linear(fin, fout, seed=2))
    layer.params["bias"] = np.random.default_rng(5).standard_normal(fout)
    assert_gradcheck(layer, np.random.default_rng(6).standard_normal((4, fin)))


def test_whole_network_gradients():
    """conv -> ReLU -> pool -> conv -> tanh -> avgpool -> flatten -> linear, end to end."""
    net = Sequential(
        as_float64(Conv2D(3, 4, 3, padding=1, seed=0)), ReLU(), MaxPool2D(2, 2),
        as_float64(Conv2D(4, 3, 3, stride=1, padding=1, seed=1)), Tanh(), AvgPool2D(2, 2),
        Flatten(), as_float64(Linear(2 * 2 * 3, 5, seed=2)), Sigmoid(),
    )
    x = np.random.default_rng(8).standard_normal((2, 8, 8, 3))
    assert_gradcheck(net, x)


def test_gradcheck_catches_a_wrong_backward():
    """The check itself must be able to fail: a ReLU whose backward forgets its mask."""

    class LeakyBackwardReLU(ReLU):
        def backward(self, dout):
            return dout

    err = gradcheck(LeakyBackwardReLU(), np.random.default_rng(0).standard_normal((2, 3, 3, 1)))
    assert err > 0.1


def test_gradcheck_catches_a_wrong_parameter_gradient():
    class HalfWeightGradLinear(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["weight"] = self.grads["weight"] * 0.5
            return dx

    layer = as_float64(HalfWeightGradLinear(4, 3, seed=0))
    assert gradcheck(layer, np.random.default_rng(0).standard_normal((2, 4))) > 0.1


def test_gradcheck_refuses_float32():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(ReLU(), np.zeros((1, 2), np.float32))
    with pytest.raises(ValueError, match="float64 parameters, weight is float32"):
        gradcheck(Linear(2, 2, seed=0), np.zeros((1, 2)))


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored after probing


def test_relative_error_is_scale_free_and_zero_for_zeros():
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(1e6 * a, 1e6 * a * (1 + 1e-3)) == pytest.approx(5e-4, rel=1e-3)
