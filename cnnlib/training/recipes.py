"""Recipes by name: a network and the training settings that go with it.

- "book50" (`DEFAULT_RECIPE`, what `python -m cnnlib.train` trains unless told otherwise:
  the book's contract says it trains the reference network): the reference network with
  `TrainConfig()`'s defaults, 50 epochs (chapter 10);
- "fast": `fast_network` with a patch-whitened first layer, 12 epochs and label
  smoothing 0.2. On the book's images (4,670 for training, 500 held out for validation;
  benchmarks/results/recipes.md, three seeds, 2 cores) it reaches 70 % validation accuracy
  in 4.9 minutes where "book50" needs 9.5, but ends at 72.3 ± 1.7 % (6 minutes) against
  75.4 % (15 minutes); the same network from random first-layer filters ends at 68.6 %.
- "fast16": "fast" for 16 epochs with alternating flips and weight averaging. Over
  three seeds (benchmarks/results/recipes-fast16.md) it ends at 74.7 ± 0.8 % validation
  accuracy, against 75.7 ± 1.0 % for three seeds of "book50" (recipes.md and
  recipes-book50-seeds.md), and its averaged weights pass 70 %
  after 9 epochs where the raw ones need 12.
- "fast12" (the quickest here to about the book's accuracy; `python -m cnnlib.train
  --recipe fast12`): "fast16" in 12 epochs, with random translations of at most 2 pixels
  instead of 4 and a peak learning rate of 0.1 instead of 0.05, both chosen on the
  validation images of seed 0 (benchmarks/results/recipes-fast12-choices.md). Over three
  seeds (benchmarks/results/recipes-fast12.md) it ends at 74.3 ± 0.7 % in about 5 minutes
  on 2 cores; benchmarks/results/time-to-accuracy.md times it against "book50".

`TRICKS` are the fast-training options of `TrainConfig` by name, for
`Recipe.with_tricks`: "ema" (weight averaging, decay 0.99 per step), "shift_tta"
(test-time views shifted by ±2 pixels, besides the mirror image) and "alternating_flip"
(each image mirrored in every other epoch). Over three seeds at 16 epochs, alternating
flips end at 74.5 ± 0.6 %, with weight averaging 74.7 ± 0.8 %, and with the shifted views
as well 74.6 ± 1.0 %: the shifted views, which triple the cost of a prediction, are left
out of "fast16".

Book: chapter 10.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..nn.layers import Sequential
from ..nn.models import fast_network, reference_network
from ..nn.normalization import channel_stats
from .trainer import TrainConfig


@dataclass(frozen=True)
class Recipe:
    """A named recipe: `build(seed, x_train)` makes the untrained network (called
    `network_name` in messages), `config` holds the training settings; x_train:
    (N, H, W, 3) uint8, the images it will be trained on."""

    network_name: str
    description: str
    config: TrainConfig
    build: Callable[[int, np.ndarray], Sequential]

    def network(self, x_train: np.ndarray, seed: int | None = None) -> Sequential:
        """The untrained network for x_train (its input statistics; its patches for "fast")."""
        return self.build(self.config.seed if seed is None else seed, x_train)

    def with_settings(self, **settings: object) -> Recipe:
        """This recipe with some TrainConfig settings changed (checked by TrainConfig)."""
        return dataclasses.replace(self, config=dataclasses.replace(self.config, **settings))

    def with_tricks(self, *names: str) -> Recipe:
        """This recipe with the named `TRICKS` switched on; ValueError for unknown names."""
        settings: dict[str, object] = {}
        for name in names:
            if name not in TRICKS:
                raise ValueError(f"trick = {name!r} must be one of {sorted(TRICKS)}")
            settings.update(TRICKS[name])
        return self.with_settings(**settings)


# The settings the ablation measured (benchmarks/bench_recipes.py --tricks).
TRICKS: dict[str, dict[str, object]] = {
    "ema": {"ema_decay": 0.99},
    "shift_tta": {"test_shift": 2},
    "alternating_flip": {"alternating_flip": True},
}


def _reference(seed: int, x_train: np.ndarray) -> Sequential:
    mean, std = channel_stats(x_train)
    return reference_network(seed, mean=mean, std=std)


def _fast(seed: int, x_train: np.ndarray) -> Sequential:
    mean, std = channel_stats(x_train)
    return fast_network(seed, whiten=x_train, mean=mean, std=std)


_FAST = TrainConfig(epochs=12, label_smoothing=0.2)

_FAST16 = dataclasses.replace(_FAST, epochs=16, alternating_flip=True, ema_decay=0.99)

RECIPES: dict[str, Recipe] = {
    "book50": Recipe("the reference network", "the reference network, 50 epochs (chapter 10)",
                     TrainConfig(), _reference),
    "fast": Recipe("the fast network",
                   "the fast network (patch-whitened first layer), 12 epochs", _FAST, _fast),
    "fast16": Recipe("the fast network",
                     "the fast network, 16 epochs, alternating flips, weight averaging",
                     _FAST16, _fast),
    "fast12": Recipe("the fast network",
                     "fast16 in 12 epochs, with 2-pixel translations and learning rate 0.1",
                     dataclasses.replace(_FAST16, epochs=12, crop_padding=2, lr=0.1), _fast),
}
# What `python -m cnnlib.train` trains unless told otherwise: the book's contract
# (DESIGN.md) says it trains the reference network, and programs outside this
# repository rely on that. The fast recipes are one flag away (--recipe fast12).
DEFAULT_RECIPE = "book50"


def recipe(name: str) -> Recipe:
    """The recipe called `name`; ValueError naming the known ones otherwise."""
    if name not in RECIPES:
        raise ValueError(f"recipe = {name!r} must be one of {sorted(RECIPES)}")
    return RECIPES[name]
