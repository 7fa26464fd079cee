"""The arithmetic of a CNN on channels-last arrays: convolution, pooling, activations.

Each function here is the textbook algorithm, written to read like the formula next to it
in the book: a convolution is im2col and one matrix product, its weight gradient another
product, its input gradient a product and col2im. No Python loop runs over images or
pixels; the loops that remain run over the F×F offsets inside a window.

These are the functions the library runs. `cnnlib.engine` makes them fast on big
batches by calling them on pieces of the batch at once (the appendix measures how);
it never changes what they compute.

Layouts: activations (N, H, W, C); conv weights (K, F, F, C); bias (K,).
Book: chapter 3 (convolution), 5 (pooling), 7 (backward pass), 8 (activations).
"""

from __future__ import annotations

import numpy as np

from ..checks import check_nhwc
from .im2col import col2im, extract_windows, pad_hw, window_view
from .shapes import conv_output_size, pool_output_size

__all__ = [
    "avg_pool2d", "avg_pool2d_backward", "avg_pool2d_forward", "col2im", "conv2d",
    "conv2d_backward", "conv2d_forward", "conv2d_input_grad", "conv2d_input_grad_flipped",
    "conv2d_weight_grads", "extract_windows", "flip_filters", "max_pool2d", "max_pool2d_backward",
    "max_pool2d_forward", "pad_hw", "pool_windows", "relu", "sigmoid", "tanh", "window_view",
]


# --------------------------------------------------------------------------- convolution


def check_conv_args(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> None:
    """ValueError unless x (N, H, W, C), weight (K, F, F, C) and bias (K,) fit together."""
    check_nhwc(x)
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
    padding: int = 0, out: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple]:
    """Convolution as im2col and one matrix product: Y = cols · Wᵀ + b.

    x: (N, H, W, C), weight: (K, F, F, C), bias: (K,) -> y: (N, H2, W2, K) with
    H2 = (H - F + 2P)/S + 1, and the cache that `conv2d_backward` needs: the input
    itself, not its im2col matrix, which is F·F times bigger and quick to rebuild.
    out: a C-contiguous (N, H2, W2, K) array to write y into, if given.
    """
    check_conv_args(x, weight, bias)
    n, h, w, c = x.shape
    k, f = weight.shape[0], weight.shape[1]
    h2 = conv_output_size(h, f, stride, padding)
    w2 = conv_output_size(w, f, stride, padding)
    cols = extract_windows(pad_hw(x, padding), f, stride).reshape(n * h2 * w2, f * f * c)
    rows = None if out is None else out.reshape(n * h2 * w2, k)
    y = np.matmul(cols, weight.reshape(k, f * f * c).T, out=rows)  # row: pixel, column: filter
    if bias is not None:
        y += bias
    return y.reshape(n, h2, w2, k), (x, weight, stride, padding)


def conv2d_weight_grads(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray]:
    """dL/dW = doutᵀ · cols and dL/db = Σ dout: dout (N, H2, W2, K) -> (dweight, dbias).

    Every window is weighted by the gradient of the output it produced; the im2col
    matrix is rebuilt from the cached input.
    """
    x, weight, stride, padding = cache
    k, f, c = weight.shape[0], weight.shape[1], weight.shape[3]
    cols = extract_windows(pad_hw(x, padding), f, stride).reshape(-1, f * f * c)
    dout_rows = dout.reshape(-1, k)  # one row per output pixel
    dweight = (dout_rows.T @ cols).reshape(weight.shape)
    # Σ over the rows as a product with a vector of ones: ~10× faster than .sum(axis=0)
    dbias = np.ones(len(dout_rows), dtype=dout.dtype) @ dout_rows
    return dweight, dbias


def conv2d_input_grad(dout: np.ndarray, weight: np.ndarray, x_shape: tuple[int, ...],
                      stride: int, padding: int) -> np.ndarray:
    """dL/dx = col2im(dout · W): dout (N, H2, W2, K) -> dx of shape x_shape (N, H, W, C).

    Each output pixel sends its gradient back through the filter weights to the window
    it saw; windows that overlap add up. Computed one filter tap (i, j) at a time: the
    product dout · W[:, i, j, :] is the gradient of the pixel at offset (i, j) of every
    window, one strided slab of the padded input. The padding's share is cut off at the end.
    """
    n, h, w, c = x_shape
    k, f = weight.shape[0], weight.shape[1]
    h2, w2 = dout.shape[1], dout.shape[2]
    dout_rows = dout.reshape(-1, k)  # one row per output pixel
    dxp = np.zeros((n, h + 2 * padding, w + 2 * padding, c), dtype=np.result_type(dout, weight))
    for i in range(f):
        for j in range(f):
            tap = (dout_rows @ weight[:, i, j, :]).reshape(n, h2, w2, c)
            dxp[:, i : i + stride * h2 : stride, j : j + stride * w2 : stride, :] += tap
    return dxp[:, padding : padding + h, padding : padding + w, :]


def flip_filters(weight: np.ndarray) -> np.ndarray:
    """Each filter turned by 180°, input and output channels swapped.

    weight: (K, F, F, C) -> (C, F, F, K), tap (i, j) moved to (F-1-i, F-1-j).
    """
    return weight[:, ::-1, ::-1, :].transpose(3, 1, 2, 0)


def conv2d_input_grad_flipped(dout: np.ndarray, weight: np.ndarray, padding: int) -> np.ndarray:
    """dL/dx for stride 1, as a convolution: dout padded by F-1-P, filters flipped.

    Input pixel (r, c) met filter tap (i, j) in output (r - i, c - j), so its gradient is
    a sum over taps of dout at (r - i, c - j) times weight (i, j): a convolution of dout
    with each filter turned by 180° (tap (i, j) -> (F-1-i, F-1-j)), input and output
    channels swapped. Needs stride 1 and P ≤ F - 1.
    """
    f = weight.shape[1]
    return conv2d_forward(dout, flip_filters(weight), None, 1, f - 1 - padding)[0]


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a convolution: dout (N, H2, W2, K) -> (dx, dweight, dbias)."""
    x, weight, stride, padding = cache
    dweight, dbias = conv2d_weight_grads(dout, cache)
    return conv2d_input_grad(dout, weight, x.shape, stride, padding), dweight, dbias


def conv2d(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
    padding: int = 0,
) -> np.ndarray:
    """2-D convolution (cross-correlation, as in every deep-learning library).

    x: (N, H, W, C), weight: (K, F, F, C), bias: (K,) or None -> (N, H2, W2, K).
    """
    return conv2d_forward(x, weight, bias, stride, padding)[0]


# --------------------------------------------------------------------------- pooling


def pool_windows(x: np.ndarray, f: int, s: int) -> np.ndarray:
    """x: (N, H, W, C) -> windows (N, H2, W2, F·F, C), checking that the sizes fit."""
    check_nhwc(x)
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
    return col2im(dwin.reshape(n, h2, w2, f, f, c), x_shape, s)


def _window_offsets(x_shape: tuple[int, ...], f: int, s: int):
    """(k, slab) for each offset (i, j) of an F×F window, in reading order.

    slab indexes, for every window at once, its entry at offset (i, j): x[slab] is
    (N, H2, W2, C), one strided slice of the batch.
    """
    _, h, w, _ = x_shape
    h2, w2 = pool_output_size(h, f, s), pool_output_size(w, f, s)
    for k, (i, j) in enumerate((i, j) for i in range(f) for j in range(f)):
        yield k, (slice(None), slice(i, i + s * h2, s), slice(j, j + s * w2, s), slice(None))


def max_pool2d_forward(x: np.ndarray, kernel_size: int = 2,
                       stride: int = 2) -> tuple[np.ndarray, tuple]:
    """Max pooling: x (N, H, W, C) -> y (N, (H-F)/S+1, (W-F)/S+1, C) and a cache.

    The depth is unchanged: each channel is pooled on its own. Instead of gathering the
    windows, it walks the F·F offsets of a window (4 for 2×2), comparing one strided
    slab of the batch at a time, and remembers which offset won (`argmax`, as uint8).
    """
    check_nhwc(x)
    f, s = kernel_size, stride
    y = idx = None
    for k, slab in _window_offsets(x.shape, f, s):
        if y is None:
            y = x[slab].copy()
            idx = np.zeros(y.shape, dtype=np.uint8 if f * f <= 256 else np.intp)
            continue
        # Strictly greater: on a tie the first maximum in reading order keeps the win,
        # so exactly one input receives the gradient. A later win always has a larger k,
        # so "idx = k where it wins" is a maximum (arithmetic beats masked writes).
        wins = x[slab] > y
        np.maximum(y, x[slab], out=y)
        np.maximum(idx, wins * idx.dtype.type(k), out=idx)
    return y, (x.shape, idx, f, s)


def max_pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dout (N, H2, W2, C) -> dx (N, H, W, C): each gradient goes to its window's maximum."""
    x_shape, idx, f, s = cache
    if f == s:
        # The windows tile the input: every input gets exactly one value, no adding.
        dx = np.empty(x_shape, dtype=dout.dtype)
        for k, slab in _window_offsets(x_shape, f, s):
            np.multiply(dout, idx == k, out=dx[slab])
        return dx
    dx = np.zeros(x_shape, dtype=dout.dtype)  # overlaps add up; gaps (F < S) stay zero
    for k, slab in _window_offsets(x_shape, f, s):
        dx[slab] += dout * (idx == k)
    return dx


def max_pool2d(x: np.ndarray, kernel_size: int = 2, stride: int = 2) -> np.ndarray:
    """Max over every F×F window at stride S: (N, H, W, C) -> (N, H2, W2, C)."""
    return max_pool2d_forward(x, kernel_size, stride)[0]


def avg_pool2d_forward(x: np.ndarray, kernel_size: int = 2,
                       stride: int = 2) -> tuple[np.ndarray, tuple]:
    """Average pooling: x (N, H, W, C) -> y (N, H2, W2, C) and a cache."""
    y = pool_windows(x, kernel_size, stride).mean(axis=3, dtype=x.dtype)
    return y, (x.shape, kernel_size, stride)


def avg_pool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dout (N, H2, W2, C) -> dx (N, H, W, C): each gradient is shared equally by its window."""
    x_shape, f, s = cache
    n, h2, w2, c = dout.shape
    share = (dout / (f * f)).astype(dout.dtype, copy=False)
    dwin = np.broadcast_to(share[:, :, :, None, :], (n, h2, w2, f * f, c))
    return _unpool_windows(np.ascontiguousarray(dwin), x_shape, f, s)


def avg_pool2d(x: np.ndarray, kernel_size: int = 2, stride: int = 2) -> np.ndarray:
    """Mean over every F×F window at stride S: (N, H, W, C) -> (N, H2, W2, C)."""
    return avg_pool2d_forward(x, kernel_size, stride)[0]


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
