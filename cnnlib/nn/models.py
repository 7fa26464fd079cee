"""The book's CIFAR-10 networks: the reference network, a small VGG-style stack of 3×3
convolutions, and `fast_network`, a wider, shallower one whose first layer starts from
the training images' patch statistics (it reaches the same accuracy in fewer epochs).

Three stages, each two 3×3 convolutions (padding 1, so the size is kept) with batch
normalization and ReLU, then a 2×2 max pool that halves the size:

    32×32×3 -> 32×32×32 -> 16×16×32 -> 16×16×64 -> 8×8×64 -> 8×8×128 -> 4×4×128
    -> flatten (2048) -> dense 256 -> dropout -> dense 10 (one score per class)

A `Standardize` layer in front turns raw uint8 pixels into standardized inputs, so the
model (and its saved file) takes images straight from `load_cifar10`.
Book: chapter 10 ("The reference network"; the fast network).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..checks import Seed, make_rng, positive_int, positive_ints
from .init import patch_whitening
from .layers import Conv2D, Dropout, Flatten, Layer, Linear, MaxPool2D, ReLU, Sequential
from .normalization import BatchNorm2D, Standardize


def conv_bn_relu(in_channels: int, out_channels: int, rng: np.random.Generator) -> list[Layer]:
    """3×3 convolution (padding 1) -> batch norm -> ReLU: (N, H, W, C_in) -> (N, H, W, C_out)."""
    return [Conv2D(in_channels, out_channels, 3, padding=1, seed=rng),
            BatchNorm2D(out_channels), ReLU()]


def _pooled_side(image_size: int, widths: Sequence[int], part: str) -> int:
    """The map's side after one 2×2 pool per entry of widths; ValueError unless it divides
    evenly (`part` names what each entry is in the message: "stage" or "block")."""
    side = image_size // 2 ** len(widths)
    if side < 1 or image_size % 2 ** len(widths):
        raise ValueError(f"image_size = {image_size} must be divisible by 2^{len(widths)} "
                         f"(one 2×2 pool per {part} of widths = {tuple(widths)})")
    return side


def reference_network(seed: Seed = 0, *, widths: Sequence[int] = (32, 64, 128),
                      hidden: int = 256, dropout: float = 0.5, num_classes: int = 10,
                      mean: Sequence[float] = (0.0, 0.0, 0.0),
                      std: Sequence[float] = (1.0, 1.0, 1.0),
                      image_size: int = 32) -> Sequential:
    """The book's CIFAR-10 network, with weights drawn from `seed` (int or Generator).

    Input: images (N, image_size, image_size, 3), any numeric dtype; output: logits
    (N, num_classes). `mean`/`std` are the per-channel input statistics (training code
    sets them from the training set). Each entry of `widths` adds one stage of two
    conv-BN-ReLU blocks and a 2×2 max pool.
    """
    widths = positive_ints("widths", widths)
    side = _pooled_side(image_size, widths, "stage")
    gen = make_rng(seed)
    layers: list[Layer] = [Standardize(mean, std)]
    channels = len(mean)
    for width in widths:
        layers += conv_bn_relu(channels, width, gen) + conv_bn_relu(width, width, gen)
        layers.append(MaxPool2D(2, 2))
        channels = width
    # Dropout draws its masks from a stream of its own, split off the weights' stream.
    dropout_rng = np.random.default_rng(gen.integers(2**63))
    classifier = Linear(hidden, num_classes, seed=gen)
    # The classifier starts at zero: every class gets the same score, so the network
    # starts from "I don't know" (loss ln J, J classes) instead of confident random guesses
    # whose large early gradients the first steps would spend undoing.
    classifier.params["weight"][...] = 0
    layers += [Flatten(), Linear(side * side * channels, hidden, seed=gen), ReLU(),
               Dropout(dropout, seed=dropout_rng), classifier]
    return Sequential(*layers)


def fast_network(seed: Seed = 0, *, whiten: np.ndarray | None = None,
                 widths: Sequence[int] = (64, 128, 256), directions: int = 12,
                 num_classes: int = 10, mean: Sequence[float] = (0.0, 0.0, 0.0),
                 std: Sequence[float] = (1.0, 1.0, 1.0), image_size: int = 32) -> Sequential:
    """A wide, shallow CIFAR-10 network that trains in few epochs, weights from `seed`.

    Input: images (N, image_size, image_size, 3); output: logits (N, num_classes).

        standardize -> 3×3 conv, 2·directions filters -> ReLU
        -> per width: 3×3 conv -> 2×2 max pool -> BN -> ReLU -> 3×3 conv -> BN -> ReLU
        -> max pool over the whole remaining map -> flatten -> dense (starts at zero)

    whiten: training images (N, H, W, 3), raw like the model's input; when given, the
    first convolution starts as `patch_whitening` of (the first 10,000 of) them,
    standardized with mean/std, instead of random. The shape follows the airbench
    CIFAR-10 speedruns (Keller Jordan, 2024): three blocks, each with one pool, so most
    of the work is in wide matrix products, and a global max pool instead of a large
    dense layer.
    """
    widths = positive_ints("widths", widths)
    directions = positive_int("directions", directions)
    side = _pooled_side(image_size, widths, "block")
    gen = make_rng(seed)
    channels = len(mean)
    stem = Conv2D(channels, 2 * directions, 3, padding=1, seed=gen)
    if whiten is not None:
        # The first 10,000 images give the 27×27 patch covariance to three digits; all
        # 50,000 would only cost memory (600 MB as float32).
        sample = Standardize(mean, std).forward(np.asarray(whiten)[:10_000])
        stem.params["weight"][...] = patch_whitening(sample, 3, directions)
        stem.params["bias"][...] = 0
    layers: list[Layer] = [Standardize(mean, std), stem, ReLU()]
    channels = 2 * directions
    for width in widths:
        layers += [Conv2D(channels, width, 3, padding=1, seed=gen), MaxPool2D(2, 2),
                   BatchNorm2D(width), ReLU()]
        layers += conv_bn_relu(width, width, gen)
        channels = width
    classifier = Linear(channels, num_classes, seed=gen)
    classifier.params["weight"][...] = 0  # start from "I don't know", as reference_network
    return Sequential(*layers, MaxPool2D(side, side), Flatten(), classifier)
