"""A whole training step of the reference network: cnnlib against the same network in PyTorch.

One step = forward, softmax cross-entropy, backward, SGD with momentum 0.9, on a
batch of 64 float32 images (N, 32, 32, 3) in training mode (batch norm on batch
statistics, dropout on). The PyTorch twin starts from cnnlib's weights, and the two are
checked to compute the same logits (in evaluation mode) before anything is timed.

- two threads, wall clock, in this process (`run`);
- one thread each, CPU time, in a child process (`run_one_thread`,
  children/step_one_thread_child.py);
- where cnnlib's step spends its time, per layer type (`layer_breakdown`, wall clock)
  and per function (`profile`, cProfile in a child process, with --profile).

Run alone: python benchmarks/bench_step.py [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict

import harness as H
import numpy as np
from contenders import (
    cnnlib_network,
    cnnlib_training_step,
    nchw,
    torch_reference_network,
    torch_training_step,
    training_batch,
)


def check_same_function(model, net, images: np.ndarray) -> float:
    """Largest |logit difference| between cnnlib and PyTorch, both in evaluation mode."""
    torch = H.optional_torch()
    model.eval()
    net.eval()
    with torch.no_grad():
        theirs = net(torch.from_numpy(nchw(images))).numpy()
    ours = model.forward(images)
    model.train()
    net.train()
    err = float(np.abs(ours - theirs).max())
    if err > 1e-3 * max(1.0, float(np.abs(theirs).max())):
        raise AssertionError(f"cnnlib and PyTorch networks disagree: max |Δlogit| = {err:.2e}")
    return err


def with_env(name: str, value: str, fn):
    """fn with os.environ[name] = value for the duration of each call."""
    def run():
        old = os.environ.get(name)
        os.environ[name] = value
        try:
            fn()
        finally:
            if old is None:
                del os.environ[name]
            else:
                os.environ[name] = old
    return run


def step_contenders(images: np.ndarray, labels: np.ndarray, model, net=None) -> dict[str, H.Timed]:
    """{"cnnlib": a training step of model, "PyTorch": one of its twin net (if given)}."""
    step = cnnlib_training_step(model)
    contenders = {"cnnlib": (None, lambda: step(images, labels))}
    if net is not None:
        torch = H.optional_torch()
        tstep = torch_training_step(net)
        images_t, labels_t = torch.from_numpy(nchw(images)), torch.from_numpy(labels)
        contenders["PyTorch"] = (None, lambda: tstep(images_t, labels_t))
    return contenders


def medians_and_ratios(times: dict[str, list[float]]) -> dict:
    """{"median ms", "min ms": {contender: ms}, and "ratio": {contender: × PyTorch}}."""
    result = {"median ms": {name: H.median_ms(t) for name, t in times.items()},
              "min ms": {name: 1e3 * min(t) for name, t in times.items()}}
    if "PyTorch" in times:
        ref = result["median ms"]["PyTorch"]
        result["ratio"] = {name: ms / ref for name, ms in result["median ms"].items()}
    return result


def run(repeats: int = 15) -> dict:
    """Median ms per step of each contender, the ratios, and the check of equal logits."""
    images, labels = training_batch()
    model = cnnlib_network(seed=0)
    net = torch_reference_network(like=model) if H.optional_torch() is not None else None
    check = (f"max |Δlogit| = {check_same_function(model, net, images):.1e}" if net is not None
             else "PyTorch not installed")
    others = step_contenders(images, labels, model, net)
    ours = others.pop("cnnlib")
    # The same code with the batch chunks run one after another and NumPy's BLAS
    # using both cores inside each product: what the worker threads buy.
    contenders = {"cnnlib": ours,
                  "cnnlib, chunks in turn": (None, with_env("CNNLIB_NUM_THREADS", "1", ours[1])),
                  **others}
    return {**medians_and_ratios(H.time_interleaved(contenders, repeats, warmup=3)),
            "logit check": check}


def run_one_thread(repeats: int = 9) -> dict:
    """CPU ms per step with one thread each: cnnlib (no workers, 1 BLAS thread) and PyTorch.

    CPU time counts only the cycles a process got, so unlike wall-clock time it barely
    moves when other processes share the cores: the robust comparison of the work each
    library does per step. Runs in a child process with one thread for everything.
    """
    return H.child_result("step_one_thread_child.py", ["--repeats", repeats], threads=1)


def layer_breakdown(steps: int = 10) -> list[tuple[str, float, float]]:
    """(layer type, forward ms, backward ms) per step of cnnlib, summed over the network."""
    images, labels = training_batch()
    model = cnnlib_network(seed=0)
    step = cnnlib_training_step(model)
    totals: dict[tuple[str, str], float] = defaultdict(float)

    for layer in model.layers:
        name = type(layer).__name__
        layer.forward = H.timed(layer.forward, totals, (name, "forward"))
        layer.backward = H.timed(layer.backward, totals, (name, "backward"))
    for _ in range(3):  # warm-up, not counted
        step(images, labels)
    totals.clear()
    whole = sum(H.time_interleaved({"step": (None, lambda: step(images, labels))}, steps,
                                   warmup=0)["step"]) / steps
    names = sorted({name for name, _ in totals},
                   key=lambda n: -(totals[n, "forward"] + totals[n, "backward"]))
    rows = [(n, 1e3 * totals[n, "forward"] / steps, 1e3 * totals[n, "backward"] / steps)
            for n in names]
    rest = whole * 1e3 - sum(f + b for _, f, b in rows)
    rows.append(("loss + SGD update + Python", rest, 0.0))
    return rows


def profile(steps: int = 5, top: int = 20) -> str:
    """cProfile of cnnlib training steps, the functions with the most own time first.

    cProfile sees only the main thread, so this runs in a child process with one
    thread: the same work, all of it in the profiled thread, in CPU time.
    """
    return H.child_result("step_profile_child.py", ["--steps", steps, "--top", top],
                        threads=1)["text"]


def step_table(result: dict) -> str:
    """Markdown: median and min ms per step of each contender, and its ratio to PyTorch."""
    return H.table(["contender", "median ms", "min ms", "/ PyTorch"],
                   [[name, H.cell(ms), H.cell(result["min ms"][name]),
                     H.ratio(ms, result["median ms"].get("PyTorch"))]
                    for name, ms in result["median ms"].items()])


def one_thread_step_table(result: dict) -> str:
    """Markdown: `run_one_thread`'s median CPU ms per contender and its ratio to PyTorch."""
    return H.table(["contender, 1 thread", "median CPU ms", "/ PyTorch"],
                   [[name, H.cell(ms), H.ratio(ms, result["median ms"].get("PyTorch"))]
                    for name, ms in result["median ms"].items()])


def breakdown_table(rows: list[tuple[str, float, float]]) -> str:
    """Markdown: `layer_breakdown`'s rows with each layer type's share of the step."""
    total = sum(f + b for _, f, b in rows)
    return H.table(["layer type", "forward ms", "backward ms", "share"],
                   [[name, H.cell(f), H.cell(b), f"{100 * (f + b) / total:.0f} %"]
                    for name, f, b in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and steps")
    parser.add_argument("--profile", action="store_true", help="also print the profile")
    args = parser.parse_args()
    H.set_threads()
    start = H.current_load()
    H.progress("training step, two threads")
    result = run(repeats=5 if args.quick else 15)
    H.progress("training step, one thread (child process)")
    one_thread = run_one_thread(repeats=3 if args.quick else 9)
    H.progress("per layer type")
    breakdown = layer_breakdown(steps=3 if args.quick else 10)
    print("\n\n".join([
        "# A training step of the reference network, cnnlib against PyTorch",
        f"Batch {H.BATCH}, float32; same function: {result['logit check']}. {H.load_line(start)}",
        step_table(result), "One thread each, CPU time:", one_thread_step_table(one_thread),
        "Where cnnlib's step spends its time (wall clock, two threads):",
        breakdown_table(breakdown)]))
    if H.optional_torch() is None:
        print(H.TORCH_MISSING)
    if args.profile:
        print(profile())


if __name__ == "__main__":
    main()
