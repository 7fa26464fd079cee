"""Normalization layers: input standardization and batch normalization.

`Standardize` turns raw pixels into zero-mean, unit-variance inputs with the per-channel
mean and standard deviation of the training set, so a saved model takes raw images.
`BatchNorm2D` (and `BatchNorm1D` for (N, C) features) normalize every channel with the
statistics of the current mini-batch while training, and with running averages of them
at evaluation time.

The per-channel sums Σx, Σx², Σdy·x and the per-channel x·scale + shift come from
`cnnlib.engine`, which runs them on all cores.

Non-trainable state lives in `buffers` (saved with the model, never touched by SGD);
trainable parameters in `params`/`grads`, as everywhere in cnnlib.
Book: chapter 10 ("Standardizing the input", "Batch normalization").
"""

from __future__ import annotations

import numpy as np

from ..checks import (
    check_array,
    check_last_axis,
    float_dtype,
    fraction,
    positive_int,
    positive_number,
)
from ..engine import channel_affine, channel_dot, channel_sum
from .layers import Layer


class Standardize(Layer):
    """y = (x − mean) / std per channel; x: (N, ..., C), any numeric dtype.

    mean, std: (C,), measured on the training images (see `channel_stats`). Integer
    input (uint8 pixels) and float32 give float32; float64 input stays float64. No
    parameters: mean and std are buffers, fixed once training starts.
    """

    def __init__(self, mean: np.ndarray | list[float], std: np.ndarray | list[float]):
        mean = np.asarray(mean, dtype=np.float64)
        std = np.asarray(std, dtype=np.float64)
        if mean.ndim != 1 or mean.shape != std.shape:
            raise ValueError(f"mean and std must be 1-D arrays of the same length (C,), "
                             f"got shapes {mean.shape} and {std.shape}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
            raise ValueError(f"std must be finite and positive, mean finite; got mean={mean}, "
                             f"std={std}")
        self.buffers = {"mean": mean.astype(np.float32), "std": std.astype(np.float32)}

    @property
    def num_channels(self) -> int:
        return self.buffers["mean"].shape[0]

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim < 2 or x.shape[-1] != self.num_channels:
            raise ValueError(f"Standardize expects {self.num_channels} channels in the last axis, "
                             f"got shape {x.shape}")
        dtype = float_dtype(x)
        inv_std = (1.0 / self.buffers["std"]).astype(dtype)
        self._inv_std = inv_std
        # (x - mean) * (1/std) as x * (1/std) + (-mean/std): one multiply-add per value.
        return x.astype(dtype) * inv_std - (self.buffers["mean"].astype(dtype) * inv_std)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self._inv_std

    def config(self) -> dict:
        return {"num_channels": self.num_channels}

    @classmethod
    def from_config(cls, config: dict) -> Standardize:
        """Mean 0 and std 1 per channel: a model file brings the real ones as buffers."""
        c = config["num_channels"]
        return cls(np.zeros(c), np.ones(c))

    def extra_repr(self) -> str:
        return f"{self.num_channels}"


def channel_stats(images: np.ndarray, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of images (N, H, W, C), as float64 (C,).

    Summed in float64 chunks, so uint8 data of any size is neither copied to float
    whole nor rounded: the statistics are exact to float64 precision.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"images must be a non-empty (N, H, W, C) array, got shape {images.shape}")
    c = images.shape[-1]
    total, total_sq, count = np.zeros(c), np.zeros(c), 0
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch].reshape(-1, c).astype(np.float64)
        total += chunk.sum(axis=0)
        total_sq += (chunk * chunk).sum(axis=0)
        count += chunk.shape[0]
    mean = total / count
    var = np.maximum(total_sq / count - mean * mean, 0.0)
    return mean, np.sqrt(var)


class BatchNorm(Layer):
    """Batch normalization of each channel (the last axis) over every other axis.

    Training: y = γ·(x − μ_B)/sqrt(σ²_B + ε) + β with μ_B, σ²_B the mean and (biased)
    variance of the channel over the batch, and running averages
    r ← (1 − momentum)·r + momentum·(batch statistic) kept for evaluation, where the
    batch statistics are replaced by them. params: weight γ (C,), bias β (C,);
    buffers: running_mean (C,), running_var (C,). Same conventions as PyTorch.
    `BatchNorm2D` and `BatchNorm1D` also check the input's rank.
    """

    _ndim: int | None = None  # any rank
    _layout = "(N, ..., C)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 dtype: np.dtype = np.float32):
        self.num_features = positive_int("num_features", num_features)
        self.eps = positive_number("eps", eps)
        self.momentum = fraction("momentum", momentum, include_one=True)
        if self.momentum == 0:
            raise ValueError("momentum = 0 must lie in (0, 1]: the running statistics "
                             "would never move from their start")
        c = self.num_features
        self.params = {"weight": np.ones(c, dtype=dtype), "bias": np.zeros(c, dtype=dtype)}
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.buffers = {"running_mean": np.zeros(c, dtype=np.float32),
                        "running_var": np.ones(c, dtype=np.float32)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        name = type(self).__name__
        if self._ndim is not None:
            check_array(x, self._ndim, name, self._layout)
        elif not isinstance(x, np.ndarray) or x.ndim < 2:
            raise ValueError(f"{name} expects an input {self._layout} with a batch axis, "
                             f"got shape {np.shape(x)}")
        check_last_axis(x, self.num_features, name)
        dtype = float_dtype(x)
        gamma = self.params["weight"].astype(dtype, copy=False)
        beta = self.params["bias"].astype(dtype, copy=False)
        m = x.size // self.num_features  # M = N·H·W values per channel
        if not self.training:
            mean = self.buffers["running_mean"].astype(dtype)
            var = self.buffers["running_var"].astype(dtype)
        elif m < 2:
            raise ValueError(f"{name} in training mode needs more than one value per channel "
                             f"to estimate a variance, got input shape {x.shape}")
        else:
            # Mean and mean square in one read each (no centered copy of x):
            # σ² = E[x²] − μ², unless μ is so large next to σ that the difference would
            # cancel most digits; then the variance is taken of the centered values.
            mean = channel_sum(x) / dtype.type(m)
            var = channel_dot(x, x) / dtype.type(m) - mean * mean
            if np.any(mean * mean > 100 * var):
                x = x - mean
                var = channel_dot(x, x) / dtype.type(m)
                mean, batch_mean = np.zeros_like(mean), mean
            else:
                batch_mean = mean
            var = np.maximum(var, 0)
            # Running statistics for evaluation; the variance is the unbiased estimate.
            mom = self.momentum
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm *= 1 - mom
            rm += (mom * batch_mean).astype(rm.dtype)
            rv *= 1 - mom
            rv += (mom * var * (m / (m - 1))).astype(rv.dtype)
        inv_std = 1.0 / np.sqrt(var + dtype.type(self.eps))
        # x̂ = (x − μ)/σ is never stored: y = γx̂ + β = x·scale + shift, and backward
        # recomputes what it needs from x, μ and 1/σ. x is kept by reference, not copied.
        self._x, self._mean, self._inv_std, self._m = x, mean, inv_std, m
        scale = gamma * inv_std
        return channel_affine([(x, scale)], beta - mean * scale)  # x·scale + shift

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx = γ/(σ·M) · (M·dy − Σdy − x̂·Σ(dy·x̂)): the batch statistics depend on x too."""
        x, mean, inv_std, m = self._x, self._mean, self._inv_std, self._m
        dbeta = channel_sum(dout)
        # Σ dy·x̂ = (Σ dy·x − μ·Σ dy)/σ: one read of dy and x, no x̂ array.
        dgamma = inv_std * (channel_dot(dout, x) - mean * dbeta)
        self.grads = {"weight": dgamma.astype(self.params["weight"].dtype, copy=False),
                      "bias": dbeta.astype(self.params["bias"].dtype, copy=False)}
        k = self.params["weight"].astype(dout.dtype, copy=False) * inv_std  # γ/σ, (C,)
        if not self.training:  # fixed statistics: y is just x·scale + shift
            return dout * k
        # dx = k·dy − (k·Σ(dy·x̂)/M)·x̂ − k·Σdy/M with x̂ = (x − μ)/σ, rearranged as
        # k·dy − a·x + b: per-channel vectors a and b, one pass over the values.
        a = k * dgamma * inv_std / m
        return channel_affine([(dout, k), (x, -a)], a * mean - k * dbeta / m)

    def config(self) -> dict:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum}

    def extra_repr(self) -> str:
        return f"{self.num_features}"


class BatchNorm2D(BatchNorm):
    """Batch normalization of each channel of x (N, H, W, C) over N, H and W (see BatchNorm)."""

    _ndim = 4
    _layout = "(N, H, W, C)"


class BatchNorm1D(BatchNorm):
    """Batch normalization of each feature of x (N, C) over the batch (see BatchNorm2D)."""

    _ndim = 2
    _layout = "(N, C)"
