"""One training run of a named recipe in PyTorch (the recipe's twin), scored after every epoch.

    harness.child_result("recipe_torch_child.py", [RECIPE, "--seed", S, ...])

The same network as cnnlib's recipe builds (`cnnlib.interop.to_torch` of it: the same
initial weights, the same whitened first layer), the same images, validation split,
augmentation (cnnlib's NumPy crops and flips, alternating flips included), learning rate
at every step, label-smoothed loss, Nesterov SGD with weight decay on conv and dense
weights only, weight average (decay per step with the same warm-up rule, batch-norm
statistics included) and test-time views (`cnnlib.training.metrics.tta_views`). What
differs is the engine: PyTorch's oneDNN convolutions and autograd instead of cnnlib's
NumPy. So its seconds to an accuracy answer "how much of cnnlib's time is the recipe's
and how much the engine's".

Prints {"val_acc": [per epoch], "step_seconds": [SGD time per epoch], "seconds": [wall
time per epoch, scoring included], "test_acc": final, "params", "load_start"/"load_end"},
as recipe_child.py. bench_recipes.py --time-to-accuracy runs it.
"""

from __future__ import annotations

import argparse
import copy
import os
import time

import numpy as np
import torch
from cnnlib.interop import to_torch
from contenders import torch_images, torch_recipe_step
from harness import send_result

from cnnlib import load_cifar10
from cnnlib.training.augment import alternating_flip, augment, flip_pattern, random_crop
from cnnlib.training.metrics import tta_views
from cnnlib.training.recipes import RECIPES, recipe
from cnnlib.training.splits import validation_split

VALIDATION = 500


@torch.no_grad()
def accuracy(net: torch.nn.Module, images: np.ndarray, labels: np.ndarray, flip: bool,
             shift: int, batch: int = 500) -> float:
    """Accuracy of the averaged logits of the test-time views, in evaluation mode."""
    net.eval()
    correct = 0
    for i in range(0, len(images), batch):
        views = tta_views(images[i:i + batch], flip, shift)
        logits = sum(net(torch_images(v)) for v in views)
        correct += int((logits.argmax(1).numpy() == labels[i:i + batch]).sum())
    net.train()
    return correct / len(labels)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("recipe", choices=sorted(RECIPES))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--limit", type=int, default=None, help="first N training images (smoke)")
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.manual_seed(args.seed)

    x, y, x_test, y_test = load_cifar10(subset="book")
    if args.limit is not None:
        x, y = x[:args.limit], y[:args.limit]
    x_train, y_train, x_val, y_val = validation_split(x, y, min(VALIDATION, len(y) // 2))
    chosen = recipe(args.recipe).with_settings(
        seed=args.seed, **({"epochs": args.epochs} if args.epochs else {}))
    c = chosen.config
    net = to_torch(chosen.network(x_train))
    steps = -(-len(y_train) // c.batch_size)
    step = torch_recipe_step(net, c, steps)
    rng = np.random.default_rng([c.seed, 2])
    first = flip_pattern(len(y_train), seed=np.random.default_rng([c.seed, 3]))
    labels = torch.from_numpy(y_train)
    average = ({k: v.detach().clone() for k, v in net.state_dict().items()
                if v.is_floating_point()} if c.ema_decay > 0 else None)
    updates = 0

    def scored() -> torch.nn.Module:
        if average is None:
            return net
        twin = copy.deepcopy(net)
        twin.load_state_dict(average, strict=False)
        return twin

    val_acc, step_seconds, wall = [], [], []
    load_start = os.getloadavg()
    for epoch in range(c.epochs):
        start = time.perf_counter()
        net.train()
        order = np.random.default_rng([c.seed, 1, epoch]).permutation(len(y_train))
        for i in range(steps):
            idx = order[i * c.batch_size:(i + 1) * c.batch_size]
            if c.alternating_flip:
                batch = alternating_flip(random_crop(x_train[idx], c.crop_padding, seed=rng),
                                         first[idx], epoch)
            else:
                batch = augment(x_train[idx], c.crop_padding, c.flip, seed=rng)
            step(batch, labels[idx], epoch * steps + i)
            if average is not None:
                updates += 1
                d = min(c.ema_decay, (1 + updates) / (10 + updates))
                with torch.no_grad():
                    for k, v in net.state_dict().items():
                        if k in average:
                            average[k].lerp_(v, 1 - d)
        step_seconds.append(time.perf_counter() - start)
        val_acc.append(accuracy(scored(), x_val, y_val, c.test_flip, c.test_shift))
        wall.append(time.perf_counter() - start)
    load_end = os.getloadavg()
    send_result({"val_acc": val_acc, "step_seconds": step_seconds, "seconds": wall,
                 "test_acc": accuracy(scored(), x_test, y_test, c.test_flip, c.test_shift),
                 "params": int(sum(q.numel() for q in net.parameters())),
                 "load_start": list(load_start), "load_end": list(load_end)})


if __name__ == "__main__":
    main()
