"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay; Adam.

Book: chapter 2 (gradient descent, SGD), chapter 9 (momentum, and Adam beside it) and
chapter 10 (Nesterov momentum, weight decay). Adam's tests hold it to PyTorch's
(tests/cross/test_adam.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ..checks import boolean, fraction, non_negative_int, non_negative_number, positive_number


def _parameter_holders(model: object, optimizer: str = "SGD") -> list[object]:
    """A layer, a Sequential, or a list of them -> the objects whose params we update."""
    if hasattr(model, "params") and hasattr(model, "grads"):
        return [model]
    if isinstance(model, Iterable):
        holders = list(model)
        for h in holders:
            if not (hasattr(h, "params") and hasattr(h, "grads")):
                raise ValueError(
                    f"{h!r} has no params/grads: {optimizer} needs layers with parameters")
        return holders
    raise ValueError(f"{optimizer} needs a layer, a Sequential or a list of layers, got {model!r}")


def _with_weight_decay(g: np.ndarray, name: str, param: np.ndarray, weight_decay: float,
                       no_decay: Callable[[str, np.ndarray], bool] | None) -> np.ndarray:
    """g + λ·w for "weight" parameters (not biases or batch-norm scales, nor what
    `no_decay(name, param)` exempts); g unchanged otherwise. One rule for both optimizers."""
    if (weight_decay and name.rsplit(".", 1)[-1] == "weight"
            and not (no_decay and no_decay(name, param))):
        return g + weight_decay * param
    return g


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
                g = _with_weight_decay(g, name, param, self.weight_decay, self.no_decay)
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


def _betas(betas: object) -> tuple[float, float]:
    """betas as two floats in [0, 1); else ValueError naming the value."""
    try:
        pair = tuple(betas)  # type: ignore[arg-type]
    except TypeError:
        pair = ()
    if isinstance(betas, str | bytes) or len(pair) != 2:
        raise ValueError(f"betas = {betas!r} must be a pair (β1, β2) of numbers in [0, 1)")
    return fraction("betas[0] (β1)", pair[0]), fraction("betas[1] (β2)", pair[1])


class Adam:
    """Adam: a per-parameter step size from running averages of g and g².

        g ← g + λ·w                      (weight decay, on "weight" parameters only, as SGD)
        m ← β1·m + (1 − β1)·g            (first moment: a momentum)
        v ← β2·v + (1 − β2)·g²           (second moment: the gradient's typical size)
        m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)   (bias correction: m and v start at 0)
        w ← w − lr·m̂ / (√v̂ + ε)

    model: a layer or Sequential with `params`/`grads`, or a list of them, as for SGD. The
    weight decay is added to the gradient (PyTorch's `Adam`, not `AdamW`). `lr` may be
    changed between steps. Kingma & Ba, "Adam: A Method for Stochastic Optimization".
    """

    def __init__(self, model: object, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0,
                 no_decay: Callable[[str, np.ndarray], bool] | None = None):
        self.lr = positive_number("lr", lr)
        self.betas = _betas(betas)
        self.eps = positive_number("eps", eps)
        self.weight_decay = non_negative_number("weight_decay", weight_decay)
        self.holders = _parameter_holders(model, "Adam")
        self.no_decay = no_decay
        self.t = 0  # steps taken: the exponent of the bias correction
        self.m: dict[tuple[int, str], np.ndarray] = {}
        self.v: dict[tuple[int, str], np.ndarray] = {}

    def step(self) -> None:
        """Update every parameter in place from its current gradient."""
        b1, b2 = self.betas
        self.t += 1
        # Written as PyTorch writes it (the correction folded into the step and into √v):
        # the same update as lr·m̂/(√v̂ + ε), and equal to it to the last bits in float64.
        correction1 = 1 - b1 ** self.t
        root_correction2 = np.sqrt(1 - b2 ** self.t)
        for i, holder in enumerate(self.holders):
            grads = holder.grads
            for name, param in holder.params.items():
                g = grads[name]
                g = _with_weight_decay(g, name, param, self.weight_decay, self.no_decay)
                key = (i, name)
                m = self.m.get(key)
                v = self.v.get(key)
                if m is None:
                    m, v = np.zeros_like(g), np.zeros_like(g)
                m = b1 * m + (1 - b1) * g
                v = b2 * v + (1 - b2) * (g * g)
                self.m[key], self.v[key] = m, v
                update = (self.lr / correction1) * m / (np.sqrt(v) / root_correction2 + self.eps)
                param -= update.astype(param.dtype, copy=False)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Both moments, keyed "m/<holder>/<param>" and "v/<holder>/<param>", and the step
        count "t", for checkpoints (`cnnlib.training.checkpoint` stores any such dict)."""
        state: dict[str, np.ndarray] = {"t": np.array(self.t)}
        for (i, name), m in self.m.items():
            state[f"m/{i}/{name}"] = m
            state[f"v/{i}/{name}"] = self.v[(i, name)]
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore `state_dict()`'s output; refuses another optimizer's state by name."""
        if "t" not in state or any(not (k == "t" or k.startswith(("m/", "v/"))) for k in state):
            raise ValueError(f"this is not Adam's state (keys {sorted(state)[:4]}...): Adam "
                             "needs 't' and 'm/...', 'v/...' entries; an SGD checkpoint holds "
                             "momentum buffers only and cannot resume Adam")
        t = np.asarray(state["t"])
        if t.ndim != 0:
            raise ValueError(f"Adam's step count t = {t!r} must be a single integer")
        self.t = non_negative_int("Adam's step count t", t.item())
        self.m, self.v = {}, {}
        for key, value in state.items():
            if key == "t":
                continue
            which, i, name = key.split("/", 2)
            (self.m if which == "m" else self.v)[(int(i), name)] = np.array(value)
        if set(self.m) != set(self.v):
            raise ValueError("Adam's state has a first moment without a second (or the reverse): "
                             f"{sorted(set(self.m) ^ set(self.v))}")
