"""cnnlib.nn.explain against PyTorch's autograd on the whole reference network (float64):
the input gradient of a class score, the saliency map and FGSM's step."""

import numpy as np
from optional import require_torch

from cnnlib.nn.explain import class_score_gradient, fgsm, saliency_map
from cnnlib.nn.models import reference_network
from cnnlib.nn.normalization import BatchNorm

torch = require_torch()
from cnnlib.interop import to_torch  # noqa: E402


def trained_looking_network(seed=0):
    """The reference network in float64, with a non-zero classifier and made-up batch-norm
    statistics (a fresh network's zero classifier would make every gradient zero)."""
    rng = np.random.default_rng(seed)
    model = reference_network(seed=seed, mean=(120.0, 122.0, 113.0), std=(63.0, 62.0, 66.0))
    for layer in model.layers:
        for name in list(getattr(layer, "params", {})):
            value = layer.params[name].astype(np.float64)
            if name == "weight" and value.ndim == 2 and not value.any():
                value = rng.normal(0, 0.05, value.shape)
            layer.params[name] = value
        if isinstance(layer, BatchNorm):
            c = layer.num_features
            layer.buffers["running_mean"][:] = rng.normal(0, 0.2, c)
            layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, c)
    return model.eval()


def torch_input_gradient(model, x, loss_of_logits):
    twin = to_torch(model).double().eval()
    xt = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)
    loss_of_logits(twin(xt)).backward()
    return xt.grad.numpy().transpose(0, 2, 3, 1)


def images(n=3, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3)).astype(np.float64)


def test_class_score_gradient_and_saliency_match_autograd():
    model, x, classes = trained_looking_network(), images(), np.array([3, 0, 8])
    want = torch_input_gradient(model, x, lambda y: y[torch.arange(3), classes].sum())
    got = class_score_gradient(model, x, classes)
    assert np.abs(want).max() > 0
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12 * np.abs(want).max())
    np.testing.assert_allclose(saliency_map(model, x, classes), np.abs(want).max(axis=3),
                               rtol=1e-8, atol=1e-12 * np.abs(want).max())


def test_fgsm_steps_along_the_sign_of_autograds_loss_gradient():
    model, x, labels = trained_looking_network(), images(), np.array([1, 5, 9])
    loss = torch.nn.CrossEntropyLoss()
    grad = torch_input_gradient(model, x, lambda y: loss(y, torch.tensor(labels)))
    want = np.clip(x + 2.0 * np.sign(grad), 0, 255)
    np.testing.assert_array_equal(fgsm(model, x, labels, 2.0), want)
