"""The obvious versions, with explicit loops: slow, but easy to check by eye.

The book shows these first; the tests and benchmarks hold the vectorized code in
`cnnlib.core.functional` to them. Same layouts: x (N, H, W, C), weight (K, F, F, C).
Book: chapters 3, 5 and 7.
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


def conv2d_backward_naive(x: np.ndarray, weight: np.ndarray, dout: np.ndarray,
                          stride: int = 1, padding: int = 0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backward pass of a convolution with loops over images, positions and filters.

    x: (N, H, W, C), weight: (K, F, F, C), dout: (N, H2, W2, K)
    -> dx (N, H, W, C), dweight (K, F, F, C), dbias (K,).
    """
    n_img, h, w, _ = x.shape
    k_filters, f = weight.shape[0], weight.shape[1]
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    dxp, dweight = np.zeros_like(xp), np.zeros_like(weight)
    for n in range(n_img):
        for i in range(dout.shape[1]):
            for j in range(dout.shape[2]):
                top, left = i * stride, j * stride
                rows, cols = slice(top, top + f), slice(left, left + f)
                window = xp[n, rows, cols, :]  # F×F×C
                for k in range(k_filters):
                    # One set of weights, gradients from every position:
                    dweight[k] += dout[n, i, j, k] * window
                    dxp[n, rows, cols, :] += dout[n, i, j, k] * weight[k]
    dbias = dout.sum(axis=(0, 1, 2))
    dx = dxp[:, padding : padding + h, padding : padding + w, :]
    return dx, dweight, dbias


def pool2d_naive(x: np.ndarray, kernel_size: int = 2, stride: int = 2,
                 reduce=np.max) -> np.ndarray:
    """Pooling with loops: `reduce` (np.max or np.mean) of every F×F window, per channel.

    x: (N, H, W, C) -> (N, H2, W2, C); the depth C is unchanged.
    """
    f, s = kernel_size, stride
    n, h, w, c = x.shape
    h2, w2 = pool_output_size(h, f, s), pool_output_size(w, f, s)
    out = np.zeros((n, h2, w2, c), dtype=x.dtype)
    for row in range(h2):
        for col in range(w2):
            window = x[:, row * s : row * s + f, col * s : col * s + f, :]  # (N, F, F, C)
            out[:, row, col, :] = reduce(window, axis=(1, 2))
    return out


def max_pool2d_backward_naive(x: np.ndarray, dout: np.ndarray, kernel_size: int = 2,
                              stride: int = 2) -> np.ndarray:
    """dx of max pooling with a loop over output positions: the gradient goes to the first
    maximum of each window in reading order. x: (N, H, W, C), dout: (N, H2, W2, C)."""
    f, s = kernel_size, stride
    n, _, _, c = x.shape
    dx = np.zeros_like(x)
    rows, cols = np.arange(n)[:, None], np.arange(c)[None, :]
    for r in range(dout.shape[1]):
        for q in range(dout.shape[2]):
            window = x[:, r * s : r * s + f, q * s : q * s + f, :].reshape(n, f * f, c)
            i, j = np.divmod(window.argmax(axis=1), f)  # (N, C) offsets of the winners
            dx[rows, r * s + i, q * s + j, cols] += dout[:, r, q, :]
    return dx
