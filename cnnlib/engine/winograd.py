"""Winograd's F(2×2, 3×3): a 3×3 stride-1 convolution with 2.25× fewer multiplications.

im2col computes each output pixel with 9·C multiplications per filter. Winograd's minimal
filtering algorithm computes a 2×2 tile of outputs from the 4×4 input tile that covers it
with 16·C multiplications instead of 36·C (Lavin & Gray 2016, "Fast Algorithms for
Convolutional Neural Networks"):

    Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d Bᵀᵀ) ] A        d: 4×4 input tile, g: 3×3 filter, Y: 2×2

The transforms Bᵀ, G, Aᵀ hold only 0, ±1 and ½, so they cost additions, not products.
Summed over the C input channels, the elementwise product ⊙ at each of the 16 positions
of a tile is one matrix product (tiles × C)·(C × K): 16 batched products in all, which
NumPy's BLAS runs as fast as one big one. The weight gradient is the same identity read
backwards (the adjoint with respect to g): dg = Gᵀ [ Σ_tiles (Bᵀ d B) ⊙ (A dY Aᵀ) ] G,
again 16 products, now (C × tiles)·(tiles × K).

This is the engine's business, never the chapters': `cnnlib.engine` runs these functions
on chunks of a batch where they apply (3×3 filters, stride 1) and pay (deep enough
inputs), and the tests hold them equal to `functional.conv2d_forward` (im2col).
Layouts: x (N, H, W, C), weight (K, 3, 3, C), tiles (16, N·T_h·T_w, C).
Book: appendix, "Fewer multiplications".
"""

from __future__ import annotations

import numpy as np

from ..core.im2col import window_view

# The three transforms of F(2×2, 3×3). Bᵀ: input tile -> 4×4; G: filter -> 4×4; Aᵀ: 4×4 -> 2×2.
B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)


def applies(weight_shape: tuple[int, ...], stride: int) -> bool:
    """True for the convolutions F(2×2, 3×3) computes: 3×3 filters at stride 1."""
    return weight_shape[1] == 3 and weight_shape[2] == 3 and stride == 1


def tile_counts(h: int, w: int, padding: int) -> tuple[int, int]:
    """(T_h, T_w): 2×2 output tiles that cover the (H+2P-2) × (W+2P-2) output."""
    return -(-(h + 2 * padding - 2) // 2), -(-(w + 2 * padding - 2) // 2)


def filter_transform(weight: np.ndarray) -> np.ndarray:
    """U = G g Gᵀ for every filter and channel: weight (K, 3, 3, C) -> U (16, C, K)."""
    g = G.astype(weight.dtype)
    k, c = weight.shape[0], weight.shape[3]
    return np.einsum("ai,kijc,bj->abck", g, weight, g, optimize=True).reshape(16, c, k)


def _pad_to_tiles(x: np.ndarray, padding: int, th: int, tw: int) -> np.ndarray:
    """x (N, H, W, C) zero-padded to (N, 2·T_h + 2, 2·T_w + 2, C): P on the top and left,
    and at least P on the bottom and right, so every 4×4 tile lies inside."""
    n, h, w, c = x.shape
    out = np.zeros((n, 2 * th + 2, 2 * tw + 2, c), dtype=x.dtype)
    out[:, padding : padding + h, padding : padding + w, :] = x
    return out


def _combine(rows: list[np.ndarray], plan: tuple, out: list[np.ndarray]) -> None:
    """out[i] = Σ_j plan[i][j]·rows[j] for plans of ±1 (and 0): additions, no products."""
    for target, coefs in zip(out, plan, strict=True):
        terms = [(c, r) for c, r in zip(coefs, rows, strict=True) if c]
        (c0, r0), (c1, r1) = terms[0], terms[1]
        if c0 > 0 and c1 > 0:
            np.add(r0, r1, out=target)
        elif c0 > 0:
            np.subtract(r0, r1, out=target)
        elif c1 > 0:
            np.subtract(r1, r0, out=target)
        else:
            np.add(r0, r1, out=target)
            np.negative(target, out=target)
        for c, r in terms[2:]:
            (np.add if c > 0 else np.subtract)(target, r, out=target)


_B_PLAN = tuple(tuple(int(v) for v in row) for row in B_T)


def input_transform(x: np.ndarray, padding: int) -> np.ndarray:
    """V = Bᵀ d B for every 4×4 tile d of the padded input (tiles overlap by 2).

    x: (N, H, W, C) -> V (16, N·T_h·T_w, C). B is applied to the tile columns of all the
    images given at once (strided slabs), then Bᵀ to the rows: 32 additions per tile and
    channel (16 for the columns, 16 for the rows), no products. Columns first: their
    slabs are strided in every axis, so NumPy's loops run over C numbers at a time, and
    there are 4 of them; the 16 row results are slabs whose (T_w, C) block is contiguous,
    which NumPy runs in one go.
    """
    n, h, w, c = x.shape
    th, tw = tile_counts(h, w, padding)
    xp = _pad_to_tiles(x, padding, th, tw)
    # Column j of every tile: one strided slab (N, H_p, T_w, C) of the padded batch.
    slabs = [xp[:, :, j : j + 2 * tw : 2] for j in range(4)]
    cols = [np.empty(slabs[0].shape, dtype=x.dtype) for _ in range(4)]
    _combine(slabs, _B_PLAN, cols)
    v = np.empty((4, 4, n, th, tw, c), dtype=x.dtype)
    for b in range(4):
        rows = [cols[b][:, i : i + 2 * th : 2] for i in range(4)]
        _combine(rows, _B_PLAN, list(v[:, b]))
    return v.reshape(16, n * th * tw, c)


_A_PLAN = tuple(tuple(int(v) for v in row) for row in A_T)


def output_transform(m: np.ndarray, n: int, th: int, tw: int, out: np.ndarray) -> None:
    """Y = Aᵀ M A for every tile, written into out (N, H2, W2, K), H2 ≤ 2·T_h.

    m: (16, N·T_h·T_w, K), the products summed over channels. Each tile gives its 2×2
    outputs; a last row or column that falls outside an odd-sized output is dropped.
    """
    k = m.shape[2]
    m = m.reshape(4, 4, n, th, tw, k)
    h2, w2 = out.shape[1], out.shape[2]
    tiled = out if (h2, w2) == (2 * th, 2 * tw) else np.empty((n, 2 * th, 2 * tw, k), out.dtype)
    y = tiled.reshape(n, th, 2, tw, 2, k)  # y[:, t, i, s, j] is output (2t + i, 2s + j)
    half = np.empty((4, 2, n, th, tw, k), dtype=m.dtype)
    for a in range(4):
        _combine(list(m[a]), _A_PLAN, list(half[a]))
    for j in range(2):
        _combine([half[a, j] for a in range(4)], _A_PLAN, [y[:, :, 0, :, j], y[:, :, 1, :, j]])
    if tiled is not out:
        out[...] = tiled[:, :h2, :w2]


def conv3x3_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, padding: int,
                    out: np.ndarray, u: np.ndarray | None = None,
                    v: np.ndarray | None = None) -> np.ndarray:
    """A 3×3 stride-1 convolution by F(2×2, 3×3), into out.

    x: (N, H, W, C), weight: (K, 3, 3, C), bias: (K,) or None,
    out: (N, H+2P-2, W+2P-2, K) -> out. u: `filter_transform(weight)`, v:
    `input_transform(x, padding)`, if already made.
    Same result as `functional.conv2d_forward(x, weight, bias, 1, padding)` up to rounding.
    """
    n, h, w, _ = x.shape
    th, tw = tile_counts(h, w, padding)
    u = filter_transform(weight) if u is None else u
    v = input_transform(x, padding) if v is None else v
    m = np.matmul(v, u)  # 16 products (tiles × C)·(C × K)
    output_transform(m, n, th, tw, out)
    if bias is not None:
        out += bias
    return out


def _dout_transform(dout: np.ndarray, th: int, tw: int) -> np.ndarray:
    """Z = A dY Aᵀ for every 2×2 tile dY of dout: (N, H2, W2, K) -> (16, N·T_h·T_w, K).

    Outputs past an odd-sized edge count as zero gradient.
    """
    n, h2, w2, k = dout.shape
    if (h2, w2) != (2 * th, 2 * tw):
        full = np.zeros((n, 2 * th, 2 * tw, k), dtype=dout.dtype)
        full[:, :h2, :w2] = dout
        dout = full
    d = window_view(dout, 2, 2)  # (N, T_h, T_w, 2, 2, K): a view, nothing copied
    half = np.empty((4, 2, n, th, tw, k), dtype=dout.dtype)
    for j in range(2):  # A's rows: (1, 0), (1, 1), (1, -1), (0, -1)
        r0, r1 = d[:, :, :, 0, j], d[:, :, :, 1, j]
        half[0, j] = r0
        np.add(r0, r1, out=half[1, j])
        np.subtract(r0, r1, out=half[2, j])
        np.negative(r1, out=half[3, j])
    z = np.empty((4, 4, n, th, tw, k), dtype=dout.dtype)
    for a in range(4):
        c0, c1 = half[a, 0], half[a, 1]
        z[a, 0] = c0
        np.add(c0, c1, out=z[a, 1])
        np.subtract(c0, c1, out=z[a, 2])
        np.negative(c1, out=z[a, 3])
    return z.reshape(16, n * th * tw, k)


def conv3x3_weight_grad_transformed(x: np.ndarray, dout: np.ndarray, padding: int,
                                    v: np.ndarray | None = None) -> np.ndarray:
    """Σ over tiles of (Bᵀ d B) ⊙ (A dY Aᵀ): x (N, H, W, C), dout (N, H2, W2, K) -> (16, C, K).

    Partial sums from chunks of a batch add up; `weight_grad_from_transformed` turns the
    total into dL/dweight. v: `input_transform(x, padding)`, if the forward pass kept it.
    """
    th, tw = tile_counts(x.shape[1], x.shape[2], padding)
    v = input_transform(x, padding) if v is None else v
    z = _dout_transform(dout, th, tw)
    return np.matmul(v.transpose(0, 2, 1), z)  # 16 products (C × tiles)·(tiles × K)


def weight_grad_from_transformed(du: np.ndarray) -> np.ndarray:
    """dL/dg = Gᵀ dU G: du (16, C, K) -> dweight (K, 3, 3, C)."""
    g = G.astype(du.dtype)
    c, k = du.shape[1], du.shape[2]
    return np.einsum("ai,abck,bj->kijc", g, du.reshape(4, 4, c, k), g, optimize=True)


def multiplications(n: int, h2: int, w2: int, c: int, k: int) -> dict[str, int]:
    """Multiplications of one forward pass, im2col vs F(2×2, 3×3) (transforms are additions,
    the filter transform is made once per batch): output (N, H2, W2, K) from C channels."""
    th, tw = -(-h2 // 2), -(-w2 // 2)
    return {"im2col": n * h2 * w2 * 9 * c * k, "winograd": 16 * n * th * tw * c * k}
