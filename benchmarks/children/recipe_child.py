"""One training run of a named recipe, in a process of its own, scored after every epoch.

    harness.child_result("recipe_child.py", [RECIPE, "--seed", S, ...])

RECIPE is a name of `cnnlib.training.recipes.RECIPES`. The run trains on the book's
CIFAR-10 images minus 500 held out for validation (`validation_split`, as chapter 10),
scores the validation images after every epoch and, once at the end, the book's 500 test
images (reported, never used to choose anything). The ablation switches change one thing:
--no-whiten starts the fast network's first convolution from random filters instead of
patch whitening; --epochs and --label-smoothing change that setting of the recipe.

Prints {"val_acc": [per epoch], "step_seconds": [SGD time per epoch], "seconds": [wall
time per epoch, scoring included], "test_acc": final test accuracy, "params": count}.
bench_recipes.py runs it.
"""

from __future__ import annotations

import argparse
import time

from harness import send_result

from cnnlib import load_cifar10
from cnnlib.nn.models import fast_network
from cnnlib.nn.normalization import channel_stats
from cnnlib.training import Trainer
from cnnlib.training.metrics import evaluate_model
from cnnlib.training.recipes import RECIPES, recipe
from cnnlib.training.splits import validation_split

VALIDATION = 500


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("recipe", choices=sorted(RECIPES))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--label-smoothing", type=float, default=None)
    p.add_argument("--no-whiten", action="store_true")
    p.add_argument("--limit", type=int, default=None, help="first N training images (smoke)")
    args = p.parse_args()

    x, y, x_test, y_test = load_cifar10(subset="book")
    if args.limit is not None:
        x, y = x[:args.limit], y[:args.limit]
    x_train, y_train, x_val, y_val = validation_split(x, y, min(VALIDATION, len(y) // 2))
    settings = {"seed": args.seed}
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    if args.label_smoothing is not None:
        settings["label_smoothing"] = args.label_smoothing
    chosen = recipe(args.recipe).with_settings(**settings)
    if args.no_whiten:
        if args.recipe != "fast":
            p.error("--no-whiten changes the fast recipe only")
        mean, std = channel_stats(x_train)
        model = fast_network(args.seed, mean=mean, std=std)
    else:
        model = chosen.network(x_train)
    trainer = Trainer(model, x_train, y_train, chosen.config, x_val=x_val, y_val=y_val)
    wall = []
    for _ in range(chosen.config.epochs):
        start = time.perf_counter()
        trainer.run_epoch()
        wall.append(time.perf_counter() - start)
    test = evaluate_model(trainer.model, x_test, y_test, flip=chosen.config.test_flip)
    send_result({"val_acc": trainer.history.val_acc, "step_seconds": trainer.history.seconds,
                 "seconds": wall, "test_acc": test["accuracy"],
                 "params": int(sum(v.size for v in model.params.values()))})


if __name__ == "__main__":
    main()
