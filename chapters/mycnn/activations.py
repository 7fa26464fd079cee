"""ReLU, forward and backward.

Book: chapter 8 (Exercise 8.7).
"""

from __future__ import annotations

import numpy as np


def relu_forward(x: np.ndarray) -> np.ndarray:
    """Exercise 8.7: max(0, x), elementwise; any shape. Returns a new array: do not
    modify x (the layer keeps it for the backward pass)."""
    # BEGIN SOLUTION (Exercise 8.7)
    return np.maximum(x, 0)
    # END SOLUTION


def relu_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Exercise 8.7: dout where the input was positive, 0 elsewhere (also at x = 0).

    dout and x: the same shape -> dx, that shape.
    """
    # BEGIN SOLUTION (Exercise 8.7)
    return dout * (x > 0)
    # END SOLUTION
