"""Windows of an image batch: zero padding, im2col and its inverse, col2im.

A convolution or a pool looks at every F×F window of its input. `window_view` sees all
of them at once without copying a number, `extract_windows` copies them side by side
(the "im2col" matrix, one row per window), and `col2im` adds gradients of windows back
to the pixels they came from. Layouts: x (N, H, W, C), windows (N, H2, W2, F, F, C).

Book: chapter 3 ("The fast convolution") and chapter 7 (the backward pass).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def pad_hw(x: np.ndarray, p: int) -> np.ndarray:
    """Zero-pad the two spatial axes of x: (N, H, W, C) -> (N, H+2p, W+2p, C)."""
    if p == 0:
        return x
    n, h, w, c = x.shape
    # Allocating zeros and copying the interior is several times faster than np.pad.
    out = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=x.dtype)
    out[:, p : p + h, p : p + w, :] = x
    return out


def window_view(x: np.ndarray, f: int, s: int) -> np.ndarray:
    """Every F×F window of x at stride S, as a read-only strided view: nothing is copied.

    x: (N, H, W, C) -> (N, H2, W2, F, F, C) with H2 = ⌊(H - F)/S⌋ + 1. Element
    [n, r, q, i, j, ch] is x[n, r·S + i, q·S + j, ch], so neighboring windows share memory.
    """
    n, h, w, c = x.shape
    h2, w2 = (h - f) // s + 1, (w - f) // s + 1
    sn, sh, sw, sc = x.strides  # bytes from one image / row / column / channel to the next
    # The next window starts S rows (or columns) further on; the next entry inside a
    # window is one row (or column) further on.
    return as_strided(x, (n, h2, w2, f, f, c), (sn, s * sh, s * sw, sh, sw, sc),
                      writeable=False)


def extract_windows(x: np.ndarray, f: int, s: int) -> np.ndarray:
    """Every F×F window of x at stride S, copied side by side (the im2col copy).

    x: (N, H, W, C) -> (N, H2, W2, F, F, C) with H2 = ⌊(H - F)/S⌋ + 1.
    The result is contiguous, so (F, F, C) flattens to one row of an im2col matrix.
    A single copy of `window_view` moves one window row (F·C neighboring numbers) at a
    time: several times faster than F·F slab copies of C numbers each when C is small.
    """
    return np.ascontiguousarray(window_view(x, f, s))


def col2im(windows: np.ndarray, out_shape: tuple[int, ...], s: int) -> np.ndarray:
    """The inverse of `extract_windows` for gradients: add every window back where it came from.

    windows: (N, H2, W2, F, F, C) -> array of out_shape (N, H, W, C). Overlapping windows
    (F > S) add up, which is exactly what the chain rule asks for; pixels no window
    reached get zero.
    """
    _, h2, w2, f, _, _ = windows.shape
    out = np.zeros(out_shape, dtype=windows.dtype)
    for i in range(f):
        for j in range(f):
            out[:, i : i + s * h2 : s, j : j + s * w2 : s, :] += windows[:, :, :, i, j, :]
    return out
