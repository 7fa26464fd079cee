"""The reference network's convolutions with one thread, in CPU time: cnnlib against DLFS.

    harness.child_result("conv_one_thread_child.py", ["--repeats", R], threads=1)

Per 3×3 convolution of the network: forward + backward of cnnlib (`cnnlib.core.functional`)
and of the DLFS-style layer (dlfs_im2col.py), in turns, the median CPU ms of R repeats
after one warm-up; cnnlib's GFLOP/s and its share of the one-thread matrix-product peak
(`bench_blas.gflops` of the large product, in CPU time).

Prints {"layers": [one row per layer]}; bench_layers.one_thread_efficiency runs it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_blas import gflops
from bench_layers import conv_flops
from contenders import nchw
from dlfs_im2col import Convolution
from harness import BATCH, CONV_LAYERS, DTYPE, median_ms, send_result, time_interleaved

from cnnlib.core import functional as F


def layer_row(h: int, c: int, k: int, repeats: int, peak: float) -> dict:
    """CPU ms of both contenders on one layer, cnnlib's GFLOP/s and share of `peak`."""
    rng = np.random.default_rng(h * 1000 + c)
    x = rng.standard_normal((BATCH, h, h, c)).astype(DTYPE)
    weight = (rng.standard_normal((k, 3, 3, c)) * np.sqrt(2 / (9 * c))).astype(DTYPE)
    bias = np.zeros(k, DTYPE)
    dout = rng.standard_normal((BATCH, h, h, k)).astype(DTYPE)
    dlfs = Convolution(nchw(weight), bias, stride=1, pad=1)
    x_nchw, dout_nchw = nchw(x), nchw(dout)

    def ours():
        _, cache = F.conv2d_forward(x, weight, bias, 1, 1)
        F.conv2d_backward(dout, cache)

    def theirs():
        dlfs.forward(x_nchw)
        dlfs.backward(dout_nchw)

    times = time_interleaved({"cnnlib": (None, ours), "DLFS im2col": (None, theirs)},
                             repeats, warmup=1, clock=time.process_time)
    ms = {name: median_ms(t) for name, t in times.items()}
    achieved = 3 * conv_flops(h, c, k) / ms["cnnlib"] / 1e6
    return {"layer": f"conv {h}×{h}×{c}→{k}", "cnnlib CPU ms": ms["cnnlib"],
            "DLFS CPU ms": ms["DLFS im2col"], "cnnlib GFLOP/s": achieved,
            "peak GFLOP/s": peak, "share of peak": achieved / peak,
            "DLFS / cnnlib": ms["DLFS im2col"] / ms["cnnlib"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    peak = gflops(4096, 1024, 1024, args.repeats, time.process_time)
    send_result({"layers": [layer_row(h, c, k, args.repeats, peak) for h, c, k in CONV_LAYERS]})


if __name__ == "__main__":
    main()
