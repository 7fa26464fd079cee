"""Weight averaging: an exponential moving average (EMA) of a model's weights, for scoring.

SGD with a high learning rate ends each step a little off to one side of the valley it is
descending; an average of the last few hundred weight vectors sits nearer the valley's
floor than any one of them (Polyak and Juditsky, "Acceleration of Stochastic
Approximation by Averaging", 1992; Izmailov et al., "Averaging Weights Leads to Wider
Optima and Better Generalization", 2018). The fast-training recipes (Jordan's airbench
CIFAR-10 speedruns, 2024) keep an exponential moving average while training

    w̄ ← d·w̄ + (1 − d)·w            after every SGD step, d the decay

and score the averaged weights; training itself always continues from the raw weights.

What is averaged: every parameter AND batch norm's running mean and variance (every
floating-point buffer). The running statistics describe the activations of the weights
they were measured with; scoring averaged weights with the raw weights' statistics would
normalize with a mismatched mean and variance. Averaging them with the same decay, as
airbench does, keeps the two consistent to first order at no cost; the exact alternative
(the SWA paper's) is one more pass over the training images with the averaged weights to
re-measure them, which costs a fraction of an epoch every time the average is scored.

Early in training the average would remember the random initial weights for ~1/(1 − d)
steps; as in TensorFlow's ExponentialMovingAverage, the decay of update t is
min(d, (1 + t)/(10 + t)), so the first updates mostly copy the weights.
Book: chapter 10.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from ..checks import fraction, non_negative_int
from ..nn.layers import Sequential


def averaged_arrays(model: Sequential) -> dict[str, np.ndarray]:
    """The arrays a weight average follows: "param/<i>.<name>" and "buffer/<i>.<name>" of
    every floating-point parameter and buffer of the model's layers (the model's own
    arrays, not copies; keys as in model files)."""
    arrays = {}
    for i, layer in enumerate(model.layers):
        for kind in ("param", "buffer"):
            for name, value in getattr(layer, kind + "s").items():
                if np.issubdtype(np.asarray(value).dtype, np.floating):
                    arrays[f"{kind}/{i}.{name}"] = value
    return arrays


class WeightAverage:
    """An exponential moving average of `model`'s parameters and batch-norm buffers.

    decay: d in [0, 1); the average forgets with a time constant of about 1/(1 − d)
    updates (0.99: the last ~100 steps). update() after every optimizer step;
    `with average.applied(model):` scores the averaged weights and puts the raw ones back.
    """

    def __init__(self, model: Sequential, decay: float = 0.99):
        self.decay = fraction("decay", decay)
        self.updates = 0
        self.average = {k: np.array(v, copy=True) for k, v in averaged_arrays(model).items()}

    def rate(self, t: int | None = None) -> float:
        """The decay used by update number t (1-based; the next one by default)."""
        t = self.updates + 1 if t is None else t
        return min(self.decay, (1 + t) / (10 + t))

    def update(self, model: Sequential) -> None:
        """w̄ ← d·w̄ + (1 − d)·w for every followed array, in place."""
        d = self.rate()
        current = self._matching(model)
        for key, avg in self.average.items():
            # avg += (1 − d)(w − avg): one pass, and exact when w equals avg
            avg += (1 - d) * (current[key].astype(avg.dtype, copy=False) - avg)
        self.updates += 1

    @contextmanager
    def applied(self, model: Sequential) -> Iterator[Sequential]:
        """Within the block the model holds the averaged weights; afterwards its own again
        (also after an exception). The model's arrays are overwritten in place, so
        optimizers and anything else holding them see the same objects."""
        current = self._matching(model)
        saved = {key: value.copy() for key, value in current.items()}
        try:
            for key, value in current.items():
                np.copyto(value, self.average[key], casting="same_kind")
            yield model
        finally:
            for key, value in current.items():
                np.copyto(value, saved[key])

    def copy_to(self, model: Sequential) -> None:
        """Overwrite the model's weights with the average for good (e.g. before saving)."""
        for key, value in self._matching(model).items():
            np.copyto(value, self.average[key], casting="same_kind")

    def state_dict(self) -> dict[str, np.ndarray]:
        """The averages and the update count, as arrays (for checkpoints)."""
        return {"updates": np.array(self.updates), **self.average}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore state_dict()'s output; ValueError if it follows other arrays."""
        keys = set(state) - {"updates"}
        if keys != set(self.average) or "updates" not in state:
            raise ValueError(f"this weight average follows {sorted(keys)[:3]}..., the model "
                             f"has {sorted(self.average)[:3]}...: not the same network")
        self.updates = non_negative_int("updates", np.asarray(state["updates"]).item())
        for key, value in self.average.items():
            if np.shape(state[key]) != value.shape:
                raise ValueError(f"{key}: saved shape {np.shape(state[key])} != {value.shape}")
            value[...] = state[key]

    def _matching(self, model: Sequential) -> dict[str, np.ndarray]:
        current = averaged_arrays(model)
        if set(current) != set(self.average) or any(
                current[k].shape != v.shape for k, v in self.average.items()):
            raise ValueError("the model's parameters and buffers are not those this weight "
                             "average was made for (another network?)")
        return current
