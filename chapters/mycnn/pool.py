"""Pooling: max and average over F×F windows at stride S, forward and backward.

x: (N, H, W, C) -> (N, H2, W2, C) with H2 = (H - F) // S + 1; each channel is pooled on
its own, so the depth C is kept.
Book: chapter 5 (Exercises 5.7 and 5.8).
"""

from __future__ import annotations

import numpy as np


def max_pool_forward(x: np.ndarray, size: int = 2, stride: int = 2) -> np.ndarray:
    """Exercise 5.7: the maximum of every size×size window, channel by channel.

    x: (N, H, W, C) -> (N, H2, W2, C).
    """
    # BEGIN SOLUTION (Exercise 5.7)
    h2 = (x.shape[1] - size) // stride + 1
    w2 = (x.shape[2] - size) // stride + 1
    out = None
    for u in range(size):
        for v in range(size):  # one strided slab per window offset
            slab = x[:, u:u + stride * h2:stride, v:v + stride * w2:stride, :]
            out = slab.copy() if out is None else np.maximum(out, slab)
    return out
    # END SOLUTION


def max_pool_backward(dout: np.ndarray, x: np.ndarray, size: int = 2,
                      stride: int = 2) -> np.ndarray:
    """Exercise 5.7: each window's gradient goes to its maximum only (the first one in
    reading order on a tie); where windows overlap, gradients add up.

    dout: (N, H2, W2, C), x: (N, H, W, C) -> dx (N, H, W, C).
    """
    # BEGIN SOLUTION (Exercise 5.7)
    _, h2, w2, _ = dout.shape
    out = max_pool_forward(x, size, stride)
    dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
    taken = np.zeros(out.shape, dtype=bool)  # has this window's gradient found its maximum?
    for u in range(size):
        for v in range(size):
            rows = slice(u, u + stride * h2, stride)
            cols = slice(v, v + stride * w2, stride)
            wins = (x[:, rows, cols, :] == out) & ~taken
            dx[:, rows, cols, :] += dout * wins
            taken |= wins
    return dx
    # END SOLUTION


def avg_pool_forward(x: np.ndarray, size: int = 2, stride: int = 2) -> np.ndarray:
    """Exercise 5.8: the mean of every size×size window, channel by channel.

    x: (N, H, W, C) -> (N, H2, W2, C).
    """
    # BEGIN SOLUTION (Exercise 5.8)
    h2 = (x.shape[1] - size) // stride + 1
    w2 = (x.shape[2] - size) // stride + 1
    out = np.zeros((x.shape[0], h2, w2, x.shape[3]), dtype=np.result_type(x, np.float32))
    for u in range(size):
        for v in range(size):
            out += x[:, u:u + stride * h2:stride, v:v + stride * w2:stride, :]
    return out / (size * size)
    # END SOLUTION


def avg_pool_backward(dout: np.ndarray, x: np.ndarray, size: int = 2,
                      stride: int = 2) -> np.ndarray:
    """Exercise 5.8: each window's gradient is shared equally by its size·size inputs.

    dout: (N, H2, W2, C), x: (N, H, W, C) -> dx (N, H, W, C).
    """
    # BEGIN SOLUTION (Exercise 5.8)
    _, h2, w2, _ = dout.shape
    dx = np.zeros(x.shape, dtype=np.result_type(dout, np.float32))
    share = dout / (size * size)
    for u in range(size):
        for v in range(size):
            dx[:, u:u + stride * h2:stride, v:v + stride * w2:stride, :] += share
    return dx
    # END SOLUTION
