"""Per-layer times: the reference network's convolutions and pools, forward and backward.

Contenders, all on the same float32 batch of 64:
- loops: `cnnlib.core.naive.conv2d_naive` / `pool2d_naive` (and loop backward passes from
  contenders.py), timed on a few images and scaled linearly to 64, since the loops cost
  the same per image (column marked *);
- DLFS im2col: the "Deep Learning from Scratch"-style layer (dlfs_im2col.py), NCHW;
- cnnlib: `cnnlib.core.functional`;
- PyTorch: `torch.nn.functional` on the CPU, NCHW, input with requires_grad so its
  backward computes dx like the others.

Also here: cnnlib and DLFS with one thread each, in CPU time, in a child process
(`one_thread_efficiency`, children/conv_one_thread_child.py).

Run alone: python benchmarks/bench_layers.py [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np
from contenders import conv2d_backward_loops, max_pool_backward_loops, nchw
from dlfs_im2col import Convolution, Pooling
from harness import (
    BATCH,
    CONV_LAYERS,
    DTYPE,
    POOL_LAYERS,
    TORCH_MISSING,
    Timed,
    cell,
    child_result,
    current_load,
    load_line,
    median_ms,
    optional_torch,
    progress,
    ratio,
    set_threads,
    table,
    time_interleaved,
)

from cnnlib.core import functional as F
from cnnlib.core.naive import conv2d_naive, pool2d_naive

CONTENDERS = ["loops*", "DLFS im2col", "cnnlib", "PyTorch"]


def conv_flops(h: int, c: int, k: int, f: int = 3, n: int = BATCH) -> float:
    """Multiply-adds ×2 of one forward pass (stride 1, same padding); backward is twice this."""
    return 2.0 * n * h * h * k * f * f * c


def torch_passes(forward, dout, leaves) -> tuple[Timed, Timed]:
    """PyTorch's (forward, backward) contenders for `forward()`, a function of the tensors
    `leaves` (which require grad, so backward computes dx like the others); the backward
    contender's untimed setup runs a fresh forward pass for it to consume."""
    state = {}

    def run_forward():
        state["y"] = forward()

    def run_backward():
        state["y"].backward(dout)
        for leaf in leaves:
            leaf.grad = None

    return (None, run_forward), (run_forward, run_backward)


def phase_times(fwd: dict[str, Timed], bwd: dict[str, Timed], repeats: int,
                loop_scale: float) -> dict:
    """{(phase, contender): [seconds]}, the loops' times scaled from their few images to BATCH."""
    times = {}
    for phase, contenders in (("forward", fwd), ("backward", bwd)):
        for name, secs in time_interleaved(contenders, repeats).items():
            times[phase, name] = [t * loop_scale for t in secs] if name == "loops*" else secs
    return times


def conv_layer_times(h: int, c: int, k: int, repeats: int, loop_images: int) -> dict:
    """{(phase, contender): [seconds]} for one 3×3, stride-1, padding-1 convolution."""
    rng = np.random.default_rng(h * 1000 + c)
    x = rng.standard_normal((BATCH, h, h, c)).astype(DTYPE)
    weight = (rng.standard_normal((k, 3, 3, c)) * np.sqrt(2 / (9 * c))).astype(DTYPE)
    bias = rng.standard_normal(k).astype(DTYPE)
    dout = rng.standard_normal((BATCH, h, h, k)).astype(DTYPE)
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
    torch = optional_torch()
    if torch is not None:
        xt = torch.from_numpy(x_nchw).requires_grad_(True)
        wt = torch.from_numpy(nchw(weight)).requires_grad_(True)
        bt = torch.from_numpy(bias.copy()).requires_grad_(True)

        def conv():
            return torch.nn.functional.conv2d(xt, wt, bt, padding=1)

        np.testing.assert_allclose(conv().detach().numpy(), nchw(y), rtol=1e-3, atol=1e-3)
        fwd["PyTorch"], bwd["PyTorch"] = torch_passes(conv, torch.from_numpy(dout_nchw),
                                                      (xt, wt, bt))
    return phase_times(fwd, bwd, repeats, BATCH / loop_images)


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
    fwd = {"loops*": (None, lambda: pool2d_naive(xs, 2, 2)),
           "DLFS im2col": (None, lambda: dlfs.forward(x_nchw)),
           "cnnlib": (None, lambda: F.max_pool2d_forward(x, 2, 2))}
    bwd = {"loops*": (None, lambda: max_pool_backward_loops(xs, douts, 2, 2)),
           "DLFS im2col": (None, lambda: dlfs.backward(dout_nchw)),
           "cnnlib": (None, lambda: F.max_pool2d_backward(dout, cache))}
    torch = optional_torch()
    if torch is not None:
        xt = torch.from_numpy(x_nchw).requires_grad_(True)
        fwd["PyTorch"], bwd["PyTorch"] = torch_passes(
            lambda: torch.nn.functional.max_pool2d(xt, 2), torch.from_numpy(dout_nchw), (xt,))
    return phase_times(fwd, bwd, repeats, BATCH / loop_images)


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
    return child_result("conv_one_thread_child.py", ["--repeats", repeats], threads=1)["layers"]


def layer_table(rows: list[dict]) -> str:
    """Markdown: `run`'s rows, ms of every contender and the two ratios."""
    return table(["layer", "phase", *CONTENDERS, "cnnlib / PyTorch", "DLFS / cnnlib"],
                 [[r["layer"], r["phase"], *(cell(r[c], 2) for c in CONTENDERS),
                   ratio(r["cnnlib"], r["PyTorch"]), ratio(r["DLFS im2col"], r["cnnlib"], 1)]
                  for r in rows])


def one_thread_conv_table(rows: list[dict]) -> str:
    """Markdown: `one_thread_efficiency`'s rows."""
    return table(["layer", "cnnlib CPU ms", "DLFS CPU ms", "GFLOP/s", "of peak", "DLFS / cnnlib"],
                 [[c["layer"], cell(c["cnnlib CPU ms"]), cell(c["DLFS CPU ms"]),
                   cell(c["cnnlib GFLOP/s"], 0), f"{100 * c['share of peak']:.0f} %",
                   ratio(c["DLFS CPU ms"], c["cnnlib CPU ms"], 1)] for c in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 7 (5 for "
                        "the one-thread child)")
    args = parser.parse_args()
    set_threads()
    start = current_load()
    rows = run(repeats=3 if args.quick else 7)
    progress("one thread, CPU time (child process)")
    convs1 = one_thread_efficiency(repeats=2 if args.quick else 5)
    print("\n\n".join([
        "# Convolution and pooling layers, forward and backward (ms)",
        f"Batch {BATCH}, float32. {load_line(start)}", layer_table(rows),
        "Forward + backward with one thread each, CPU time:", one_thread_conv_table(convs1)]))
    if optional_torch() is None:
        print(TORCH_MISSING)


if __name__ == "__main__":
    main()
