"""Does Winograd pay here? im2col against Winograd F(2×2, 3×3) on the reference network's
3×3 layers, forward + backward at batch 64, with one thread and with two.

    python benchmarks/bench_winograd.py   # prints it, writes results/winograd_threads.md

Each thread count runs in a process of its own (the engine reads its thread count once);
inside it, the two paths alternate repeat by repeat (`common.time_interleaved`), so a
burst of load falls on both. Reported: the median of the repeats, in ms of wall clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BATCH, CONV_LAYERS, RESULTS, load_average, median_ms, time_interleaved  # noqa: E402


def measure(threads: int) -> dict[str, list[float]]:
    """In this process: {layer: [im2col ms, Winograd ms]} for every layer Winograd can run."""
    from common import set_threads
    set_threads(threads)
    from cnnlib import engine as E

    rng = np.random.default_rng(0)
    out = {}
    for h, c, k in CONV_LAYERS:
        if c < E.WINOGRAD_MIN_CHANNELS:
            continue  # the RGB layer: Winograd never runs it
        x = rng.standard_normal((BATCH, h, h, c)).astype(np.float32)
        w = (rng.standard_normal((k, 3, 3, c)) * np.sqrt(2 / (9 * c))).astype(np.float32)

        def step(on: bool, x: np.ndarray = x, w: np.ndarray = w) -> None:
            E.set_winograd(on)
            y, cache = E.conv2d_forward(x, w, None, 1, 1, keep_tiles=on)  # as in training
            E.conv2d_backward(np.ones_like(y), cache)

        times = time_interleaved({"im2col": (None, lambda: step(False)),
                                  "winograd": (None, lambda: step(True))})
        out[f"{h}×{h}×{c} → {k}"] = [median_ms(times["im2col"]), median_ms(times["winograd"])]
    return out


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(measure(int(sys.argv[2]))))
        return
    start = load_average()
    runs = {}
    for threads in (1, 2):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads))
        done = subprocess.run([sys.executable, __file__, "--measure", str(threads)],
                              env=env, capture_output=True, text=True, check=True)
        runs[threads] = json.loads(done.stdout.strip().splitlines()[-1])
    lines = ["# Winograd F(2×2, 3×3) against im2col, per layer", "",
             f"Forward + backward of one 3×3 stride-1 convolution, batch {BATCH}, float32, ms of "
             "wall clock (median of 7; the two paths alternate). Load average at start "
             f"{start}, at end {load_average()}.", "",
             "| layer | 1 thread: im2col | Winograd | ratio "
             "| 2 threads: im2col | Winograd | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for layer in runs[1]:
        (a1, b1), (a2, b2) = runs[1][layer], runs[2][layer]
        lines.append(f"| {layer} | {a1:.1f} | {b1:.1f} | {b1 / a1:.2f} | {a2:.1f} | {b2:.1f} "
                     f"| {b2 / a2:.2f} |")
    table = "\n".join(lines) + "\n"
    (RESULTS / "winograd_threads.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
