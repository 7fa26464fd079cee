"""Dropout: randomly silence activations while training, so no unit can rely on another."""

from __future__ import annotations

import numpy as np

from .init import Seed, make_rng


class Dropout:
    """Zero each value with probability p while training; scale the rest by 1/(1−p).

    x: any shape -> same shape. The scaling ("inverted dropout") keeps the expected value
    of every activation unchanged, so at evaluation time (`training = False`) the layer
    is the identity and costs nothing. The random masks come from `rng` (or a Generator
    made from `seed`): the same seed gives the same masks, run after run.
    """

    def __init__(self, p: float = 0.5, *, seed: Seed = None, rng: Seed = None):
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p < 1:
            raise ValueError(f"p = {p!r} must be a probability in [0, 1)")
        self.p = float(p)
        self.rng = make_rng(rng if rng is not None else seed)
        self.training = True

    def train(self, mode: bool = True) -> Dropout:
        self.training = bool(mode)
        return self

    def eval(self) -> Dropout:
        return self.train(False)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0:
            self._mask = None
            return x
        dtype = np.float64 if x.dtype == np.float64 else np.float32
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        # The mask carries the 1/(1-p) factor, so backward is a single multiply.
        self._mask = keep.astype(dtype)
        self._mask *= dtype(1.0 / (1.0 - self.p))
        return x * self._mask

    __call__ = forward

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout if self._mask is None else dout * self._mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
