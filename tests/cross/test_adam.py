"""Adam against torch.optim.Adam: the same network (cnnlib.interop.to_torch), the same
batches, several steps, in float64; the weights must agree to rounding after every step.

Weight decay in cnnlib applies to "weight" parameters only (as SGD's does), so the torch
side puts biases in a parameter group without decay.
"""

import numpy as np
import pytest
from optional import require_torch

from cnnlib import Adam, Conv2D, Flatten, Linear, MaxPool2D, ReLU, Sequential, softmax_cross_entropy

torch = require_torch()
from cnnlib.interop import from_torch, to_torch  # noqa: E402


def small_network():
    net = Sequential(Conv2D(3, 4, 3, padding=1, seed=0), ReLU(), MaxPool2D(2, 2), Flatten(),
                     Linear(4 * 3 * 3, 5, seed=1))
    for layer in net.layers:
        for name in list(getattr(layer, "params", {})):
            layer.params[name] = layer.params[name].astype(np.float64)
            if name.endswith("bias"):
                layer.params[name] += 0.1  # non-zero biases, so their updates matter
    return net


@pytest.mark.parametrize(("lr", "betas", "eps", "weight_decay"), [
    (1e-3, (0.9, 0.999), 1e-8, 0.0),
    (3e-2, (0.8, 0.99), 1e-6, 0.05),
    (1e-2, (0.0, 0.9), 1e-8, 0.0),  # β1 = 0: RMSProp with bias correction
])
def test_adam_matches_torch_over_several_steps(lr, betas, eps, weight_decay):
    rng = np.random.default_rng(0)
    net = small_network()
    twin = to_torch(net).double()
    opt = Adam(net, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    decayed = [p for n, p in twin.named_parameters() if n.endswith("weight")]
    others = [p for n, p in twin.named_parameters() if not n.endswith("weight")]
    assert decayed and others
    topt = torch.optim.Adam([{"params": decayed, "weight_decay": weight_decay},
                             {"params": others, "weight_decay": 0.0}],
                            lr=lr, betas=betas, eps=eps)
    start = {k: v.copy() for k, v in net.params.items()}
    for step in range(6):
        x = rng.standard_normal((8, 6, 6, 3))
        labels = rng.integers(0, 5, 8)
        loss, dlogits = softmax_cross_entropy(net.forward(x), labels)
        net.backward(dlogits)
        opt.step()

        topt.zero_grad()
        logits = twin(torch.tensor(x.transpose(0, 3, 1, 2).copy()))
        tloss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
        tloss.backward()
        topt.step()
        assert abs(loss - tloss.item()) < 1e-10, f"losses differ at step {step}"

        back = from_torch(twin)
        for name, value in net.params.items():
            np.testing.assert_allclose(value, back.params[name], rtol=1e-10, atol=1e-13,
                                       err_msg=f"{name} after step {step + 1}")
    # The parameters moved by far more than the tolerance: the comparison is not vacuous.
    moved = max(float(np.abs(net.params[k] - start[k]).max()) for k in start)
    assert moved > 1e3 * 1e-10 * 100
