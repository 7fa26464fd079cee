"""Where NumPy stops: what bounds a cnnlib training step on this machine, next to PyTorch's.

    python benchmarks/bench_limits.py [--threads 2] [--rounds 3] [--limit 5170]
                                      [--repeats 9] [--out FILE]
                                      # prints it, writes results/limits.{md,json}

Three measurements, taken in one run:

1. **Memory bandwidth, one thread and two**: an element-wise pass `b = a + 1` (what batch
   norm's x·scale + shift, ReLU and the Winograd transforms do) over float32 arrays that
   fit in a core's cache (512 KiB per thread) and over arrays that do not (64 MiB per
   thread), in GB/s read + written. Beside it, the matrix-product peak with one BLAS
   thread and with two: arithmetic scales with the cores, memory traffic may not.
2. **The matrix products of one training step, alone**: every product the engine computes
   for the six convolutions of the reference network at batch 64 — forward (windows ·
   filters), weight gradient (doutᵀ · windows) and input gradient (flipped windows of dout
   · flipped filters; the first layer has none) — on operands built beforehand, so no
   window copy, padding, batch norm, ReLU, pooling, loss or optimizer is timed. Each layer
   is timed chunk by chunk on the worker threads with one BLAS thread each (as the engine
   runs it) and as whole-batch products with BLAS on all threads; the faster counts.
3. **Whole training steps**: an epoch of the default recipe (children/epoch_child.py, as
   bench_epoch.py runs it: augmentation, forward, loss, backward, optimizer) for cnnlib and for its
   PyTorch twin, each in a process of its own, in turns; ms per step of the second epoch.

If (2) alone takes about as long as PyTorch's whole step (3), no rescheduling of the
rest can bring cnnlib's epoch to PyTorch's time: what is left is memory traffic (1).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from bench_blas import gflops
from harness import (
    BATCH,
    CONV_LAYERS,
    RESULTS,
    cell,
    current_load,
    load_average,
    load_line,
    load_text,
    progress,
    ratio,
    results_in_turns,
    table,
    time_interleaved,
    write_report,
)

CACHE_BYTES, MEMORY_BYTES = 2**19, 2**26  # per thread: in a 1 MiB L2 cache / far beyond it


def best_seconds(fn, repeats: int = 9) -> float:
    """Median wall-clock seconds of fn() over repeats, after one warm-up call."""
    return statistics.median(time_interleaved({"run": (None, fn)}, repeats, warmup=1)["run"])


def bandwidth(bytes_per_thread: int, threads: int, repeats: int = 9) -> float:
    """GB/s read + written by `threads` threads, each running b = a + 1 on its own arrays."""
    n = bytes_per_thread // 4
    pairs = [(np.ones(n, np.float32), np.empty(n, np.float32)) for _ in range(threads)]
    passes = max(1, 2**24 // bytes_per_thread)  # enough passes to time small arrays

    def one_thread(i: int) -> None:
        a, b = pairs[i]
        for _ in range(passes):
            np.add(a, np.float32(1), out=b)

    with ThreadPoolExecutor(threads) as pool:
        seconds = best_seconds(lambda: list(pool.map(one_thread, range(threads))), repeats)
    return 2 * bytes_per_thread * threads * passes / seconds / 1e9


def memory_speeds(threads: int, repeats: int = 9) -> dict[str, dict[str, float]]:
    """{what: {"1": GB/s or GFLOP/s with one thread, str(threads): with all}}."""
    from threadpoolctl import threadpool_limits
    out = {}
    for label, size in [("element-wise pass, 512 KiB per thread (in cache)", CACHE_BYTES),
                        ("element-wise pass, 64 MiB per thread (main memory)", MEMORY_BYTES)]:
        out[label] = {str(t): bandwidth(size, t, repeats) for t in (1, threads)}
    out["matrix product 4096×1024 @ 1024×1024 (GFLOP/s)"] = {}
    for t in (1, threads):
        with threadpool_limits(t, user_api="blas"):
            out["matrix product 4096×1024 @ 1024×1024 (GFLOP/s)"][str(t)] = gflops(
                4096, 1024, 1024, repeats)
    return out


def layer_products(h: int, c: int, k: int, rng: np.random.Generator, repeats: int = 9) -> dict:
    """FLOPs and ms of one layer's three products at batch 64, operands built beforehand."""
    from cnnlib import engine as E
    m = BATCH * h * h  # output positions of the batch (padding 1 keeps the size)
    cols = rng.standard_normal((m, 9 * c), dtype=np.float32)  # windows of x
    dcols = rng.standard_normal((m, 9 * k), dtype=np.float32)  # windows of padded dout
    w = rng.standard_normal((9 * c, k), dtype=np.float32)
    w_flipped = rng.standard_normal((9 * k, c), dtype=np.float32)
    dout = rng.standard_normal((m, k), dtype=np.float32)
    first = (h, c, k) == CONV_LAYERS[0]  # the RGB layer: no input gradient

    def products(s: slice = slice(None)) -> None:
        cols[s] @ w
        dout[s].T @ cols[s]
        if not first:
            dcols[s] @ w_flipped

    per_image = h * h * 9 * c * 4  # the engine's chunk rule for this layer
    chunks = [slice(b.start * h * h, b.stop * h * h) for b in E.batch_chunks(BATCH, per_image)]

    def chunked() -> None:
        E.for_each_chunk(products, chunks)

    def whole_batch() -> None:
        E.blas_single_threaded(False)  # BLAS on all threads for the big products
        products()

    chunked_s, whole_s = best_seconds(chunked), best_seconds(whole_batch)
    E.blas_single_threaded(True)
    flop = 2 * m * 9 * c * k * (2 if first else 3)
    return {"layer": f"{h}×{h}×{c} → {k}", "gflop": flop / 1e9, "chunked_ms": 1e3 * chunked_s,
            "whole_ms": 1e3 * whole_s, "best_ms": 1e3 * min(chunked_s, whole_s)}


def conv_products(threads: int, repeats: int = 9) -> list[dict]:
    """`layer_products` of the reference network's six convolutions, with `threads` workers."""
    os.environ["CNNLIB_NUM_THREADS"] = str(threads)
    rng = np.random.default_rng(0)
    return [layer_products(h, c, k, rng, repeats) for h, c, k in CONV_LAYERS]


def whole_steps(threads: int, rounds: int, limit: int) -> dict[str, float]:
    """ms per training step of an epoch, cnnlib and PyTorch, each in its own process, in turns."""
    def ms_per_step(result: dict) -> float:
        return 1e3 * result["seconds"][-1] / result["steps"]

    children = {name: {"program": "epoch_child.py", "threads": threads,
                       "args": [which, "--epochs", 2, "--limit", limit]}
                for name, which in (("cnnlib", "cnnlib"), ("PyTorch", "pytorch"))}
    results = results_in_turns(children, rounds,
                               describe=lambda r: f"{ms_per_step(r):.0f} ms per step")
    return {name: statistics.median(ms_per_step(r) for r in rs) for name, rs in results.items()}


def report(memory: dict, products: list[dict], steps: dict, threads: int,
           load_start: tuple[float, float, float] | None) -> str:
    floor = sum(r["best_ms"] for r in products)
    torch_ms, cnnlib_ms = steps["PyTorch"], steps["cnnlib"]
    total_gflop = sum(r["gflop"] for r in products)
    step_rows = [["PyTorch, whole step (own process)", cell(torch_ms, 0), ratio(1, 1)],
                 ["cnnlib, whole step (own process)", cell(cnnlib_ms, 0),
                  ratio(cnnlib_ms, torch_ms)],
                 ["cnnlib, its convolutions' matrix products alone", cell(floor, 0),
                  ratio(floor, torch_ms)],
                 ["left for everything else, to tie with PyTorch", cell(torch_ms - floor, 0), ""],
                 ["what everything else takes in cnnlib today", cell(cnnlib_ms - floor, 0), ""]]
    product_rows = [[r["layer"], cell(r["gflop"], 2), cell(r["chunked_ms"]), cell(r["whole_ms"]),
                     cell(r["gflop"] / r["best_ms"] * 1e3, 0)] for r in products]
    product_rows.append(["all six", cell(total_gflop, 2), "", "",
                         cell(total_gflop / floor * 1e3, 0)])
    memory_rows = []
    for label, by_threads in memory.items():
        one, many = by_threads["1"], by_threads[str(threads)]
        unit = "" if "GFLOP" in label else " GB/s"
        memory_rows.append([label, cell(one, 0) + unit, cell(many, 0) + unit, ratio(many, one)])
    return "\n".join([
        "# Where NumPy stops: the bounds of a training step on this machine", "",
        f"Batch {BATCH}, float32, {threads} threads. {load_line(load_start)}", "",
        "## One training step of the default recipe", "",
        table(["", "ms per step", "× PyTorch's step"], step_rows), "",
        "## The convolutions' products, operands built beforehand", "",
        table(["layer", "GFLOP", "chunked on the workers, ms",
               "whole batch, BLAS on all threads, ms", "GFLOP/s (faster)"], product_rows), "",
        "## Memory traffic against arithmetic, one thread and two", "",
        table(["work", "1 thread", f"{threads} threads", "ratio"], memory_rows)]) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--limit", type=int, default=5170, help="training images per epoch")
    p.add_argument("--repeats", type=int, default=9,
                   help="timed repeats of each bandwidth and product measurement")
    p.add_argument("--out", type=Path, default=RESULTS / "limits.md")
    args = p.parse_args()
    start = current_load()
    progress("whole training steps, each contender in its own process ...")
    steps = whole_steps(args.threads, args.rounds, args.limit)
    progress("memory bandwidth and the product peak ...")
    memory = memory_speeds(args.threads, args.repeats)
    progress("the convolutions' products alone ...")
    products = conv_products(args.threads, args.repeats)
    write_report(report(memory, products, steps, args.threads, start), args.out)
    args.out.with_suffix(".json").write_text(json.dumps(
        {"threads": args.threads, "load": [load_text(start), load_average()], "steps_ms": steps,
         "products": products, "memory": memory}, indent=1) + "\n")


if __name__ == "__main__":
    main()
