"""Small networks that more than one test folder uses."""

from __future__ import annotations

import numpy as np

from cnnlib.nn.layers import Sequential
from cnnlib.nn.models import reference_network


def small_network(seed: int = 0) -> Sequential:
    """The reference architecture, narrower, with non-trivial batch-norm statistics and
    classifier weights (a fresh network has zeros there), in evaluation mode."""
    rng = np.random.default_rng(seed)
    model = reference_network(seed=seed, widths=(4, 8), hidden=16,
                              mean=(120.0, 122.0, 110.0), std=(60.0, 58.0, 65.0))
    for layer in model.layers:
        if type(layer).__name__ == "BatchNorm2D":
            c = layer.num_features
            layer.params["weight"][:] = rng.uniform(0.5, 1.5, c)
            layer.params["bias"][:] = rng.normal(0, 0.2, c)
            layer.buffers["running_mean"][:] = rng.normal(0, 0.5, c)
            layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, c)
    classifier = model.layers[-1]
    classifier.params["weight"][:] = rng.normal(0, 0.5, classifier.params["weight"].shape)
    return model.eval()
