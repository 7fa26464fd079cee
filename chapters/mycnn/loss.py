"""Softmax cross-entropy, the loss of a classifier, and its gradient.

Book: chapter 2 (Exercise 2.7).
"""

from __future__ import annotations

import numpy as np


def softmax_cross_entropy(logits: np.ndarray,
                          labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Exercise 2.7: the mean over the batch of -log softmax(logits)[label], and its
    gradient (p - one_hot(label)) / N.

    logits: (N, J) scores, labels: (N,) integers in 0..J-1 -> (loss, dlogits (N, J)).
    """
    # BEGIN SOLUTION (Exercise 2.7)
    n = len(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)  # exp never overflows
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), labels].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(n), labels] -= 1
    return float(loss), dlogits / n
    # END SOLUTION
