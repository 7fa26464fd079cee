"""Batch normalization's per-channel sums and its x·scale + shift, on all cores.

Each works on the (M, C) view of an activation (one row per position, one column per
channel), chunk by chunk through `workers.for_each_chunk`.

Book: appendix, "Chunks and cores" (chapter 10's batch norm runs on them).
"""

from __future__ import annotations

import numpy as np

from .workers import batch_chunks, for_each_chunk


def _rows(x: np.ndarray) -> np.ndarray:
    """(..., C) -> the (M, C) view: one row per position, one column per channel."""
    return x.reshape(-1, x.shape[-1])


def channel_sum(x: np.ndarray) -> np.ndarray:
    """Σ of x over every axis but the last, on all cores: (..., C) -> (C,).

    Each chunk of rows is summed as a product with a vector of ones (BLAS does that
    several times faster than .sum(axis=0)), and the chunks' sums are added.
    """
    rows = _rows(x)

    def chunk_sum(chunk: slice) -> np.ndarray:
        return np.ones(chunk.stop - chunk.start, dtype=x.dtype) @ rows[chunk]

    return sum(for_each_chunk(chunk_sum, batch_chunks(len(rows), rows.shape[1] * x.itemsize)))


def channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ of a·b over every axis but the last, on all cores: (..., C), (..., C) -> (C,)."""
    ra, rb = _rows(a), _rows(b)

    def chunk_dot(chunk: slice) -> np.ndarray:
        return np.einsum("mc,mc->c", ra[chunk], rb[chunk])

    return sum(for_each_chunk(chunk_dot, batch_chunks(len(ra), 2 * ra.shape[1] * a.itemsize)))


def channel_affine(terms: list[tuple[np.ndarray, np.ndarray]], shift: np.ndarray) -> np.ndarray:
    """Σ x_i·a_i + shift per channel, in one pass over memory, on all cores.

    terms: pairs (x_i (..., C), a_i (C,)), all x_i of one shape; shift: (C,). Batch norm's
    forward (x·scale + shift) and backward (dy·k − x·a + b) are both of this form.
    """
    first = terms[0][0]
    out = np.empty(first.shape, dtype=np.result_type(first, *(a for _, a in terms), shift))
    rows = [(_rows(x), a) for x, a in terms]
    out_rows = _rows(out)

    def chunk_affine(chunk: slice) -> None:
        o = out_rows[chunk]
        np.multiply(rows[0][0][chunk], rows[0][1], out=o)
        for x, a in rows[1:]:
            o += x[chunk] * a  # a small temporary that stays in the cache
        o += shift

    per_row = (len(terms) + 1) * out_rows.shape[1] * out.itemsize
    for_each_chunk(chunk_affine, batch_chunks(len(out_rows), per_row))
    return out


