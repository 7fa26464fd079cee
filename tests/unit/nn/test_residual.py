"""ResidualBlock: shapes, gradient checks (float64), PyTorch parity, training and saving."""

import numpy as np
import pytest
from optional import require_torch

from cnnlib import (
    SGD,
    ResidualBlock,
    gradcheck,
    load_model,
    residual_network,
    save_model,
    softmax_cross_entropy,
)

# (in_channels, out_channels, stride, input size): identity shortcut, 1×1 projection for
# more channels, and the stride-2 variant on an odd size where 3×3/s2/p1 and 1×1/s2/p0
# both fit exactly (9 -> 5).
CASES = [(4, 4, 1, 6), (3, 5, 1, 6), (3, 6, 2, 9)]
IDS = ["identity", "projection", "stride2"]


def float64_block(cin, cout, stride, seed=0):
    block = ResidualBlock(cin, cout, stride, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed + 1)
    for name, value in block.params.items():  # non-trivial γ and β, so every path counts
        if name.startswith(("bn", "shortcut_bn")):
            block.params[name] = value + rng.normal(0, 0.3, value.shape)
    return block


@pytest.mark.parametrize(("cin", "cout", "stride", "size"), CASES, ids=IDS)
def test_residual_block_output_shape(cin, cout, stride, size):
    block = ResidualBlock(cin, cout, stride, seed=0)
    y = block(np.zeros((2, size, size, cin), np.float32))
    side = (size - 1) // stride + 1
    assert y.shape == (2, side, side, cout) and y.dtype == np.float32


@pytest.mark.parametrize(("cin", "cout", "stride", "size"), CASES, ids=IDS)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_residual_block_gradcheck(cin, cout, stride, size, mode):
    block = float64_block(cin, cout, stride)
    x = np.random.default_rng(2).standard_normal((2, size, size, cin))
    block.forward(x)  # running statistics that differ from 0 and 1 for evaluation mode
    getattr(block, mode)()
    err = gradcheck(block, x)
    assert err < 1e-6, f"{block!r} ({mode}): max relative error {err:.2e}"


def test_residual_block_parameters_by_shortcut():
    identity, projection = ResidualBlock(4, 4), ResidualBlock(4, 8, stride=2)
    assert set(identity.params) == {"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight",
                                    "bn2.weight", "bn2.bias"}
    assert set(projection.params) == set(identity.params) | {
        "shortcut.weight", "shortcut_bn.weight", "shortcut_bn.bias"}
    assert projection.params["shortcut.weight"].shape == (8, 1, 1, 4)
    assert projection.params["conv1.weight"].shape == (8, 3, 3, 4)
    assert set(projection.grads) == set(projection.params)
    assert set(projection.buffers) == {f"{bn}.{b}" for bn in ("bn1", "bn2", "shortcut_bn")
                                       for b in ("running_mean", "running_var")}


def test_residual_block_identity_shortcut_adds_input():
    """With the residual branch silenced (γ = β = 0 in bn2), y = relu(x)."""
    block = ResidualBlock(3, 3, seed=0)
    block.params["bn2.weight"][:] = 0
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(block(x), np.maximum(x, 0))


@pytest.mark.parametrize("bad", [{"in_channels": 0}, {"out_channels": 2.5}, {"stride": 0}])
def test_residual_block_rejects_bad_hyperparameters(bad):
    args = {"in_channels": 3, "out_channels": 4, "stride": 1, **bad}
    name, value = next(iter(bad.items()))
    with pytest.raises(ValueError, match=f"{name} = {value!r} must be a positive integer"):
        ResidualBlock(**args)


def test_residual_block_rejects_wrong_channel_count():
    with pytest.raises(ValueError, match=r"expects an input \(N, H, W, 3\), got shape"):
        ResidualBlock(3, 4)(np.zeros((1, 5, 5, 4), np.float32))


def test_residual_block_stride2_halves_even_sizes():
    # 3×3/s2/p1 leaves only padding over; the 1×1/s2 shortcut skips the last row and column
    # as it skips every other one: both are accepted, as in every framework (8 -> 4).
    y = ResidualBlock(3, 4, stride=2, seed=0)(np.ones((2, 8, 8, 3), np.float32))
    assert y.shape == (2, 4, 4, 4)


def test_sgd_updates_reach_the_inner_layers():
    block = ResidualBlock(3, 4, stride=2, seed=0)
    before = block.conv1.params["weight"].copy()
    x = np.random.default_rng(0).standard_normal((4, 9, 9, 3)).astype(np.float32)
    block.forward(x)
    block.backward(np.ones((4, 5, 5, 4), np.float32))
    SGD(block, lr=0.1).step()
    assert not np.array_equal(block.conv1.params["weight"], before)
    np.testing.assert_array_equal(block.params["conv1.weight"], block.conv1.params["weight"])


def test_residual_network_learns_a_small_batch():
    model = residual_network(seed=0, widths=(8, 16), mean=(127.5,) * 3, std=(74.0,) * 3)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (16, 16, 16, 3)).astype(np.uint8)
    y = rng.integers(0, 10, 16)
    opt = SGD(model, lr=0.05, momentum=0.9)
    losses = []
    for _ in range(40):
        loss, dlogits = softmax_cross_entropy(model.forward(x), y)
        model.backward(dlogits)
        opt.step()
        losses.append(loss)
    assert abs(losses[0] - np.log(10)) < 1e-4, "zero classifier: the first loss is ln 10"
    assert losses[-1] < 0.5 * losses[0], f"loss went {losses[0]:.3f} -> {losses[-1]:.3f}"


def test_residual_network_shape_and_global_pooling():
    model = residual_network(seed=0)
    x = np.zeros((2, 32, 32, 3), np.uint8)
    assert model.eval()(x).shape == (2, 10)
    # Global average pooling: the classifier sees 128 channel means, not a 4×4×128 map.
    assert model.layers[-1].params["weight"].shape == (128, 10)


def test_residual_network_save_load_roundtrip(tmp_path):
    model = residual_network(seed=0, widths=(8, 16), mean=(120, 110, 100), std=(60, 60, 60))
    x = np.random.default_rng(0).integers(0, 256, (8, 16, 16, 3)).astype(np.uint8)
    model.forward(x)  # moves the running statistics away from 0 and 1
    model.eval()
    path = save_model(tmp_path / "res.npz", model)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    block = loaded.layers[6]
    assert isinstance(block, ResidualBlock) and block.projection
    np.testing.assert_array_equal(block.buffers["bn1.running_mean"],
                                  model.layers[6].buffers["bn1.running_mean"])


@pytest.mark.parametrize(("cin", "cout", "stride", "size"), CASES, ids=IDS)
def test_residual_block_matches_torch(cin, cout, stride, size):
    """Written with torch.nn.functional directly, independent of cnnlib.interop."""
    torch = require_torch()
    f = torch.nn.functional
    block = float64_block(cin, cout, stride, seed=3)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, size, size, cin))
    y = block.forward(x)
    dout = rng.standard_normal(y.shape)
    dx = block.backward(dout)

    def t(a, requires_grad=True):
        return torch.tensor(np.asarray(a), requires_grad=requires_grad)

    def conv_weight(w):  # (K, F, F, C) -> (K, C, F, F)
        return t(w.transpose(0, 3, 1, 2))

    p = {k: (conv_weight(v) if v.ndim == 4 else t(v)) for k, v in block.params.items()}

    def bn(h, name):
        return f.batch_norm(h, None, None, p[f"{name}.weight"], p[f"{name}.bias"], training=True)

    xt = t(x.transpose(0, 3, 1, 2))
    h = f.relu(bn(f.conv2d(xt, p["conv1.weight"], stride=stride, padding=1), "bn1"))
    h = bn(f.conv2d(h, p["conv2.weight"], padding=1), "bn2")
    s = bn(f.conv2d(xt, p["shortcut.weight"], stride=stride), "shortcut_bn") \
        if block.projection else xt
    yt = f.relu(h + s)
    yt.backward(torch.tensor(dout.transpose(0, 3, 1, 2)))

    def back(a):  # PyTorch layout -> cnnlib layout
        a = a.detach().numpy()
        return a.transpose(0, 2, 3, 1) if a.ndim == 4 else a

    np.testing.assert_allclose(y, back(yt), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, back(xt.grad), rtol=1e-9, atol=1e-10)
    for name, grad in block.grads.items():
        np.testing.assert_allclose(grad, back(p[name].grad), rtol=1e-9, atol=1e-10,
                                   err_msg=name)
