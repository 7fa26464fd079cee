"""A contender: im2col convolution and pooling in the style of "Deep Learning from Scratch".

That book (Saitoh, O'Reilly Japan) made im2col famous among learners: channels-first
arrays (N, C, H, W), `np.pad`, two Python loops over the filter window that copy one
strided slab each, a transpose to put the window values side by side, one matrix
product, and col2im to add the gradient windows back. This file is written afresh in
that straightforward style, so the benchmarks can show what cnnlib adds on top of the
textbook version. It keeps the input's dtype (the book's code allocates float64 columns
for float32 input, which would only make it slower).

Layouts: x (N, C, H, W), weight (K, C, F, F), bias (K,).
"""

from __future__ import annotations

import numpy as np


def im2col(x: np.ndarray, fh: int, fw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """x (N, C, H, W) -> columns (N*OH*OW, C*FH*FW): one row per output pixel."""
    n, c, h, w = x.shape
    oh = (h + 2 * pad - fh) // stride + 1
    ow = (w + 2 * pad - fw) // stride + 1
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((n, c, fh, fw, oh, ow), dtype=x.dtype)
    for dy in range(fh):
        y_end = dy + stride * oh
        for dx in range(fw):
            x_end = dx + stride * ow
            col[:, :, dy, dx, :, :] = img[:, :, dy:y_end:stride, dx:x_end:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)


def col2im(col: np.ndarray, x_shape: tuple[int, ...], fh: int, fw: int, stride: int = 1,
           pad: int = 0) -> np.ndarray:
    """Columns (N*OH*OW, C*FH*FW) -> image (N, C, H, W), adding overlapping windows."""
    n, c, h, w = x_shape
    oh = (h + 2 * pad - fh) // stride + 1
    ow = (w + 2 * pad - fw) // stride + 1
    col = col.reshape(n, oh, ow, c, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), dtype=col.dtype)
    for dy in range(fh):
        y_end = dy + stride * oh
        for dx in range(fw):
            x_end = dx + stride * ow
            img[:, :, dy:y_end:stride, dx:x_end:stride] += col[:, :, dy, dx, :, :]
    return img[:, :, pad : h + pad, pad : w + pad]


class Convolution:
    """A conv layer as the book writes it: forward keeps the columns for backward."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray, stride: int = 1, pad: int = 0):
        self.W, self.b = weight, bias
        self.stride, self.pad = stride, pad

    def forward(self, x: np.ndarray) -> np.ndarray:
        fn, _, fh, fw = self.W.shape
        n, _, h, w = x.shape
        oh = (h + 2 * self.pad - fh) // self.stride + 1
        ow = (w + 2 * self.pad - fw) // self.stride + 1
        self.x = x
        self.col = im2col(x, fh, fw, self.stride, self.pad)
        self.col_W = self.W.reshape(fn, -1).T
        out = self.col @ self.col_W + self.b
        return out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        fn, c, fh, fw = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.db = dout.sum(axis=0)
        self.dW = (self.col.T @ dout).transpose(1, 0).reshape(fn, c, fh, fw)
        dcol = dout @ self.col_W.T
        return col2im(dcol, self.x.shape, fh, fw, self.stride, self.pad)


class Pooling:
    """Max pooling through im2col: argmax of every window row, scattered back in backward."""

    def __init__(self, pool_h: int = 2, pool_w: int = 2, stride: int = 2, pad: int = 0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x: np.ndarray) -> np.ndarray:
        n, c, h, w = x.shape
        oh = (h - self.pool_h) // self.stride + 1
        ow = (w - self.pool_w) // self.stride + 1
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.x = x
        self.arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        return out.reshape(n, oh, ow, c).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dcol = dmax.reshape(dout.shape + (pool_size,)).reshape(dout.size // dout.shape[3], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
