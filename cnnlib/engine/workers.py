"""Chunks and cores: how the engine spreads one batch over every CPU core.

A batch is cut into chunks whose working set fits in a core's cache (`batch_chunks`),
and the chunks run on worker threads, one per core, with NumPy's BLAS held to one
thread each (`for_each_chunk`). This module holds the engine's only global state: the
worker threads (made on first use) and the BLAS thread counts found at start.

Book: appendix, "Chunks and cores".
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import numpy as np
from threadpoolctl import ThreadpoolController

# Working-set size of one chunk of a batch (see `batch_chunks`): small enough that the
# im2col copy of a chunk is still in the cache (a core's L2, 1 MB on the book's machine,
# or the shared L3) when the product reads it, large enough that Python's cost per chunk
# stays small. Measured on the reference network's layers from 1 to 16 MB: 2-4 MB best.
CHUNK_BYTES = 2**21


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
    blas_single_threaded(workers > 1)
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


def blas_single_threaded(one: bool) -> None:
    """One BLAS thread (while cnnlib's workers use the cores) or BLAS's own count."""
    libraries = _blas_libraries()  # looked up on first use, so callers need no set-up
    with _lock:
        if _state["one_thread"] != one:
            for lib, n in zip(libraries, _state["blas_threads"], strict=True):
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


def blas_thread_counts() -> list[int]:
    """The thread counts NumPy's BLAS libraries had when the engine first looked."""
    _blas_libraries()
    return list(_state["blas_threads"])
