"""The machine's matrix-product peak, and what OPENBLAS_CORETYPE does to it.

`peak`: float32 `a @ b` through NumPy on the shapes cnnlib's convolutions multiply
(the im2col product of each layer of the reference network, whole batch) and on a
large square-ish product; the best of these is the peak that the convolutions'
GFLOP/s are compared with.

`coretypes`: the same products and a cnnlib training step in child processes
(children/blas_child.py) with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE set to a few values.
Some machines of this kind set those variables for old OpenBLAS builds; this shows what
they cost a current one. The benchmarks never change them in the parent process.

Run alone: python benchmarks/bench_blas.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from harness import (
    BATCH,
    CONV_LAYERS,
    DTYPE,
    THREADS,
    cell,
    child_result,
    current_load,
    load_line,
    progress,
    set_threads,
    table,
    time_interleaved,
)

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE settings to try ("" = unset).
CORETYPES = [("", ""), ("Haswell", ""), ("Haswell", "524288"), ("SkylakeX", ""), ("Zen", "")]


def gemm_shapes() -> list[tuple[str, int, int, int]]:
    """(label, M, K, N) of a @ b with a (M, K), b (K, N)."""
    shapes = [(f"im2col {h}×{h}×{c}→{k}", BATCH * h * h, 9 * c, k) for h, c, k in CONV_LAYERS]
    return shapes + [("large 4096×1024 @ 1024×1024", 4096, 1024, 1024)]


def gflops(m: int, k: int, n: int, repeats: int = 7, clock=time.perf_counter) -> float:
    """GFLOP/s of a (M, K) @ (K, N) float32 product, median of repeats after one warm-up.

    With clock=time.process_time (and one BLAS thread) the time is CPU time: what the
    product costs, whatever else the machine is doing.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(DTYPE)
    b = rng.standard_normal((k, n)).astype(DTYPE)
    out = np.empty((m, n), DTYPE)
    times = time_interleaved({"a @ b": (None, lambda: np.matmul(a, b, out=out))}, repeats,
                             warmup=1, clock=clock)["a @ b"]
    return 2.0 * m * k * n / statistics.median(times) / 1e9


def peak(repeats: int = 7) -> dict[str, float]:
    """{shape label: GFLOP/s} (median of repeats) with THREADS BLAS threads.

    The BLAS thread count is set here, not inherited: cnnlib's engine keeps BLAS at one
    thread per worker after it has run, and a "peak" measured with one thread would
    make every convolution look faster than the product it is built on.
    """
    from threadpoolctl import threadpool_limits
    with threadpool_limits(THREADS, user_api="blas"):
        return {label: gflops(m, k, n, repeats) for label, m, k, n in gemm_shapes()}


def coretypes(settings: list[tuple[str, str]] = CORETYPES) -> list[dict]:
    """One child process per (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) setting."""
    rows = []
    for coretype, l2 in settings:
        progress(f"  OPENBLAS_CORETYPE={coretype or 'unset'} OPENBLAS_L2_SIZE={l2 or 'unset'}")
        row = child_result("blas_child.py", env={"OPENBLAS_CORETYPE": coretype or None,
                                                 "OPENBLAS_L2_SIZE": l2 or None})
        rows.append({"OPENBLAS_CORETYPE": coretype or "unset",
                     "OPENBLAS_L2_SIZE": l2 or "unset", **row})
    return rows


def peak_table(peaks: dict[str, float]) -> str:
    return table(["a @ b, float32", "GFLOP/s"], [[k, cell(v, 0)] for k, v in peaks.items()])


def coretype_table(rows: list[dict]) -> str:
    """Markdown: `coretypes`' rows, one column per measurement of the child."""
    keys = [k for k in rows[0] if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")]
    return table(["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", *keys],
                 [[r["OPENBLAS_CORETYPE"], r["OPENBLAS_L2_SIZE"],
                   *(r[k] if k == "kernel" else cell(r[k]) for k in keys)] for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="2 repeats, and only the unset OPENBLAS_CORETYPE")
    args = parser.parse_args()
    set_threads()
    start = current_load()
    peaks = peak(repeats=2 if args.quick else 7)
    cores = coretypes(CORETYPES[:1] if args.quick else CORETYPES)
    print("\n\n".join([
        f"# Matrix products, float32, {THREADS} threads", load_line(start), peak_table(peaks),
        "Each OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in a child process (1-thread columns: "
        "CPU time; the others: wall clock, 2 threads):", coretype_table(cores)]))


if __name__ == "__main__":
    main()
