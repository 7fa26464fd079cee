"""Vectorized convolution, pooling and activations on channels-last arrays.

Everything here works on whole batches at once: no Python loop runs over images or
pixels. The only loops are over the F×F offsets inside a filter window (9 iterations
for a 3×3 filter), each of which moves a whole strided slab of the batch.

Layouts: activations (N, H, W, C); conv weights (K, F, F, C); bias (K,).
"""

from __future__ import annotations

import numpy as np

from .shapes import conv_output_size, pool_output_size


def _check_nhwc(x: np.ndarray, name: str = "x") -> None:
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        shape = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"{name} must be a 4-D array (N, H, W, C), got shape {shape}")


def pad_hw(x: np.ndarray, p: int) -> np.ndarray:
    """Zero-pad the two spatial axes of x: (N, H, W, C) -> (N, H+2p, W+2p, C)."""
    if p == 0:
        return x
    n, h, w, c = x.shape
    # Allocating zeros and copying the interior is several times faster than np.pad.
    out = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=x.dtype)
    out[:, p : p + h, p : p + w, :] = x
    return out


def extract_windows(x: np.ndarray, f: int, s: int) -> np.ndarray:
    """Every F×F window of x at stride S, copied side by side.

    x: (N, H, W, C) -> (N, H2, W2, F, F, C) with H2 = (H - F)/S + 1.
    The result is contiguous, so (F, F, C) flattens to one row of an im2col matrix.
    """
    n, h, w, c = x.shape
    h2, w2 = (h - f) // s + 1, (w - f) // s + 1
    out = np.empty((n, h2, w2, f, f, c), dtype=x.dtype)
    for i in range(f):
        for j in range(f):
            # Offset (i, j) of every window at once: one strided slab of the batch.
            out[:, :, :, i, j, :] = x[:, i : i + s * h2 : s, j : j + s * w2 : s, :]
    return out


def scatter_add_windows(windows: np.ndarray, out_shape: tuple[int, ...], s: int) -> np.ndarray:
    """Inverse of `extract_windows` for gradients: add every window back where it came from.

    windows: (N, H2, W2, F, F, C) -> array of out_shape (N, H, W, C). Overlapping windows
    (F > S) add up, which is exactly what the chain rule asks for.
    """
    _, h2, w2, f, _, _ = windows.shape
    out = np.zeros(out_shape, dtype=windows.dtype)
    for i in range(f):
        for j in range(f):
            out[:, i : i + s * h2 : s, j : j + s * w2 : s, :] += windows[:, :, :, i, j, :]
    return out


# --------------------------------------------------------------------------- convolution


def _check_conv_args(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> None:
    _check_nhwc(x, "x")
    if not isinstance(weight, np.ndarray) or weight.ndim != 4 or weight.shape[1] != weight.shape[2]:
        shape = getattr(weight, "shape", type(weight).__name__)
        raise ValueError(
            f"weight must be a 4-D array (K, F, F, C) with square filters, got {shape}"
        )
    if weight.shape[3] != x.shape[3]:
        raise ValueError(
            f"filter depth C = {weight.shape[3]} must equal the input depth C = {x.shape[3]}: "
            "a filter always spans the full depth of its input"
        )
    if bias is not None and np.shape(bias) != (weight.shape[0],):
        raise ValueError(f"bias must have shape (K,) = ({weight.shape[0]},), got {np.shape(bias)}")


def conv2d_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
    padding: int = 0,
) -> tuple[np.ndarray, tuple]:
    """Convolution as one matrix product (im2col), returning the output and a cache.

    x: (N, H, W, C), weight: (K, F, F, C), bias: (K,) -> y: (N, H2, W2, K) with
    H2 = (H - F + 2P)/S + 1. The cache holds what `conv2d_backward` needs.
    """
    _check_conv_args(x, weight, bias)
    n, h, w, c = x.shape
    k, f = weight.shape[0], weight.shape[1]
    h2 = conv_output_size(h, f, stride, padding)
    w2 = conv_output_size(w, f, stride, padding)
    cols = extract_windows(pad_hw(x, padding), f, stride).reshape(n * h2 * w2, f * f * c)
    y = cols @ weight.reshape(k, f * f * c).T  # (N*H2*W2, K): one row per output pixel
    if bias is not None:
        y += bias
    cache = (x.shape, cols, weight, stride, padding)
    return y.reshape(n, h2, w2, k), cache


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a convolution: dout (N, H2, W2, K) -> (dx, dweight, dbias).

    dweight = colsᵀ·dout (every window weighted by the output gradient it produced);
    dx = dout·W scattered back onto the windows (col2im); dbias = sum of dout.
    """
    x_shape, cols, weight, stride, padding = cache
    n, h, w, c = x_shape
    k, f = weight.shape[0], weight.shape[1]
    h2, w2 = dout.shape[1], dout.shape[2]
    dout2 = dout.reshape(n * h2 * w2, k)
    dweight = (dout2.T @ cols).reshape(weight.shape)
    dbias = dout2.sum(axis=0)
    dcols = (dout2 @ weight.reshape(k, f * f * c)).reshape(n, h2, w2, f, f, c)
    padded_shape = (n, h + 2 * padding, w + 2 * padding, c)
    dxp = scatter_add_windows(dcols, padded_shape, stride)
    dx = dxp[:, padding : padding + h, padding : padding + w, :] if padding else dxp
    return dx, dweight, dbias


def conv2d(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
    padding: int = 0,
) -> np.ndarray:
    """2-D convolution (cross-correlation, as in every deep-learning library).

    x: (N, H, W, C), weight: (K, F, F, C), bias: (K,) or None -> (N, H2, W2, K).
    """
    return conv2d_forward(x, weight, bias, stride, padding)[0]


# --------------------------------------------------------------------------- pooling


def _pool_windows(x: np.ndarray, f: int, s: int) -> np.ndarray:
    """x: (N, H, W, C) -> windows (N, H2, W2, F*F, C), checking the sizes fit."""
    _check_nhwc(x, "x")
    n, h, w, c = x.shape
    h2, w2 = pool_output_size(h, f, s), pool_output_size(w, f, s)
    if f == s:
        # Non-overlapping windows tile the image: a reshape and one transpose copy
        # replace F*F strided copies.
        tiles = x.reshape(n, h2, f, w2, f, c).transpose(0, 1, 3, 2, 4, 5)
        return tiles.reshape(n, h2, w2, f * f, c)
    return extract_windows(x, f, s).reshape(n, h2, w2, f * f, c)


def _unpool_windows(dwin: np.ndarray, x_shape: tuple[int, ...], f: int, s: int) -> np.ndarray:
    """Gradient windows (N, H2, W2, F*F, C) -> dx (N, H, W, C)."""
    n, h2, w2, _, c = dwin.shape
    if f == s:
        return dwin.reshape(n, h2, w2, f, f, c).transpose(0, 1, 3, 2, 4, 5).reshape(x_shape)
    return scatter_add_windows(dwin.reshape(n, h2, w2, f, f, c), x_shape, s)


def max_pool2d_forward(x: np.ndarray, f: int = 2, s: int = 2) -> tuple[np.ndarray, tuple]:
    """Max pooling: x (N, H, W, C) -> y (N, (H-F)/S+1, (W-F)/S+1, C) and a cache.

    The depth is unchanged: each channel is pooled on its own.
    """
    win = _pool_windows(x, f, s)
    # argmax picks the first maximum, so on ties exactly one input gets the gradient.
    idx = win.argmax(axis=3)
    y = np.take_along_axis(win, idx[:, :, :, None, :], axis=3)[:, :, :, 0, :]
    return y, (x.shape, idx, f, s)


def max_pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dout (N, H2, W2, C) -> dx (N, H, W, C): each gradient goes to its window's maximum."""
    x_shape, idx, f, s = cache
    hit = np.arange(f * f)[:, None] == idx[:, :, :, None, :]  # (N, H2, W2, F*F, C)
    dwin = hit * dout[:, :, :, None, :]
    return _unpool_windows(dwin.astype(dout.dtype, copy=False), x_shape, f, s)


def max_pool2d(x: np.ndarray, f: int = 2, s: int = 2) -> np.ndarray:
    """Max over every F×F window at stride S: (N, H, W, C) -> (N, H2, W2, C)."""
    return max_pool2d_forward(x, f, s)[0]


def avg_pool2d_forward(x: np.ndarray, f: int = 2, s: int = 2) -> tuple[np.ndarray, tuple]:
    """Average pooling: x (N, H, W, C) -> y (N, H2, W2, C) and a cache."""
    y = _pool_windows(x, f, s).mean(axis=3, dtype=x.dtype)
    return y, (x.shape, f, s)


def avg_pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dout (N, H2, W2, C) -> dx (N, H, W, C): each gradient is shared equally by its window."""
    x_shape, f, s = cache
    n, h2, w2, c = dout.shape
    share = (dout / (f * f)).astype(dout.dtype, copy=False)
    dwin = np.broadcast_to(share[:, :, :, None, :], (n, h2, w2, f * f, c))
    return _unpool_windows(np.ascontiguousarray(dwin), x_shape, f, s)


def avg_pool2d(x: np.ndarray, f: int = 2, s: int = 2) -> np.ndarray:
    """Mean over every F×F window at stride S: (N, H, W, C) -> (N, H2, W2, C)."""
    return avg_pool2d_forward(x, f, s)[0]


# --------------------------------------------------------------------------- activations


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x) elementwise, any shape."""
    return np.maximum(x, 0)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent elementwise, any shape; output in (-1, 1)."""
    return np.tanh(x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) elementwise, any shape; output in (0, 1).

    Written through tanh, which never overflows (1/(1+exp(-x)) warns for x < -88 in float32).
    """
    return 0.5 * (1.0 + np.tanh(0.5 * x))
