"""Layers: objects with forward(x) and backward(dout), all built on `Layer`.

`backward` returns the gradient with respect to the layer's input and stores the
gradients of the layer's parameters in `grads` (same keys as `params`). Parameters are
always read from `params` at call time, so replacing an array there (say, with a float64
copy for a gradient check) is all it takes to change it.

Book: chapter 2 (`Layer`, Linear), 5 (pooling layers), 6 and 7 (Conv2D), 8 (activations),
9 (Flatten, Linear, Sequential), 10 (Dropout), 12 (global average pooling). Batch
normalization and input standardization are in `cnnlib.nn.normalization`.
"""

from __future__ import annotations

import numpy as np

from .. import engine
from ..checks import (
    Seed,
    check_array,
    check_last_axis,
    float_dtype,
    fraction,
    make_rng,
    non_negative_int,
    positive_int,
)
from ..core import functional as F
from .init import init_weight
from .layer import Layer


def _zero_grads(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.zeros_like(p) for name, p in params.items()}


# --------------------------------------------------------------------------- convolution


class Conv2D(Layer):
    """K filters, each F×F×C, slid over the input at stride S with zero padding P.

    forward: x (N, H, W, C) -> (N, H2, W2, K), H2 = (H - F + 2P)/S + 1.
    params: weight (K, F, F, C), bias (K,). Weights start He-normal (fan_in = F·F·C),
    drawn from `seed` (an int or a NumPy Generator).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, *, seed: Seed = None, init: str = "he",
                 dtype: np.dtype = np.float32):
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels = positive_int("out_channels", out_channels)
        self.kernel_size = positive_int("kernel_size", kernel_size)
        self.stride = positive_int("stride", stride)
        self.padding = non_negative_int("padding", padding)
        f, c, k = self.kernel_size, self.in_channels, self.out_channels
        weight = init_weight((k, f, f, c), f * f * c, f * f * k, init, make_rng(seed), dtype)
        self.params = {"weight": weight, "bias": np.zeros(k, dtype=dtype)}
        self.grads = _zero_grads(self.params)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_array(x, 4, "Conv2D", "(N, H, W, C)")
        check_last_axis(x, self.in_channels, "Conv2D")
        # functional.conv2d_forward, run on the whole batch at once by cnnlib.engine
        # (while training, it may keep work for the backward pass in the cache)
        y, self._cache = engine.conv2d_forward(x, self.params["weight"], self.params["bias"],
                                               self.stride, self.padding,
                                               keep_tiles=self.training)
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, self.grads["weight"], self.grads["bias"] = engine.conv2d_backward(dout, self._cache)
        self._cache = self._cache[:4]  # what the engine kept is used up: free it
        return dx

    def backward_params(self, dout: np.ndarray) -> None:
        self.grads["weight"], self.grads["bias"] = engine.conv2d_weight_grads(dout, self._cache)
        self._cache = self._cache[:4]

    def config(self) -> dict:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding}

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


# --------------------------------------------------------------------------- pooling


class _Pool2D(Layer):
    """What the two pooling layers share: window F, stride S, no parameters."""

    def __init__(self, kernel_size: int = 2, stride: int = 2):
        self.kernel_size = positive_int("kernel_size", kernel_size)
        self.stride = positive_int("stride", stride)

    def config(self) -> dict:
        return {"kernel_size": self.kernel_size, "stride": self.stride}


class MaxPool2D(_Pool2D):
    """Keeps the largest value of every F×F window; the gradient flows to that value only.

    x (N, H, W, C) -> (N, (H-F)/S+1, (W-F)/S+1, C): the depth C is unchanged.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        y, self._cache = F.max_pool2d_forward(x, self.kernel_size, self.stride)
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.max_pool2d_backward(dout, self._cache)


class AvgPool2D(_Pool2D):
    """Keeps the mean of every F×F window; the gradient is shared equally by the window.

    x (N, H, W, C) -> (N, (H-F)/S+1, (W-F)/S+1, C): the depth C is unchanged.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x_shape = x.shape  # all that backward needs: every input gets an equal share
        return F.avg_pool2d(x, self.kernel_size, self.stride)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return F.avg_pool2d_backward(dout, (self._x_shape, self.kernel_size, self.stride))


class GlobalAvgPool2D(Layer):
    """x (N, H, W, C) -> (N, C): the mean of each channel over all H·W positions.

    It replaces "flatten, then a large dense layer" at the end of a network: the map of
    each channel says *where* a feature fired; its mean says *how much*, which is what a
    classifier needs, with no parameters at all.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_array(x, 4, "GlobalAvgPool2D", "(N, H, W, C)")
        self._shape = x.shape
        return x.mean(axis=(1, 2), dtype=x.dtype)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout (N, C) -> dx (N, H, W, C): every position gets an equal share 1/(H·W)."""
        n, h, w, c = self._shape
        share = (dout / (h * w)).astype(dout.dtype, copy=False)
        return np.broadcast_to(share[:, None, None, :], self._shape).copy()


# --------------------------------------------------------------------------- activations


class ReLU(Layer):
    """max(0, x) elementwise; the gradient passes only where the input was positive."""

    def forward(self, x: np.ndarray) -> np.ndarray:  # x: any shape
        self._mask = x > 0
        return x * self._mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self._mask


class Tanh(Layer):
    """tanh(x) elementwise; derivative 1 - tanh², which vanishes where |x| is large."""

    def forward(self, x: np.ndarray) -> np.ndarray:  # x: any shape
        self._y = F.tanh(x)
        return self._y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * (1 - self._y * self._y)


class Sigmoid(Layer):
    """1/(1+e^-x) elementwise; derivative σ(1-σ) ≤ 1/4, which vanishes where |x| is large."""

    def forward(self, x: np.ndarray) -> np.ndarray:  # x: any shape
        self._y = F.sigmoid(x)
        return self._y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self._y * (1 - self._y)


# --------------------------------------------------------------------------- classifier


class Flatten(Layer):
    """(N, H, W, C) -> (N, H·W·C), in channels-last order; backward restores the shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim < 2:
            raise ValueError(f"Flatten expects an input with a batch axis, got shape {np.shape(x)}")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout.reshape(self._shape)


class Linear(Layer):
    """y = x @ W + b. x: (N, in_features) -> (N, out_features).

    params: weight (in_features, out_features), bias (out_features,); weights start
    He-normal, drawn from `seed` (an int or a NumPy Generator).
    """

    def __init__(self, in_features: int, out_features: int, *, seed: Seed = None,
                 init: str = "he", dtype: np.dtype = np.float32):
        self.in_features = positive_int("in_features", in_features)
        self.out_features = positive_int("out_features", out_features)
        weight = init_weight((self.in_features, self.out_features), self.in_features,
                             self.out_features, init, make_rng(seed), dtype)
        self.params = {"weight": weight, "bias": np.zeros(self.out_features, dtype=dtype)}
        self.grads = _zero_grads(self.params)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_array(x, 2, "Linear", "(N, in_features)")
        check_last_axis(x, self.in_features, "Linear")
        self._x = x
        return x @ self.params["weight"] + self.params["bias"]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.backward_params(dout)
        return dout @ self.params["weight"].T

    def backward_params(self, dout: np.ndarray) -> None:
        self.grads["weight"] = self._x.T @ dout
        self.grads["bias"] = dout.sum(axis=0)

    def config(self) -> dict:
        return {"in_features": self.in_features, "out_features": self.out_features}

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}"


class Dropout(Layer):
    """Zero each value with probability p while training; scale the rest by 1/(1−p).

    x: any shape -> same shape. The scaling ("inverted dropout") keeps the expected value
    of every activation unchanged, so at evaluation time (`training = False`) the layer
    is the identity and costs nothing. The random masks come from `seed` (an int, or a
    Generator used as is): the same seed gives the same masks, run after run.
    """

    def __init__(self, p: float = 0.5, *, seed: Seed = None):
        self.p = fraction("p", p)
        self.rng = make_rng(seed)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0:
            self._mask = None
            return x
        dtype = float_dtype(x)
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        # The mask carries the 1/(1-p) factor, so backward is a single multiply.
        self._mask = keep.astype(dtype)
        self._mask *= dtype.type(1.0 / (1.0 - self.p))
        return x * self._mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout if self._mask is None else dout * self._mask

    def random_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_random_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state

    def config(self) -> dict:
        return {"p": self.p}


# --------------------------------------------------------------------------- containers


class Sequential(Layer):
    """Layers applied in order; backward runs them in reverse (the chain rule).

    `params` and `grads` gather every layer's parameters under keys "<index>.<name>",
    e.g. "0.weight", so a whole model saves, loads and trains like a single layer.
    """

    def __init__(self, *layers: Layer):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"layer {i} ({layer!r}) is not a cnnlib.Layer: every layer "
                                 "subclasses cnnlib.Layer and defines forward and backward")
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def backward_params(self, dout: np.ndarray) -> None:
        """Parameter gradients only: stops at the first layer that has parameters, which
        skips its input gradient (training never needs the gradient of the images)."""
        first = next((i for i, layer in enumerate(self.layers) if layer.params), None)
        if first is None:
            return
        for layer in reversed(self.layers[first + 1:]):
            dout = layer.backward(dout)
        self.layers[first].backward_params(dout)

    def train(self, mode: bool = True) -> Sequential:
        """Switch every layer (dropout and batch norm behave differently in training)."""
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def _named(self, attr: str) -> dict[str, np.ndarray]:
        return {f"{i}.{name}": value
                for i, layer in enumerate(self.layers)
                for name, value in getattr(layer, attr).items()}

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self._named("params")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return self._named("grads")

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"Sequential(\n{inner}\n)"
