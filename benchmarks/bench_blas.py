"""The machine's matrix-product peak, and what OPENBLAS_CORETYPE does to it.

`peak`: float32 `a @ b` through NumPy on the shapes cnnlib's convolutions multiply
(the im2col product of each layer of the reference network, whole batch) and on a
large square-ish product; the best of these is the peak that the convolutions'
GFLOP/s are compared with.

`coretypes`: the same products and a cnnlib training step in child processes with
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE set to a few values. Some machines of this kind
set those variables for old OpenBLAS builds; this shows what they cost a current one.
The benchmarks never change them in the parent process.

Run alone: python benchmarks/bench_blas.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import BATCH, CONV_LAYERS, DTYPE, THREADS, set_threads

HERE = Path(__file__).resolve().parent

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE settings to try ("" = unset).
CORETYPES = [("", ""), ("Haswell", ""), ("Haswell", "524288"), ("SkylakeX", ""), ("Zen", "")]


def gemm_shapes() -> list[tuple[str, int, int, int]]:
    """(label, M, K, N) of a @ b with a (M, K), b (K, N)."""
    shapes = [(f"im2col {h}×{h}×{c}→{k}", BATCH * h * h, 9 * c, k) for h, c, k in CONV_LAYERS]
    return shapes + [("large 4096×1024 @ 1024×1024", 4096, 1024, 1024)]


def gflops(m: int, k: int, n: int, repeats: int = 7, clock=time.perf_counter) -> float:
    """GFLOP/s of a (M, K) @ (K, N) float32 product, median of repeats.

    With clock=time.process_time (and one BLAS thread) the time is CPU time: what the
    product costs, whatever else the machine is doing.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(DTYPE)
    b = rng.standard_normal((k, n)).astype(DTYPE)
    out = np.empty((m, n), DTYPE)
    np.matmul(a, b, out=out)
    times = []
    for _ in range(repeats):
        start = clock()
        np.matmul(a, b, out=out)
        times.append(clock() - start)
    return 2.0 * m * k * n / sorted(times)[len(times) // 2] / 1e9


def peak(repeats: int = 7) -> dict[str, float]:
    """{shape label: GFLOP/s} (median of repeats) with THREADS BLAS threads.

    The BLAS thread count is set here, not inherited: cnnlib's engine keeps BLAS at one
    thread per worker after it has run, and a "peak" measured with one thread would
    make every convolution look faster than the product it is built on.
    """
    from threadpoolctl import threadpool_limits
    with threadpool_limits(THREADS, user_api="blas"):
        return {label: gflops(m, k, n, repeats) for label, m, k, n in gemm_shapes()}


def child_measure() -> dict:
    """In a child process: the BLAS kernel, matmul GFLOP/s and a cnnlib step's median ms."""
    from bench_step import batch
    from common import median_ms, time_interleaved
    from contenders import cnnlib_network, cnnlib_training_step
    from threadpoolctl import threadpool_info
    set_threads()
    kernel = ", ".join(str(i.get("architecture")) for i in threadpool_info()
                       if i["user_api"] == "blas")
    result = {"kernel": kernel, "large product GFLOP/s, 2 threads": gflops(4096, 1024, 1024)}
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1, user_api="blas"):
        result["large product GFLOP/s, 1 thread, CPU time"] = gflops(4096, 1024, 1024, 5,
                                                              time.process_time)
        result["im2col 2048×288 @ 288×32 GFLOP/s, 1 thread, CPU time"] = gflops(
            2048, 288, 32, 25, time.process_time)
    images, labels = batch()
    step = cnnlib_training_step(cnnlib_network(0))
    times = time_interleaved({"step": (None, lambda: step(images, labels))}, repeats=7)
    result["cnnlib step ms"] = median_ms(times["step"])
    return result


def coretypes() -> list[dict]:
    """One child process per (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) setting."""
    rows = []
    for coretype, l2 in CORETYPES:
        env = {k: v for k, v in os.environ.items()
               if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        if coretype:
            env["OPENBLAS_CORETYPE"] = coretype
        if l2:
            env["OPENBLAS_L2_SIZE"] = l2
        out = subprocess.run([sys.executable, str(Path(__file__)), "--child"], env=env,
                             capture_output=True, text=True, check=True, cwd=HERE)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["OPENBLAS_CORETYPE"] = coretype or "unset"
        row["OPENBLAS_L2_SIZE"] = l2 or "unset"
        rows.append(row)
    return rows


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(child_measure()))
    else:
        set_threads()
        for label, g in peak().items():
            print(f"  {label:32} {g:7.1f} GFLOP/s")
        for row in coretypes():
            print(row)
