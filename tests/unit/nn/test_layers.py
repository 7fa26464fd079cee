"""Layer objects: shapes, parameters, seeding, dtypes, and the errors they raise."""

import subprocess
import sys

import numpy as np
import pytest

import cnnlib
from cnnlib import Sigmoid, Tanh
from cnnlib.nn.layers import AvgPool2D, Conv2D, Flatten, Linear, MaxPool2D, ReLU, Sequential

CONTRACT_NAMES = ["conv_output_size", "pool_output_size", "Conv2D", "MaxPool2D", "AvgPool2D",
                  "ReLU", "Tanh", "Sigmoid", "Flatten", "Linear", "Sequential",
                  "softmax_cross_entropy", "SGD", "load_cifar10", "Layer"]


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_every_contract_name_imports_from_the_package(name):
    # A fresh interpreter: this module's own imports cannot stand in for the package's.
    code = f"from cnnlib import {name}; import cnnlib; assert {name!r} in cnnlib.__all__"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"cnnlib.{name}: {proc.stderr.strip().splitlines()[-1]}"


@pytest.mark.parametrize("name", [n for n in dir(cnnlib.nn.layers) + dir(cnnlib.nn.normalization)
                                  if isinstance(getattr(cnnlib.nn.layers, n, None)
                                                or getattr(cnnlib.nn.normalization, n, None), type)
                                  and n[0] != "_" and n not in ("Layer", "MappingProxyType")])
def test_every_layer_class_subclasses_layer_and_is_callable(name):
    cls = getattr(cnnlib.nn.layers, name, None) or getattr(cnnlib.nn.normalization, name)
    assert issubclass(cls, cnnlib.Layer), f"{name} does not subclass cnnlib.Layer"
    assert cls.__call__ is cnnlib.Layer.__call__


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
    e = make(seed=np.random.default_rng(42))
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
        (lambda: Sequential(ReLU(), "relu"), r"layer 1 \('relu'\) is not a cnnlib.Layer"),
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


@pytest.mark.parametrize("make", [lambda: Conv2D(3, 8, 3, seed=0), lambda: Linear(4, 2, seed=0),
                                  MaxPool2D, AvgPool2D, ReLU, Tanh, Sigmoid, Flatten,
                                  cnnlib.GlobalAvgPool2D, lambda: cnnlib.Dropout(0.0),
                                  lambda: cnnlib.BatchNorm2D(3)])
def test_calling_a_layer_is_its_forward(make):
    layer = make()
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 3)).astype(np.float32)
    if isinstance(layer, Linear):
        x = x[:, 0, 0, :2].repeat(2, axis=1)  # (2, 4)
    np.testing.assert_array_equal(layer(x), layer.forward(x))


def test_train_and_eval_switch_every_layer_of_a_sequential():
    model = Sequential(Conv2D(3, 3, 3, seed=0), cnnlib.BatchNorm2D(3), cnnlib.Dropout(0.5))
    assert model.eval() is model and not any(layer.training for layer in model.layers)
    assert all(layer.training for layer in model.train().layers)


def test_layers_accept_numpy_integers_and_refuse_bools():
    layer = Conv2D(np.int64(3), np.int32(4), np.int64(3), stride=np.int8(1))
    assert (layer.in_channels, layer.kernel_size) == (3, 3) and type(layer.stride) is int
    with pytest.raises(ValueError, match="kernel_size = True must be a positive integer"):
        Conv2D(3, 4, True)
    from cnnlib.training import TrainConfig
    cfg = TrainConfig(epochs=np.int64(5), batch_size=np.int32(8))
    assert (cfg.epochs, cfg.batch_size) == (5, 8)


def test_repr_shows_the_constructor_arguments():
    assert repr(Conv2D(3, 8, 3, padding=1)) == \
        "Conv2D(3, 8, kernel_size=3, stride=1, padding=1)"
    assert repr(MaxPool2D(3, 2)) == "MaxPool2D(kernel_size=3, stride=2)"
    assert repr(ReLU()) == "ReLU()" and repr(cnnlib.Dropout(0.25)) == "Dropout(p=0.25)"


def test_backward_params_gives_the_same_parameter_gradients_without_the_input_gradient():
    rng = np.random.default_rng(0)
    model = Sequential(cnnlib.Standardize([0.5], [2.0]), Conv2D(1, 4, 3, seed=0), ReLU(),
                       MaxPool2D(2, 2), Flatten(), Linear(16, 3, seed=1))
    x = rng.standard_normal((5, 6, 6, 1)).astype(np.float32)
    dout = rng.standard_normal((5, 3)).astype(np.float32)
    model.forward(x)
    assert model.backward(dout).shape == x.shape
    full = {k: v.copy() for k, v in model.grads.items()}
    for layer in model.layers:  # forget them, to see backward_params fill them again
        layer.grads = {name: np.zeros_like(g) for name, g in layer.grads.items()}
    model.forward(x)
    assert model.backward_params(dout) is None
    for key, value in full.items():
        np.testing.assert_allclose(model.grads[key], value, rtol=1e-6, err_msg=key)
