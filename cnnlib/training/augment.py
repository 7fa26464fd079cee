"""Data augmentation: random crops and horizontal flips of whole batches at once.

A network that sees each training image shifted by a few pixels and mirrored at random
learns that a cat is a cat wherever it stands and whichever way it faces, and cannot
simply memorise 5,000 exact pixel patterns. Both transforms keep the label.
The random ones take images (N, H, W, C) of any dtype, their options, and a keyword
`seed` (an int, a NumPy Generator that is drawn from, or None), as the layers do; they
return new arrays of the same shape and dtype; no Python loop runs over the images.

Two more from the fast-training recipes (Jordan's airbench CIFAR-10 speedruns, 2024):
`alternating_flip`, which mirrors each image in every other epoch instead of at random
(over any two consecutive epochs the network sees every image both ways, where random
flips show half of them the same way twice: a quarter unmirrored, a quarter mirrored),
and `translate`, a fixed shift with reflected borders, which test-time augmentation
uses (`cnnlib.training.metrics`).
Book: chapter 10 ("Data augmentation").
"""

from __future__ import annotations

import numpy as np

from ..checks import Seed, boolean, check_nhwc, fraction, make_rng, non_negative_int


def random_crop(images: np.ndarray, padding: int = 4, *, seed: Seed = None) -> np.ndarray:
    """Pad every image with `padding` zero pixels on each side, then cut a random H×W window.

    images: (N, H, W, C) -> (N, H, W, C). Each image gets its own shift (dy, dx), drawn
    uniformly from {−padding, …, +padding}²; pixels shifted in from outside are zero.
    """
    check_nhwc(images, "images")
    padding = non_negative_int("padding", padding)
    gen = make_rng(seed)
    if padding == 0:
        return images.copy()
    n, h, w, c = images.shape
    p = int(padding)
    padded = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=images.dtype)
    padded[:, p:p + h, p:p + w] = images
    top = gen.integers(0, 2 * p + 1, size=n)
    left = gen.integers(0, 2 * p + 1, size=n)
    # One gather for the whole batch: row index (N, H, 1) and column index (N, 1, W)
    # broadcast to every pixel of every image.
    rows = (top[:, None] + np.arange(h))[:, :, None]
    cols = (left[:, None] + np.arange(w))[:, None, :]
    return padded[np.arange(n)[:, None, None], rows, cols]


def random_flip(images: np.ndarray, p: float = 0.5, *, seed: Seed = None) -> np.ndarray:
    """Mirror each image left-right with probability p: (N, H, W, C) -> (N, H, W, C)."""
    check_nhwc(images, "images")
    p = fraction("p (the flip probability)", p, include_one=True)
    gen = make_rng(seed)
    flip = gen.random(len(images)) < p
    out = images.copy()
    out[flip] = images[flip, :, ::-1]
    return out


def augment(images: np.ndarray, padding: int = 4, flip: bool = True, *,
            seed: Seed = None) -> np.ndarray:
    """The book's training augmentation: random crop with `padding`, then a random flip.

    images: (N, H, W, C) -> (N, H, W, C), same dtype. Draws from `seed` in a fixed order
    (crop offsets, then flips), so a seeded Generator reproduces the batch exactly.
    """
    flip = boolean("flip", flip)
    gen = make_rng(seed)
    out = random_crop(images, padding, seed=gen)
    return random_flip(out, seed=gen) if flip else out


def flip_pattern(n: int, *, seed: Seed = None) -> np.ndarray:
    """Which of n images `alternating_flip` mirrors in even epochs: bool (n,), a random half
    (each True with probability 1/2, drawn once from `seed`)."""
    n = non_negative_int("n", n)
    return make_rng(seed).random(n) < 0.5


def alternating_flip(images: np.ndarray, first: np.ndarray, epoch: int) -> np.ndarray:
    """Mirror image i if first[i] in even epochs and if not first[i] in odd ones.

    images: (N, H, W, C) -> (N, H, W, C); first: bool (N,), the batch's entries of
    `flip_pattern` (each image keeps its own pattern wherever it lands in a batch);
    epoch: 0-based. Nothing is random here: the randomness is in `first`.
    """
    check_nhwc(images, "images")
    epoch = non_negative_int("epoch", epoch)
    first = np.asarray(first)
    if first.dtype != np.bool_ or first.shape != (len(images),):
        raise ValueError(f"first must be a bool array of shape ({len(images)},), one entry "
                         f"per image, got {first.dtype} {first.shape}")
    flip = first ^ bool(epoch % 2)
    out = images.copy()
    out[flip] = images[flip, :, ::-1]
    return out


def translate(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Shift every image's content dy pixels down and dx right; the rows and columns that
    come in are the border reflected (as np.pad's "reflect": without repeating the edge).

    images: (N, H, W, C) -> (N, H, W, C), same dtype; |dy| < H and |dx| < W.
    out[:, y, x] = images[:, y − dy, x − dx] wherever that pixel exists.
    """
    check_nhwc(images, "images")
    n, h, w, c = images.shape
    for name, d, size in (("dy", dy, h), ("dx", dx, w)):
        if not isinstance(d, int | np.integer) or isinstance(d, bool) or not -size < d < size:
            raise ValueError(f"{name} = {d!r} must be an integer shift with |{name}| < {size} "
                             "(reflection needs that many pixels)")
    py, px = abs(int(dy)), abs(int(dx))
    padded = np.pad(images, ((0, 0), (py, py), (px, px), (0, 0)), mode="reflect")
    # content moves down by dy: output row y reads padded row y − dy + py
    return padded[:, py - dy:py - dy + h, px - dx:px - dx + w].copy()
