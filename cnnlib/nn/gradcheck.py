"""Numerical gradient checks by central differences.

An analytic backward pass is trusted only once it agrees with
(f(x + h) - f(x - h)) / 2h, measured in float64 where rounding stays far below h².
Book: chapter 2 ("Checking a gradient numerically") and chapter 7 ("Checking gradients
numerically").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..checks import Seed, make_rng
from .layers import Layer


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f / d x by central differences, perturbing x in place one entry at a time.

    f takes no arguments and reads x (the array is restored after each probe).
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)  # views: writes reach x
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """‖a − n‖ / max(‖a‖ + ‖n‖, 1e-12): scale-free, and 0 when both are exactly zero."""
    a, n = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    return float(np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12))


def gradcheck(layer: Layer, x: np.ndarray, *, eps: float = 1e-6, seed: Seed = 0,
              verbose: bool = False) -> float:
    """Max relative error between `layer`'s backward pass and central differences.

    Checks the gradient with respect to the input x and to every parameter, for the
    scalar loss sum(forward(x) · R) with a fixed random R (so every output counts).
    Use float64 inputs and parameters: float32 rounding swamps the test.
    """
    if x.dtype != np.float64:
        raise ValueError(f"gradcheck needs a float64 input, got {x.dtype}")
    x = x.copy()
    r = make_rng(seed).standard_normal(layer.forward(x).shape)

    def loss() -> float:
        return float(np.sum(layer.forward(x) * r))

    layer.forward(x)
    dx = layer.backward(r.copy())
    analytic = {"input": dx}
    analytic.update({name: g.copy() for name, g in layer.grads.items()})
    targets = {"input": x, **layer.params}
    errors = {}
    for name, array in targets.items():
        if array.dtype != np.float64:
            raise ValueError(f"gradcheck needs float64 parameters, {name} is {array.dtype}")
        errors[name] = relative_error(analytic[name], numerical_gradient(loss, array, eps))
    if verbose:
        for name, err in errors.items():
            print(f"{name:>12}: relative error {err:.2e}")
    return max(errors.values())


def as_float64(layer: Layer) -> Layer:
    """The same layer with its parameters cast to float64 in place (gradient checks need the
    precision: float32 rounding is larger than the differences being measured)."""
    for name in layer.params:
        layer.params[name] = layer.params[name].astype(np.float64)
    return layer


class FixedRandomness(Layer):
    """A random layer (dropout) that draws the same random numbers at every forward pass.

    A gradient check evaluates the layer hundreds of times and needs one fixed function,
    so the layer's generator is restarted from the same state before each forward.
    """

    def __init__(self, layer: Layer):
        self.layer = layer
        self._state = layer.rng.bit_generator.state

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.layer.rng.bit_generator.state = self._state
        return self.layer.forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self.layer.backward(dout)

    def extra_repr(self) -> str:
        return repr(self.layer)
