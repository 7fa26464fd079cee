"""Epochs of the default recipe, cnnlib or its PyTorch twin, in a process of their own.

    harness.child_result("epoch_child.py", [CONTENDER, "--epochs", E, "--limit", N], ...)

CONTENDER is cnnlib (`Trainer.run_epoch`, as `fit()` runs it) or pytorch (the same
network through `contenders.torch_reference_network`, the same augmentation, learning
rate at every step, label-smoothed loss and SGD with weight-decay groups; bench_epoch.py
describes the recipe). E epochs of the first N images of the book's CIFAR-10 subset; with
two or more, the first warms caches, allocators and thread pools up and is not counted.

Prints {"seconds": [one per counted epoch], "peak_mb": the process's peak resident memory,
"steps": per epoch}. Only the contender's own library is imported: in cnnlib's process
PyTorch's memory and idle threads never exist. bench_epoch.py and bench_limits.py run it.
"""

from __future__ import annotations

import argparse
import resource
from collections.abc import Callable

import numpy as np
from harness import send_result, time_interleaved

from cnnlib import load_cifar10, reference_network
from cnnlib.training import TrainConfig, Trainer

try:
    from cnnlib.nn.normalization import channel_stats
except ImportError:  # a --before checkout from before the folders (commit e550856)
    from cnnlib.normalization import channel_stats


def cnnlib_epoch(x: np.ndarray, y: np.ndarray, config: TrainConfig) -> Callable[[], float]:
    """A function that trains cnnlib's reference network one more epoch per call."""
    mean, std = channel_stats(x)
    trainer = Trainer(reference_network(0, mean=mean, std=std), x, y, config)
    if hasattr(trainer, "run_epoch"):
        return trainer.run_epoch

    def epoch() -> float:
        # A --before checkout from before Trainer.run_epoch was public (commit 1401442):
        # the two steps its fit() ran per epoch, which run_epoch() now bundles.
        trainer._run_epoch(False, None)
        seconds = trainer.totals.seconds
        trainer._end_epoch(False)
        return seconds

    return epoch


def pytorch_epoch(x: np.ndarray, y: np.ndarray, config: TrainConfig) -> Callable[[], None]:
    """The same, for the PyTorch twin: one more epoch of the same recipe per call."""
    import torch
    from contenders import torch_recipe_step, torch_reference_network

    from cnnlib.training.augment import augment

    torch.manual_seed(0)
    mean, std = channel_stats(x)
    net = torch_reference_network(like=reference_network(0, mean=mean, std=std))
    bs, steps = config.batch_size, -(-len(y) // config.batch_size)
    step = torch_recipe_step(net, config, steps)
    aug_rng = np.random.default_rng([config.seed, 2])  # the streams cnnlib's Trainer uses
    labels = torch.from_numpy(y)
    done = {"epochs": 0}

    def epoch() -> None:
        net.train()
        e = done["epochs"]
        order = np.random.default_rng([config.seed, 1, e]).permutation(len(y))
        for i in range(steps):
            idx = order[i * bs:(i + 1) * bs]
            step(augment(x[idx], config.crop_padding, config.flip, seed=aug_rng), labels[idx],
                 e * steps + i)
        done["epochs"] += 1

    return epoch


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("contender", choices=("cnnlib", "pytorch"))
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--limit", type=int, default=5170, help="training images")
    args = p.parse_args()
    x, y, _, _ = load_cifar10(subset="book")
    x, y = x[:args.limit], y[:args.limit]
    config = TrainConfig(epochs=args.epochs)
    epoch = (cnnlib_epoch if args.contender == "cnnlib" else pytorch_epoch)(x, y, config)
    warmup = 1 if args.epochs > 1 else 0
    seconds = time_interleaved({args.contender: (None, epoch)}, repeats=args.epochs - warmup,
                               warmup=warmup)[args.contender]
    send_result({"seconds": seconds, "steps": -(-len(y) // config.batch_size),
                 "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


if __name__ == "__main__":
    main()
