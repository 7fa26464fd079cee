"""Before/after: the same workloads timed with two checkouts of cnnlib, in turn.

    python benchmarks/bench_compare.py BEFORE_DIR AFTER_DIR [--rounds 5]

Each DIR is a checkout of this repository (e.g. `git worktree add /tmp/before <commit>`).
Every measurement runs in a fresh process whose `import cnnlib` finds that checkout
first, and the two checkouts take turns, round after round, so a change in the load of a
shared machine hits both alike. Reported: the median over rounds, and the ratio
after / before (below 1 is faster).

Workloads (float32, batch 64, the reference network of chapter 10):
- a training step (forward, softmax cross-entropy, backward, SGD with momentum) with one
  thread, in CPU time: the number least disturbed by other processes;
- the same step with two threads, in wall-clock time;
- forward + backward of the three large convolutions (1.2 GFLOP each per forward pass),
  with one thread, in CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time
import numpy as np
import cnnlib
from cnnlib.nn.layers import Conv2D
from cnnlib.core.losses import softmax_cross_entropy
from cnnlib.nn.models import reference_network
from cnnlib.nn.optim import SGD

clock = time.process_time if sys.argv[1] == "cpu" else time.perf_counter
rng = np.random.default_rng(0)
results = {"cnnlib": cnnlib.__file__}

def best_of(fn, repeats=5):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return 1e3 * min(times)

images = rng.standard_normal((64, 32, 32, 3)).astype(np.float32)
labels = rng.integers(0, 10, 64)
model = reference_network(0)
opt = SGD(model, lr=0.01, momentum=0.9)

def step():
    _, dlogits = softmax_cross_entropy(model.forward(images), labels)
    model.backward(dlogits)
    opt.step()

results["step"] = best_of(step)
if sys.argv[1] == "cpu":
    for h, c in ((32, 32), (16, 64), (8, 128)):
        layer = Conv2D(c, c, 3, padding=1, seed=0)
        x = rng.standard_normal((64, h, h, c)).astype(np.float32)
        g = rng.standard_normal((64, h, h, c)).astype(np.float32)

        def conv(layer=layer, x=x, g=g):
            layer.forward(x)
            layer.backward(g)

        results[f"conv {h}x{h}x{c}"] = best_of(conv)
print(json.dumps(results))
"""


def measure(checkout: Path, mode: str) -> dict:
    threads = "1" if mode == "cpu" else "2"
    env = {**os.environ, "PYTHONPATH": str(checkout), "CNNLIB_NUM_THREADS": threads,
           "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
    # cwd too: `python -c` puts the working directory first on sys.path
    out = subprocess.run([sys.executable, "-c", CHILD, mode], env=env, cwd=checkout,
                         capture_output=True, text=True, timeout=600, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if not result.pop("cnnlib").startswith(str(checkout)):
        raise RuntimeError(f"the child process did not import cnnlib from {checkout}")
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    runs: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    load = os.getloadavg()[0]
    for r in range(args.rounds):
        for mode in ("cpu", "wall"):
            for name, checkout in (("before", args.before), ("after", args.after)):
                for key, ms in measure(checkout.resolve(), mode).items():
                    label = f"{key} ({'1 thread, CPU' if mode == 'cpu' else '2 threads, wall'})"
                    runs[name].setdefault(label, []).append(ms)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    print(f"load average at start {load:.1f}, at end {os.getloadavg()[0]:.1f}; "
          f"median of {args.rounds} rounds, each the best of 5 runs")
    print("| workload | before ms | after ms | after / before |\n|---|---|---|---|")
    for label, before in runs["before"].items():
        b, a = statistics.median(before), statistics.median(runs["after"][label])
        print(f"| {label} | {b:.1f} | {a:.1f} | {a / b:.2f} |")


if __name__ == "__main__":
    main()
