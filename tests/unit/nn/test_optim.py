"""SGD: plain, momentum, Nesterov and weight decay against hand-computed updates."""

import numpy as np
import pytest
from optional import require_torch

from cnnlib import SGD, Linear, Sequential, softmax_cross_entropy


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
