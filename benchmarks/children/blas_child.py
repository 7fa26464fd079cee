"""The BLAS kernel this process got, its matrix-product speed, and a cnnlib training step.

    harness.child_result("blas_child.py", env={"OPENBLAS_CORETYPE": ..., ...})

bench_blas.coretypes starts one per OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE setting, which
OpenBLAS reads when it loads: the kernel it then chose, the large product's GFLOP/s with
the parent's threads (wall clock) and with one (CPU time), a thin im2col product with
one thread, and the median ms of a cnnlib training step.

Prints {measurement: value}.
"""

from __future__ import annotations

import argparse
import time

from bench_blas import gflops
from contenders import cnnlib_network, cnnlib_training_step, training_batch
from harness import THREADS, median_ms, send_result, time_interleaved
from threadpoolctl import threadpool_info, threadpool_limits


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    kernel = ", ".join(str(i.get("architecture")) for i in threadpool_info()
                       if i["user_api"] == "blas")
    result = {"kernel": kernel,
              f"large product GFLOP/s, {THREADS} threads": gflops(4096, 1024, 1024)}
    with threadpool_limits(1, user_api="blas"):
        result["large product GFLOP/s, 1 thread, CPU time"] = gflops(4096, 1024, 1024, 5,
                                                                      time.process_time)
        result["im2col 2048×288 @ 288×32 GFLOP/s, 1 thread, CPU time"] = gflops(
            2048, 288, 32, 25, time.process_time)
    images, labels = training_batch()
    step = cnnlib_training_step(cnnlib_network(0))
    times = time_interleaved({"step": (None, lambda: step(images, labels))}, repeats=7)
    result["cnnlib step ms"] = median_ms(times["step"])
    send_result(result)


if __name__ == "__main__":
    main()
