"""Train a CIFAR-10 network of the book: by default its reference network (chapter 10).

    python -m cnnlib.train --data DIR [--recipe book50|fast12|fast16|fast] [--epochs N]
                           [--seed S] --out model.npz

Without --recipe it trains the book's reference network with the 50-epoch recipe
("book50"), as the book's contract (DESIGN.md) promises the programs that call it;
`--recipe fast12` trains the fast recipe that chapter 10 builds last (about 74 %
validation accuracy on the book's images in about 5 minutes on two cores, against about
75 % in about 15 for "book50").

Trains on every image of DIR's five data_batch_* files (never on test_batch; `--subset
book` takes the book's 5,170 images instead, `--limit N` the first N; `--validation N`
holds N of them out, class-balanced, and scores them after every epoch) with a recipe of
`cnnlib.training.recipes` (a network and its `TrainConfig`; the flags below change single
settings), shows a progress bar per epoch, writes a checkpoint
atomically after every epoch, and finally the model file (architecture, weights, batch-
norm statistics, input normalization; the weight average for a recipe that keeps one) for
`python -m cnnlib.evaluate`, which scores with the test-time views the recipe names.

Exit status: 0 done; 1 the loss diverged (NaN/inf; the last good checkpoint is kept) or
a file could not be written;
2 bad arguments or data; 130 stopped by Ctrl-C (a checkpoint to --resume from is saved).
Book: chapter 10 (the command line).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from ..nn.serialization import save_model
from ..training.data import ENV_VAR, SUBSETS, load_cifar10, load_cifar10_label_names
from ..training.recipes import DEFAULT_RECIPE, RECIPES, recipe
from ..training.schedules import SCHEDULES
from ..training.splits import validation_split
from ..training.trainer import History, Trainer, TrainingDiverged, TrainingInterrupted
from .preflight import check_readable_file, check_writable_file

# Recipe options: (flag, TrainConfig field, type, help).
RECIPE = [
    ("--epochs", "epochs", int, "passes over the training set"),
    ("--seed", "seed", int, "seed of the weights, shuffling, augmentation and dropout"),
    ("--batch-size", "batch_size", int, "images per SGD step"),
    ("--lr", "lr", float, "peak learning rate of the schedule"),
    ("--weight-decay", "weight_decay", float, "L2 penalty on conv and dense weights"),
    ("--label-smoothing", "label_smoothing", float, "label smoothing ε"),
    ("--schedule", "schedule", str, "learning-rate schedule"),
]


def build_parser() -> argparse.ArgumentParser:
    defaults = RECIPES[DEFAULT_RECIPE].config
    p = argparse.ArgumentParser(
        prog="python -m cnnlib.train",
        description="Train one of the book's CNNs on CIFAR-10's training batches.")
    p.add_argument("--data", default=os.environ.get(ENV_VAR) or None,
                   help=f"folder holding cifar-10-batches-py/ (default: ${ENV_VAR}; "
                        "with neither, the official archive is downloaded)")
    p.add_argument("--out", default="model.npz", help="model file to write (default: model.npz)")
    p.add_argument("--recipe", choices=sorted(RECIPES), default=DEFAULT_RECIPE,
                   help="network and training settings: " + "; ".join(
                       f"{name}: {r.description}" for name, r in RECIPES.items())
                   + f" (default: {DEFAULT_RECIPE})")
    for flag, name, typ, text in RECIPE:
        choices = sorted(SCHEDULES) if name == "schedule" else None
        p.add_argument(flag, type=typ, default=None, choices=choices,
                       help=f"{text} (default: the recipe's; {DEFAULT_RECIPE}: "
                            f"{getattr(defaults, name)})")
    p.add_argument("--subset", choices=SUBSETS, default="full",
                   help="which images of DIR: 'full' every image of its training batches "
                        "(default), 'book' the book's 5,170")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="train on the first N of those images only (quick runs)")
    p.add_argument("--validation", type=int, default=0, metavar="N",
                   help="hold out N of the training images (the same number per class) "
                        "and score them after every epoch (default: 0, train on all)")
    p.add_argument("--checkpoint", default=None,
                   help="checkpoint file, rewritten after every epoch "
                        "(default: OUT with .ckpt.npz, e.g. model.ckpt.npz)")
    p.add_argument("--resume", metavar="CKPT", default=None,
                   help="continue the training saved in this checkpoint")
    p.add_argument("--monitor-test", action="store_true",
                   help="also score test_batch after every epoch (reported only, never used)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def default_checkpoint(out: Path) -> Path:
    name = out.name[:-4] if out.name.endswith(".npz") else out.name
    return out.with_name(name + ".ckpt.npz")


def _recipe(args: argparse.Namespace) -> dict:
    return {name: getattr(args, name) for _, name, _, _ in RECIPE
            if getattr(args, name) is not None}


def _prepare(args: argparse.Namespace) -> tuple[Trainer, list[str], Path, Path]:
    """Load data and build (or resume) the trainer; raises ValueError/FileNotFoundError.

    Everything that can be checked without the data is checked first, so a typo fails
    in a second, not after loading 50,000 images or training an epoch.
    """
    out = check_writable_file(args.out, "--out")
    ckpt = check_writable_file(args.checkpoint or default_checkpoint(out), "--checkpoint")
    if args.resume:
        check_readable_file(args.resume, "--resume")
    else:
        recipe(args.recipe).with_settings(**_recipe(args))  # checked before any data is read
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit {args.limit} must be at least 1 (a number of images)")
    if args.validation < 0:
        raise ValueError(f"--validation {args.validation} must be 0 (none) or a number of "
                         "images")
    x_train, y_train, x_test, y_test = load_cifar10(args.data, subset=args.subset)
    if args.limit is not None:
        if args.limit > len(y_train):
            raise ValueError(f"--limit {args.limit} must lie in 1..{len(y_train)} "
                             "(the number of training images)")
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    names = load_cifar10_label_names(args.data)
    held_out = {}
    if args.validation:
        try:
            x_train, y_train, x_val, y_val = validation_split(x_train, y_train,
                                                              args.validation)
        except ValueError as err:
            raise ValueError(f"--validation {args.validation}: {err}") from None
        held_out = {"x_val": x_val, "y_val": y_val}
    if args.monitor_test:
        held_out |= {"x_test": x_test, "y_test": y_test}
    if args.resume:
        trainer = Trainer.from_checkpoint(args.resume, x_train, y_train, **held_out)
        saved = trainer.config.to_dict()
        for key, value in _recipe(args).items():
            if saved[key] != value:
                raise ValueError(f"--{key.replace('_', '-')} {value} differs from the "
                                 f"checkpoint's {saved[key]}: a resumed run keeps its recipe")
        print(f"Resuming {args.resume} at epoch {trainer.epoch + 1}, step {trainer.step}",
              file=sys.stderr)
    else:
        chosen = recipe(args.recipe).with_settings(**_recipe(args))
        trainer = Trainer(chosen.network(x_train), x_train, y_train, chosen.config, **held_out)
    return trainer, names, out, ckpt


def _validation_result(history: History) -> str:
    acc = history.val_acc[-1]
    return "" if math.isnan(acc) else f", validation accuracy {acc:.3f}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        trainer, names, out, ckpt = _prepare(args)
    except (ValueError, FileNotFoundError, ConnectionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    c = trainer.config
    n_params = sum(p.size for p in trainer.model.params.values())
    what = "the resumed network" if args.resume else recipe(args.recipe).network_name
    print(f"Training {what} ({n_params:,} parameters) on {len(trainer.y_train):,} "
          f"images: {c.epochs} epochs of {trainer.steps_per_epoch} steps, batch {c.batch_size}, "
          f"{c.schedule} lr {c.lr:g}, seed {c.seed}; checkpoint {ckpt}", file=sys.stderr)
    start = time.perf_counter()
    try:
        # One summary line per epoch when there are scores to show or no progress bar.
        scored = args.monitor_test or bool(args.validation)
        history = trainer.fit(checkpoint=ckpt, progress=not args.no_progress,
                              verbose=scored or args.no_progress)
    except TrainingInterrupted as err:
        print(f"\n{err}", file=sys.stderr)
        return 130
    except TrainingDiverged as err:
        print(f"\nerror: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # the disk filled up or the folder vanished mid-run
        print(f"\nerror: could not write the checkpoint {ckpt}: {err}", file=sys.stderr)
        return 1
    wall = time.perf_counter() - start
    metadata = {"class_names": names, "recipe": None if args.resume else args.recipe,
                "config": c.to_dict(), "history": history.to_dict(),
                "train_images": len(trainer.y_train), "validation_images": args.validation,
                "train_seconds": round(wall, 1)}
    try:
        with trainer.scoring() as model:  # the weight average, when the recipe keeps one
            save_model(out, model, metadata)
    except OSError as err:
        print(f"error: could not write the model {out}: {err}; the last checkpoint {ckpt} "
              "holds the trained weights", file=sys.stderr)
        return 1
    step_time = float(np.sum(history.seconds))
    print(f"Trained {c.epochs} epochs in {wall:.0f} s ({step_time / max(c.epochs, 1):.1f} s of "
          f"SGD steps per epoch); final epoch: train loss {history.train_loss[-1]:.3f}, "
          f"train accuracy {history.train_acc[-1]:.3f}{_validation_result(history)}. Model saved "
          f"to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
