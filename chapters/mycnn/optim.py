"""SGD with momentum.

Book: chapter 9 (Exercise 9.7).
"""

from __future__ import annotations

import numpy as np


def sgd_momentum_step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray],
                 velocity: dict[str, np.ndarray], lr: float, momentum: float) -> None:
    """Exercise 9.7: one step for every array in params, in place:
    v ← momentum·v + g, then w ← w − lr·v. `velocity` is kept between steps; a name it
    does not hold yet starts at zero.

    params, grads: the same names and shapes; velocity: updated in place too.
    """
    # BEGIN SOLUTION (Exercise 9.7)
    for name, w in params.items():
        v = velocity.setdefault(name, np.zeros_like(w))
        v *= momentum
        v += grads[name]
        w -= lr * v  # in place: the layer holds this very array
    # END SOLUTION
