"""Initial weights: random ones drawn from an explicit seed or Generator (no global state),
and filters computed from the training images (patch whitening).

Book: chapter 6 (`Conv2D`'s random initial weights), chapter 8 (why He initialization
suits ReLU) and chapter 10 (`patch_whitening`, the first layer of the fast network).
"""

from __future__ import annotations

import numpy as np

from ..checks import check_nhwc, positive_int, positive_number


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


def patch_whitening(x: np.ndarray, kernel_size: int, directions: int, *, eps: float = 5e-4,
                    max_patches: int = 200_000, seed: int = 0) -> np.ndarray:
    """Filters that whiten the F×F patches of x: weights (2·directions, F, F, C), float32.

    x: (N, H, W, C), the images as the first convolution sees them (standardized).
    The patch covariance Σ = E[p pᵀ] (p: one patch flattened in (F, F, C) order, up to
    `max_patches` patches drawn with `seed`) has eigenvectors v_i and eigenvalues λ_i; the
    filters are v_i / √(λ_i + ε) for the `directions` largest λ_i, each followed by its
    negative, so a ReLU after the layer keeps both signs. A convolution with them maps
    each patch to coordinates that are uncorrelated with variance λ_i / (λ_i + ε) ≈ 1:
    the first layer starts where training would otherwise spend epochs getting to
    (Coates and Ng, "Learning Feature Representations with K-means", 2012; the airbench
    CIFAR-10 speedruns by Keller Jordan, 2024).
    """
    x = check_nhwc(x)
    f = positive_int("kernel_size", kernel_size)
    n, h, w, c = x.shape
    if f > min(h, w):
        raise ValueError(f"kernel_size = {f} must be at most the images' height and width "
                         f"{h}×{w}")
    directions = positive_int("directions", directions)
    if directions > f * f * c:
        raise ValueError(f"directions = {directions} must be at most F·F·C = {f * f * c} "
                         "(the length of a patch)")
    eps = positive_number("eps", eps)
    max_patches = positive_int("max_patches", max_patches)
    if not np.isfinite(x).all():
        raise ValueError("x holds NaN or inf values: patch statistics need finite images")
    windows = np.lib.stride_tricks.sliding_window_view(x, (f, f), axis=(1, 2))  # N,H',W',C,F,F
    positions = n * windows.shape[1] * windows.shape[2]
    rng = np.random.default_rng(seed)
    chosen = rng.choice(positions, size=min(max_patches, positions), replace=False)
    i, rest = np.divmod(chosen, windows.shape[1] * windows.shape[2])
    r, s = np.divmod(rest, windows.shape[2])
    patches = windows[i, r, s].transpose(0, 2, 3, 1).reshape(len(chosen), f * f * c)
    patches = patches.astype(np.float64)
    covariance = patches.T @ patches / len(patches)
    values, vectors = np.linalg.eigh(covariance)  # ascending
    top = np.argsort(values)[::-1][:directions]
    filters = (vectors[:, top] / np.sqrt(np.maximum(values[top], 0) + eps)).T
    return np.concatenate([filters, -filters]).reshape(2 * directions, f, f, c).astype(np.float32)
