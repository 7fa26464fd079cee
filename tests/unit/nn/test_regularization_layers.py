"""Dropout and GlobalAvgPool2D: behaviour, gradient checks, PyTorch parity."""

import numpy as np
import pytest
from optional import require_torch

from cnnlib import Sequential, gradcheck
from cnnlib.nn.gradcheck import FixedRandomness
from cnnlib.nn.layers import Dropout, GlobalAvgPool2D

# ---------------------------------------------------------------------------- Dropout


def test_dropout_gradient_in_training_mode():
    x = np.random.default_rng(0).standard_normal((4, 3, 3, 2))
    assert gradcheck(FixedRandomness(Dropout(0.3, seed=1)), x) < 1e-7


def test_dropout_zeroes_about_p_and_keeps_the_mean():
    x = np.ones((200, 10, 10, 4), np.float32)
    y = Dropout(0.3, seed=0).forward(x)
    assert abs((y == 0).mean() - 0.3) < 0.01
    assert abs(y.mean() - 1.0) < 0.02
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)


def test_dropout_backward_passes_gradient_only_where_kept():
    layer = Dropout(0.5, seed=0)
    y = layer.forward(np.ones((50, 20), np.float32))
    dx = layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(dx, y)  # same mask, same 1/(1-p) scale


def test_dropout_is_the_identity_in_eval_mode():
    layer = Dropout(0.5, seed=0)
    model = Sequential(layer).eval()
    x = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_array_equal(model.forward(x), x)
    np.testing.assert_array_equal(model.backward(x), x)
    assert layer.training is False


def test_same_seed_gives_same_masks():
    x = np.ones((8, 16), np.float32)
    a, b = Dropout(0.5, seed=42), Dropout(0.5, seed=42)
    for _ in range(3):
        np.testing.assert_array_equal(a.forward(x), b.forward(x))
    assert not np.array_equal(Dropout(0.5, seed=43).forward(x), Dropout(0.5, seed=42).forward(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_keeps_the_dtype(dtype):
    layer = Dropout(0.5, seed=0)
    y = layer.forward(np.ones((4, 4), dtype))
    assert y.dtype == dtype and layer.backward(y).dtype == dtype


@pytest.mark.parametrize("p", [-0.1, 1.0, 2, "0.5", True])
def test_dropout_rejects_bad_probability(p):
    with pytest.raises(ValueError, match="p = "):
        Dropout(p)


def test_dropout_with_p_zero_is_the_identity():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(Dropout(0.0, seed=0).forward(x), x)


# --------------------------------------------------------------------- GlobalAvgPool2D


def test_global_avg_pool_gradient():
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    assert gradcheck(GlobalAvgPool2D(), x) < 1e-7


def test_global_avg_pool_matches_torch():
    torch = require_torch()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 5, 4)).astype(np.float32)
    dout = rng.standard_normal((3, 4)).astype(np.float32)
    layer = GlobalAvgPool2D()
    y, dx = layer.forward(x), layer.backward(dout)
    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    yt = torch.nn.functional.adaptive_avg_pool2d(xt, 1).flatten(1)
    yt.backward(torch.tensor(dout))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-5)
    assert y.dtype == np.float32 and dx.dtype == np.float32


def test_global_avg_pool_rejects_non_4d_input():
    with pytest.raises(ValueError, match="4-D"):
        GlobalAvgPool2D().forward(np.zeros((2, 3)))
