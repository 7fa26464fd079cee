"""Standardize, channel_stats, BatchNorm2D/1D: statistics, modes, gradients, PyTorch parity."""

import numpy as np
import pytest
from optional import require_torch

from cnnlib import gradcheck
from cnnlib.nn.normalization import BatchNorm1D, BatchNorm2D, Standardize, channel_stats

TOL = 1e-6  # relative error of a float64 gradient check


def as_float64(layer):
    layer.params = {k: v.astype(np.float64) for k, v in layer.params.items()}
    return layer


def random_bn(cls, c, seed=0):
    """A batch-norm layer with non-trivial γ and β, so gradcheck exercises both."""
    rng = np.random.default_rng(seed)
    layer = as_float64(cls(c))
    layer.params["weight"] = rng.uniform(0.5, 1.5, c)
    layer.params["bias"] = rng.standard_normal(c)
    return layer


# ------------------------------------------------------------------------- Standardize


def test_channel_stats_match_numpy():
    x = np.random.default_rng(0).integers(0, 256, (50, 8, 8, 3), dtype=np.uint8)
    mean, std = channel_stats(x, batch=7)  # several chunks
    ref = x.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(mean, ref.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, ref.std(axis=0), rtol=1e-10)


def test_standardize_turns_uint8_images_into_unit_float32():
    x = np.random.default_rng(1).integers(0, 256, (40, 6, 6, 3), dtype=np.uint8)
    y = Standardize(*channel_stats(x)).forward(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.reshape(-1, 3).mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(y.reshape(-1, 3).std(axis=0), 1, rtol=1e-5)


def test_standardize_gradient():
    layer = Standardize([0.5, -1.0], [2.0, 0.25])
    x = np.random.default_rng(2).standard_normal((2, 3, 3, 2))
    assert gradcheck(layer, x) < TOL


@pytest.mark.parametrize(("mean", "std", "match"), [
    ([0, 0, 0], [1, 0, 1], "positive"),
    ([0, 0], [1, 1, 1], "same length"),
    ([np.nan, 0, 0], [1, 1, 1], "finite"),
])
def test_standardize_rejects_bad_statistics(mean, std, match):
    with pytest.raises(ValueError, match=match):
        Standardize(mean, std)


def test_standardize_rejects_wrong_channel_count():
    with pytest.raises(ValueError, match="3 channels"):
        Standardize([0, 0, 0], [1, 1, 1]).forward(np.zeros((1, 4, 4, 1)))


# ------------------------------------------------------------------------- batch norm


def test_batchnorm2d_training_output_is_normalised_per_channel():
    x = np.random.default_rng(3).normal(5.0, 3.0, (8, 5, 5, 4)).astype(np.float32)
    y = BatchNorm2D(4).forward(x)
    np.testing.assert_allclose(y.reshape(-1, 4).mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(y.reshape(-1, 4).std(axis=0), 1, rtol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_keeps_the_input_dtype(dtype):
    layer = BatchNorm2D(3)
    if dtype == np.float64:
        as_float64(layer)
    x = np.random.default_rng(4).standard_normal((4, 3, 3, 3)).astype(dtype)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dtype and dx.dtype == dtype
    assert layer.grads["weight"].dtype == layer.params["weight"].dtype
    layer.eval()
    assert layer.forward(x).dtype == dtype


def test_batchnorm2d_gradient_in_training_mode():
    x = np.random.default_rng(5).normal(1.0, 2.0, (3, 4, 4, 2))
    assert gradcheck(random_bn(BatchNorm2D, 2), x) < TOL


def test_batchnorm2d_gradient_in_eval_mode():
    layer = random_bn(BatchNorm2D, 3)
    layer.buffers["running_mean"][:] = [0.5, -0.2, 0.1]
    layer.buffers["running_var"][:] = [2.0, 0.5, 1.5]
    x = np.random.default_rng(6).standard_normal((2, 3, 3, 3))
    assert gradcheck(layer.eval(), x) < TOL


def test_batchnorm1d_gradient_in_training_mode():
    x = np.random.default_rng(7).normal(-1.0, 0.5, (6, 5))
    assert gradcheck(random_bn(BatchNorm1D, 5), x) < TOL


def test_running_statistics_follow_the_momentum_rule():
    layer = BatchNorm2D(2, momentum=0.25)
    x = np.random.default_rng(8).normal(3.0, 2.0, (4, 3, 3, 2)).astype(np.float32)
    layer.forward(x)
    flat = x.reshape(-1, 2).astype(np.float64)
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.25 * flat.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.buffers["running_var"],
                               0.75 + 0.25 * flat.var(axis=0, ddof=1), rtol=1e-5)


def test_eval_mode_uses_running_statistics_not_the_batch():
    layer = BatchNorm2D(2)
    layer.buffers["running_mean"][:] = [1.0, 2.0]
    layer.buffers["running_var"][:] = [4.0, 9.0]
    layer.eval()
    x = np.ones((1, 1, 1, 2), np.float32) * np.array([3.0, 5.0], np.float32)
    np.testing.assert_allclose(layer.forward(x).ravel(), [2 / np.sqrt(4 + 1e-5),
                                                          3 / np.sqrt(9 + 1e-5)], rtol=1e-6)
    before = layer.buffers["running_mean"].copy()
    layer.forward(x * 100)
    np.testing.assert_array_equal(layer.buffers["running_mean"], before)


def test_train_and_eval_switch_through_sequential():
    from cnnlib import Sequential
    bn = BatchNorm2D(2)
    model = Sequential(bn)
    model.eval()
    assert bn.training is False
    model.train()
    assert bn.training is True


@pytest.mark.parametrize(("shape", "match"), [
    ((2, 3, 3, 4), "3 input channels"),
    ((2, 3, 3), "4-D"),
    ((1, 1, 1, 3), "more than one value"),
])
def test_batchnorm2d_rejects_bad_input(shape, match):
    with pytest.raises(ValueError, match=match):
        BatchNorm2D(3).forward(np.zeros(shape, np.float32))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_features": 0}, "num_features"),
    ({"num_features": 2, "eps": 0}, "eps"),
    ({"num_features": 2, "momentum": 1.5}, "momentum"),
])
def test_batchnorm_rejects_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchNorm2D(**kwargs)


# ----------------------------------------------------------------------------- PyTorch


def test_batchnorm2d_matches_torch_in_both_modes():
    torch = require_torch()
    rng = np.random.default_rng(9)
    c = 5
    ours = BatchNorm2D(c, momentum=0.1)
    gamma = rng.uniform(0.5, 1.5, c).astype(np.float32)
    beta = rng.standard_normal(c).astype(np.float32)
    ours.params["weight"], ours.params["bias"] = gamma.copy(), beta.copy()
    theirs = torch.nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    for step in range(3):  # several steps, so the running statistics are compared too
        x = rng.normal(step, 2.0, (6, 7, 7, c)).astype(np.float32)
        dout = rng.standard_normal(x.shape).astype(np.float32)
        y = ours.forward(x)
        dx = ours.backward(dout)
        xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
        yt = theirs(xt)
        yt.backward(torch.tensor(dout.transpose(0, 3, 1, 2).copy()))
        np.testing.assert_allclose(y, yt.detach().numpy().transpose(0, 2, 3, 1), atol=1e-5)
        np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 3, 1), atol=1e-5)
        np.testing.assert_allclose(ours.grads["weight"], theirs.weight.grad.numpy(), rtol=1e-4)
        np.testing.assert_allclose(ours.grads["bias"], theirs.bias.grad.numpy(), rtol=1e-4)
        theirs.weight.grad = theirs.bias.grad = None
    np.testing.assert_allclose(ours.buffers["running_mean"], theirs.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.buffers["running_var"], theirs.running_var.numpy(), rtol=1e-5)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 4, 4, c)).astype(np.float32)
    yt = theirs(torch.tensor(x.transpose(0, 3, 1, 2).copy())).detach().numpy()
    np.testing.assert_allclose(ours.forward(x), yt.transpose(0, 2, 3, 1), atol=1e-5)


def test_batchnorm_stays_exact_when_the_mean_dwarfs_the_spread():
    # float32 E[x²] − μ² would cancel every digit here; the layer centres first instead.
    x = np.random.default_rng(10).normal(1000.0, 0.5, (8, 4, 4, 3)).astype(np.float32)
    layer = BatchNorm2D(3)
    y = layer.forward(x)
    np.testing.assert_allclose(y.reshape(-1, 3).std(axis=0), 1, rtol=1e-3)
    np.testing.assert_allclose(layer.buffers["running_mean"], 100.0, rtol=1e-3)
    x64 = x.astype(np.float64)
    assert gradcheck(random_bn(BatchNorm2D, 3), x64) < TOL
