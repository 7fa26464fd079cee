"""Your pieces as layers, and the small network they make (Exercise 10.8).

Each layer calls your function from conv.py, pool.py, activations.py or linear.py. A
piece you have not written yet (it still raises NotImplementedError) is replaced by
cnnlib's equivalent, and the layer says so once ("conv_backward: not written yet, using
cnnlib's"), so you can train the network before every piece is yours. An error of any
other kind is yours to fix: it is never hidden. The check of each piece calls your function
itself, never a replacement; Exercise 10.8's check names every piece in FALLEN_BACK and
fails until it is empty.
Book: chapter 10 (the build track's last step; track.md lists every piece).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cnnlib.core import functional as F
from cnnlib.core.losses import softmax_cross_entropy as cnnlib_softmax_cross_entropy

from . import activations, conv, linear, loss, optim, pool

FALLEN_BACK: set[str] = set()  # the pieces that used cnnlib's version, each named once


def piece(module: Any, name: str, fallback: Callable[..., Any], *args: Any,
          **kwargs: Any) -> Any:
    """module.name(*args, **kwargs), or cnnlib's fallback if yours is not written yet.
    The function is looked up at every call, so an edited and reloaded file counts."""
    try:
        return getattr(module, name)(*args, **kwargs)
    except NotImplementedError:
        if name not in FALLEN_BACK:
            FALLEN_BACK.add(name)
            print(f"{name}: not written yet, using cnnlib's")
        return fallback(*args, **kwargs)


# cnnlib's equivalents, with the signatures of your functions.
def _cnnlib_conv_forward(x, w, b, stride, padding):
    return F.conv2d_forward(x, w, b, stride, padding)[0]


def _cnnlib_conv_backward(dout, x, w, stride, padding):
    return F.conv2d_backward(dout, (x, w, stride, padding))


def _cnnlib_max_pool_backward(dout, x, size, stride):
    return F.max_pool2d_backward(dout, F.max_pool2d_forward(x, size, stride)[1])


def _cnnlib_relu_backward(dout, x):
    return dout * (x > 0)


def _cnnlib_linear_backward(dout, x, w):
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def _cnnlib_sgd_momentum(params, grads, velocity, lr, momentum):
    for name, w in params.items():
        v = velocity.setdefault(name, np.zeros_like(w))
        v *= momentum
        v += grads[name]
        w -= lr * v


class Layer:
    """forward(x) keeps what backward needs; backward(dout) fills grads, returns dx."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.velocity: dict[str, np.ndarray] = {}  # SGD's momentum, one array per param


class Conv(Layer):
    """F×F convolution with stride and padding: (N, H, W, C) -> (N, H2, W2, K); He init."""

    def __init__(self, in_channels: int, out_channels: int, size: int = 3, stride: int = 1,
                 padding: int = 1, *, rng: np.random.Generator) -> None:
        super().__init__()
        fan_in = size * size * in_channels
        w = rng.normal(0, np.sqrt(2 / fan_in), (out_channels, size, size, in_channels))
        self.params = {"w": w.astype(np.float32), "b": np.zeros(out_channels, np.float32)}
        self.stride, self.padding = stride, padding

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return piece(conv, "conv_forward_im2col", _cnnlib_conv_forward, x,
                     self.params["w"], self.params["b"], self.stride, self.padding)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, self.grads["w"], self.grads["b"] = piece(
            conv, "conv_backward", _cnnlib_conv_backward, dout, self.x, self.params["w"],
            self.stride, self.padding)
        return dx


class ReLU(Layer):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return piece(activations, "relu_forward", F.relu, x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return piece(activations, "relu_backward", _cnnlib_relu_backward, dout, self.x)


class MaxPool(Layer):
    """size×size max pooling at stride `stride`: (N, H, W, C) -> (N, H2, W2, C)."""

    def __init__(self, size: int = 2, stride: int = 2) -> None:
        super().__init__()
        self.size, self.stride = size, stride

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return piece(pool, "max_pool_forward", F.max_pool2d, x, self.size, self.stride)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return piece(pool, "max_pool_backward", _cnnlib_max_pool_backward, dout, self.x,
                     self.size, self.stride)


class Flatten(Layer):
    """(N, H, W, C) -> (N, H·W·C)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout.reshape(self.shape)


class Linear(Layer):
    """y = x·W + b: (N, D) -> (N, M); He init."""

    def __init__(self, in_features: int, out_features: int, *,
                 rng: np.random.Generator) -> None:
        super().__init__()
        w = rng.normal(0, np.sqrt(2 / in_features), (in_features, out_features))
        self.params = {"w": w.astype(np.float32), "b": np.zeros(out_features, np.float32)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return piece(linear, "linear_forward",
                     lambda x, w, b: x @ w + b, x, self.params["w"], self.params["b"])

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, self.grads["w"], self.grads["b"] = piece(
            linear, "linear_backward", _cnnlib_linear_backward, dout, self.x, self.params["w"])
        return dx


class Network:
    """Layers in a row, the loss, and the optimizer step: all of them your pieces."""

    def __init__(self, layers: list[Layer]) -> None:
        self.layers = layers

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def loss(self, logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        """(mean softmax cross-entropy, its gradient with respect to the logits)."""
        return piece(loss, "softmax_cross_entropy", cnnlib_softmax_cross_entropy,
                     logits, labels)

    def step(self, lr: float, momentum: float) -> None:
        """One SGD-with-momentum step on every layer's parameters, in place."""
        for layer in self.layers:
            if layer.params:
                piece(optim, "sgd_momentum_step", _cnnlib_sgd_momentum, layer.params,
                      layer.grads, layer.velocity, lr, momentum)

    def predict(self, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
        """The class with the largest score, for each image: (N, H, W, C) -> (N,)."""
        return np.concatenate([self.forward(x[i:i + batch_size]).argmax(axis=1)
                               for i in range(0, len(x), batch_size)])


def small_cnn(widths: tuple[int, int, int] = (32, 64, 128), num_classes: int = 10,
              image_size: int = 32, seed: int = 0) -> Network:
    """Exercise 10.8: three stages of [3×3 Conv (padding 1), ReLU, 2×2 MaxPool] with
    widths[0], widths[1], widths[2] filters, then Flatten and one Linear layer to the
    class scores. Every random draw comes from np.random.default_rng(seed).

    Input (N, image_size, image_size, 3) -> scores (N, num_classes).
    """
    # BEGIN SOLUTION (Exercise 10.8)
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    channels = 3
    for width in widths:
        layers += [Conv(channels, width, 3, 1, 1, rng=rng), ReLU(), MaxPool(2, 2)]
        channels = width
    side = image_size // 2 ** len(widths)  # each pool halves the side
    layers += [Flatten(), Linear(side * side * channels, num_classes, rng=rng)]
    return Network(layers)
    # END SOLUTION
