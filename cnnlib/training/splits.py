"""A validation set carved out of the training images, the same number from every class.

The test images are for one final score. Every decision made while training (which
recipe, how many epochs, the learning curves) needs images that the weights never
trained on and that are not the test images: the validation set. `validation_split`
takes it from the training images, class by class, with a seeded random choice, so
every reader gets the same split.
Book: chapter 10 ("A validation set").
"""

from __future__ import annotations

import numpy as np

from ..checks import non_negative_int, positive_int


def validation_split(x: np.ndarray, y: np.ndarray, size: int, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split (x, y) into training and validation parts, the validation part class-balanced.

    x: (N, ...) images; y: (N,) integer labels 0..J−1. `size` images go to validation:
    size // J from every class present, the remainder one more from the first classes.
    Both parts keep the original order of the images.
    Returns (x_train, y_train, x_val, y_val) with N − size and size images.
    Raises ValueError if `size` is not in 1..N−1 or a class has too few images to keep
    at least one for training.
    """
    size = positive_int("size", size)
    seed = non_negative_int("seed", seed)
    y = np.asarray(y)
    if y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"need one label per image: got {len(x)} images and labels of "
                         f"shape {y.shape}")
    if size >= len(y):
        raise ValueError(f"size = {size} must be less than the number of images ({len(y)}), "
                         "so that some are left to train on")
    classes = np.unique(y)
    quota = np.full(len(classes), size // len(classes))
    quota[:size % len(classes)] += 1
    rng = np.random.default_rng([seed, 3])
    chosen = []
    for label, wanted in zip(classes, quota, strict=True):
        members = np.flatnonzero(y == label)
        if wanted >= len(members):
            raise ValueError(f"class {label} has {len(members)} images: too few to give "
                             f"{wanted} to validation and keep one for training")
        chosen.append(rng.choice(members, size=wanted, replace=False))
    in_val = np.zeros(len(y), dtype=bool)
    in_val[np.concatenate(chosen)] = True
    return x[~in_val], y[~in_val], x[in_val], y[in_val]
