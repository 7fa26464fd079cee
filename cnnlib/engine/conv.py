"""The convolution drivers: the textbook convolution of `cnnlib.core.functional`, fast.

They change how the work is scheduled, never what is computed:
- the batch is cut into chunks whose im2col matrix fits in a core's cache and the chunks
  run on all cores (`workers`);
- for stride 1, the input gradient is computed as a convolution with flipped filters
  (`functional.conv2d_input_grad_flipped`), which reuses the fast forward path;
- where it was measured to pay (on one core, or when asked), 3×3 stride-1 convolutions
  with enough channels run Winograd's F(2×2, 3×3) (`winograd`), 2.25× fewer
  multiplications; the tests hold it equal to the textbook im2col functions.

Every chunk is handed to the functions the chapters show (`conv2d_forward`,
`conv2d_weight_grads`, `conv2d_input_grad`), and the tests hold the drivers' results
equal to theirs on whole batches.

Book: appendix, "Chunks and cores" and "Winograd".
"""

from __future__ import annotations

import os

import numpy as np

from ..core import functional as F
from ..core.shapes import conv_output_size
from . import winograd as W
from .workers import batch_chunks, blas_thread_counts, for_each_chunk, worker_count


# Winograd's F(2×2, 3×3) runs where it was measured to pay: when cnnlib computes on one
# core. There it beat im2col on the 3×3 layers of the reference network (most on the
# deepest) and brought a one-thread training step to about PyTorch's CPU time
# (benchmarks/results/winograd_threads.md, benchmark.md). With two threads it lost:
# im2col's products split over the cores, while Winograd's tile transforms are passes
# over memory, and two cores read memory only about 1.2× as fast as one
# (benchmarks/results/limits.md); a whole epoch was slower with it
# (benchmarks/results/epoch.md). CNNLIB_WINOGRAD=1 or =0 (or `set_winograd`) overrides
# the choice: where it pays is a property of the machine, so measure on yours.
def winograd_requested() -> bool | None:
    """What the environment asks for: CNNLIB_WINOGRAD=1 on, =0 off; unset or empty: None,
    the engine's choice (on when cnnlib computes on one core, see `winograd_on`)."""
    value = os.environ.get("CNNLIB_WINOGRAD", "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(f"CNNLIB_WINOGRAD = {value!r} must be 1 (on), 0 (off) or unset "
                         "(on when cnnlib computes on one core)")
    return None if value == "" else value == "1"


# The Winograd setting in force: True, False or None (the engine's choice). It starts as
# the environment asks; `set_winograd` changes it.
_winograd: dict[str, bool | None] = {"on": winograd_requested()}

# When on, it runs the 3×3 stride-1 convolutions whose input and output both have at
# least this many channels. Thinner ones (the RGB input layer) keep im2col: each of their
# 16 products would be (tiles × 3)·(3 × K), far too thin for BLAS to run fast (not timed).
WINOGRAD_MIN_CHANNELS = 32


def set_winograd(on: bool | None) -> bool | None:
    """Turn Winograd on (True), off (False) or back to the engine's choice (None).

    Returns the setting it replaced, so a caller can put it back."""
    if on is not None and not isinstance(on, bool):
        raise ValueError(f"on = {on!r} must be True, False or None (the engine's choice)")
    previous = _winograd["on"]
    _winograd["on"] = on
    return previous


def winograd_setting() -> bool | None:
    """The setting `set_winograd` (or CNNLIB_WINOGRAD) chose: True, False or None."""
    return _winograd["on"]


def conv2d_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
    padding: int = 0, *, keep_tiles: bool = False,
) -> tuple[np.ndarray, tuple]:
    """`functional.conv2d_forward`, chunk by chunk on all cores: same arguments, same result.

    keep_tiles: where Winograd runs, keep the input's transformed tiles in the cache, so
    the weight gradient need not transform the input again (memory for time: the tiles
    are 4× the size of the input). The cache is then (x, weight, stride, padding, tiles).
    """
    F.check_conv_args(x, weight, bias)
    n, h, w, c = x.shape
    k, f = weight.shape[0], weight.shape[1]
    h2, w2 = conv_output_size(h, f, stride, padding), conv_output_size(w, f, stride, padding)
    y = np.empty((n, h2, w2, k), dtype=np.result_type(x, weight))
    if uses_winograd(weight.shape, stride):
        tiles = _winograd_forward(x, weight, bias, padding, y, keep_tiles)
        return y, (x, weight, stride, padding) + ((tiles,) if keep_tiles else ())

    def forward_chunk(chunk: slice) -> None:
        F.conv2d_forward(x[chunk], weight, bias, stride, padding, out=y[chunk])

    for_each_chunk(forward_chunk, batch_chunks(n, h2 * w2 * f * f * c * x.itemsize))
    return y, (x, weight, stride, padding)


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`functional.conv2d_backward`, chunk by chunk on all cores: (dx, dweight, dbias)."""
    x, weight, stride, padding = cache[:4]
    dweight, dbias = conv2d_weight_grads(dout, cache)
    return conv2d_input_grad(dout, weight, x.shape, stride, padding), dweight, dbias


def conv2d_weight_grads(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray]:
    """`functional.conv2d_weight_grads` chunk by chunk: each chunk's share, then their sum."""
    x, weight, stride, padding, *kept = cache
    if uses_winograd(weight.shape, stride):
        return _winograd_weight_grads(dout, x, padding, kept[0] if kept else None)
    n, c, f = x.shape[0], x.shape[3], weight.shape[1]
    h2, w2 = dout.shape[1], dout.shape[2]

    def weight_grads(chunk: slice) -> tuple[np.ndarray, np.ndarray]:
        return F.conv2d_weight_grads(dout[chunk], (x[chunk], weight, stride, padding))

    grads = for_each_chunk(weight_grads, batch_chunks(n, h2 * w2 * f * f * c * x.itemsize))
    return sum(dw for dw, _ in grads), sum(db for _, db in grads)


def conv2d_input_grad(dout: np.ndarray, weight: np.ndarray, x_shape: tuple[int, ...],
                      stride: int, padding: int) -> np.ndarray:
    """`functional.conv2d_input_grad`, fast: dout (N, H2, W2, K) -> dx (N, H, W, C).

    Stride 1: the flipped-filter convolution, through the fast forward path. It is
    skipped when the input is so thin (F·F·C < K, e.g. RGB images) that its matrix
    product would be a narrow one; then, and for other strides, col2im runs per chunk.
    """
    n, h, w, c = x_shape
    k, f = weight.shape[0], weight.shape[1]
    if stride == 1 and padding <= f - 1 and f * f * c >= k:
        return conv2d_forward(dout, F.flip_filters(weight), None, 1, f - 1 - padding)[0]
    h2, w2 = dout.shape[1], dout.shape[2]
    dx = np.empty(x_shape, dtype=np.result_type(dout, weight))

    def input_grad_chunk(chunk: slice) -> None:
        m = dout[chunk].shape[0]
        dx[chunk] = F.conv2d_input_grad(dout[chunk], weight, (m, h, w, c), stride, padding)

    # Each tap reads the chunk of dout again: keep it small enough to stay in the cache.
    per_image = f * (h2 * w2 * k + (h + 2 * padding) * (w + 2 * padding) * c) * dx.itemsize
    for_each_chunk(input_grad_chunk, batch_chunks(n, per_image))
    return dx




# --------------------------------------------------------------------------- Winograd


def winograd_on() -> bool:
    """The `set_winograd` setting if there is one; otherwise True exactly when cnnlib computes on
    one core, where Winograd was measured to pay: one worker thread, and NumPy's BLAS
    started with one thread (OPENBLAS_NUM_THREADS=1, or a one-core machine)."""
    if _winograd["on"] is not None:
        return _winograd["on"]
    return worker_count() == 1 and max(blas_thread_counts(), default=1) == 1


def uses_winograd(weight_shape: tuple[int, ...], stride: int) -> bool:
    """True where the engine runs `cnnlib.engine.winograd` instead of im2col: when `winograd_on()`,
    3×3 filters at stride 1 with K and C both at least WINOGRAD_MIN_CHANNELS
    (weight_shape: (K, 3, 3, C))."""
    return (W.applies(weight_shape, stride)
            and min(weight_shape[0], weight_shape[3]) >= WINOGRAD_MIN_CHANNELS
            and winograd_on())


def _winograd_bytes_per_image(x_shape: tuple[int, ...], k: int, padding: int,
                              itemsize: int) -> int:
    """Working set of one image: its transformed tiles V and their products M."""
    th, tw = W.tile_counts(x_shape[1], x_shape[2], padding)
    return 16 * th * tw * (x_shape[3] + k) * itemsize


def _winograd_chunks(x: np.ndarray, k: int, padding: int) -> list[slice]:
    """The chunks of the batch that the Winograd forward pass and weight gradient share."""
    return batch_chunks(len(x), _winograd_bytes_per_image(x.shape, k, padding, x.itemsize))


def _winograd_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                      padding: int, y: np.ndarray, keep_tiles: bool) -> list | None:
    """`winograd.conv3x3_forward` chunk by chunk on all cores, into y (N, H2, W2, K).

    Returns [(chunk, its transformed input tiles)] if keep_tiles, else None."""
    u = W.filter_transform(weight)  # once per batch, shared by every chunk

    def forward_chunk(chunk: slice) -> np.ndarray | None:
        v = W.input_transform(x[chunk], padding)
        W.conv3x3_forward(x[chunk], weight, bias, padding, y[chunk], u, v)
        return v if keep_tiles else None

    chunks = _winograd_chunks(x, weight.shape[0], padding)
    tiles = for_each_chunk(forward_chunk, chunks)
    return list(zip(chunks, tiles, strict=True)) if keep_tiles else None


def _winograd_weight_grads(dout: np.ndarray, x: np.ndarray, padding: int,
                           tiles: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(dweight (K, 3, 3, C), dbias (K,)): the chunks' transformed sums, added, then
    turned back into a filter gradient once. tiles: [(chunk, transformed input)] kept by
    the forward pass; a chunk it did not cut the same way is transformed again."""
    k = dout.shape[3]
    chunks = _winograd_chunks(x, k, padding)
    kept = {(c.start, c.stop): v for c, v in tiles or []}

    def chunk_grads(chunk: slice) -> tuple[np.ndarray, np.ndarray]:
        rows = dout[chunk].reshape(-1, k)
        return (W.conv3x3_weight_grad_transformed(x[chunk], dout[chunk], padding,
                                                  kept.get((chunk.start, chunk.stop))),
                np.ones(len(rows), dtype=dout.dtype) @ rows)

    grads = for_each_chunk(chunk_grads, chunks)
    return W.weight_grad_from_transformed(sum(du for du, _ in grads)), sum(db for _, db in grads)


