"""The engine: the textbook convolution of `cnnlib.functional`, run fast on big batches.

It changes how the work is scheduled, never what is computed. Three habits, measured in
the book's appendix:
- the batch is cut into chunks whose im2col matrix fits in a core's cache
  (`batch_chunks`), so that matrix never travels to main memory and back;
- the chunks run on all CPU cores at once (`for_each_chunk`), so the copies that build
  the matrices are parallel too, not only the matrix products;
- for stride 1, the input gradient is computed as a convolution with flipped filters
  (`functional.conv2d_input_grad_flipped`), which reuses the fast forward path.

One path computes the same function with less arithmetic where that pays: when cnnlib
computes on one core (or CNNLIB_WINOGRAD=1 asks), 3×3 stride-1 convolutions with
enough channels (`uses_winograd`) run Winograd's F(2×2, 3×3) (`cnnlib.winograd`), 2.25×
fewer multiplications, forward, input gradient and weight gradient alike; the tests hold
it equal to the textbook im2col functions, which run everywhere else.

Batch normalization's per-channel sums and its x·scale + shift run the same way
(`channel_sum`, `channel_dot`, `channel_affine`). Every conv chunk is handed to the
same functions the chapters show (`conv2d_forward`,
`conv2d_weight_grads`, `conv2d_input_grad`), and the tests hold the engine's results
equal to theirs on whole batches.

Global state: cnnlib's worker threads (made on first use) and the thread counts of
NumPy's BLAS library, which the engine sets to one per worker while it uses them.
Book: appendix, "Chunks and cores".
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import numpy as np
from threadpoolctl import ThreadpoolController

from . import functional as F
from . import winograd as W
from .shapes import conv_output_size

# Working-set size of one chunk of a batch (see `batch_chunks`): small enough that the
# im2col copy of a chunk is still in the cache (a core's L2, 1 MB on the book's machine,
# or the shared L3) when the product reads it, large enough that Python's cost per chunk
# stays small. Measured on the reference network's layers from 1 to 16 MB: 2-4 MB best.
CHUNK_BYTES = 2**21

# Winograd's F(2×2, 3×3) runs where it was measured to pay: when cnnlib computes on one
# core. There it beat im2col on the 3×3 layers of the reference network (most on the
# deepest) and brought a one-thread training step to about PyTorch's CPU time
# (benchmarks/results/winograd_threads.md, benchmark.md). With two threads it lost:
# im2col's products split over the cores, while Winograd's tile transforms are passes
# over memory, and two cores read memory only about 1.2× as fast as one
# (benchmarks/results/limits.md); a whole epoch was slower with it
# (benchmarks/results/epoch.md). CNNLIB_WINOGRAD=1 or =0 (or setting WINOGRAD) overrides
# the choice: where it pays is a property of the machine, so measure on yours.
def winograd_requested() -> bool | None:
    """What the environment asks for: CNNLIB_WINOGRAD=1 on, =0 off; unset or empty: None,
    the engine's choice (on when cnnlib computes on one core, see `winograd_on`)."""
    value = os.environ.get("CNNLIB_WINOGRAD", "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(f"CNNLIB_WINOGRAD = {value!r} must be 1 (on), 0 (off) or unset "
                         "(on when cnnlib computes on one core)")
    return None if value == "" else value == "1"


WINOGRAD: bool | None = winograd_requested()
# When on, it runs the 3×3 stride-1 convolutions whose input and output both have at
# least this many channels. Thinner ones (the RGB input layer) keep im2col: each of their
# 16 products would be (tiles × 3)·(3 × K), far too thin for BLAS to run fast (not timed).
WINOGRAD_MIN_CHANNELS = 32


# --------------------------------------------------------------------------- the drivers


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
    """WINOGRAD if it was set (True/False); otherwise True exactly when cnnlib computes on
    one core, where Winograd was measured to pay: one worker thread, and NumPy's BLAS
    started with one thread (OPENBLAS_NUM_THREADS=1, or a one-core machine)."""
    if WINOGRAD is not None:
        return WINOGRAD
    return worker_count() == 1 and max(_blas_thread_counts(), default=1) == 1


def _blas_thread_counts() -> list[int]:
    """The thread counts NumPy's BLAS libraries had when the engine first looked."""
    _blas_libraries()
    return _state["blas_threads"]


def uses_winograd(weight_shape: tuple[int, ...], stride: int) -> bool:
    """True where the engine runs `cnnlib.winograd` instead of im2col: when `winograd_on()`,
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


# --------------------------------------------------------------------------- per-channel sums


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


# --------------------------------------------------------------------------- chunks and cores


def batch_chunks(n: int, bytes_per_image: int) -> list[slice]:
    """Split a batch of n images into slices whose working set is about CHUNK_BYTES.

    The im2col matrix of a whole batch is many times the size of the CPU's caches: built
    at once, it is written to main memory and read back by the matrix product. Chunk by
    chunk, it is still in the cache when the product reads it. There are at least as
    many chunks as worker threads (when there are that many images), so none sits idle.
    """
    step = max(1, min(CHUNK_BYTES // max(bytes_per_image, 1), -(-n // worker_count())))
    return [slice(lo, min(lo + step, n)) for lo in range(0, n, step)]


def for_each_chunk(fn: Callable[[slice], object], chunks: list[slice]) -> list:
    """[fn(chunk) for chunk in chunks], spread over the CPU's cores; results in order.

    NumPy releases Python's global lock inside its copies, ufuncs and matrix products,
    so threads really run in parallel. Each worker gets a core to itself, so NumPy's
    BLAS is kept to one thread per product (through threadpoolctl): one chunk per core
    beats two cores sharing every small product. The setting stays until cnnlib runs
    single-threaded again (CNNLIB_NUM_THREADS=1): switching OpenBLAS back and forth
    wakes its idle threads, which then spin and take a core from the next layer.
    """
    workers = worker_count()
    _blas_single_threaded(workers > 1)
    if workers < 2 or len(chunks) < 2 or getattr(_worker_flag, "set", False):
        return [fn(chunk) for chunk in chunks]  # nested calls run inside their worker
    # np.errstate is per thread: run each chunk under the caller's floating-point error
    # settings, so a caller that silences overflow (a diverging run) silences it here too.
    errors = np.geterr()

    def fn_with_callers_errstate(chunk: slice) -> object:
        with np.errstate(**errors):
            return fn(chunk)

    return list(_worker_pool(workers).map(fn_with_callers_errstate, chunks))


def worker_count() -> int:
    """CNNLIB_NUM_THREADS if set, else as many as NumPy's BLAS threads at start (so
    OPENBLAS_NUM_THREADS=1 means one); 1 when NumPy's BLAS cannot be controlled."""
    if not _blas_libraries():
        return 1
    override = os.environ.get("CNNLIB_NUM_THREADS")
    if override:
        if not override.isdigit() or int(override) < 1:
            raise ValueError(f"CNNLIB_NUM_THREADS = {override!r} must be a positive integer")
        return int(override)
    return max(_state["blas_threads"])


# The engine's global state: its worker threads (made on first use) and the BLAS
# thread counts it found, to give them back when it stops using its workers.
_lock = threading.Lock()
_worker_flag = threading.local()
_state: dict = {"blas": None, "blas_threads": [], "one_thread": False, "pool": None, "workers": 0}


def _blas_libraries() -> list:
    """NumPy's BLAS libraries as threadpoolctl controllers (looked up once)."""
    with _lock:
        if _state["blas"] is None:
            found = ThreadpoolController().select(user_api="blas")
            _state["blas"] = list(found.lib_controllers)
            _state["blas_threads"] = [lib.num_threads for lib in _state["blas"]]
        return _state["blas"]


def _blas_single_threaded(one: bool) -> None:
    with _lock:
        if _state["one_thread"] != one:
            for lib, n in zip(_state["blas"], _state["blas_threads"], strict=True):
                lib.set_num_threads(1 if one else n)
            _state["one_thread"] = one


def _worker_pool(workers: int):
    from concurrent.futures import ThreadPoolExecutor

    with _lock:
        if _state["pool"] is None or _state["workers"] != workers:
            if _state["pool"] is not None:
                _state["pool"].shutdown(wait=False)
            _state["pool"] = ThreadPoolExecutor(
                workers, "cnnlib", initializer=setattr, initargs=(_worker_flag, "set", True))
            _state["workers"] = workers
        return _state["pool"]
