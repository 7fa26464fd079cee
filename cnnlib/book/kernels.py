"""Classic hand-made image filters, and how to turn them into conv weights.

Before networks learned their filters, image processing used a few designed by hand.
Each function returns a fresh (F, F) array, so changing it never changes the next call:

- `laplacian`: -1 everywhere, 8 in the center. Sums to 0, so a flat region gives 0 and
  only places where the brightness changes (edges) respond.
- `box_blur`, `gaussian_blur`: averages of a neighborhood. Sum to 1, so a flat region
  keeps its brightness.
- `sharpen`: the image plus its Laplacian (5 in the center, -1 at the four neighbors).
  Sums to 1.
- `sobel_x`, `sobel_y`: horizontal and vertical brightness gradients. Sum to 0.

`as_conv_weight` turns one kernel or a stack of them into the (K, F, F, C) weight that
`cnnlib.core.functional.conv2d` expects; `luminance_filter` is the 1×1×3 filter that turns RGB
into gray.
Book: chapter 3 (classic kernels).
"""

from __future__ import annotations

from math import comb

import numpy as np

from ..checks import positive_int

# ITU-R BT.601 luma: how bright red, green and blue look to a human eye.
LUMA_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)


def _check_size(size: object) -> int:
    return positive_int("kernel size", size)


def laplacian(*, dtype: np.dtype = np.float32) -> np.ndarray:
    """The edge detector: -1 everywhere, 8 in the center. (3, 3), sums to 0."""
    k = -np.ones((3, 3), dtype=dtype)
    k[1, 1] = 8
    return k


def box_blur(size: int = 3, *, dtype: np.dtype = np.float32) -> np.ndarray:
    """The plain average of a size×size neighborhood: (size, size), every entry 1/size²."""
    size = _check_size(size)
    return np.full((size, size), 1.0 / size**2, dtype=dtype)


def gaussian_blur(size: int = 3, *, dtype: np.dtype = np.float32) -> np.ndarray:
    """A weighted average that trusts the center most: (size, size), sums to 1.

    The weights are binomial coefficients (for size 3: [1, 2, 1] ⊗ [1, 2, 1] / 16), the
    integer approximation of a Gaussian bell that image processing has long used.
    """
    size = _check_size(size)
    row = np.array([comb(size - 1, i) for i in range(size)], dtype=np.float64)
    return (np.outer(row, row) / row.sum() ** 2).astype(dtype)


def sharpen(*, dtype: np.dtype = np.float32) -> np.ndarray:
    """The image plus its 4-neighbor Laplacian: 5 in the center, -1 above, below, left
    and right. (3, 3), sums to 1, so flat regions keep their brightness."""
    return np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=dtype)


def sobel_x(*, dtype: np.dtype = np.float32) -> np.ndarray:
    """Brightness change from left to right (responds to vertical edges). (3, 3), sums to 0.

    Read as cross-correlation (no flip, as conv2d computes it): positive where the right
    side is brighter than the left.
    """
    return np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=dtype)


def sobel_y(*, dtype: np.dtype = np.float32) -> np.ndarray:
    """Brightness change from top to bottom (responds to horizontal edges). (3, 3), sums to 0.

    Positive where the bottom is brighter than the top.
    """
    return sobel_x(dtype=dtype).T.copy()


CLASSIC_KERNELS = {
    "edges (Laplacian)": laplacian,
    "box blur": box_blur,
    "Gaussian blur": gaussian_blur,
    "sharpen": sharpen,
    "Sobel x": sobel_x,
    "Sobel y": sobel_y,
}
"""Display name -> function, in the order the book shows them."""


def as_conv_weight(kernel: np.ndarray, in_channels: int = 1, *, average: bool = False,
                   dtype: np.dtype | None = None) -> np.ndarray:
    """One 2-D kernel (F, F), or a stack of K of them (K, F, F), as a conv weight (K, F, F, C).

    Every filter applies its 2-D kernel to each of the C = in_channels input channels and
    adds the C results, since a filter always spans the full depth of its input. With
    in_channels=1 that is the kernel on a grayscale image; with 3 it is the kernel on R,
    G and B, summed. average=True divides by C, which is the kernel on the channel mean.
    dtype defaults to the kernel's (float64 for an integer kernel with average=True).
    """
    k = np.asarray(kernel)
    if k.ndim == 2:
        k = k[None]
    if k.ndim != 3 or k.shape[1] != k.shape[2] or k.shape[1] == 0 or k.shape[0] == 0:
        raise ValueError(
            f"kernel must be a square (F, F) array or a stack (K, F, F) of them, got shape "
            f"{np.shape(kernel)}"
        )
    in_channels = positive_int("in_channels", in_channels)
    weight = np.repeat(k[..., None], in_channels, axis=3)
    if average:
        weight = weight / in_channels
    return np.ascontiguousarray(weight, dtype=dtype if dtype is not None else weight.dtype)


def luminance_filter(*, dtype: np.dtype = np.float32) -> np.ndarray:
    """The 1×1 filter that turns RGB into gray: weight (1, 1, 1, 3) holding LUMA_WEIGHTS.

    conv2d(x, luminance_filter()) on x: (N, H, W, 3) gives (N, H, W, 1), the same as
    x @ LUMA_WEIGHTS: a 1×1 convolution is a weighted sum over the depth at each pixel.
    """
    return np.array(LUMA_WEIGHTS, dtype=dtype).reshape(1, 1, 1, 3)
