"""cnnlib against PyTorch (CPU), forward and backward, float32, within 1e-4 relative.

torch is a test-only dependency (requirements-dev.txt pins the CPU wheel). Where it is
absent these tests skip with the reason shown in pytest's summary (-ra).
"""

import numpy as np
import pytest
from optional import require_torch

from cnnlib import AvgPool2D, Conv2D, Linear, MaxPool2D, softmax_cross_entropy

torch = require_torch()

RTOL = 1e-4


def to_torch(x_nhwc):
    return torch.tensor(np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)), requires_grad=True)


def from_torch(t_nchw):
    return t_nchw.detach().numpy().transpose(0, 2, 3, 1)


def assert_close(ours, theirs, what):
    scale = np.abs(theirs).max() + 1e-12
    err = np.abs(ours - theirs).max() / scale
    assert err < RTOL, f"{what}: max error relative to the largest value {err:.2e}"
    assert ours.dtype == np.float32, f"{what}: dtype {ours.dtype}, expected float32"


@pytest.mark.parametrize(
    ("c", "k", "f", "s", "p", "h"),
    [(3, 2, 3, 2, 1, 5), (3, 16, 3, 1, 1, 16), (8, 4, 5, 1, 2, 9), (4, 6, 2, 2, 0, 8), (2, 3, 1, 1, 0, 4)],
)
def test_conv2d_matches_torch(c, k, f, s, p, h):
    rng = np.random.default_rng(0)
    layer = Conv2D(c, k, f, stride=s, padding=p, seed=0)
    layer.params["bias"] = rng.standard_normal(k).astype(np.float32)
    x = rng.standard_normal((4, h, h, c)).astype(np.float32)
    y = layer.forward(x)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(dout)

    xt = to_torch(x)
    wt = to_torch(layer.params["weight"])  # (K, F, F, C) -> (K, C, F, F)
    bt = torch.tensor(layer.params["bias"], requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p)
    yt.backward(torch.tensor(dout.transpose(0, 3, 1, 2)))
    assert_close(y, from_torch(yt), "conv forward")
    assert_close(dx, from_torch(xt.grad), "conv d/dx")
    assert_close(layer.grads["weight"], from_torch(wt.grad), "conv d/dweight")
    assert_close(layer.grads["bias"], bt.grad.numpy(), "conv d/dbias")


@pytest.mark.parametrize(("f", "s"), [(2, 2), (3, 2), (3, 3), (2, 1)])
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(MaxPool2D, torch.nn.functional.max_pool2d), (AvgPool2D, torch.nn.functional.avg_pool2d)],
)
def test_pooling_matches_torch(ours, theirs, f, s):
    rng = np.random.default_rng(1)
    h = 2 * s + f  # (H - F) divisible by S
    x = rng.standard_normal((3, h, h, 5)).astype(np.float32)
    layer = ours(f, s)
    y = layer.forward(x)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(dout)
    xt = to_torch(x)
    yt = theirs(xt, f, s)
    yt.backward(torch.tensor(dout.transpose(0, 3, 1, 2)))
    assert_close(y, from_torch(yt), "pool forward")
    assert_close(dx, from_torch(xt.grad), "pool d/dx")


def test_linear_matches_torch():
    rng = np.random.default_rng(2)
    layer = Linear(250, 10, seed=0)
    layer.params["bias"] = rng.standard_normal(10).astype(np.float32)
    x = rng.standard_normal((8, 250)).astype(np.float32)
    y = layer.forward(x)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.params["weight"], requires_grad=True)  # (in, out): y = x @ W + b
    bt = torch.tensor(layer.params["bias"], requires_grad=True)
    yt = xt @ wt + bt
    yt.backward(torch.tensor(dout))
    assert_close(y, yt.detach().numpy(), "linear forward")
    assert_close(dx, xt.grad.numpy(), "linear d/dx")
    assert_close(layer.grads["weight"], wt.grad.numpy(), "linear d/dweight")
    assert_close(layer.grads["bias"], bt.grad.numpy(), "linear d/dbias")


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_cross_entropy_matches_torch(smoothing):
    rng = np.random.default_rng(3)
    logits = (rng.standard_normal((16, 10)) * 5).astype(np.float32)
    labels = rng.integers(0, 10, 16)
    loss, dlogits = softmax_cross_entropy(logits, labels, label_smoothing=smoothing)
    lt = torch.tensor(logits, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(lt, torch.tensor(labels), label_smoothing=smoothing)
    tl.backward()
    assert abs(loss - tl.item()) / abs(tl.item()) < RTOL
    assert_close(dlogits, lt.grad.numpy(), "cross-entropy d/dlogits")
