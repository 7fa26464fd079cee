"""One training run of a named recipe, in a process of its own, scored after every epoch.

    harness.child_result("recipe_child.py", [RECIPE, "--seed", S, ...])

RECIPE is a name of `cnnlib.training.recipes.RECIPES`. The run trains on the book's
CIFAR-10 images minus 500 held out for validation (`validation_split`, as chapter 10),
scores the validation images after every epoch and, once at the end, the book's 500 test
images (reported, never used to choose anything). The ablation switches change one thing:
--no-whiten starts the fast network's first convolution from random filters instead of
patch whitening; --epochs, --lr, --label-smoothing and --crop-padding change that
setting of the recipe; --ema DECAY (weight averaging), --test-shift S (flip-and-shift
test-time augmentation) and --alternating-flip switch on the TrainConfig options of the
same names. Scores (validation per epoch, test at the end) are the trainer's: of the
averaged weights with --ema, with the recipe's test-time augmentation.

Prints {"val_acc": [per epoch], "step_seconds": [SGD time per epoch], "seconds": [wall
time per epoch, scoring included], "test_acc": final test accuracy, "params": count,
"load_start"/"load_end": the 1/5/15-minute load averages when training began and ended}.
bench_recipes.py runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from harness import send_result

from cnnlib import load_cifar10
from cnnlib.nn.layers import Sequential
from cnnlib.nn.models import fast_network
from cnnlib.nn.normalization import channel_stats
from cnnlib.training import TrainConfig, Trainer
from cnnlib.training.metrics import evaluate_model
from cnnlib.training.recipes import RECIPES, recipe
from cnnlib.training.splits import validation_split

VALIDATION = 500


def variants(config: TrainConfig, model: Sequential, x_train: np.ndarray,
             y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, x_test: np.ndarray,
             y_test: np.ndarray, log: Path | None = None,
             only: list[str] | None = None) -> dict:
    """One training run scored several ways after every epoch: the raw weights and (with
    ema_decay > 0) their average, each with flip averaging and (with test_shift > 0) with
    flip-and-shift views. Neither the average nor the scoring changes the training (the
    average only reads the weights; scoring runs in evaluation mode and draws nothing),
    so each way is exactly the run its settings alone would give. Each way's scoring is
    timed on its own: its seconds are the SGD steps' plus its own scoring.

    {"step_seconds": [per epoch], "variants": {name: {"val_acc": [...], "score_seconds":
    [...], "test_acc": final}}, "load_start", "load_end", "params"}.
    """
    trainer = Trainer(model, x_train, y_train, config)  # no x_val: scored below, timed
    ways = {"raw": False} | ({"EMA": True} if config.ema_decay > 0 else {})
    shifts = {"flip": 0} | ({"flip+shift": config.test_shift} if config.test_shift else {})
    names = {f"{w}, {s}": (avg, shift) for w, avg in ways.items() for s, shift in shifts.items()}
    if only is not None:
        unknown = set(only) - set(names)
        if unknown:
            raise ValueError(f"--only {sorted(unknown)}: the ways are {sorted(names)}")
        names = {name: names[name] for name in only}
    out = {name: {"val_acc": [], "score_seconds": []} for name in names}

    def score(averaged: bool, shift: int, images: np.ndarray, labels: np.ndarray) -> float:
        if averaged:
            with trainer.average.applied(trainer.model) as m:
                return evaluate_model(m, images, labels, flip=config.test_flip,
                                      shift=shift)["accuracy"]
        return evaluate_model(trainer.model, images, labels, flip=config.test_flip,
                              shift=shift)["accuracy"]

    load_start = os.getloadavg()
    for _ in range(config.epochs):
        trainer.run_epoch()
        for name, (averaged, shift) in names.items():
            start = time.perf_counter()
            out[name]["val_acc"].append(score(averaged, shift, x_val, y_val))
            out[name]["score_seconds"].append(time.perf_counter() - start)
        if log is not None:
            with log.open("a") as f:
                f.write(json.dumps({"epoch": trainer.epoch, "load": list(os.getloadavg()),
                                    "step_seconds": trainer.history.seconds[-1],
                                    **{k: v["val_acc"][-1] for k, v in out.items()}}) + "\n")
    load_end = os.getloadavg()
    for name, (averaged, shift) in names.items():
        out[name]["test_acc"] = score(averaged, shift, x_test, y_test)
    return {"step_seconds": trainer.history.seconds, "variants": out,
            "load_start": list(load_start), "load_end": list(load_end),
            "params": int(sum(v.size for v in model.params.values()))}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("recipe", choices=sorted(RECIPES))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--label-smoothing", type=float, default=None)
    p.add_argument("--lr", type=float, default=None, help="peak learning rate")
    p.add_argument("--crop-padding", type=int, default=None,
                   help="crop_padding: the random translation's range, in pixels")
    p.add_argument("--no-whiten", action="store_true")
    p.add_argument("--ema", type=float, default=None, help="ema_decay (weight averaging)")
    p.add_argument("--test-shift", type=int, default=None, help="test_shift (pixels)")
    p.add_argument("--alternating-flip", action="store_true")
    p.add_argument("--variants", action="store_true",
                   help="score raw and averaged weights, with and without the shift views")
    p.add_argument("--only", nargs="+", default=None,
                   help="with --variants: score only these ways (e.g. 'raw, flip')")
    p.add_argument("--log", type=Path, default=None,
                   help="with --variants: append each epoch's scores to this file as a "
                        "JSON line (what a run cut short leaves behind)")
    p.add_argument("--limit", type=int, default=None, help="first N training images (smoke)")
    args = p.parse_args()

    x, y, x_test, y_test = load_cifar10(subset="book")
    if args.limit is not None:
        x, y = x[:args.limit], y[:args.limit]
    x_train, y_train, x_val, y_val = validation_split(x, y, min(VALIDATION, len(y) // 2))
    settings = {"seed": args.seed}
    # Each option that was given changes the TrainConfig setting of the same meaning.
    for option, setting in (("epochs", "epochs"), ("label_smoothing", "label_smoothing"),
                            ("lr", "lr"), ("crop_padding", "crop_padding"),
                            ("ema", "ema_decay"), ("test_shift", "test_shift")):
        if getattr(args, option) is not None:
            settings[setting] = getattr(args, option)
    if args.alternating_flip:
        settings["alternating_flip"] = True
    chosen = recipe(args.recipe).with_settings(**settings)
    if args.no_whiten:
        if args.recipe != "fast":
            p.error("--no-whiten changes the fast recipe only")
        mean, std = channel_stats(x_train)
        model = fast_network(args.seed, mean=mean, std=std)
    else:
        model = chosen.network(x_train)
    if args.variants:
        send_result(variants(chosen.config, model, x_train, y_train, x_val, y_val,
                             x_test, y_test, args.log, args.only))
        return
    trainer = Trainer(model, x_train, y_train, chosen.config, x_val=x_val, y_val=y_val)
    wall = []
    load_start = os.getloadavg()
    for _ in range(chosen.config.epochs):
        start = time.perf_counter()
        trainer.run_epoch()
        wall.append(time.perf_counter() - start)
    load_end = os.getloadavg()
    test = trainer.evaluate(x_test, y_test)
    send_result({"val_acc": trainer.history.val_acc, "step_seconds": trainer.history.seconds,
                 "seconds": wall, "test_acc": test["accuracy"],
                 "params": int(sum(v.size for v in model.params.values())),
                 "load_start": list(load_start), "load_end": list(load_end)})


if __name__ == "__main__":
    main()
