"""cnnlib.interop: every layer type to PyTorch and back with equal outputs and gradients,
the reference network's logits and gradients, and `import cnnlib` without torch.

Gradients through a whole network are compared in float64: in float32 a value that
rounds to just above zero in one library and just below in the other flips a ReLU, and
that single flip moves a gradient by far more than rounding would.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from optional import require_torch

import cnnlib
from cnnlib import (
    AvgPool2D,
    BatchNorm1D,
    BatchNorm2D,
    Conv2D,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Linear,
    MaxPool2D,
    ReLU,
    ResidualBlock,
    Sequential,
    Sigmoid,
    Standardize,
    Tanh,
)
from cnnlib.nn.models import fast_network

torch = require_torch()
from cnnlib.interop import from_torch, to_torch  # noqa: E402


def nchw(x):
    return torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2) if x.ndim == 4 else x))


def nhwc(t):
    a = t.detach().numpy()
    return a.transpose(0, 2, 3, 1) if a.ndim == 4 else a


def float64(model):
    for layer in model.layers:
        for name in list(getattr(layer, "params", {})):
            layer.params[name] = layer.params[name].astype(np.float64)
    return model


def randomize(model, rng):
    """Non-trivial biases, batch-norm γ/β and running statistics, so every array matters."""
    for layer in model.layers:
        params = getattr(layer, "params", {})
        for name in list(params):
            if name.endswith("bias") or (params[name].ndim == 1 and name.endswith("weight")):
                params[name] = (params[name] + rng.normal(0, 0.3, params[name].shape)).astype(
                    params[name].dtype)
        for name, buf in getattr(layer, "buffers", {}).items():
            if "running_mean" in name:
                buf[...] = rng.normal(0, 0.5, buf.shape)
            elif "running_var" in name:
                buf[...] = rng.uniform(0.5, 2.0, buf.shape)
    return model


def rel(ours, theirs):
    return float(np.abs(ours - theirs).max() / (np.abs(theirs).max() + 1e-30))


# (name, model factory, input shape): each cnnlib layer type on its own, in float64.
LAYERS = [
    ("Conv2D", lambda: Conv2D(3, 4, 3, stride=2, padding=1, seed=0), (2, 9, 9, 3)),
    ("Conv2D-5x5", lambda: Conv2D(2, 3, 5, padding=2, seed=0), (2, 6, 6, 2)),
    ("Linear", lambda: Linear(7, 5, seed=0), (3, 7)),
    ("ReLU", ReLU, (2, 4, 4, 3)),
    ("Tanh", Tanh, (2, 4, 4, 3)),
    ("Sigmoid", Sigmoid, (2, 4, 4, 3)),
    ("MaxPool2D", lambda: MaxPool2D(2, 2), (2, 6, 6, 3)),
    ("MaxPool2D-3s2", lambda: MaxPool2D(3, 2), (2, 7, 7, 3)),
    ("AvgPool2D", lambda: AvgPool2D(2, 2), (2, 6, 6, 3)),
    ("GlobalAvgPool2D", GlobalAvgPool2D, (2, 5, 5, 3)),
    ("Flatten", Flatten, (2, 3, 4, 5)),
    ("BatchNorm2D-train", lambda: BatchNorm2D(3), (4, 3, 3, 3)),
    ("BatchNorm2D-eval", lambda: BatchNorm2D(3).eval(), (4, 3, 3, 3)),
    ("BatchNorm1D-train", lambda: BatchNorm1D(6), (5, 6)),
    ("BatchNorm1D-eval", lambda: BatchNorm1D(6).eval(), (5, 6)),
    ("Dropout-eval", lambda: Dropout(0.5).eval(), (3, 6)),
    ("Dropout-p0", lambda: Dropout(0.0), (3, 6)),
    ("Standardize", lambda: Standardize([1.0, -2.0, 0.5], [2.0, 0.5, 3.0]), (2, 4, 4, 3)),
    ("ResidualBlock", lambda: ResidualBlock(3, 3, seed=0), (2, 5, 5, 3)),
    ("ResidualBlock-stride2", lambda: ResidualBlock(3, 4, stride=2, seed=0), (2, 9, 9, 3)),
    ("ResidualBlock-eval", lambda: ResidualBlock(3, 4, seed=0).eval(), (2, 5, 5, 3)),
    ("Sequential-nested", lambda: Sequential(Conv2D(3, 2, 3, seed=0), Sequential(
        ReLU(), Flatten()), Linear(8, 2, seed=1)), (2, 4, 4, 3)),
]


@pytest.mark.parametrize(("factory", "shape"), [case[1:] for case in LAYERS],
                         ids=[case[0] for case in LAYERS])
def test_layer_round_trip_gives_equal_outputs_and_gradients(factory, shape):
    rng = np.random.default_rng(0)
    model = randomize(Sequential(factory()), rng)
    model.training = getattr(model.layers[0], "training", True)
    float64(model)
    x = rng.standard_normal(shape)
    twin = to_torch(model).double()
    assert twin.training == model.training

    y = model.forward(x)
    dout = rng.standard_normal(y.shape)
    dx = model.backward(dout)
    xt = nchw(x).requires_grad_(True)
    yt = twin(xt)
    yt.backward(nchw(dout))
    np.testing.assert_allclose(nhwc(yt), y, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(nhwc(xt.grad), dx, rtol=1e-9, atol=1e-12)

    back = from_torch(twin)  # carries the gradients PyTorch computed
    assert set(back.grads) == set(model.grads) or len(back.layers) != len(model.layers)
    if len(back.layers) == len(model.layers):
        for name, grad in model.grads.items():
            np.testing.assert_allclose(back.grads[name], grad, rtol=1e-8, atol=1e-12,
                                       err_msg=name)
        for name, value in model.params.items():
            np.testing.assert_array_equal(back.params[name], value, err_msg=name)
    # And the converted-back model computes the same function.
    back.train(model.training)
    np.testing.assert_allclose(back.forward(x), y, rtol=1e-12, atol=1e-12)


def test_batchnorm_running_statistics_travel_and_update_alike():
    rng = np.random.default_rng(1)
    model = randomize(Sequential(Conv2D(3, 4, 3, seed=0), BatchNorm2D(4)), rng)
    twin = to_torch(model)
    bn = twin[1]
    np.testing.assert_array_equal(bn.running_mean.numpy(), model.layers[1].buffers["running_mean"])
    x = rng.standard_normal((8, 6, 6, 3)).astype(np.float32)
    model.forward(x)  # one training step's update of the running statistics, in both
    twin(nchw(x))
    for name in ("running_mean", "running_var"):
        got, want = getattr(bn, name).numpy(), model.layers[1].buffers[name]
        assert rel(got, want) < 1e-5, f"{name}: {got} vs {want}"
        np.testing.assert_allclose(from_torch(twin).layers[1].buffers[name], got)


def test_modes_travel_both_ways():
    model = cnnlib.reference_network(seed=0).eval()
    twin = to_torch(model)
    assert not twin.training and not any(m.training for m in twin.modules())
    back = from_torch(twin.train())
    assert back.training and all(getattr(layer, "training", True) for layer in back.layers)


def reference_setup(dtype=np.float32):
    """The reference network with random classifier weights and used running statistics."""
    rng = np.random.default_rng(0)
    model = cnnlib.reference_network(seed=0, mean=(125.0, 123.0, 114.0), std=(63.0, 62.0, 66.0))
    last = model.layers[-1]
    last.params["weight"][...] = rng.normal(0, 0.05, last.params["weight"].shape)
    images = rng.integers(0, 256, (96, 32, 32, 3)).astype(np.uint8)
    model.forward(images[32:])  # running statistics from other images
    labels = rng.integers(0, 10, 32)
    return model, images[:32], labels


def test_reference_network_eval_logits_match_within_1e4_relative():
    model, images, _ = reference_setup()
    model.eval()
    logits = model.forward(images)
    theirs = to_torch(model)(nchw(images)).detach().numpy()
    assert rel(logits, theirs) <= 1e-4, f"relative difference {rel(logits, theirs):.2e}"
    again = from_torch(to_torch(model)).forward(images)
    assert rel(again, logits) <= 1e-6


def test_reference_network_training_gradients_match():
    model, images, labels = reference_setup()
    for layer in model.layers:
        if isinstance(layer, Dropout):
            layer.p = 0.0  # dropout off: both libraries must compute the same function
    float64(model).train()
    twin = to_torch(model).double()
    logits = model.forward(images.astype(np.float64))
    loss, dlogits = cnnlib.softmax_cross_entropy(logits, labels)
    model.backward(dlogits)
    tl = torch.nn.functional.cross_entropy(twin(nchw(images.astype(np.float64))),
                                           torch.tensor(labels))
    tl.backward()
    assert abs(loss - tl.item()) < 1e-9 * abs(loss)
    theirs = from_torch(twin).grads
    scale = max(np.abs(g).max() for g in theirs.values())
    worst = max(np.abs(model.grads[k] - theirs[k]).max() for k in theirs) / scale
    assert worst < 1e-6, f"largest gradient difference relative to the largest gradient {worst:.2e}"


def test_from_torch_plain_flatten_reorders_the_next_linear_layer():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 5 * 5, 6))
    x = np.random.default_rng(0).standard_normal((2, 7, 7, 3)).astype(np.float32)
    ours = from_torch(net).forward(x)
    assert rel(ours, net(nchw(x)).detach().numpy()) < 1e-5


def test_from_torch_adaptive_average_pooling_is_global_average_pooling():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1),
                              torch.nn.Flatten(), torch.nn.Linear(4, 2))
    model = from_torch(net)
    assert isinstance(model.layers[1], GlobalAvgPool2D)
    x = np.random.default_rng(0).standard_normal((2, 7, 7, 3)).astype(np.float32)
    assert rel(model.forward(x), net(nchw(x)).detach().numpy()) < 1e-5


@pytest.mark.parametrize(("module", "rule"), [
    (lambda: torch.nn.Conv2d(4, 4, 3, groups=2), "groups = 1"),
    (lambda: torch.nn.Conv2d(3, 4, (3, 5)), "square kernel"),
    (lambda: torch.nn.MaxPool2d(2, 2, padding=1), "padding 0"),
    (lambda: torch.nn.BatchNorm2d(3, affine=False), "affine=True"),
    (lambda: torch.nn.LSTM(3, 4), "cannot convert a module of type LSTM"),
])
def test_from_torch_refuses_what_cnnlib_cannot_express(module, rule):
    with pytest.raises(ValueError, match=rule):
        from_torch(module())


def test_to_torch_refuses_unknown_layers():
    class Mystery(cnnlib.Layer):
        def forward(self, x):
            return x

        def backward(self, d):
            return d

    with pytest.raises(ValueError, match="cannot convert a layer of type Mystery"):
        to_torch(Sequential(Mystery()))


def run_python(code):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


def test_import_cnnlib_does_not_import_torch():
    done = run_python("""
        import sys
        import cnnlib, cnnlib.interop
        assert "torch" not in sys.modules, "import cnnlib imported torch"
        print("ok")
    """)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_cnnlib_works_without_torch_and_interop_says_how_to_install():
    done = run_python("""
        import sys
        import numpy as np

        class NoTorch:  # a meta-path finder that makes every torch import fail
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError(f"No module named {name!r} (blocked)")
                return None

        sys.meta_path.insert(0, NoTorch())
        import cnnlib
        from cnnlib.interop import to_torch
        model = cnnlib.residual_network(seed=0, widths=(4, 8))
        assert model.eval().forward(np.zeros((1, 16, 16, 3), np.uint8)).shape == (1, 10)
        try:
            to_torch(model)
        except ImportError as err:
            print(err)
        assert "torch" not in sys.modules
    """)
    assert done.returncode == 0, done.stderr
    assert "pip install torch==2.13.0" in done.stdout, done.stdout


def test_fast_network_logits_and_gradients_match():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (24, 32, 32, 3)).astype(np.uint8)
    model = fast_network(0, whiten=images, widths=(8, 16, 32), directions=4,
                         mean=(125.0, 123.0, 114.0), std=(63.0, 62.0, 66.0))
    last = model.layers[-1]
    last.params["weight"][...] = rng.normal(0, 0.05, last.params["weight"].shape)
    model.forward(images[12:])  # running statistics from other images
    model.eval()
    logits = model.forward(images[:12])
    theirs = to_torch(model)(nchw(images[:12])).detach().numpy()
    assert rel(logits, theirs) <= 1e-4, f"relative difference {rel(logits, theirs):.2e}"
    float64(model).train()
    twin = to_torch(model).double()
    labels = rng.integers(0, 10, 12)
    loss, dlogits = cnnlib.softmax_cross_entropy(model.forward(images[:12].astype(np.float64)),
                                                 labels)
    model.backward(dlogits)
    torch.nn.functional.cross_entropy(twin(nchw(images[:12].astype(np.float64))),
                                      torch.tensor(labels)).backward()
    grads = from_torch(twin).grads
    scale = max(np.abs(g).max() for g in grads.values())
    worst = max(np.abs(model.grads[k] - grads[k]).max() for k in grads) / scale
    assert worst < 1e-6, f"largest gradient difference relative to the largest gradient {worst:.2e}"
