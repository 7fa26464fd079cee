"""CPU milliseconds per training step with one thread each: cnnlib and its PyTorch twin.

    harness.child_result("step_one_thread_child.py", ["--repeats", R], threads=1)

With one thread for everything (cnnlib's workers off, one BLAS thread, one PyTorch
thread), CPU time counts only the cycles this process got: the work each library does
per step, nearly independent of other processes on the machine. The two take turns
(`harness.time_interleaved`), the median of R repeats after two warm-ups. Without
PyTorch installed, cnnlib alone.

Prints bench_step.medians_and_ratios of the times; bench_step.run_one_thread runs it.
"""

from __future__ import annotations

import argparse
import time

from bench_step import medians_and_ratios, step_contenders
from contenders import cnnlib_network, torch_reference_network, training_batch
from harness import optional_torch, send_result, time_interleaved


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=9)
    args = p.parse_args()
    images, labels = training_batch()
    model = cnnlib_network(seed=0)
    net = torch_reference_network(like=model) if optional_torch() is not None else None
    times = time_interleaved(step_contenders(images, labels, model, net), args.repeats,
                             warmup=2, clock=time.process_time)
    send_result(medians_and_ratios(times))


if __name__ == "__main__":
    main()
