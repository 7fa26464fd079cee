"""Scoring a model: predictions, loss, accuracy, confusion matrix.

Used by the training loop (learning curves), by `python -m cnnlib.evaluate` and by
chapter 10's analysis of the trained network. Book: chapter 10 ("How good is it?").
"""

from __future__ import annotations

import numpy as np

from ..checks import matching_labels
from ..core.losses import log_softmax
from ..nn.layers import Sequential


def predict_logits(model: Sequential, images: np.ndarray, batch_size: int = 500,
                   flip: bool = False) -> np.ndarray:
    """Class scores (N, K) for images (N, H, W, C), in evaluation mode, batch by batch.

    flip: average the scores of each image and of its mirror image (test-time
    augmentation: the network saw both during training, and the two views disagree on
    different mistakes). The model's training/evaluation mode is restored afterwards.
    """
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        out = []
        for i in range(0, len(images), batch_size):
            batch = images[i:i + batch_size]
            logits = model.forward(batch)
            if flip:
                logits = (logits + model.forward(batch[:, :, ::-1])) / 2
            out.append(logits)
    finally:
        model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean −log p(true class) (no label smoothing): the loss reported in learning curves."""
    logp = log_softmax(logits.astype(np.float64))
    return float(-logp[np.arange(len(labels)), labels].mean())


def evaluate_model(model: Sequential, images: np.ndarray, labels: np.ndarray,
                   batch_size: int = 500, flip: bool = False) -> dict:
    """{"loss", "accuracy", "n", "predictions", "logits"} of `model` on (images, labels).

    flip: score with the average of each image's and its mirror image's logits.
    """
    labels = matching_labels(images, labels)
    logits = predict_logits(model, images, batch_size, flip)
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
