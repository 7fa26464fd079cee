"""Every benchmark of cnnlib, one table each; `make bench` runs this file.

Prints the tables and writes them, with the machine they were measured on, to
benchmarks/results/benchmark.md and benchmark.csv (and the profile to profile.txt).

    python benchmarks/run_all.py            # the full run, ~5 minutes on 2 cores
    python benchmarks/run_all.py --quick    # fewer repeats, no OPENBLAS_CORETYPE runs

Timings on a shared machine are noisy: compare the ratios within one run, and look at
the load average printed with them.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import bench_blas
import bench_layers
import bench_memory
import bench_step
from harness import (
    BATCH,
    RESULTS,
    THREADS,
    TORCH_MISSING,
    cell,
    load_average,
    machine_info,
    optional_torch,
    progress,
    ratio,
    set_threads,
    table,
)

# The layers the targets speak of: the three with 1.2 GFLOP per forward pass.
LARGE_LAYERS = ("conv 32×32×32→32", "conv 16×16×64→64", "conv 8×8×128→128")
TARGETS = {"step": 1.2, "peak share": 0.60, "vs DLFS": 5.0, "memory": 2.0}


def conv_summary(layer_rows: list[dict], peak_gflops: float) -> list[dict]:
    """Per conv layer: forward+backward ms of each contender, GFLOP/s and ratios."""
    out = []
    for fwd, bwd in zip(layer_rows[0::2], layer_rows[1::2], strict=True):
        if fwd["kind"] != "conv":
            continue
        total = {c: fwd[c] + bwd[c] for c in bench_layers.CONTENDERS}
        gflop = fwd["GFLOP"] + bwd["GFLOP"]
        out.append({"layer": fwd["layer"], "GFLOP": gflop, **total,
                    "cnnlib GFLOP/s": gflop / total["cnnlib"] * 1e3,
                    "share of peak": gflop / total["cnnlib"] * 1e3 / peak_gflops,
                    "DLFS / cnnlib": total["DLFS im2col"] / total["cnnlib"],
                    "cnnlib / PyTorch": total["cnnlib"] / total["PyTorch"]})
    return out


def targets(step: dict, step1: dict, convs: list[dict], convs1: list[dict],
            memory: list[dict]) -> list[list[str]]:
    """[target, measured with 2 threads (wall clock), measured with 1 thread (CPU time), met]."""
    def met(values: list[float], ok) -> str:
        return "yes" if all(ok(v) for v in values) else "no"

    rows = []
    two, one = step.get("ratio", {}).get("cnnlib"), step1.get("ratio", {}).get("cnnlib")
    rows.append(["training step ≤ 1.2× PyTorch (ambition 1.0×)",
                 f"{cell(two, 2)}×" if two else "no PyTorch",
                 f"{cell(one, 2)}×" if one else "no PyTorch",
                 met([r for r in (two, one) if r], lambda r: r <= TARGETS["step"])])
    large = [c for c in convs if c["layer"] in LARGE_LAYERS]
    large1 = [c for c in convs1 if c["layer"] in LARGE_LAYERS]
    shares, shares1 = [c["share of peak"] for c in large], [c["share of peak"] for c in large1]
    rows.append(["conv forward+backward ≥ 60 % of the matmul peak (the three large layers)",
                 ", ".join(f"{100 * s:.0f} %" for s in shares),
                 ", ".join(f"{100 * s:.0f} %" for s in shares1),
                 met(shares + shares1, lambda s: s >= TARGETS["peak share"])])
    speedups = [c["DLFS / cnnlib"] for c in large]
    speedups1 = [c["DLFS / cnnlib"] for c in large1]
    rows.append(["≥ 5× faster than DLFS-style im2col (large layers, forward+backward)",
                 ", ".join(f"{s:.1f}×" for s in speedups),
                 ", ".join(f"{s:.1f}×" for s in speedups1),
                 met(speedups + speedups1, lambda s: s >= TARGETS["vs DLFS"])])
    mem = {m["contender"]: m["step MB"] for m in memory}
    if "PyTorch" in mem:
        r = mem["cnnlib"] / mem["PyTorch"]
        rows.append(["peak memory of a training step ≤ 2× PyTorch",
                     f"{mem['cnnlib']:.0f} MB vs {mem['PyTorch']:.0f} MB = {r:.2f}×", "",
                     "yes" if r <= TARGETS["memory"] else "no"])
    return rows


def markdown(info, layer_rows, convs, convs1, step, step1, breakdown, peaks, memory,
             cores) -> str:
    peak_label, peak_value = max(peaks.items(), key=lambda kv: kv[1])
    md = ["# cnnlib benchmarks", "",
          f"Batch {BATCH}, float32, {THREADS} threads. Times are medians of repeats after "
          "warm-up, all contenders of a table timed in turn in one process. Ratios below 1 "
          "mean cnnlib is faster.", "",
          "## Machine", "", table(["", "measured on"], info.items()), ""]
    if optional_torch() is None:
        md += [f"*{TORCH_MISSING}.*", ""]

    md += ["## Targets", "",
           "Two threads: wall-clock medians of this run. One thread: CPU time of the same "
           "work with one thread each, which other processes on the machine barely disturb.",
           "", table(["target", "2 threads", "1 thread (CPU time)", "met"],
                     targets(step, step1, convs, convs1, memory)), ""]

    md += ["## Training step of the reference network", "",
           "Forward, loss, backward and SGD (momentum 0.9) on the book's reference network "
           "(chapter 10: 3×3 convs 32-32-pool-64-64-pool-128-128-pool with batch norm, "
           "FC 256 with dropout), the same network in PyTorch with cnnlib's weights "
           f"({step['logit check']} in evaluation mode).", "",
           bench_step.step_table(step), "",
           "*cnnlib, chunks in turn*: the same cnnlib code with its worker threads off "
           "(CNNLIB_NUM_THREADS=1), NumPy's BLAS using both cores inside each product.", "",
           "The same step with one thread each, timed in CPU time (what each library "
           "computes, nearly independent of other processes on the machine). On one core "
           "cnnlib's engine runs Winograd's F(2×2, 3×3) on the 3×3 layers with at least 32 "
           "channels (see the appendix); with two threads it runs im2col:", "",
           bench_step.one_thread_step_table(step1), ""]

    md += ["## Convolution and pooling layers, forward and backward (ms)", "",
           "*loops\\**: `cnnlib.core.naive` loops timed on 1 image (pools: 4) and scaled to "
           f"{BATCH}. *DLFS im2col*: the \"Deep Learning from Scratch\"-style layer "
           "(NCHW, np.pad, loops over the filter window, col2im), benchmarks/dlfs_im2col.py.",
           "", bench_layers.layer_table(layer_rows), ""]

    md += ["## Convolutions: achieved GFLOP/s against the matmul peak", "",
           f"Peak: the best float32 `a @ b` of this run, {peak_value:.0f} GFLOP/s "
           f"({peak_label}, {THREADS} threads). Forward + backward FLOPs = 3 × "
           "2·N·H·W·K·F·F·C.", ""]
    rows = [[c["layer"], cell(c["GFLOP"], 2), cell(c["cnnlib"], 1), cell(c["cnnlib GFLOP/s"], 0),
             f"{100 * c['share of peak']:.0f} %", ratio(c["DLFS im2col"], c["cnnlib"], 1),
             ratio(c["cnnlib"], c["PyTorch"])] for c in convs]
    md += [table(["layer", "GFLOP", "cnnlib ms", "GFLOP/s", "of peak", "DLFS / cnnlib",
                  "cnnlib / PyTorch"], rows), "",
           f"With one thread, in CPU time (peak: {convs1[0]['peak GFLOP/s']:.0f} GFLOP/s, "
           "the large product on one core):", "",
           bench_layers.one_thread_conv_table(convs1), "", bench_blas.peak_table(peaks), ""]

    md += ["## Peak memory of a training step", "",
           "Each contender in a fresh process: peak resident memory during 3 steps minus "
           "the resident memory before them (network, batch and libraries loaded).", "",
           bench_memory.step_memory_table(memory), ""]

    md += ["## Where cnnlib's training step spends its time", "",
           "Wall-clock per step, summed over the layers of each type (profile.txt has the "
           "cProfile listing).", "", bench_step.breakdown_table(breakdown), ""]

    if cores:
        md += ["## OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE", "",
               "Each setting in a fresh process. The 1-thread columns are CPU time, so they "
               "hold even on a busy machine; the others are wall-clock with 2 threads.", "",
               bench_blas.coretype_table(cores), ""]
    return "\n".join(md) + "\n"


def csv_rows(layer_rows, convs1, step, step1, peaks, memory) -> list[list]:
    rows = [["section", "item", "phase", "contender", "value", "unit", "ratio_vs_pytorch"]]
    for r in layer_rows:
        for c in bench_layers.CONTENDERS:
            ratio = r[c] / r["PyTorch"] if not math.isnan(r["PyTorch"]) else ""
            rows.append(["layer", r["layer"], r["phase"], c, f"{r[c]:.4g}", "ms",
                         f"{ratio:.4g}" if ratio != "" else ""])
    for c in convs1:
        for name, key in (("cnnlib", "cnnlib CPU ms"), ("DLFS im2col", "DLFS CPU ms")):
            rows.append(["layer, 1 thread", c["layer"], "forward+backward", name,
                         f"{c[key]:.4g}", "CPU ms", ""])
    for name, ms in step["median ms"].items():
        rows.append(["step", "reference network", "forward+backward+SGD", name, f"{ms:.4g}", "ms",
                     f"{step['ratio'][name]:.4g}" if "ratio" in step else ""])
    for name, ms in step1["median ms"].items():
        rows.append(["step", "reference network, 1 thread", "forward+backward+SGD", name,
                     f"{ms:.4g}", "CPU ms",
                     f"{step1['ratio'][name]:.4g}" if "ratio" in step1 else ""])
    for label, g in peaks.items():
        rows.append(["matmul", label, "a @ b", "numpy", f"{g:.4g}", "GFLOP/s", ""])
    mem = {m["contender"]: m["step MB"] for m in memory}
    for name, mb in mem.items():
        ratio = mb / mem["PyTorch"] if "PyTorch" in mem else ""
        rows.append(["memory", "training step", "peak RSS increase", name, f"{mb:.4g}", "MB",
                     f"{ratio:.4g}" if ratio != "" else ""])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and no OPENBLAS_CORETYPE runs (a smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args()
    set_threads()
    info = machine_info()
    for key, value in info.items():
        print(f"{key:38} {value}")

    progress("layers (forward and backward of each contender)")
    layer_rows = bench_layers.run(repeats=3 if args.quick else 7)
    print(bench_layers.layer_table(layer_rows))

    progress("training step")
    step = bench_step.run(repeats=5 if args.quick else 21)
    print(bench_step.step_table(step))
    step1 = bench_step.run_one_thread(repeats=3 if args.quick else 9)
    print(bench_step.one_thread_step_table(step1))
    breakdown = bench_step.layer_breakdown(steps=5 if args.quick else 10)
    prof = bench_step.profile()

    progress("matmul peak")
    peaks = bench_blas.peak()
    convs = conv_summary(layer_rows, max(peaks.values()))
    for c in convs:
        print(f"  {c['layer']:22} {c['cnnlib GFLOP/s']:6.1f} GFLOP/s = "
              f"{100 * c['share of peak']:.0f} % of peak; DLFS/cnnlib {c['DLFS / cnnlib']:.1f}×")

    progress("convolutions with one thread, CPU time (child process)")
    convs1 = bench_layers.one_thread_efficiency(repeats=3 if args.quick else 5)
    for c in convs1:
        print(f"  1 thread: {c['layer']:22} {c['cnnlib GFLOP/s']:6.1f} GFLOP/s = "
              f"{100 * c['share of peak']:.0f} % of peak; DLFS/cnnlib {c['DLFS / cnnlib']:.1f}×")

    progress("memory (child processes)")
    memory = bench_memory.run()
    for m in memory:
        print(f"  {m['contender']:10} step {m['step MB']:.0f} MB (peak RSS {m['peak MB']:.0f} MB)")

    cores = []
    if not args.quick:
        progress("OPENBLAS_CORETYPE (child processes)")
        cores = bench_blas.coretypes()
    info["load average at end"] = load_average()
    print(f"load average at end: {info['load average at end']}")
    for row in targets(step, step1, convs, convs1, memory):
        print("target: " + " | ".join(row))

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmark.md").write_text(
        markdown(info, layer_rows, convs, convs1, step, step1, breakdown, peaks, memory,
                 cores))
    with open(args.out / "benchmark.csv", "w", newline="") as f:
        csv.writer(f).writerows(csv_rows(layer_rows, convs1, step, step1, peaks, memory))
    (args.out / "profile.txt").write_text(prof)
    print(f"wrote {args.out / 'benchmark.md'}, benchmark.csv and profile.txt")


if __name__ == "__main__":
    main()
