"""Layers on floored sizes: 3×3 filters, stride 2, padding 1 on even inputs.

(W - F + 2P) is odd, so the last padded row and column are left over; they hold only
zero padding. Forward and backward must agree with the loops, with central differences
and (where it is installed) with PyTorch, which floors the same way.
"""

import numpy as np
import pytest
from optional import require_torch

from cnnlib import AvgPool2D, Conv2D, MaxPool2D, conv_output_size
from cnnlib.core import functional as F
from cnnlib.core.naive import conv2d_naive, pool2d_naive
from cnnlib.nn.gradcheck import gradcheck


@pytest.mark.parametrize("h", [8, 32])
def test_conv2d_on_a_floored_size_matches_the_loops(h):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, h, h, 3))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    y = F.conv2d(x, w, b, stride=2, padding=1)
    assert y.shape == (2, h // 2, h // 2, 4)
    np.testing.assert_allclose(y, conv2d_naive(x, w, b, stride=2, padding=1), rtol=1e-10)


@pytest.mark.parametrize("h", [8, 32])
def test_conv2d_on_a_floored_size_reads_every_real_pixel(h):
    """Changing the last real row or column changes the output: nothing is ignored."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, h, h, 1))
    w = np.ones((1, 3, 3, 1))
    y = F.conv2d(x, w, stride=2, padding=1)
    for where in [(slice(None), -1), (-1, slice(None))]:
        x2 = x.copy()
        x2[0][where] += 1.0
        assert not np.allclose(F.conv2d(x2, w, stride=2, padding=1), y), where


@pytest.mark.parametrize("h", [8, 10])
def test_conv2d_layer_gradients_on_a_floored_size(h):
    layer = Conv2D(2, 3, 3, stride=2, padding=1, seed=0, dtype=np.float64)
    layer.params["bias"] = np.random.default_rng(2).standard_normal(3)
    x = np.random.default_rng(3).standard_normal((2, h, h, 2))
    err = gradcheck(layer, x)
    assert err < 1e-7, f"relative error {err:.2e}"


def test_conv2d_layer_gradients_with_a_skipped_gap_left_over():
    """1×1 filter, stride 2 on an even input: the leftover real column is a skipped gap."""
    assert conv_output_size(8, 1, 2, 0) == 4
    layer = Conv2D(2, 3, 1, stride=2, seed=0, dtype=np.float64)
    x = np.random.default_rng(4).standard_normal((2, 8, 8, 2))
    err = gradcheck(layer, x)
    assert err < 1e-7, f"relative error {err:.2e}"
    dx = layer.backward(np.ones((2, 4, 4, 3)))
    assert np.all(dx[:, 1::2, :, :] == 0) and np.all(dx[:, :, 1::2, :] == 0)


@pytest.mark.parametrize("layer_type", [MaxPool2D, AvgPool2D])
def test_pooling_with_a_skipped_gap_left_over(layer_type):
    """Window 2, stride 4 on 7 pixels: windows at 0 and 4; pixel 6 is in a gap, as 2 and 3 are."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 7, 7, 3))
    layer = layer_type(2, 4)
    y = layer.forward(x)
    reduce = np.max if layer_type is MaxPool2D else np.mean
    np.testing.assert_allclose(y, pool2d_naive(x, 2, 4, reduce), rtol=1e-12)
    err = gradcheck(layer_type(2, 4), x)
    assert err < 1e-7, f"relative error {err:.2e}"


@pytest.mark.parametrize(("h", "f", "s", "p"), [(32, 3, 2, 1), (8, 3, 2, 1), (32, 1, 2, 0)])
def test_conv2d_on_a_floored_size_matches_torch(h, f, s, p):
    torch = require_torch()
    rng = np.random.default_rng(6)
    layer = Conv2D(3, 4, f, stride=s, padding=p, seed=0)
    layer.params["bias"] = rng.standard_normal(4).astype(np.float32)
    x = rng.standard_normal((2, h, h, 3)).astype(np.float32)
    y = layer.forward(x)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(dout)

    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    wt = torch.tensor(layer.params["weight"].transpose(0, 3, 1, 2).copy(), requires_grad=True)
    bt = torch.tensor(layer.params["bias"], requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p)
    yt.backward(torch.tensor(dout.transpose(0, 3, 1, 2).copy()))
    pairs = [(y, yt.detach().numpy().transpose(0, 2, 3, 1), "forward"),
             (dx, xt.grad.numpy().transpose(0, 2, 3, 1), "d/dx"),
             (layer.grads["weight"], wt.grad.numpy().transpose(0, 2, 3, 1), "d/dweight"),
             (layer.grads["bias"], bt.grad.numpy(), "d/dbias")]
    for ours, theirs, what in pairs:
        assert ours.shape == theirs.shape, what
        err = np.abs(ours - theirs).max() / (np.abs(theirs).max() + 1e-12)
        assert err < 1e-4, f"{what}: relative error {err:.2e}"


@pytest.mark.parametrize(("ours", "theirs"), [(MaxPool2D, "max_pool2d"), (AvgPool2D, "avg_pool2d")])
def test_pooling_with_a_skipped_gap_matches_torch(ours, theirs):
    torch = require_torch()
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 7, 7, 3)).astype(np.float32)
    layer = ours(2, 4)
    y = layer.forward(x)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(dout)
    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    yt = getattr(torch.nn.functional, theirs)(xt, 2, 4)
    yt.backward(torch.tensor(dout.transpose(0, 3, 1, 2).copy()))
    np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6)


def test_pytorch_rounds_pooling_down_by_default_and_up_with_ceil_mode():
    """Chapter 5's claim about frameworks, for the one of them installed here: on 30
    columns a 3-wide window at stride 2 gives 14 windows by default, 15 with ceil_mode
    (the 15th hangs over the edge), where cnnlib refuses the size."""
    torch = require_torch()
    x = torch.arange(30.0).reshape(1, 1, 1, 30).expand(1, 1, 3, 30)
    floor = torch.nn.functional.max_pool2d(x, 3, 2)
    ceil = torch.nn.functional.max_pool2d(x, 3, 2, ceil_mode=True)
    assert floor.shape[-1] == 14 and floor.max() == 28  # column 29 is never read
    assert ceil.shape[-1] == 15 and ceil.max() == 29  # the 15th window pools columns 28-29
    with pytest.raises(ValueError, match="30"):
        MaxPool2D(3, 2).forward(np.zeros((1, 3, 30, 1)))
