"""Layers: objects with forward(x) and backward(dout).

`backward` returns the gradient with respect to the layer's input and stores the
gradients of the layer's parameters in `grads` (same keys as `params`). Parameters are
always read from `params` at call time, so replacing an array there (say, with a float64
copy for a gradient check) is all it takes to change it.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import functional as F
from .init import Seed, init_weight, make_rng


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} = {value!r} must be a positive integer")
    return int(value)


def _non_negative_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} = {value!r} must be a non-negative integer")
    return int(value)


def _check_last_dim(x: np.ndarray, expected: int, what: str, ndim: int) -> None:
    if not isinstance(x, np.ndarray) or x.ndim != ndim:
        raise ValueError(f"{what} expects a {ndim}-D input, got shape {np.shape(x)}")
    if x.shape[-1] != expected:
        raise ValueError(f"{what} expects {expected} input channels/features in the last axis, "
                         f"got shape {x.shape}")


class Conv2D:
    """K filters, each F×F×C, slid over the input at stride S with zero padding P.

    forward: x (N, H, W, C) -> (N, H2, W2, K), H2 = (H - F + 2P)/S + 1.
    params: weight (K, F, F, C), bias (K,). Weights start He-normal (fan_in = F·F·C).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, *, seed: Seed = None, rng: Seed = None, init: str = "he",
                 dtype: np.dtype = np.float32):
        self.in_channels = _positive_int("in_channels", in_channels)
        self.out_channels = _positive_int("out_channels", out_channels)
        self.kernel_size = _positive_int("kernel_size", kernel_size)
        self.stride = _positive_int("stride", stride)
        self.padding = _non_negative_int("padding", padding)
        f, c, k = self.kernel_size, self.in_channels, self.out_channels
        gen = make_rng(rng if rng is not None else seed)
        weight = init_weight((k, f, f, c), f * f * c, f * f * k, init, gen, dtype)
        self.params = {"weight": weight, "bias": np.zeros(k, dtype=dtype)}
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_last_dim(x, self.in_channels, "Conv2D", 4)
        y, self._cache = F.conv2d_forward(x, self.params["weight"], self.params["bias"],
                                          self.stride, self.padding)
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, self.grads["weight"], self.grads["bias"] = F.conv2d_backward(dout, self._cache)
        return dx

    def __repr__(self) -> str:
        return (f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding})")


class _Pool2D:
    """Shared set-up of the pooling layers: window F, stride S, no parameters."""

    _forward = staticmethod(F.max_pool2d_forward)
    _backward = staticmethod(F.max_pool2d_backward)

    def __init__(self, kernel_size: int = 2, stride: int = 2):
        self.kernel_size = _positive_int("kernel_size", kernel_size)
        self.stride = _positive_int("stride", stride)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, H, W, C) -> (N, (H-F)/S+1, (W-F)/S+1, C); the depth C is unchanged."""
        y, self._cache = self._forward(x, self.kernel_size, self.stride)
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self._backward(dout, self._cache)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


class MaxPool2D(_Pool2D):
    """Keeps the largest value of every F×F window; the gradient flows to that value only."""


class AvgPool2D(_Pool2D):
    """Keeps the mean of every F×F window; the gradient is shared equally by the window."""

    _forward = staticmethod(F.avg_pool2d_forward)
    _backward = staticmethod(F.avg_pool2d_backward)


class ReLU:
    """max(0, x) elementwise; the gradient passes only where the input was positive."""

    def forward(self, x: np.ndarray) -> np.ndarray:  # x: any shape
        self._mask = x > 0
        return x * self._mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self._mask

    def __repr__(self) -> str:
        return "ReLU()"


class Tanh:
    """tanh(x) elementwise; derivative 1 - tanh², which vanishes where |x| is large."""

    def forward(self, x: np.ndarray) -> np.ndarray:  # x: any shape
        self._y = F.tanh(x)
        return self._y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1 - self._y * self._y)

    def __repr__(self) -> str:
        return "Tanh()"


class Sigmoid:
    """1/(1+e^-x) elementwise; derivative σ(1-σ) ≤ 1/4, which vanishes where |x| is large."""

    def forward(self, x: np.ndarray) -> np.ndarray:  # x: any shape
        self._y = F.sigmoid(x)
        return self._y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self._y * (1 - self._y)

    def __repr__(self) -> str:
        return "Sigmoid()"


class Flatten:
    """(N, H, W, C) -> (N, H·W·C), in channels-last order; backward restores the shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim < 2:
            raise ValueError(f"Flatten expects an input with a batch axis, got shape {np.shape(x)}")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout.reshape(self._shape)

    def __repr__(self) -> str:
        return "Flatten()"


class Linear:
    """y = x @ W + b. x: (N, in_features) -> (N, out_features).

    params: weight (in_features, out_features), bias (out_features,).
    """

    def __init__(self, in_features: int, out_features: int, *, seed: Seed = None,
                 rng: Seed = None, init: str = "he", dtype: np.dtype = np.float32):
        self.in_features = _positive_int("in_features", in_features)
        self.out_features = _positive_int("out_features", out_features)
        gen = make_rng(rng if rng is not None else seed)
        weight = init_weight((self.in_features, self.out_features), self.in_features,
                             self.out_features, init, gen, dtype)
        self.params = {"weight": weight, "bias": np.zeros(self.out_features, dtype=dtype)}
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_last_dim(x, self.in_features, "Linear", 2)
        self._x = x
        return x @ self.params["weight"] + self.params["bias"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.grads["weight"] = self._x.T @ dout
        self.grads["bias"] = dout.sum(axis=0)
        return dout @ self.params["weight"].T

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"


class Sequential:
    """Layers applied in order; backward runs them in reverse (the chain rule).

    `params` and `grads` gather every layer's parameters under keys "<index>.<name>",
    e.g. "0.weight", so a whole model saves, loads and trains like a single layer.
    """

    def __init__(self, *layers: object):
        for i, layer in enumerate(layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise ValueError(f"layer {i} ({layer!r}) has no forward/backward methods")
        self.layers = list(layers)
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def train(self, mode: bool = True) -> Sequential:
        """Switch layers that behave differently in training (dropout, batch norm)."""
        self.training = mode
        for layer in self.layers:
            if hasattr(layer, "train"):
                layer.train(mode)
            elif hasattr(layer, "training"):
                layer.training = mode
        return self

    def eval(self) -> Sequential:
        return self.train(False)

    def _named(self, attr: str) -> dict[str, np.ndarray]:
        return {f"{i}.{name}": value
                for i, layer in enumerate(self.layers)
                for name, value in getattr(layer, attr, {}).items()}

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self._named("params")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self._named("grads")

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> object:
        return self.layers[i]

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"Sequential(\n{inner}\n)"
