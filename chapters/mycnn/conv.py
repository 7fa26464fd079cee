"""The convolution layer: forward with loops, then with im2col; backward with loops, then
vectorized.

x: (N, H, W, C) images, w: (K, F, F, C) filters, b: (K,) biases, stride S, padding P;
the output is (N, H2, W2, K) with H2 = (H + 2P - F) // S + 1 (and the same for W2).
Book: chapter 3 (forward, Exercises 3.7 and 3.8), chapter 7 (backward, Exercises 7.5, 7.6).
"""

from __future__ import annotations

import numpy as np


def conv_forward_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1,
                       padding: int = 0) -> np.ndarray:
    """Exercise 3.7: y[n,i,j,k] = Σ_{u,v,c} x_pad[n, S·i+u, S·j+v, c]·w[k,u,v,c] + b[k],
    with loops over images, filters, output rows and output columns.

    x: (N, H, W, C), w: (K, F, F, C), b: (K,) -> (N, H2, W2, K).
    """
    # BEGIN SOLUTION (Exercise 3.7)
    n_img, h, wid, _ = x.shape
    k_filters, f = w.shape[0], w.shape[1]
    h2 = (h + 2 * padding - f) // stride + 1
    w2 = (wid + 2 * padding - f) // stride + 1
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    out = np.zeros((n_img, h2, w2, k_filters), dtype=np.result_type(x, w))
    for n in range(n_img):
        for k in range(k_filters):
            for i in range(h2):
                for j in range(w2):
                    window = xp[n, i * stride:i * stride + f, j * stride:j * stride + f, :]
                    out[n, i, j, k] = np.sum(window * w[k]) + b[k]
    return out
    # END SOLUTION


def conv_forward_im2col(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1,
                        padding: int = 0) -> np.ndarray:
    """Exercise 3.8: the same convolution as one matrix product, without a loop over the
    output positions: each window becomes a row of F·F·C numbers, each filter a column.

    x: (N, H, W, C), w: (K, F, F, C), b: (K,) -> (N, H2, W2, K).
    """
    # BEGIN SOLUTION (Exercise 3.8)
    n_img, h, wid, c = x.shape
    k_filters, f = w.shape[0], w.shape[1]
    h2 = (h + 2 * padding - f) // stride + 1
    w2 = (wid + 2 * padding - f) // stride + 1
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    cols = np.empty((n_img, h2, w2, f, f, c), dtype=x.dtype)
    # One strided slab per filter offset (u, v): F·F copies, not one per position.
    for u in range(f):
        for v in range(f):
            cols[:, :, :, u, v, :] = xp[:, u:u + stride * h2:stride, v:v + stride * w2:stride, :]
    y = cols.reshape(-1, f * f * c) @ w.reshape(k_filters, -1).T + b
    return y.reshape(n_img, h2, w2, k_filters)
    # END SOLUTION


def conv_backward_naive(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1,
                        padding: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exercise 7.5: the gradients of conv_forward with loops: every output position sends
    dout[n,i,j,k]·w[k] back to the window it saw, and adds dout[n,i,j,k]·window to dw[k].

    dout: (N, H2, W2, K), x: (N, H, W, C), w: (K, F, F, C)
    -> dx (N, H, W, C), dw (K, F, F, C), db (K,).
    """
    # BEGIN SOLUTION (Exercise 7.5)
    n_img, h, wid, _ = x.shape
    k_filters, f = w.shape[0], w.shape[1]
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    dxp, dw = np.zeros_like(xp, dtype=np.result_type(x, dout)), np.zeros_like(w)
    for n in range(n_img):
        for i in range(dout.shape[1]):
            for j in range(dout.shape[2]):
                rows = slice(i * stride, i * stride + f)
                cols = slice(j * stride, j * stride + f)
                for k in range(k_filters):
                    dw[k] += dout[n, i, j, k] * xp[n, rows, cols, :]
                    dxp[n, rows, cols, :] += dout[n, i, j, k] * w[k]
    db = dout.sum(axis=(0, 1, 2))
    dx = dxp[:, padding:padding + h, padding:padding + wid, :]  # the padding gets no gradient
    return dx, dw, db
    # END SOLUTION


def conv_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1,
                  padding: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exercise 7.6: the same gradients without a loop over the output positions:
    dw = doutᵀ · cols (the window matrix of Exercise 3.8), db = Σ dout, and dx by sending
    dout · W back to the windows, one filter offset (u, v) at a time.

    dout: (N, H2, W2, K), x: (N, H, W, C), w: (K, F, F, C)
    -> dx (N, H, W, C), dw (K, F, F, C), db (K,).
    """
    # BEGIN SOLUTION (Exercise 7.6)
    n_img, h, wid, c = x.shape
    k_filters, f = w.shape[0], w.shape[1]
    _, h2, w2, _ = dout.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    cols = np.empty((n_img, h2, w2, f, f, c), dtype=x.dtype)
    for u in range(f):
        for v in range(f):
            cols[:, :, :, u, v, :] = xp[:, u:u + stride * h2:stride, v:v + stride * w2:stride, :]
    dout_rows = dout.reshape(-1, k_filters)  # one row per output position
    # (colsᵀ · dout)ᵀ: the same numbers as doutᵀ · cols, one row of dw per filter.
    dw = (cols.reshape(-1, f * f * c).T @ dout_rows).T.reshape(w.shape)
    db = dout_rows.sum(axis=0)
    dcols = (dout_rows @ w.reshape(k_filters, -1)).reshape(n_img, h2, w2, f, f, c)
    dxp = np.zeros(xp.shape, dtype=dcols.dtype)
    for u in range(f):
        for v in range(f):  # windows overlap: their gradients add up (+=)
            dxp[:, u:u + stride * h2:stride, v:v + stride * w2:stride, :] += dcols[:, :, :, u, v, :]
    return dxp[:, padding:padding + h, padding:padding + wid, :], dw, db
    # END SOLUTION
