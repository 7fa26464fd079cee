"""A small residual network with global average pooling against the reference network,
trained for the same wall-clock time on the book's CIFAR-10 subset.

Both networks get the book's recipe (`cnnlib.training.TrainConfig`: SGD with Nesterov
momentum, one-cycle learning rate, weight decay, label smoothing, crop + flip
augmentation). A one-cycle schedule needs its length in advance, so each network's epoch
count comes from timing a few of its training steps first: the most whole epochs that fit
the budget (at least one). The two then train in turns, an epoch each, and the measured
training time is reported next to the budget. Which is better is a decision, so it is
made on validation images (500 of the book's training images, 50 per class, as in the
CIFAR-10 chapter): the test images are not used here at all.

    python benchmarks/compare_residual.py                  # 300 s each, writes the results
    python benchmarks/compare_residual.py --budget 20 --subset 1000 --out-dir /tmp/r

Writes residual_vs_reference.md (a table) and residual_vs_reference.json (the numbers)
into --out-dir (default benchmarks/results). No promise which network wins: the table
says what happened on this machine, under its load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import statistics
from pathlib import Path

import numpy as np
from harness import RESULTS, cpu_model, load_average, table, time_interleaved, turns

import cnnlib
from cnnlib.nn.normalization import channel_stats
from cnnlib.training import TrainConfig, Trainer, evaluate_model
from cnnlib.training.splits import validation_split

VALIDATION_IMAGES = 500  # as the CIFAR-10 chapter holds out
NAMES = {"reference": "reference network (VGG-style, flatten + dense 256)",
         "residual": "residual network (3 blocks, global average pooling)"}


def build(name: str, mean: np.ndarray, std: np.ndarray, seed: int) -> cnnlib.Sequential:
    if name == "reference":
        return cnnlib.reference_network(seed=seed, mean=mean, std=std)
    return cnnlib.residual_network(seed=seed, mean=mean, std=std)


def seconds_per_step(models: dict[str, cnnlib.Sequential], x: np.ndarray, y: np.ndarray,
                     rounds: int = 12, warmup: int = 2) -> dict[str, float]:
    """Median seconds of one training step (batch 64: augmentation, forward, backward, SGD).

    The networks take turns, one step each per round, so a burst of load from another
    process slows them alike and their ratio stays fair. The models passed in are
    throw-away copies built only for timing.
    """
    trainers = {name: Trainer(m, x, y, TrainConfig(epochs=1)) for name, m in models.items()}
    bs = TrainConfig().batch_size

    def batches():  # the same endless sequence of batches for every network
        for i in itertools.count():
            idx = np.arange(i * bs, (i + 1) * bs) % len(y)
            yield x[idx], y[idx]

    streams = {name: batches() for name in trainers}
    times = time_interleaved(
        {name: (None, lambda t=trainer, s=streams[name]: t.train_step(*next(s)))
         for name, trainer in trainers.items()}, repeats=rounds, warmup=warmup)
    return {name: statistics.median(t) for name, t in times.items()}


def compare(budget: float, subset: int | None = None, seed: int = 0,
            verbose: bool = True, keep_models: bool = False) -> dict:
    """Train both networks for about `budget` seconds each; return their numbers.

    subset: use only the first `subset` training images (None: all 4,670 of the book that
    are not validation images).
    keep_models: also return the trained networks, under "models" (not JSON-able).
    """
    x_book, y_book, _, _ = cnnlib.load_cifar10(subset="book")
    x_train, y_train, x_val, y_val = validation_split(x_book, y_book, size=VALIDATION_IMAGES)
    if subset is not None:
        x_train, y_train = x_train[:subset], y_train[:subset]
    mean, std = channel_stats(x_train)
    load_start = load_average()
    results = {}
    names = ("reference", "residual")
    step_seconds = seconds_per_step({n: build(n, mean, std, seed) for n in names},
                                    x_train, y_train)
    steps_per_epoch = -(-len(y_train) // TrainConfig().batch_size)
    epochs = {n: max(1, int(budget // (step_seconds[n] * steps_per_epoch))) for n in names}
    models = {n: build(n, mean, std, seed) for n in names}
    trainers = {n: Trainer(models[n], x_train, y_train, TrainConfig(epochs=epochs[n], seed=seed))
                for n in names}
    if verbose:
        for n in names:
            print(f"{n}: {step_seconds[n] * 1e3:.0f} ms per step -> {epochs[n]} epochs "
                  "in the budget", flush=True)
    # The networks train in turns, one epoch each, so that load from other processes on
    # a shared machine falls on both alike (each trainer's schedule covers all its epochs).
    for e, n in turns(names, max(epochs.values())):
        if e < epochs[n]:
            trainers[n].run_epoch()
            if verbose:
                h = trainers[n].history
                print(f"{n:>9} epoch {e + 1:>2}/{epochs[n]}: train loss {h.train_loss[-1]:.3f}"
                      f" acc {h.train_acc[-1]:.3f} ({h.seconds[-1]:.1f} s)", flush=True)
    for name in names:
        model, trainer = models[name], trainers[name]
        history = trainer.history
        scored = evaluate_model(model, x_val, y_val, flip=trainer.config.test_flip)
        train_seconds = float(sum(history.seconds))
        results[name] = {
            "description": NAMES[name],
            "parameters": int(sum(p.size for p in model.params.values())),
            "epochs": epochs[name],
            "calibrated_ms_per_step": step_seconds[name] * 1e3,
            "train_seconds": train_seconds,
            "seconds_per_epoch": train_seconds / epochs[name],
            "val_accuracy": scored["accuracy"],
            "val_loss": scored["loss"],
            "final_train_accuracy": float(history.train_acc[-1]),
            "history": history.to_dict(),
        }
    result = {
        "budget_seconds": budget,
        "train_images": int(len(y_train)),
        "val_images": int(len(y_val)),
        "seed": seed,
        "machine": {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    "cpu": cpu_model(), "cores": str(os.cpu_count()),
                    "python": platform.python_version(), "numpy": np.__version__,
                    "load average at start": load_start, "load average at end": load_average()},
        "networks": results,
    }
    if keep_models:
        result["models"] = models
    return result


def markdown(result: dict) -> str:
    """The results as a Markdown table with the settings and the machine above it."""
    lines = [
        "# Residual network vs reference network at equal training time",
        "",
        f"Written by `benchmarks/compare_residual.py`. Budget: **{result['budget_seconds']:.0f} s "
        f"of training per network** on {result['train_images']:,} training images of the "
        f"book's CIFAR-10 subset, scored on {result['val_images']} validation images held out "
        f"from its training images (with flip averaging); the book's recipe, seed "
        f"{result['seed']}. Epoch counts come from "
        "timing a few steps of each network first; the two then trained in turns, one epoch "
        "each, so that load from other processes fell on both alike. The training time "
        "column is what was measured.",
        "",
        table(["network", "parameters", "epochs", "training time (s)", "s / epoch",
               "validation accuracy", "validation loss", "last-epoch train accuracy"],
              [[r["description"], f"{r['parameters']:,}", r["epochs"],
                f"{r['train_seconds']:.0f}", f"{r['seconds_per_epoch']:.1f}",
                f"{r['val_accuracy']:.1%}", f"{r['val_loss']:.3f}",
                f"{r['final_train_accuracy']:.1%}"] for r in result["networks"].values()]),
    ]
    slowest = max(r["train_seconds"] for r in result["networks"].values())
    if slowest > 1.2 * result["budget_seconds"]:
        lines += ["", f"Training took up to {slowest / result['budget_seconds']:.1f}× the "
                  "budget: the machine was busier while the networks trained than while their "
                  "first steps were timed (see the load average below). Training in turns, "
                  "both met the same load: compare their measured times, not the budget."]
    lines += ["", "## Machine", "", table(["", "measured on"], result["machine"].items())]
    lines += ["", "The machine is shared: the load average shows how busy it was. "
              "Accuracy on 500 validation images moves by about ±2 percentage points "
              "(one standard error) from chance alone.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=300.0,
                        help="seconds of training per network (default 300)")
    parser.add_argument("--subset", type=int, default=None,
                        help="use only the first N training images (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    parser.add_argument("--table-only", action="store_true",
                        help="rewrite the .md table from the .json of an earlier run, no training")
    args = parser.parse_args(argv)
    if args.table_only:
        result = json.loads((args.out_dir / "residual_vs_reference.json").read_text())
        (args.out_dir / "residual_vs_reference.md").write_text(markdown(result))
        return
    if not args.budget > 0:
        parser.error(f"--budget {args.budget} must be positive")
    result = compare(args.budget, args.subset, args.seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "residual_vs_reference.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (args.out_dir / "residual_vs_reference.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
