"""Global average pooling: one number per channel, the mean over the whole feature map."""

from __future__ import annotations

import numpy as np


class GlobalAvgPool2D:
    """x (N, H, W, C) -> (N, C): the mean of each channel over all H·W positions.

    It replaces "flatten, then a large dense layer" at the end of a network: the map of
    each channel says *where* a feature fired; its mean says *how much*, which is what a
    classifier needs, with no parameters at all.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim != 4:
            raise ValueError(f"GlobalAvgPool2D expects a 4-D input (N, H, W, C), "
                             f"got shape {np.shape(x)}")
        self._shape = x.shape
        return x.mean(axis=(1, 2), dtype=x.dtype)

    __call__ = forward

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout (N, C) -> dx (N, H, W, C): every position gets an equal share 1/(H·W)."""
        n, h, w, c = self._shape
        share = (dout / (h * w)).astype(dout.dtype, copy=False)
        return np.broadcast_to(share[:, None, None, :], self._shape).copy()

    def __repr__(self) -> str:
        return "GlobalAvgPool2D()"
