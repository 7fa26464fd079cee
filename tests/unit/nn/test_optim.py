"""SGD (plain, momentum, Nesterov, weight decay) and Adam against hand-computed updates."""

import numpy as np
import pytest
from optional import require_torch

from cnnlib import SGD, Adam, Linear, Sequential, softmax_cross_entropy


class Quadratic:
    """One parameter w with loss ½‖w‖², so the gradient is w itself."""

    def __init__(self, w):
        self.params = {"weight": np.array(w, dtype=np.float64)}
        self.grads = {"weight": np.zeros_like(self.params["weight"])}

    def compute_grad(self):
        self.grads["weight"] = self.params["weight"].copy()


def test_plain_sgd_step():
    q = Quadratic([1.0, -2.0])
    q.compute_grad()
    SGD(q, lr=0.1).step()
    np.testing.assert_allclose(q.params["weight"], [0.9, -1.8])


def test_momentum_accumulates_velocity():
    q = Quadratic([1.0])
    opt = SGD(q, lr=0.1, momentum=0.9)
    q.compute_grad()
    opt.step()  # v = 1, w = 0.9
    q.compute_grad()
    opt.step()  # v = 0.9·1 + 0.9 = 1.8, w = 0.9 - 0.18 = 0.72
    np.testing.assert_allclose(q.params["weight"], [0.72])


def test_nesterov_looks_ahead():
    q = Quadratic([1.0])
    opt = SGD(q, lr=0.1, momentum=0.9, nesterov=True)
    q.compute_grad()
    opt.step()  # v = 1, step = g + μv = 1.9, w = 0.81
    np.testing.assert_allclose(q.params["weight"], [0.81])


def test_weight_decay_shrinks_weights_not_biases():
    layer = Linear(2, 1, seed=0, dtype=np.float64)
    layer.params["bias"][:] = 1.0
    w0 = layer.params["weight"].copy()
    layer.grads = {"weight": np.zeros_like(w0), "bias": np.zeros(1)}
    SGD(layer, lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(layer.params["weight"], w0 * (1 - 0.05))
    np.testing.assert_allclose(layer.params["bias"], [1.0])


def test_matches_torch_sgd_over_several_steps():
    torch = require_torch()
    w = np.array([0.5, -1.5, 2.0])
    q = Quadratic(w)
    opt = SGD(q, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)
    wt = torch.tensor(w, requires_grad=True)
    topt = torch.optim.SGD([wt], lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)
    for _ in range(5):
        q.compute_grad()
        opt.step()
        topt.zero_grad()
        (0.5 * (wt**2).sum()).backward()
        topt.step()
    np.testing.assert_allclose(q.params["weight"], wt.detach().numpy(), rtol=1e-12)


def test_sgd_trains_a_sequential_and_updates_in_place():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64)
    net = Sequential(Linear(4, 2, seed=0))
    weight = net.layers[0].params["weight"]
    opt = SGD(net, lr=0.5, momentum=0.9)
    losses = []
    for _ in range(30):
        loss, dlogits = softmax_cross_entropy(net.forward(x), labels)
        net.backward(dlogits)
        opt.step()
        losses.append(loss)
    assert losses[-1] < 0.5 * losses[0]
    assert net.layers[0].params["weight"] is weight  # updated in place, never rebound
    assert weight.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0}, r"lr = 0 must be a positive number"),
        ({"lr": 0.1, "momentum": 1.0}, r"momentum = 1.0 must be a number in \[0, 1\)"),
        ({"lr": 0.1, "nesterov": True}, r"nesterov = True needs momentum > 0"),
        ({"lr": 0.1, "weight_decay": -1}, r"weight_decay = -1 must be a non-negative number"),
        # Bools are not numbers, and strings are refused with the rule, not a TypeError.
        ({"lr": True}, r"lr = True must be a positive number"),
        ({"lr": "0.1"}, r"lr = '0.1' must be a positive number"),
        ({"lr": 0.1, "momentum": 0.9, "nesterov": "yes"}, r"nesterov = 'yes' must be True or False"),
    ],
)
def test_bad_settings_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SGD(Quadratic([1.0]), **kwargs)


def test_sgd_rejects_things_without_parameters():
    with pytest.raises(ValueError, match="SGD needs"):
        SGD(42)


# Adam ---------------------------------------------------------------------------------


def test_adam_first_step_is_lr_times_the_sign_thanks_to_bias_correction():
    # After one step m = (1-β1)g and v = (1-β2)g²; corrected, m̂ = g and v̂ = g², so the
    # step is lr·g/(|g| + ε): lr·sign(g) whatever the gradient's size. Without the
    # correction it would be lr·0.1g/(√0.001·|g|) ≈ 3.16·lr·sign(g).
    q = Quadratic([0.5, -2.0, 300.0])
    q.compute_grad()
    Adam(q, lr=0.01, eps=1e-12).step()
    np.testing.assert_allclose(q.params["weight"], [0.5 - 0.01, -2.0 + 0.01, 300.0 - 0.01],
                               rtol=1e-10)


def test_adam_second_step_by_hand():
    w0, lr, (b1, b2), eps = 1.0, 0.1, (0.9, 0.999), 1e-8
    q = Quadratic([w0])
    opt = Adam(q, lr=lr, betas=(b1, b2), eps=eps)
    q.compute_grad()
    opt.step()
    w1 = w0 - lr * w0 / (abs(w0) + eps)  # the first step is lr·sign(g), up to ε
    q.compute_grad()
    opt.step()
    m = b1 * (1 - b1) * w0 + (1 - b1) * w1
    v = b2 * (1 - b2) * w0**2 + (1 - b2) * w1**2
    expected = w1 - lr * (m / (1 - b1**2)) / (np.sqrt(v / (1 - b2**2)) + eps)
    np.testing.assert_allclose(q.params["weight"], [expected], rtol=1e-12)
    assert opt.t == 2


def test_adam_weight_decay_acts_on_weights_not_biases():
    layer = Linear(2, 1, seed=0, dtype=np.float64)
    layer.params["bias"][:] = 1.0
    w0 = layer.params["weight"].copy()
    layer.grads = {"weight": np.zeros_like(w0), "bias": np.zeros(1)}
    Adam(layer, lr=0.1, weight_decay=0.5).step()
    # The decayed gradient 0.5·w is the only gradient: the first step moves w by lr·sign(w).
    np.testing.assert_allclose(layer.params["weight"], w0 - 0.1 * np.sign(w0), rtol=1e-6)
    np.testing.assert_allclose(layer.params["bias"], [1.0])


def test_adam_trains_a_sequential_in_place_and_keeps_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64)
    net = Sequential(Linear(4, 2, seed=0))
    weight = net.layers[0].params["weight"]
    opt = Adam(net, lr=0.05)
    losses = []
    for _ in range(30):
        loss, dlogits = softmax_cross_entropy(net.forward(x), labels)
        net.backward(dlogits)
        opt.step()
        losses.append(loss)
    assert losses[-1] < 0.5 * losses[0]
    assert net.layers[0].params["weight"] is weight
    assert weight.dtype == np.float32


def test_adam_state_round_trips_through_a_checkpoint(tmp_path):
    from cnnlib.training.checkpoint import read_checkpoint, write_checkpoint

    def run(opt, net, x, labels, steps):
        for _ in range(steps):
            _, dlogits = softmax_cross_entropy(net.forward(x), labels)
            net.backward(dlogits)
            opt.step()

    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    labels = rng.integers(0, 3, 16)
    net = Sequential(Linear(4, 3, seed=0))  # float32: a checkpoint's model loads as float32
    opt = Adam(net, lr=0.01)
    run(opt, net, x, labels, 3)
    path = write_checkpoint(tmp_path / "adam.npz", net, opt.state_dict(), {"epoch": 0})
    model, state, _ = read_checkpoint(path)
    resumed = Adam(model, lr=0.01)
    resumed.load_state_dict(state)
    assert resumed.t == 3
    run(opt, net, x, labels, 2)
    run(resumed, model, x, labels, 2)
    for name, value in net.params.items():
        np.testing.assert_array_equal(model.params[name], value, err_msg=name)


def test_adam_refuses_sgd_state():
    q = Quadratic([1.0])
    sgd = SGD(q, lr=0.1, momentum=0.9)
    q.compute_grad()
    sgd.step()
    with pytest.raises(ValueError, match="not Adam's state"):
        Adam(q).load_state_dict(sgd.state_dict())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0}, r"lr = 0 must be a positive number"),
        ({"lr": -1e-3}, r"lr = -0.001 must be a positive number"),
        ({"betas": (1.0, 0.999)}, r"betas\[0\] \(β1\) = 1.0 must be a number in \[0, 1\)"),
        ({"betas": (0.9, -0.1)}, r"betas\[1\] \(β2\) = -0.1 must be a number in \[0, 1\)"),
        ({"betas": 0.9}, r"betas = 0.9 must be a pair"),
        ({"betas": (0.9, 0.99, 0.999)}, r"betas = \(0.9, 0.99, 0.999\) must be a pair"),
        ({"eps": 0}, r"eps = 0 must be a positive number"),
        ({"weight_decay": -1}, r"weight_decay = -1 must be a non-negative number"),
        ({"lr": True}, r"lr = True must be a positive number"),
    ],
)
def test_adam_bad_settings_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Adam(Quadratic([1.0]), **kwargs)


def test_adam_rejects_things_without_parameters():
    with pytest.raises(ValueError, match="Adam needs"):
        Adam(42)
