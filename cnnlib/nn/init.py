"""Random initial weights, drawn from an explicit seed or Generator (no global state).

Book: chapter 6 (`Conv2D`'s random initial weights) and chapter 8 (why He initialization
suits ReLU).
"""

from __future__ import annotations

import numpy as np


def he_normal(shape: tuple[int, ...], fan_in: int, rng: np.random.Generator,
              dtype: np.dtype = np.float32) -> np.ndarray:
    """Normal(0, 2/fan_in): keeps the activation variance steady through ReLU layers (He 2015)."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def glorot_uniform(shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator,
                   dtype: np.dtype = np.float32) -> np.ndarray:
    """Uniform(±sqrt(6/(fan_in+fan_out))): for tanh/sigmoid layers (Glorot & Bengio 2010)."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def init_weight(shape: tuple[int, ...], fan_in: int, fan_out: int, init: str,
                rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """Dispatch on the name of an initialization scheme: "he" or "glorot"."""
    if init == "he":
        return he_normal(shape, fan_in, rng, dtype)
    if init == "glorot":
        return glorot_uniform(shape, fan_in, fan_out, rng, dtype)
    raise ValueError(f"init = {init!r} must be 'he' or 'glorot'")
