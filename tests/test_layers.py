"""Layer objects: shapes, parameters, seeding, dtypes, and the errors they raise."""

import numpy as np
import pytest

import cnnlib
from cnnlib import (
    AvgPool2D,
    Conv2D,
    Flatten,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)


def test_every_contract_name_imports_from_the_package():
    names = ["conv_output_size", "pool_output_size", "Conv2D", "MaxPool2D", "AvgPool2D", "ReLU",
             "Tanh", "Sigmoid", "Flatten", "Linear", "Sequential", "softmax_cross_entropy",
             "SGD", "load_cifar10"]
    missing = [name for name in names if not hasattr(cnnlib, name)]
    assert not missing, f"missing from cnnlib: {missing}"


def test_conv2d_layer_shapes_match_the_contract():
    layer = Conv2D(3, 2, 3, stride=2, padding=1, seed=0)
    assert layer.params["weight"].shape == (2, 3, 3, 3)  # (K, F, F, C)
    assert layer.params["bias"].shape == (2,)
    assert set(layer.params) == set(layer.grads) == {"weight", "bias"}
    y = layer.forward(np.zeros((4, 5, 5, 3), np.float32))
    assert y.shape == (4, 3, 3, 2) and y.dtype == np.float32
    dx = layer.backward(np.ones_like(y))
    assert dx.shape == (4, 5, 5, 3)
    assert layer.grads["weight"].shape == (2, 3, 3, 3) and layer.grads["bias"].shape == (2,)


def test_linear_layer_is_x_at_w_plus_b():
    layer = Linear(250, 10, seed=0)
    assert layer.params["weight"].shape == (250, 10) and layer.params["bias"].shape == (10,)
    x = np.random.default_rng(0).standard_normal((3, 250)).astype(np.float32)
    np.testing.assert_allclose(layer.forward(x), x @ layer.params["weight"], rtol=1e-6)


def test_flatten_is_channels_last():
    """The source article's 5×5×10 volume flattens to 250 numbers, channel fastest."""
    x = np.arange(2 * 5 * 5 * 10, dtype=np.float32).reshape(2, 5, 5, 10)
    y = Flatten().forward(x)
    assert y.shape == (2, 250)
    np.testing.assert_array_equal(y[0, :10], x[0, 0, 0, :])


@pytest.mark.parametrize("make", [lambda **kw: Conv2D(3, 8, 3, **kw), lambda **kw: Linear(20, 5, **kw)])
def test_same_seed_gives_same_weights_and_generators_are_accepted(make):
    a, b, c = make(seed=42), make(seed=42), make(seed=43)
    np.testing.assert_array_equal(a.params["weight"], b.params["weight"])
    assert not np.array_equal(a.params["weight"], c.params["weight"])
    d = make(seed=np.random.default_rng(42))
    np.testing.assert_array_equal(a.params["weight"], d.params["weight"])
    e = make(rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a.params["weight"], e.params["weight"])


def test_he_initialisation_has_the_right_spread():
    w = Conv2D(64, 64, 3, seed=0).params["weight"]
    assert w.dtype == np.float32
    assert w.std() == pytest.approx(np.sqrt(2 / (3 * 3 * 64)), rel=0.02)
    g = Linear(300, 100, seed=0, init="glorot").params["weight"]
    assert np.abs(g).max() <= np.sqrt(6 / 400)


def test_float64_parameters_are_kept():
    layer = Conv2D(2, 2, 3, seed=0, dtype=np.float64)
    y = layer.forward(np.zeros((1, 4, 4, 2)))
    assert y.dtype == np.float64 and layer.params["weight"].dtype == np.float64


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Conv2D(0, 2, 3), r"in_channels = 0 must be a positive integer"),
        (lambda: Conv2D(3, 2.5, 3), r"out_channels = 2.5 must be a positive integer"),
        (lambda: Conv2D(3, 2, 0), r"kernel_size = 0 must be a positive integer"),
        (lambda: Conv2D(3, 2, 3, stride=0), r"stride = 0 must be a positive integer"),
        (lambda: Conv2D(3, 2, 3, padding=-1), r"padding = -1 must be a non-negative integer"),
        (lambda: Conv2D(3, 2, 3, seed="x"), r"seed = 'x' must be an int"),
        (lambda: Conv2D(3, 2, 3, init="zeros"), r"init = 'zeros' must be 'he' or 'glorot'"),
        (lambda: Linear(0, 2), r"in_features = 0 must be a positive integer"),
        (lambda: MaxPool2D(0, 2), r"kernel_size = 0 must be a positive integer"),
        (lambda: AvgPool2D(2, -1), r"stride = -1 must be a positive integer"),
        (lambda: Sequential(ReLU(), "relu"), r"layer 1 \('relu'\) has no forward/backward"),
    ],
)
def test_bad_hyperparameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("layer", "x", "message"),
    [
        (Conv2D(3, 2, 3, seed=0), np.zeros((1, 5, 5, 4)), r"expects 3 input channels.*got shape \(1, 5, 5, 4\)"),
        (Conv2D(3, 2, 3, seed=0), np.zeros((5, 5, 3)), r"Conv2D expects a 4-D input"),
        (Conv2D(3, 2, 3, stride=2, seed=0), np.zeros((1, 6, 6, 3)), r"not divisible by stride S = 2"),
        (Linear(250, 10, seed=0), np.zeros((2, 5, 5, 10)), r"Linear expects a 2-D input"),
        (Linear(250, 10, seed=0), np.zeros((2, 240)), r"expects 250 input channels/features"),
        (MaxPool2D(2, 2), np.zeros((1, 5, 5, 1)), r"\(W - F\) = 3 is not divisible by stride S = 2"),
        (AvgPool2D(3, 2), np.zeros((1, 4, 4, 1)), r"\(W - F\) = 1 is not divisible by stride S = 2"),
        (Flatten(), np.zeros(3), r"Flatten expects an input with a batch axis"),
    ],
)
def test_bad_input_shapes_raise(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer.forward(x)


def test_pooling_keeps_the_depth():
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 7)).astype(np.float32)
    for layer in (MaxPool2D(2, 2), AvgPool2D(2, 2), MaxPool2D(3, 2)):
        h = 4 if layer.kernel_size == 2 else 3
        assert layer.forward(x[:, :7, :7] if layer.kernel_size == 3 else x).shape == (2, h, h, 7)


def test_sequential_collects_named_parameters_and_runs_backward():
    net = Sequential(Conv2D(3, 4, 3, padding=1, seed=0), ReLU(), MaxPool2D(), Flatten(),
                     Linear(4 * 4 * 4, 10, seed=1), Tanh(), Sigmoid())
    assert list(net.params) == ["0.weight", "0.bias", "4.weight", "4.bias"]
    assert net.params["0.weight"] is net.layers[0].params["weight"]
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 3)).astype(np.float32)
    y = net.forward(x)
    assert y.shape == (2, 10)
    dx = net.backward(np.ones_like(y))
    assert dx.shape == x.shape
    assert list(net.grads) == list(net.params)
    assert all(net.grads[k].shape == net.params[k].shape for k in net.params)


def test_sequential_train_and_eval_switch_layers():
    class Flagged(ReLU):
        training = True

    net = Sequential(Flagged(), ReLU())
    net.eval()
    assert net.training is False and net.layers[0].training is False
    net.train()
    assert net.layers[0].training is True
