"""Recipes by name: a network and the training settings that go with it.

- "book50": the reference network with `TrainConfig()`'s defaults, 50 epochs (chapter 10);
- "fast": `fast_network` with a patch-whitened first layer, 12 epochs and label
  smoothing 0.2. On the book's images (4,670 for training, 500 held out for validation;
  benchmarks/results/recipes.md, three seeds, 2 cores) it reaches 70 % validation accuracy
  in 4.9 minutes where "book50" needs 9.5, but ends at 72.3 ± 1.7 % (6 minutes) against
  75.4 % (15 minutes); the same network from random first-layer filters ends at 68.6 %.

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


def _reference(seed: int, x_train: np.ndarray) -> Sequential:
    mean, std = channel_stats(x_train)
    return reference_network(seed, mean=mean, std=std)


def _fast(seed: int, x_train: np.ndarray) -> Sequential:
    mean, std = channel_stats(x_train)
    return fast_network(seed, whiten=x_train, mean=mean, std=std)


RECIPES: dict[str, Recipe] = {
    "book50": Recipe("the reference network", "the reference network, 50 epochs (chapter 10)",
                     TrainConfig(), _reference),
    "fast": Recipe("the fast network",
                   "the fast network (patch-whitened first layer), 12 epochs",
                   TrainConfig(epochs=12, label_smoothing=0.2), _fast),
}


def recipe(name: str) -> Recipe:
    """The recipe called `name`; ValueError naming the known ones otherwise."""
    if name not in RECIPES:
        raise ValueError(f"recipe = {name!r} must be one of {sorted(RECIPES)}")
    return RECIPES[name]
