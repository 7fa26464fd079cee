"""Residual blocks (He et al. 2015, "Deep Residual Learning for Image Recognition").

A residual block adds its input back to what its layers computed:

    y = relu(F(x) + shortcut(x)),   F = conv3×3 -> BN -> ReLU -> conv3×3 -> BN.

The shortcut is the identity when the block keeps the shape; when it changes the number
of channels or halves the size (stride 2), a 1×1 convolution with batch norm makes the
input fit. Because the gradient of the sum reaches x through the shortcut unchanged,
deep stacks of these blocks train as easily as shallow ones.

Also here: `residual_network`, a small residual network for CIFAR-10 that ends in global
average pooling instead of a large dense layer.

Book: chapter 12 (residual blocks).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence

import numpy as np

from ..checks import Seed, make_rng, positive_int, positive_ints
from .layers import Conv2D, GlobalAvgPool2D, Layer, Linear, MaxPool2D, ReLU, Sequential
from .normalization import BatchNorm2D, Standardize


class _NamedArrays(MutableMapping):
    """A live view "<part>.<name>" -> part.<attr>[name] over a block's inner layers.

    Reading and writing go straight to the inner layers, so SGD's in-place updates,
    a gradient check's float64 copies and a model loader's assignments all reach them.
    """

    def __init__(self, block: ResidualBlock, attr: str):
        self._block, self._attr = block, attr

    def _locate(self, key: str) -> tuple[dict, str]:
        if key not in self._block._keys(self._attr):
            raise KeyError(key)
        part, name = key.split(".", 1)
        return getattr(getattr(self._block, part), self._attr), name

    def __getitem__(self, key: str) -> np.ndarray:
        store, name = self._locate(key)
        return store[name]

    def __setitem__(self, key: str, value: np.ndarray) -> None:
        store, name = self._locate(key)
        store[name] = value

    def __delitem__(self, key: str) -> None:
        raise TypeError("a residual block's arrays cannot be removed")

    def __iter__(self) -> Iterator[str]:
        return iter(self._block._keys(self._attr))

    def __len__(self) -> int:
        return len(self._block._keys(self._attr))


def _view(attr: str) -> property:
    """A property: the block's `attr` ("params", "grads", "buffers") as a live view."""

    def get(block: ResidualBlock) -> MutableMapping:
        return _NamedArrays(block, attr)

    def set_all(block: ResidualBlock, values: dict[str, np.ndarray]) -> None:
        view = _NamedArrays(block, attr)
        for key, value in values.items():
            view[key] = value

    return property(get, set_all)


class ResidualBlock(Layer):
    """y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the "basic block" of ResNet.

    forward: x (N, H, W, C_in) -> (N, H2, W2, C_out), H2 = (H − 1)/stride + 1.
    conv1: 3×3, stride `stride`, padding 1; conv2: 3×3, stride 1, padding 1. Neither has a
    bias: the batch norm after each would subtract it again. shortcut: the identity when
    stride = 1 and C_in = C_out, else a 1×1 convolution (stride `stride`, no bias) and
    batch norm ("projection shortcut").
    params: conv1.weight (C_out, 3, 3, C_in), bn1.weight/bias (C_out,), conv2.weight
    (C_out, 3, 3, C_out), bn2.weight/bias, and with a projection shortcut.weight
    (C_out, 1, 1, C_in), shortcut_bn.weight/bias. buffers: the batch norms' running statistics.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, *,
                 seed: Seed = None, dtype: np.dtype = np.float32):
        self.in_channels = positive_int("in_channels", in_channels)
        self.out_channels = positive_int("out_channels", out_channels)
        self.stride = positive_int("stride", stride)
        gen = make_rng(seed)
        self.conv1 = Conv2D(in_channels, out_channels, 3, stride, 1, seed=gen, dtype=dtype)
        self.bn1 = BatchNorm2D(out_channels, dtype=dtype)
        self.relu1 = ReLU()
        self.conv2 = Conv2D(out_channels, out_channels, 3, 1, 1, seed=gen, dtype=dtype)
        self.bn2 = BatchNorm2D(out_channels, dtype=dtype)
        self.projection = self.stride != 1 or self.in_channels != self.out_channels
        if self.projection:
            self.shortcut = Conv2D(in_channels, out_channels, 1, stride, 0, seed=gen, dtype=dtype)
            self.shortcut_bn = BatchNorm2D(out_channels, dtype=dtype)
        self.relu_out = ReLU()
        self.training = True

    # ------------------------------------------------------------ parameters
    def _parts(self) -> list[str]:
        extra = ["shortcut", "shortcut_bn"] if self.projection else []
        return ["conv1", "bn1", "conv2", "bn2", *extra]

    def _keys(self, attr: str) -> list[str]:
        keys = []
        for part in self._parts():
            for name in getattr(getattr(self, part), attr):
                # Convolution biases stay zero and untrained (batch norm follows).
                if not (part in ("conv1", "conv2", "shortcut") and name == "bias"):
                    keys.append(f"{part}.{name}")
        return keys

    # Live views of the inner layers' arrays, under "<part>.<name>" keys; assigning a dict
    # (as a model loader does) writes through to the inner layers.
    params = _view("params")
    grads = _view("grads")
    buffers = _view("buffers")

    # --------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> ResidualBlock:
        """Training mode: batch statistics in the batch norms; evaluation: running ones."""
        self.training = bool(mode)
        for part in self._parts():
            getattr(self, part).train(mode)
        return self

    # ------------------------------------------------------ forward, backward
    def forward(self, x: np.ndarray) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim != 4 or x.shape[-1] != self.in_channels:
            raise ValueError(f"ResidualBlock expects an input (N, H, W, {self.in_channels}), "
                             f"got shape {np.shape(x)}")
        h = self.relu1.forward(self.bn1.forward(self.conv1.forward(x)))
        h = self.bn2.forward(self.conv2.forward(h))
        s = self.shortcut_bn.forward(self.shortcut.forward(x)) if self.projection else x
        return self.relu_out.forward(h + s)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """The sum sends the same gradient down both paths; their input gradients add."""
        d = self.relu_out.backward(dout)
        dh = self.conv2.backward(self.bn2.backward(d))
        dx = self.conv1.backward(self.bn1.backward(self.relu1.backward(dh)))
        if self.projection:
            return dx + self.shortcut.backward(self.shortcut_bn.backward(d))
        return dx + d

    def config(self) -> dict:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "stride": self.stride}

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


def residual_network(seed: Seed = 0, *, widths: Sequence[int] = (32, 64, 128),
                     num_classes: int = 10, mean: Sequence[float] = (0.0, 0.0, 0.0),
                     std: Sequence[float] = (1.0, 1.0, 1.0)) -> Sequential:
    """A small residual network for 32×32 images, ending in global average pooling.

    Input: images (N, H, W, 3), any numeric dtype; output: logits (N, num_classes).
    A 3×3 conv-BN-ReLU stem, then one residual block per entry of `widths`, with a 2×2
    max pool between stages (32×32 -> 16×16 -> 8×8 for three widths), then global
    average pooling (N, widths[-1]) and one dense layer to the class scores.
    """
    # Max pooling between stages, not stride-2 blocks (which work too: 32 -> 16), keeps this
    # network as close as possible to the reference network that chapter 12 compares it with.
    widths = positive_ints("widths", widths)
    gen = make_rng(seed)
    layers: list[Layer] = [Standardize(mean, std),
                           Conv2D(len(mean), widths[0], 3, padding=1, seed=gen),
                            BatchNorm2D(widths[0]), ReLU()]
    channels = widths[0]
    for i, width in enumerate(widths):
        if i > 0:
            layers.append(MaxPool2D(2, 2))
        layers.append(ResidualBlock(channels, width, seed=gen))
        channels = width
    classifier = Linear(channels, num_classes, seed=gen)
    # As in the reference network: every class starts with the same score (loss ln J).
    classifier.params["weight"][...] = 0
    layers += [GlobalAvgPool2D(), classifier]
    return Sequential(*layers)
