"""End to end: seconds per epoch of the book's default recipe, cnnlib against a PyTorch twin.

    python benchmarks/bench_epoch.py [--epochs 2] [--rounds 3] [--threads 2] [--limit N]
                                     [--before DIR] [--winograd]

What a reader waits for is a whole epoch: augmentation, forward, loss, backward,
optimizer step and data handling, not one layer. Both contenders train the reference
network of chapter 10 on the book's CIFAR-10 subset with the default recipe
(`cnnlib.training.TrainConfig`): batch 64, pad-4 random crops and flips, batch norm,
dropout 0.5, label smoothing 0.1, SGD with Nesterov momentum 0.9 and weight decay 5e-4 on
conv and dense weights, the one-cycle schedule.

- cnnlib: `cnnlib.training.Trainer`, exactly as chapter 10 and `python -m cnnlib.train`.
- PyTorch: the same layers (`contenders.torch_reference_network`), the same augmentation
  (`cnnlib.training.augment`, on the uint8 batch, so both pay the same for it), the same learning
  rate at every step (`cnnlib.training.schedules`), `torch.nn.functional.cross_entropy` with label
  smoothing, `torch.optim.SGD` with parameter groups for weight decay.

- cnnlib, Winograd on (with --winograd): this checkout with CNNLIB_WINOGRAD=1, so the
  3×3 layers run Winograd's F(2×2, 3×3) whatever the thread count.
- cnnlib before (with --before DIR): the same as cnnlib, from another checkout of this
  repository (e.g. `git worktree add /tmp/before <commit>`), for before/after numbers
  taken side by side in one run.

Each contender runs in a process of its own (in one process, each library's idle threads
slow the other), the two take turns, round after round, and the median over rounds is
reported, with the load average, the peak memory of each process, and where cnnlib's
epoch goes (a separate, instrumented run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, os.environ["BENCH_DIR"])
import numpy as np
import cnnlib
from cnnlib.training.augment import augment
from cnnlib.nn.models import reference_network
from cnnlib.nn.normalization import channel_stats
from cnnlib.training.schedules import make_schedule
from cnnlib.training import TrainConfig, Trainer

which, epochs, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
steps = -(-limit // TrainConfig().batch_size)
x, y, _, _ = cnnlib.load_cifar10(subset="book")
x, y = x[:limit], y[:limit]
config = TrainConfig(epochs=epochs)
mean, std = channel_stats(x)
seconds = []

if which != "pytorch":
    model = reference_network(0, mean=mean, std=std)
    trainer = Trainer(model, x, y, config)
    for _ in range(epochs):
        start = time.perf_counter()
        trainer.run_epoch()
        seconds.append(time.perf_counter() - start)
else:
    import torch
    from contenders import torch_reference_network
    torch.set_num_threads(int(os.environ["CNNLIB_NUM_THREADS"]))
    torch.manual_seed(0)
    net = torch_reference_network(like=reference_network(0, mean=mean, std=std))
    decay = [p for p in net.parameters() if p.ndim > 1]
    no_decay = [p for p in net.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": config.weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=config.lr, momentum=config.momentum, nesterov=config.nesterov)
    steps = -(-len(y) // config.batch_size)
    schedule = make_schedule(config.schedule, config.lr, steps * epochs)
    rng = np.random.default_rng(0)
    labels_all = torch.from_numpy(y)
    step = 0
    for epoch in range(epochs):
        start = time.perf_counter()
        net.train()
        order = np.random.default_rng([0, 1, epoch]).permutation(len(y))
        for i in range(steps):
            idx = order[i * config.batch_size:(i + 1) * config.batch_size]
            batch = augment(x[idx], config.crop_padding, config.flip, seed=rng)
            images = torch.from_numpy(np.ascontiguousarray(
                batch.transpose(0, 3, 1, 2), dtype=np.float32))
            for group in opt.param_groups:
                group["lr"] = schedule(step)
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(
                net(images), labels_all[idx], label_smoothing=config.label_smoothing)
            loss.backward()
            opt.step()
            step += 1
        seconds.append(time.perf_counter() - start)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "steps": steps,
                  "cnnlib": cnnlib.__file__}))
"""

PROFILE = r"""
import json, os, sys, time
from collections import defaultdict
import numpy as np
import cnnlib
import cnnlib.training.trainer as training  # the trainer module: the profile wraps its helpers
from cnnlib.nn.models import reference_network
from cnnlib.nn.normalization import channel_stats
from cnnlib.training import TrainConfig, Trainer

limit = int(sys.argv[1])
x, y, _, _ = cnnlib.load_cifar10(subset="book")
x, y = x[:limit], y[:limit]
mean, std = channel_stats(x)
model = reference_network(0, mean=mean, std=std)
trainer = Trainer(model, x, y, TrainConfig(epochs=1))
totals = defaultdict(float)

def timed(fn, key):
    def run(*args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        totals[key] += time.perf_counter() - start
        return out
    return run

first = next(layer for layer in model.layers if layer.params)
for layer in model.layers:
    kind = type(layer).__name__
    # backward_params is called on the first layer with parameters only; elsewhere it runs
    # inside backward (Linear's), and timing it too would count that time twice.
    for phase in ("forward", "backward") + (("backward_params",) if layer is first else ()):
        setattr(layer, phase, timed(getattr(layer, phase), f"{kind} {phase.split('_')[0]}"))
training.augment = timed(training.augment, "augmentation")
training.softmax_cross_entropy = timed(training.softmax_cross_entropy, "loss")
training.cross_entropy = timed(training.cross_entropy, "loss")
trainer.optimizer.step = timed(trainer.optimizer.step, "optimizer step")
start = time.perf_counter()
trainer.run_epoch()
total = time.perf_counter() - start
totals["other (batching, Python)"] = max(0.0, total - sum(totals.values()))
print(json.dumps({"total": total, "parts": totals}))
"""


# The engine's Winograd path, switched on by the environment whatever the thread count.
WINOGRAD_NAME = "cnnlib, Winograd on (CNNLIB_WINOGRAD=1)"


def run_child(code: str, args: list[str], threads: int, checkout: Path | None = None,
              extra_env: dict[str, str] | None = None) -> dict:
    """Run code in a fresh process; with checkout, its `import cnnlib` finds that checkout."""
    env = {**os.environ, "CNNLIB_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "OMP_NUM_THREADS": str(threads), "BENCH_DIR": str(HERE), **(extra_env or {})}
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    # cwd too: `python -c` puts the working directory first on sys.path
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=3600, cwd=checkout)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if checkout is not None and not result["cnnlib"].startswith(str(checkout)):
        raise RuntimeError(f"the child process did not import cnnlib from {checkout}")
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=2, help="epochs per run (the first warms up)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=5170, help="training images (default: all)")
    p.add_argument("--before", type=Path, default=None,
                   help="another checkout of this repository, timed as 'cnnlib before'")
    p.add_argument("--winograd", action="store_true",
                   help="also time this checkout with CNNLIB_WINOGRAD=1")
    p.add_argument("--out", type=Path, default=HERE / "results" / "epoch.md")
    args = p.parse_args()
    load_start = os.getloadavg()
    contenders: dict[str, Path | None] = {"cnnlib": None, "PyTorch": None}
    if args.winograd:
        contenders = {"cnnlib": None, WINOGRAD_NAME: None, "PyTorch": None}
    if args.before is not None:
        contenders = {"cnnlib before": args.before.resolve(), **contenders}
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    peaks: dict[str, list[float]] = {name: [] for name in contenders}
    steps = 1
    for r in range(args.rounds):
        for name, checkout in contenders.items():
            which = "pytorch" if name == "PyTorch" else "cnnlib"
            result = run_child(CHILD, [which, str(args.epochs), str(args.limit)],
                               args.threads, checkout,
                               {"CNNLIB_WINOGRAD": "1" if name == WINOGRAD_NAME else ""})
            # the first epoch warms caches, allocators and thread pools up: not counted
            runs[name] += result["seconds"][1:] or result["seconds"]
            peaks[name].append(result["peak_mb"])
            steps = result["steps"]
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"{n} {runs[n][-1]:.1f} s" for n in runs), file=sys.stderr)
    profile = run_child(PROFILE, [str(args.limit)], args.threads, None, {"CNNLIB_WINOGRAD": ""})
    load_end = os.getloadavg()
    median = {n: statistics.median(v) for n, v in runs.items()}
    lines = [
        "# One epoch of the default recipe: cnnlib against its PyTorch twin",
        "",
        f"{args.limit:,} training images (the book subset), batch 64, {args.threads} threads "
        f"each, each contender in its own process, in turns; {args.rounds} rounds of "
        f"{args.epochs} epochs (the first epoch of each run is a warm-up and not counted).",
        f"Load average (1, 5, 15 min) at start {tuple(round(v, 1) for v in load_start)}, at "
        f"end {tuple(round(v, 1) for v in load_end)}"
        + (" — the machine was busy: treat the ratio with care." if load_start[0] > 0.5 else
           " (quiet)."),
        "",
        "| contender | s per epoch (median) | all runs | ms per step | × PyTorch "
        "| peak memory MB |",
        "|---|---|---|---|---|---|",
    ]
    for name in runs:
        lines.append(f"| {name} | {median[name]:.1f} | "
                     f"{', '.join(f'{v:.1f}' for v in runs[name])} | "
                     f"{1e3 * median[name] / steps:.0f} | "
                     f"{median[name] / median['PyTorch']:.2f} | {max(peaks[name]):.0f} |")
    lines += ["", "Where cnnlib's epoch goes (the default engine, one instrumented epoch, wall "
              "clock; the instrumentation adds a little time of its own):", "",
              "| part | s | share |", "|---|---|---|"]
    for part, sec in sorted(profile["parts"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {part} | {sec:.2f} | {100 * sec / profile['total']:.0f} % |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
