"""A whole training step of the reference network: cnnlib against the same network in PyTorch.

One step = forward, softmax cross-entropy, backward, SGD with momentum 0.9, on a
batch of 64 float32 images (N, 32, 32, 3) in training mode (batch norm on batch
statistics, dropout on). The PyTorch twin starts from cnnlib's weights, and the two are
checked to compute the same logits (in evaluation mode) before anything is timed.

Also here: where cnnlib's step spends its time, per layer type (wall clock) and per
function (cProfile).

Run alone: python benchmarks/bench_step.py [--quick]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from common import (
    BATCH,
    DTYPE,
    TORCH_MISSING,
    median_ms,
    progress,
    set_threads,
    time_interleaved,
    torch,
)
from contenders import (
    cnnlib_network,
    cnnlib_training_step,
    torch_reference_network,
    torch_training_step,
)


def batch(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH, 32, 32, 3)).astype(DTYPE), rng.integers(0, 10, BATCH)


def check_same_function(model, net, images: np.ndarray) -> float:
    """Largest |logit difference| between cnnlib and PyTorch, both in evaluation mode."""
    model.eval()
    net.eval()
    with torch.no_grad():
        theirs = net(torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))).numpy()
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


def run(repeats: int = 15) -> dict:
    """Median ms per step of each contender, the ratios, and the check of equal logits."""
    images, labels = batch()
    model = cnnlib_network(seed=0)
    step = cnnlib_training_step(model)
    contenders = {
        "cnnlib": (None, lambda: step(images, labels)),
        # The same code with the batch chunks run one after another and NumPy's BLAS
        # using both cores inside each product: what the worker threads buy.
        "cnnlib, chunks in turn": (None, with_env("CNNLIB_NUM_THREADS", "1",
                                                  lambda: step(images, labels))),
    }
    result = {"logit check": "PyTorch not installed"}
    if torch is not None:
        net = torch_reference_network(like=model)
        result["logit check"] = f"max |Δlogit| = {check_same_function(model, net, images):.1e}"
        tstep = torch_training_step(net)
        images_t = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        labels_t = torch.from_numpy(labels)
        contenders["PyTorch"] = (None, lambda: tstep(images_t, labels_t))
    times = time_interleaved(contenders, repeats, warmup=3)
    result["median ms"] = {name: median_ms(t) for name, t in times.items()}
    result["min ms"] = {name: 1e3 * min(t) for name, t in times.items()}
    if torch is not None:
        ref = result["median ms"]["PyTorch"]
        result["ratio"] = {name: ms / ref for name, ms in result["median ms"].items()}
    return result


def run_one_thread(repeats: int = 9) -> dict:
    """CPU ms per step with one thread each: cnnlib (no workers, 1 BLAS thread) and PyTorch.

    CPU time counts only the cycles a process got, so unlike wall-clock time it barely
    moves when other processes share the cores: the robust comparison of the work each
    library does per step. Runs in a child process started with OPENBLAS_NUM_THREADS=1
    and CNNLIB_NUM_THREADS=1, so nothing in it can use a second thread.
    """
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", CNNLIB_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(Path(__file__)), "--one-thread-child",
                          str(repeats)], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _one_thread_child(repeats: int) -> dict:
    if torch is not None:
        torch.set_num_threads(1)
    images, labels = batch()
    model = cnnlib_network(seed=0)
    step = cnnlib_training_step(model)
    contenders = {"cnnlib": (None, lambda: step(images, labels))}
    if torch is not None:
        net = torch_reference_network(like=model)
        tstep = torch_training_step(net)
        images_t = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        labels_t = torch.from_numpy(labels)
        contenders["PyTorch"] = (None, lambda: tstep(images_t, labels_t))
    times = time_interleaved(contenders, repeats, warmup=2, clock=time.process_time)
    result = {"median ms": {name: median_ms(t) for name, t in times.items()}}
    if torch is not None:
        ref = result["median ms"]["PyTorch"]
        result["ratio"] = {name: ms / ref for name, ms in result["median ms"].items()}
    return result


def layer_breakdown(steps: int = 10) -> list[tuple[str, float, float]]:
    """(layer type, forward ms, backward ms) per step of cnnlib, summed over the network."""
    images, labels = batch()
    model = cnnlib_network(seed=0)
    step = cnnlib_training_step(model)
    totals: dict[tuple[str, str], float] = defaultdict(float)

    def timed(fn, key):
        def wrapper(*args):
            start = time.perf_counter()
            out = fn(*args)
            totals[key] += time.perf_counter() - start
            return out
        return wrapper

    for layer in model.layers:
        name = type(layer).__name__
        layer.forward = timed(layer.forward, (name, "forward"))
        layer.backward = timed(layer.backward, (name, "backward"))
    for _ in range(3):
        step(images, labels)
    totals.clear()
    start = time.perf_counter()
    for _ in range(steps):
        step(images, labels)
    whole = (time.perf_counter() - start) / steps
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
    thread (OPENBLAS_NUM_THREADS=1, CNNLIB_NUM_THREADS=1): the same work, all of it in
    the profiled thread, and timed in CPU time so other processes barely disturb it.
    """
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", CNNLIB_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(Path(__file__)), "--profile-child", str(steps),
                          str(top)], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent)
    return out.stdout


def _profile_child(steps: int, top: int) -> str:
    images, labels = batch()
    model = cnnlib_network(seed=0)
    step = cnnlib_training_step(model)
    step(images, labels)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(steps):
        step(images, labels)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return (f"cProfile of {steps} cnnlib training steps (batch {BATCH}, one thread, CPU "
            "time). Matrix products written with @ count in the own time (tottime) of the "
            "function that contains them: forward_chunk (conv forward), param_grads (conv "
            "weight gradient).\n" + out.getvalue())


def print_result(result: dict) -> None:
    for name, ms in result["median ms"].items():
        ratio = result.get("ratio", {}).get(name)
        print(f"  {name:26} {ms:8.1f} ms" + (f"   {ratio:5.2f}× PyTorch" if ratio else ""))
    print(f"  same function: {result['logit check']}")
    if torch is None:
        print(TORCH_MISSING)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--profile-child":
        print(_profile_child(int(sys.argv[2]), int(sys.argv[3])))
        sys.exit()
    if len(sys.argv) == 3 and sys.argv[1] == "--one-thread-child":
        print(json.dumps(_one_thread_child(int(sys.argv[2]))))
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 repeats instead of 15")
    parser.add_argument("--profile", action="store_true", help="also print the profile")
    args = parser.parse_args()
    set_threads()
    progress("training step")
    print_result(run(repeats=5 if args.quick else 15))
    for name, f, b in layer_breakdown():
        print(f"  {name:28} forward {f:7.1f} ms   backward {b:7.1f} ms")
    if args.profile:
        print(profile())
