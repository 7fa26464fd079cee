"""The obvious versions, with explicit loops: slow, but easy to check by eye.

The book shows these first; the tests and benchmarks hold the vectorized code in
`cnnlib.functional` to them. Same layouts: x (N, H, W, C), weight (K, F, F, C).
"""

from __future__ import annotations

import numpy as np

from .shapes import conv_output_size, pool_output_size


def conv2d_naive(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                 stride: int = 1, padding: int = 0) -> np.ndarray:
    """Convolution with four loops: image, filter, output row, output column.

    x: (N, H, W, C), weight: (K, F, F, C), bias: (K,) -> (N, H2, W2, K).
    """
    n, h, w, _ = x.shape
    k, f = weight.shape[0], weight.shape[1]
    h2, w2 = conv_output_size(h, f, stride, padding), conv_output_size(w, f, stride, padding)
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    out = np.zeros((n, h2, w2, k), dtype=np.result_type(x, weight))
    for img in range(n):
        for filt in range(k):
            for row in range(h2):
                for col in range(w2):
                    top, left = row * stride, col * stride
                    patch = xp[img, top : top + f, left : left + f, :]  # F×F×C
                    out[img, row, col, filt] = np.sum(patch * weight[filt])
            if bias is not None:
                out[img, :, :, filt] += bias[filt]
    return out


def pool2d_naive(x: np.ndarray, f: int = 2, s: int = 2, reduce=np.max) -> np.ndarray:
    """Pooling with loops: `reduce` (np.max or np.mean) of every F×F window, per channel.

    x: (N, H, W, C) -> (N, H2, W2, C); the depth C is unchanged.
    """
    n, h, w, c = x.shape
    h2, w2 = pool_output_size(h, f, s), pool_output_size(w, f, s)
    out = np.zeros((n, h2, w2, c), dtype=x.dtype)
    for row in range(h2):
        for col in range(w2):
            window = x[:, row * s : row * s + f, col * s : col * s + f, :]  # (N, F, F, C)
            out[:, row, col, :] = reduce(window, axis=(1, 2))
    return out
