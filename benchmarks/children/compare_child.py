"""bench_compare.py's workloads, timed with whichever checkout of cnnlib this process imports.

    harness.child_result("compare_child.py", [CLOCK, "--repeats", R], threads=..., checkout=DIR)

CLOCK cpu: CPU time (with one thread, the number other processes disturb least) of a
training step of the reference network (forward, softmax cross-entropy, backward, SGD
with momentum) and of forward + backward of the three large convolutions; CLOCK wall:
wall-clock time of the training step. All at batch 64, float32; the median of R repeats
after one warm-up, the workloads in turns (`harness.time_interleaved`).

Prints {workload: median ms}.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from contenders import cnnlib_network, cnnlib_training_step, training_batch
from harness import BATCH, CONV_LAYERS, DTYPE, median_ms, send_result, time_interleaved

from cnnlib.nn.layers import Conv2D

# The three convolutions with 1.2 GFLOP per forward pass: C = K, 32×32×32 to 8×8×128.
LARGE_CONVS = [(h, c) for h, c, k in CONV_LAYERS if c == k]


def conv_pass(h: int, c: int, rng: np.random.Generator):
    """Forward + backward of a 3×3, padding-1 convolution of c channels on (BATCH, h, h, c)."""
    layer = Conv2D(c, c, 3, padding=1, seed=0)
    x = rng.standard_normal((BATCH, h, h, c)).astype(DTYPE)
    g = rng.standard_normal((BATCH, h, h, c)).astype(DTYPE)

    def run() -> None:
        layer.forward(x)
        layer.backward(g)

    return run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clock", choices=("cpu", "wall"))
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    images, labels = training_batch()
    step = cnnlib_training_step(cnnlib_network(0))
    workloads = {"step": (None, lambda: step(images, labels))}
    if args.clock == "cpu":
        rng = np.random.default_rng(0)
        workloads |= {f"conv {h}x{h}x{c}": (None, conv_pass(h, c, rng)) for h, c in LARGE_CONVS}
    times = time_interleaved(workloads, args.repeats, warmup=1,
                             clock=time.process_time if args.clock == "cpu" else time.perf_counter)
    send_result({name: median_ms(t) for name, t in times.items()})


if __name__ == "__main__":
    main()
