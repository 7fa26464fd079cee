"""Scoring a model: predictions, loss, accuracy, confusion matrix.

Used by the training loop (learning curves), by `python -m cnnlib.evaluate` and by
chapter 10's analysis of the trained network. Book: chapter 10 ("How good is it?").
"""

from __future__ import annotations

import numpy as np

from ..checks import matching_labels, non_negative_int
from ..core.losses import log_softmax
from ..nn.layers import Sequential
from .augment import translate


def tta_views(images: np.ndarray, flip: bool = False, shift: int = 0) -> list[np.ndarray]:
    """The views of images (N, H, W, C) that test-time augmentation scores, each (N, H, W, C).

    The images themselves; with shift = s > 0 also translated by (−s, −s) and (+s, +s)
    pixels with reflected borders (the two diagonal shifts of Jordan's airbench, which
    shifts by one pixel; training crops shift by up to crop_padding); with flip, the mirror
    image of each of those. 1, 2, 3 or 6 views.
    """
    shift = non_negative_int("shift", shift)
    views = [images]
    if shift:
        views += [translate(images, -shift, -shift), translate(images, shift, shift)]
    if flip:
        views += [view[:, :, ::-1] for view in views]
    return views


def predict_logits(model: Sequential, images: np.ndarray, batch_size: int = 500,
                   flip: bool = False, shift: int = 0) -> np.ndarray:
    """Class scores (N, K) for images (N, H, W, C), in evaluation mode, batch by batch.

    flip: average the scores of each image and of its mirror image (test-time
    augmentation: the network saw both during training, and the two views disagree on
    different mistakes). shift = s > 0: also average the scores of the image shifted
    by ±s pixels diagonally (`tta_views`: 3 views, 6 with flip). What is averaged is the
    logits, with equal weights, as airbench does: the argmax of averaged logits is a
    vote weighted by confidence, and the loss is then that of the averaged logits.
    The model's training/evaluation mode is restored afterwards.
    """
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        out = []
        for i in range(0, len(images), batch_size):
            views = tta_views(images[i:i + batch_size], flip, shift)
            logits = model.forward(views[0])
            for view in views[1:]:
                logits = logits + model.forward(view)
            out.append(logits / len(views) if len(views) > 1 else logits)
    finally:
        model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean −log p(true class) (no label smoothing): the loss reported in learning curves."""
    logp = log_softmax(logits.astype(np.float64))
    return float(-logp[np.arange(len(labels)), labels].mean())


def evaluate_model(model: Sequential, images: np.ndarray, labels: np.ndarray,
                   batch_size: int = 500, flip: bool = False, shift: int = 0) -> dict:
    """{"loss", "accuracy", "n", "predictions", "logits"} of `model` on (images, labels).

    flip: score with the average of each image's and its mirror image's logits;
    shift: also of its copies shifted by ±shift pixels (`predict_logits`).
    """
    labels = matching_labels(images, labels)
    logits = predict_logits(model, images, batch_size, flip, shift)
    predictions = logits.argmax(axis=1)
    return {"loss": cross_entropy(logits, labels),
            "accuracy": float((predictions == labels).mean()), "n": int(len(labels)),
            "predictions": predictions, "logits": logits}


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray,
                     num_classes: int = 10) -> np.ndarray:
    """(num_classes, num_classes) int64 counts: row = true class, column = predicted class."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} differ")
    for name, a in (("labels", labels), ("predictions", predictions)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise ValueError(f"{name} must lie in [0, {num_classes}), got {a.min()}..{a.max()}")
    flat = labels.astype(np.int64) * num_classes + predictions
    return np.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Accuracy of each true class from a confusion matrix: diagonal / row sum (NaN if empty)."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)
