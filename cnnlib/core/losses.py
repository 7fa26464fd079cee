"""Softmax cross-entropy, the loss of a classifier that outputs one score per class.

Shapes use the book's notation: N examples, J classes (K is kept for a convolution's filters).
Book: chapter 2 ("Logits and softmax", "The loss: one number for how wrong") and
chapter 9 ("Softmax and cross-entropy").
"""

from __future__ import annotations

import numpy as np

from ..checks import fraction


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(z)) row by row, computed stably: (N, J) -> (N, J).

    Subtracting each row's maximum first leaves softmax unchanged but keeps exp() from
    overflowing on large scores.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities, row by row: (N, J) -> (N, J), each row sums to 1."""
    return np.exp(log_softmax(logits))


def _check_labels(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    if not isinstance(logits, np.ndarray) or logits.ndim != 2:
        raise ValueError(f"logits must be a 2-D array (N, J), got shape {np.shape(logits)}")
    labels = np.asarray(labels)
    if labels.shape != (logits.shape[0],):
        raise ValueError(f"labels must have shape (N,) = ({logits.shape[0]},), got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers (class indices), got dtype {labels.dtype}")
    k = logits.shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        bad = labels[(labels < 0) | (labels >= k)][0]
        raise ValueError(f"label {bad} is out of range: labels must lie in [0, J) = [0, {k})")
    return labels


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray,
                          label_smoothing: float = 0.0) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    logits: (N, J) scores, labels: (N,) ints in [0, J). Returns (loss, dlogits) with
    dlogits: (N, J) = (softmax - target) / N, the gradient of the *mean* loss.
    With label_smoothing ε the target puts 1-ε on the true class and ε/J everywhere.
    """
    labels = _check_labels(logits, labels)
    label_smoothing = fraction("label_smoothing", label_smoothing)
    if not np.all(np.isfinite(logits)):
        raise ValueError("logits contain NaN or infinity: the network has diverged")
    n, k = logits.shape
    logp = log_softmax(logits)
    target = np.full_like(logp, label_smoothing / k)
    target[np.arange(n), labels] += 1.0 - label_smoothing
    loss = float(-(target * logp).sum() / n)
    dlogits = (np.exp(logp) - target) / n
    return loss, dlogits.astype(logits.dtype, copy=False)
