"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

Book: chapter 2 (gradient descent, SGD), chapter 9 (momentum) and chapter 10 (Nesterov
momentum, weight decay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ..checks import boolean, fraction, non_negative_number, positive_number


def _parameter_holders(model: object) -> list[object]:
    """A layer, a Sequential, or a list of them -> the objects whose params we update."""
    if hasattr(model, "params") and hasattr(model, "grads"):
        return [model]
    if isinstance(model, Iterable):
        holders = list(model)
        for h in holders:
            if not (hasattr(h, "params") and hasattr(h, "grads")):
                raise ValueError(f"{h!r} has no params/grads: SGD needs layers with parameters")
        return holders
    raise ValueError(f"SGD needs a layer, a Sequential or a list of layers, got {model!r}")


class SGD:
    """v ← μ·v + (g + λ·w);  w ← w − lr·v   (Nesterov: w ← w − lr·(g + λ·w + μ·v)).

    model: a layer or Sequential with `params`/`grads`, or a list of them. Weight decay λ
    applies to parameters named "weight" only: shrinking biases and normalization
    shifts does not fight overfitting, it just biases the model. `lr` may be changed
    between steps (learning-rate schedules do so).
    """

    def __init__(self, model: object, lr: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0,
                 no_decay: Callable[[str, np.ndarray], bool] | None = None):
        lr = positive_number("lr", lr)
        momentum = fraction("momentum", momentum)
        nesterov = boolean("nesterov", nesterov)
        if nesterov and momentum == 0:
            raise ValueError("nesterov = True needs momentum > 0")
        weight_decay = non_negative_number("weight_decay", weight_decay)
        self.holders = _parameter_holders(model)
        self.lr, self.momentum, self.nesterov = lr, momentum, nesterov
        self.weight_decay = weight_decay
        # Optional exemption from weight decay, e.g. batch-norm scales (1-D "weight"s):
        # no_decay(name, param) -> True means "do not decay this one".
        self.no_decay = no_decay
        self.velocity: dict[tuple[int, str], np.ndarray] = {}

    def step(self) -> None:
        """Update every parameter in place from its current gradient."""
        for i, holder in enumerate(self.holders):
            grads = holder.grads
            for name, param in holder.params.items():
                g = grads[name]
                if (self.weight_decay and name.rsplit(".", 1)[-1] == "weight"
                        and not (self.no_decay and self.no_decay(name, param))):
                    g = g + self.weight_decay * param
                if self.momentum:
                    v = self.velocity.get((i, name))
                    v = g.copy() if v is None else self.momentum * v + g
                    self.velocity[(i, name)] = v
                    g = g + self.momentum * v if self.nesterov else v
                param -= (self.lr * g).astype(param.dtype, copy=False)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The momentum buffers, keyed "<holder>/<param>", for checkpoints."""
        return {f"{i}/{name}": v for (i, name), v in self.velocity.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.velocity = {}
        for key, v in state.items():
            i, name = key.split("/", 1)
            self.velocity[(int(i), name)] = np.array(v)
