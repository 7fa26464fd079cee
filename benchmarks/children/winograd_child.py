"""im2col against Winograd F(2×2, 3×3) on the reference network's 3×3 layers, in this process.

    harness.child_result("winograd_child.py", ["--repeats", R], threads=T)

For every layer Winograd can run (not the RGB one), forward + backward at batch 64 with
each path, switched by the public `cnnlib.engine.set_winograd`; the two alternate repeat
by repeat (`harness.time_interleaved`), the median of R after two warm-ups.

Prints {layer: [im2col ms, Winograd ms]}; bench_winograd.py runs it with 1 and 2 threads.
"""

from __future__ import annotations

import argparse

import numpy as np
from harness import BATCH, CONV_LAYERS, DTYPE, median_ms, send_result, time_interleaved

from cnnlib import engine as E


def layer_pass(x: np.ndarray, w: np.ndarray, winograd: bool):
    """Forward + backward of x (N, H, W, C) with filters w (K, 3, 3, C), on one path."""
    def run() -> None:
        E.set_winograd(winograd)
        y, cache = E.conv2d_forward(x, w, None, 1, 1, keep_tiles=winograd)  # as in training
        E.conv2d_backward(np.ones_like(y), cache)
    return run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    out = {}
    for h, c, k in CONV_LAYERS:
        if c < E.WINOGRAD_MIN_CHANNELS:
            continue  # the RGB layer: Winograd never runs it
        x = rng.standard_normal((BATCH, h, h, c)).astype(DTYPE)
        w = (rng.standard_normal((k, 3, 3, c)) * np.sqrt(2 / (9 * c))).astype(DTYPE)
        times = time_interleaved({"im2col": (None, layer_pass(x, w, False)),
                                  "winograd": (None, layer_pass(x, w, True))}, args.repeats)
        out[f"{h}×{h}×{c} → {k}"] = [median_ms(times["im2col"]), median_ms(times["winograd"])]
    send_result(out)


if __name__ == "__main__":
    main()
