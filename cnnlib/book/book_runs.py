"""How long the book's training chapters train, and where the trained model is kept.

The published book trains the full recipe. The book's automatic tests run the very same
notebooks in a minute or two by setting two environment variables: CNNLIB_EPOCHS (how
many epochs) and CNNLIB_TRAIN_SUBSET (how many of the training images). A model is saved
under a name that records both, so a short test run never stands in for the real one.
Book: the training chapters' setup cells (folded away: plumbing, not a lesson).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

EPOCHS_VAR = "CNNLIB_EPOCHS"
IMAGES_VAR = "CNNLIB_TRAIN_SUBSET"
MODEL_FOLDER = Path("_models")


@dataclass(frozen=True)
class TrainingLength:
    """epochs to train on the first `images` training images; `full` if nothing is cut."""

    epochs: int
    images: int
    full: bool


def _read(var: str, default: int, most: int | None) -> int:
    text = os.environ.get(var, "").strip()
    if not text:
        return default
    rule = f"a whole number in 1..{most}" if most is not None else "a whole number, 1 or more"
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{var}={text!r} must be {rule}") from None
    if value < 1 or (most is not None and value > most):
        raise ValueError(f"{var}={value} must be {rule}")
    return value


def training_length(recipe_epochs: int, available_images: int) -> TrainingLength:
    """The run's length: the recipe's epochs on every image, unless the variables say less.

    Raises ValueError naming the variable if it is not a whole number in its range
    (CNNLIB_TRAIN_SUBSET at most `available_images`).
    """
    epochs = _read(EPOCHS_VAR, recipe_epochs, None)
    images = _read(IMAGES_VAR, available_images, available_images)
    return TrainingLength(epochs, images,
                          full=epochs == recipe_epochs and images == available_images)


def trained_model_path(length: TrainingLength, folder: Path = MODEL_FOLDER) -> Path:
    """Where the reference network trained for `length` is saved: folder/reference-…npz."""
    return Path(folder) / f"reference-{length.epochs}epochs-{length.images}images.npz"
