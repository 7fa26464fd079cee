"""Vectorized convolution, pooling and activations on channels-last arrays.

No Python loop runs over images or pixels: every step moves a whole batch, or a chunk
of it, in one NumPy call. The loops that remain run over the F×F offsets inside a
window (4 for a 2×2 pool) or over chunks of the batch.

Speed comes from three habits, measured in the book's appendix:
- the im2col matrix of a convolution is built and multiplied one cache-sized chunk of
  the batch at a time (`batch_chunks`), so it never travels to main memory and back;
- the chunks run on all CPU cores at once (`for_each_chunk`), so the copies that build
  the matrices are parallel too, not only the matrix products;
- nothing is stored for backward that is cheap to recompute: a convolution keeps its
  padded input, not its F·F times bigger im2col matrix.

Layouts: activations (N, H, W, C); conv weights (K, F, F, C); bias (K,).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .shapes import conv_output_size, pool_output_size

try:  # optional: lets the worker threads keep the BLAS library to one thread each
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover - without it, chunks run one after another
    ThreadpoolController = None

# Working-set size of one chunk of a batch (see `batch_chunks`): about one core's L2
# cache, so the im2col copy of a chunk is still cached when the product reads it.
CHUNK_BYTES = 2**21


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


# --------------------------------------------------------------------------- windows


def window_view(x: np.ndarray, f: int, s: int) -> np.ndarray:
    """Every F×F window of x at stride S, as a read-only strided view: nothing is copied.

    x: (N, H, W, C) -> (N, H2, W2, F, F, C) with H2 = (H - F)/S + 1. Element
    [n, r, q, i, j, ch] is x[n, r·S + i, q·S + j, ch], so neighbouring windows share memory.
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

    x: (N, H, W, C) -> (N, H2, W2, F, F, C) with H2 = (H - F)/S + 1.
    The result is contiguous, so (F, F, C) flattens to one row of an im2col matrix.
    A single copy of `window_view` moves one window row (F·C neighbouring numbers) at a
    time: several times faster than F·F slab copies of C numbers each when C is small.
    """
    return np.ascontiguousarray(window_view(x, f, s))


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


# --------------------------------------------------------------------------- chunks and cores


def batch_chunks(n: int, bytes_per_image: int) -> list[slice]:
    """Split a batch of n images into slices whose working set is about CHUNK_BYTES.

    The im2col matrix of a whole batch is many times the size of the CPU's caches: built
    at once, it is written to main memory and read back by the matrix product. Chunk by
    chunk, it is still in the cache when the product reads it. There are at least as
    many chunks as worker threads (when there are that many images), so none sits idle.
    """
    step = max(1, min(CHUNK_BYTES // max(bytes_per_image, 1), -(-n // _worker_count())))
    return [slice(lo, min(lo + step, n)) for lo in range(0, n, step)]


def for_each_chunk(fn: Callable[[slice], object], chunks: list[slice]) -> list:
    """[fn(chunk) for chunk in chunks], spread over the CPU's cores; results in order.

    NumPy releases Python's global lock inside its copies, ufuncs and matrix products,
    so threads really run in parallel. Each worker gets a core to itself, so NumPy's
    BLAS is kept to one thread per product (through threadpoolctl): one chunk per core
    beats two cores sharing every small product. The setting stays until cnnlib runs
    single-threaded again (CNNLIB_NUM_THREADS=1): switching OpenBLAS back and forth
    wakes its idle threads, which then spin and take a core from the next layer.
    Without threadpoolctl, chunks run one after another.
    """
    workers = _worker_count()
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


# cnnlib's only global state: its worker threads (made on first use) and the BLAS
# thread counts it found, to give them back when it stops using its workers.
_lock = threading.Lock()
_worker_flag = threading.local()
_state: dict = {"blas": None, "blas_threads": [], "one_thread": False, "pool": None, "workers": 0}


def _blas_libraries() -> list:
    """NumPy's BLAS libraries as threadpoolctl controllers (looked up once)."""
    with _lock:
        if _state["blas"] is None:
            found = ThreadpoolController().select(user_api="blas") if ThreadpoolController else None
            _state["blas"] = list(found.lib_controllers) if found else []
            _state["blas_threads"] = [lib.num_threads for lib in _state["blas"]]
        return _state["blas"]


def _worker_count() -> int:
    """CNNLIB_NUM_THREADS if set, else as many as NumPy's BLAS threads at start (so
    OPENBLAS_NUM_THREADS=1 means one); 1 when the BLAS threads cannot be controlled."""
    if not _blas_libraries():
        return 1
    override = os.environ.get("CNNLIB_NUM_THREADS")
    if override:
        if not override.isdigit() or int(override) < 1:
            raise ValueError(f"CNNLIB_NUM_THREADS = {override!r} must be a positive integer")
        return int(override)
    return max(_state["blas_threads"])


def _blas_single_threaded(one: bool) -> None:
    with _lock:
        if _state["one_thread"] != one:
            for lib, n in zip(_state["blas"], _state["blas_threads"], strict=True):
                lib.set_num_threads(1 if one else n)
            _state["one_thread"] = one


def _worker_pool(workers: int) -> ThreadPoolExecutor:
    with _lock:
        if _state["pool"] is None or _state["workers"] != workers:
            if _state["pool"] is not None:
                _state["pool"].shutdown(wait=False)
            _state["pool"] = ThreadPoolExecutor(
                workers, "cnnlib", initializer=setattr, initargs=(_worker_flag, "set", True))
            _state["workers"] = workers
        return _state["pool"]


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
    """Convolution as matrix products (im2col), returning the output and a cache.

    x: (N, H, W, C), weight: (K, F, F, C), bias: (K,) -> y: (N, H2, W2, K) with
    H2 = (H - F + 2P)/S + 1. The cache holds what `conv2d_backward` needs: the input
    itself (a reference, not a copy), not its im2col matrix, which is F·F times bigger
    and quick to rebuild.
    """
    _check_conv_args(x, weight, bias)
    n, h, w, c = x.shape
    k, f = weight.shape[0], weight.shape[1]
    h2 = conv_output_size(h, f, stride, padding)
    w2 = conv_output_size(w, f, stride, padding)
    wmat = weight.reshape(k, f * f * c).T  # (F·F·C, K): one column per filter
    y = np.empty((n, h2, w2, k), dtype=np.result_type(x, weight))

    def forward_chunk(chunk: slice) -> None:
        # Padding and im2col of a few images: small copies that stay in the cache.
        cols = extract_windows(pad_hw(x[chunk], padding), f, stride).reshape(-1, f * f * c)
        y_chunk = y[chunk].reshape(-1, k)  # one row per output pixel
        np.matmul(cols, wmat, out=y_chunk)
        if bias is not None:
            y_chunk += bias

    for_each_chunk(forward_chunk, batch_chunks(n, h2 * w2 * f * f * c * x.itemsize))
    return y, (x, weight, stride, padding)


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a convolution: dout (N, H2, W2, K) -> (dx, dweight, dbias).

    dweight = colsᵀ·dout (every window weighted by the output gradient it produced) and
    dbias = sum of dout, chunk by chunk. dx = dout·W scattered back onto the windows
    (col2im); for stride 1 that is itself a convolution (see `conv2d_input_grad`).
    """
    x, weight, stride, padding = cache
    n, c = x.shape[0], x.shape[3]
    k, f = weight.shape[0], weight.shape[1]
    h2, w2 = dout.shape[1], dout.shape[2]

    def param_grads(chunk: slice) -> tuple[np.ndarray, np.ndarray]:
        cols = extract_windows(pad_hw(x[chunk], padding), f, stride).reshape(-1, f * f * c)
        dout_chunk = dout[chunk].reshape(-1, k)
        # Column sums as a product with ones: BLAS does them ~5× faster than sum(axis=0).
        ones = np.ones(len(dout_chunk), dtype=dout_chunk.dtype)
        return dout_chunk.T @ cols, ones @ dout_chunk

    grads = for_each_chunk(param_grads, batch_chunks(n, h2 * w2 * f * f * c * x.itemsize))
    dweight = sum(dw for dw, _ in grads).reshape(weight.shape)
    dbias = sum(db for _, db in grads)
    dx = conv2d_input_grad(dout, weight, x.shape, stride, padding)
    return dx, dweight, dbias


def conv2d_input_grad(dout: np.ndarray, weight: np.ndarray, x_shape: tuple[int, ...],
                      stride: int, padding: int) -> np.ndarray:
    """dx (N, H, W, C) = x_shape of a convolution, from its output gradient dout.

    Input pixel (r, c) met filter tap (i, j) in output (r - i, c - j), so for stride 1
    dx is a convolution of dout, zero-padded by F-1-P, with each filter flipped
    (tap (i, j) -> (F-1-i, F-1-j)) and input and output channels swapped: the fast
    forward code serves the backward pass too. Otherwise (other strides, or so few
    input channels that the flipped filters would make a very thin matrix product, as
    for RGB images) col2im runs one filter tap at a time: dout times that tap's weights
    is the gradient of a whole strided slab of the input, added in place.
    """
    n, h, w, c = x_shape
    k, f = weight.shape[0], weight.shape[1]
    if stride == 1 and padding <= f - 1 and f * f * c >= k:
        flipped = weight[:, ::-1, ::-1, :].transpose(3, 1, 2, 0)  # (C, F, F, K)
        return conv2d_forward(dout, flipped, None, 1, f - 1 - padding)[0]
    h2, w2 = dout.shape[1], dout.shape[2]
    dx = np.empty(x_shape, dtype=np.result_type(dout, weight))

    def col2im_chunk(chunk: slice) -> None:
        dout_chunk = dout[chunk].reshape(-1, k)
        m = dout[chunk].shape[0]
        dxp = np.zeros((m, h + 2 * padding, w + 2 * padding, c), dtype=dx.dtype)
        for i in range(f):
            for j in range(f):
                tap = (dout_chunk @ weight[:, i, j, :]).reshape(m, h2, w2, c)
                dxp[:, i : i + stride * h2 : stride, j : j + stride * w2 : stride, :] += tap
        dx[chunk] = dxp[:, padding : padding + h, padding : padding + w, :]

    # Each tap reads the chunk of dout again: keep it small enough to stay in the cache.
    per_image = f * (h2 * w2 * k + (h + 2 * padding) * (w + 2 * padding) * c) * dx.itemsize
    for_each_chunk(col2im_chunk, batch_chunks(n, per_image))
    return dx


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


def _window_offsets(x_shape: tuple[int, ...], f: int, s: int):
    """(k, slab) for each offset (i, j) of an F×F window, in reading order.

    slab indexes, for every window at once, its entry at offset (i, j): x[slab] is
    (N, H2, W2, C), one strided slice of the batch.
    """
    _, h, w, _ = x_shape
    h2, w2 = pool_output_size(h, f, s), pool_output_size(w, f, s)
    for k, (i, j) in enumerate((i, j) for i in range(f) for j in range(f)):
        yield k, (slice(None), slice(i, i + s * h2, s), slice(j, j + s * w2, s), slice(None))


def max_pool2d_forward(x: np.ndarray, f: int = 2, s: int = 2) -> tuple[np.ndarray, tuple]:
    """Max pooling: x (N, H, W, C) -> y (N, (H-F)/S+1, (W-F)/S+1, C) and a cache.

    The depth is unchanged: each channel is pooled on its own. Instead of gathering the
    windows, it walks the F·F offsets of a window (4 for 2×2), comparing one strided
    slab of the batch at a time, and remembers which offset won (`argmax`, as uint8).
    """
    _check_nhwc(x, "x")
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
