"""Per-layer times: the reference network's convolutions and pools, forward and backward.

Contenders, all on the same float32 batch of 64:
- loops: `cnnlib.core.naive.conv2d_naive` / `pool2d_naive` (and loop backward passes from
  contenders.py), timed on a few images and scaled linearly to 64, since the loops cost
  the same per image (column marked *);
- DLFS im2col: the "Deep Learning from Scratch"-style layer (dlfs_im2col.py), NCHW;
- cnnlib: `cnnlib.core.functional`;
- PyTorch: `torch.nn.functional` on the CPU, NCHW, input with requires_grad so its
  backward computes dx like the others.

Run alone: python benchmarks/bench_layers.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import (
    BATCH,
    CONV_LAYERS,
    DTYPE,
    POOL_LAYERS,
    TORCH_MISSING,
    median_ms,
    progress,
    set_threads,
    time_interleaved,
    torch,
)
from contenders import conv2d_backward_loops, max_pool_backward_loops
from dlfs_im2col import Convolution, Pooling

from cnnlib.core import functional as F
from cnnlib.core.naive import conv2d_naive, pool2d_naive

CONTENDERS = ["loops*", "DLFS im2col", "cnnlib", "PyTorch"]


def conv_flops(h: int, c: int, k: int, f: int = 3, n: int = BATCH) -> float:
    """Multiply-adds ×2 of one forward pass (stride 1, same padding); backward is twice this."""
    return 2.0 * n * h * h * k * f * f * c


def nchw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def conv_layer_times(h: int, c: int, k: int, repeats: int, loop_images: int) -> dict:
    """{(phase, contender): [seconds]} for one 3×3, stride-1, padding-1 convolution."""
    rng = np.random.default_rng(h * 1000 + c)
    x = rng.standard_normal((BATCH, h, h, c)).astype(DTYPE)
    weight = (rng.standard_normal((k, 3, 3, c)) * np.sqrt(2 / (9 * c))).astype(DTYPE)
    bias = rng.standard_normal(k).astype(DTYPE)
    dout = rng.standard_normal((BATCH, h, h, k)).astype(DTYPE)
    scale = BATCH / loop_images
    xs, douts = x[:loop_images], dout[:loop_images]

    y, cache = F.conv2d_forward(x, weight, bias, 1, 1)
    dlfs = Convolution(nchw(weight), bias, stride=1, pad=1)
    x_nchw, dout_nchw = nchw(x), nchw(dout)
    # The contenders agree before they are timed.
    np.testing.assert_allclose(dlfs.forward(x_nchw), nchw(y), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(conv2d_naive(xs, weight, bias, 1, 1), y[:loop_images],
                               rtol=1e-3, atol=1e-3)

    fwd = {"loops*": (None, lambda: conv2d_naive(xs, weight, bias, 1, 1)),
           "DLFS im2col": (None, lambda: dlfs.forward(x_nchw)),
           "cnnlib": (None, lambda: F.conv2d_forward(x, weight, bias, 1, 1))}
    bwd = {"loops*": (None, lambda: conv2d_backward_loops(xs, weight, douts, 1, 1)),
           "DLFS im2col": (None, lambda: dlfs.backward(dout_nchw)),
           "cnnlib": (None, lambda: F.conv2d_backward(dout, cache))}
    if torch is not None:
        xt = torch.from_numpy(x_nchw).requires_grad_(True)
        wt = torch.from_numpy(nchw(weight)).requires_grad_(True)
        bt = torch.from_numpy(bias.copy()).requires_grad_(True)
        dt = torch.from_numpy(dout_nchw)
        state = {}

        def torch_forward():
            state["y"] = torch.nn.functional.conv2d(xt, wt, bt, padding=1)

        def torch_backward():
            state["y"].backward(dt)
            xt.grad = wt.grad = bt.grad = None

        np.testing.assert_allclose(torch.nn.functional.conv2d(xt, wt, bt, padding=1)
                                   .detach().numpy(), nchw(y), rtol=1e-3, atol=1e-3)
        fwd["PyTorch"] = (None, torch_forward)
        bwd["PyTorch"] = (torch_forward, torch_backward)
    times = {}
    for phase, contenders in (("forward", fwd), ("backward", bwd)):
        for name, secs in time_interleaved(contenders, repeats).items():
            times[phase, name] = [t * scale for t in secs] if name == "loops*" else secs
    return times


def pool_layer_times(h: int, c: int, repeats: int, loop_images: int) -> dict:
    """{(phase, contender): [seconds]} for one 2×2, stride-2 max pool."""
    rng = np.random.default_rng(h * 1000 + c + 1)
    x = rng.standard_normal((BATCH, h, h, c)).astype(DTYPE)
    dout = rng.standard_normal((BATCH, h // 2, h // 2, c)).astype(DTYPE)
    y, cache = F.max_pool2d_forward(x, 2, 2)
    dlfs = Pooling(2, 2, 2)
    x_nchw, dout_nchw = nchw(x), nchw(dout)
    np.testing.assert_array_equal(dlfs.forward(x_nchw), nchw(y))
    np.testing.assert_array_equal(pool2d_naive(x, 2, 2), y)
    xs, douts = x[:loop_images], dout[:loop_images]
    scale = BATCH / loop_images
    fwd = {"loops*": (None, lambda: pool2d_naive(xs, 2, 2)),
           "DLFS im2col": (None, lambda: dlfs.forward(x_nchw)),
           "cnnlib": (None, lambda: F.max_pool2d_forward(x, 2, 2))}
    bwd = {"loops*": (None, lambda: max_pool_backward_loops(xs, douts, 2, 2)),
           "DLFS im2col": (None, lambda: dlfs.backward(dout_nchw)),
           "cnnlib": (None, lambda: F.max_pool2d_backward(dout, cache))}
    if torch is not None:
        xt = torch.from_numpy(x_nchw).requires_grad_(True)
        dt = torch.from_numpy(dout_nchw)
        state = {}

        def torch_forward():
            state["y"] = torch.nn.functional.max_pool2d(xt, 2)

        def torch_backward():
            state["y"].backward(dt)
            xt.grad = None

        fwd["PyTorch"] = (None, torch_forward)
        bwd["PyTorch"] = (torch_forward, torch_backward)
    times = {}
    for phase, contenders in (("forward", fwd), ("backward", bwd)):
        for name, secs in time_interleaved(contenders, repeats).items():
            times[phase, name] = [t * scale for t in secs] if name == "loops*" else secs
    return times


def run(repeats: int = 7, loop_images: int = 1) -> list[dict]:
    """One row per (layer, phase): median ms of every contender, and the ratios."""
    rows = []
    jobs = [("conv", f"conv {h}×{h}×{c}→{k}", (h, c, k)) for h, c, k in CONV_LAYERS]
    jobs += [("pool", f"maxpool {h}×{h}×{c}", (h, c)) for h, c in POOL_LAYERS]
    for kind, label, dims in jobs:
        progress(f"  {label}")
        if kind == "conv":
            times = conv_layer_times(*dims, repeats=repeats, loop_images=loop_images)
        else:
            times = pool_layer_times(*dims, repeats=repeats, loop_images=max(loop_images, 4))
        for phase in ("forward", "backward"):
            row = {"layer": label, "kind": kind, "phase": phase}
            for name in CONTENDERS:
                secs = times.get((phase, name))
                row[name] = median_ms(secs) if secs else float("nan")
            if kind == "conv":
                flops = conv_flops(*dims) * (1 if phase == "forward" else 2)
                row["cnnlib GFLOP/s"] = flops / row["cnnlib"] / 1e6
                row["GFLOP"] = flops / 1e9
            row["cnnlib / PyTorch"] = row["cnnlib"] / row["PyTorch"]
            row["DLFS / cnnlib"] = row["DLFS im2col"] / row["cnnlib"]
            rows.append(row)
    return rows


def one_thread_efficiency(repeats: int = 5) -> list[dict]:
    """Per conv layer, in a child process with one thread: CPU ms of cnnlib and DLFS
    (forward + backward), cnnlib's GFLOP/s and its share of the 1-thread matmul peak.

    CPU time is the robust measure on a shared machine (see bench_step.run_one_thread).
    """
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", CNNLIB_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(Path(__file__)), "--one-thread-child",
                          str(repeats)], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _one_thread_child(repeats: int) -> list[dict]:
    from bench_blas import gflops
    peak = gflops(4096, 1024, 1024, repeats, time.process_time)
    return [_one_thread_layer(h, c, k, repeats, peak) for h, c, k in CONV_LAYERS]


def _one_thread_layer(h: int, c: int, k: int, repeats: int, peak: float) -> dict:
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
    flops = 3 * conv_flops(h, c, k)
    return {"layer": f"conv {h}×{h}×{c}→{k}", "cnnlib CPU ms": ms["cnnlib"],
            "DLFS CPU ms": ms["DLFS im2col"], "cnnlib GFLOP/s": flops / ms["cnnlib"] / 1e6,
            "peak GFLOP/s": peak, "share of peak": flops / ms["cnnlib"] / 1e6 / peak,
            "DLFS / cnnlib": ms["DLFS im2col"] / ms["cnnlib"]}


def print_rows(rows: list[dict]) -> None:
    print(f"{'layer':24} {'phase':8} " + " ".join(f"{c:>12}" for c in CONTENDERS)
          + f" {'cnnlib/torch':>12} {'DLFS/cnnlib':>12}")
    for r in rows:
        print(f"{r['layer']:24} {r['phase']:8} " + " ".join(f"{r[c]:12.2f}" for c in CONTENDERS)
              + f" {r['cnnlib / PyTorch']:12.2f} {r['DLFS / cnnlib']:12.2f}")
    if torch is None:
        print(TORCH_MISSING)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one-thread-child":
        print(json.dumps(_one_thread_child(int(sys.argv[2]))))
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    args = parser.parse_args()
    set_threads()
    print_rows(run(repeats=3 if args.quick else 7))
