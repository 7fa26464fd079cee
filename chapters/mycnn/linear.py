"""The fully connected (Linear) layer: y = x·W + b.

x: (N, D) inputs, w: (D, M) weights, b: (M,) biases -> y: (N, M), the layout of
cnnlib's Linear.
Book: chapter 2 (Exercise 2.6).
"""

from __future__ import annotations

import numpy as np


def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exercise 2.6: x (N, D), w (D, M), b (M,) -> y (N, M)."""
    # BEGIN SOLUTION (Exercise 2.6)
    return x @ w + b
    # END SOLUTION


def linear_backward(dout: np.ndarray, x: np.ndarray,
                    w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exercise 2.6: the shapes say where the transposes go.

    dout (N, M), x (N, D), w (D, M) -> dx (N, D), dw (D, M), db (M,).
    """
    # BEGIN SOLUTION (Exercise 2.6)
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)
    # END SOLUTION
