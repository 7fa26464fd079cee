"""The classic kernels have the sums and shapes their names promise; as_conv_weight builds
(K, F, F, C) weights that conv2d applies as a per-channel kernel, summed over the depth."""

import numpy as np
import pytest

from cnnlib.book import kernels
from cnnlib.core.functional import conv2d

THREE_BY_THREE = [kernels.laplacian, kernels.box_blur, kernels.gaussian_blur, kernels.sharpen,
                  kernels.sobel_x, kernels.sobel_y]


@pytest.mark.parametrize("make", THREE_BY_THREE, ids=lambda f: f.__name__)
def test_classic_kernels_are_3x3_float32(make):
    k = make()
    assert k.shape == (3, 3)
    assert k.dtype == np.float32


@pytest.mark.parametrize("make, total", [
    (kernels.laplacian, 0.0), (kernels.sobel_x, 0.0), (kernels.sobel_y, 0.0),
    (kernels.box_blur, 1.0), (kernels.gaussian_blur, 1.0), (kernels.sharpen, 1.0),
])
def test_kernel_sums(make, total):
    assert make(dtype=np.float64).sum() == pytest.approx(total, abs=1e-12)


def test_laplacian_is_minus_one_with_eight_in_the_centre():
    k = kernels.laplacian()
    assert k[1, 1] == 8
    assert np.all(np.delete(k.ravel(), 4) == -1)


def test_laplacian_gives_zero_on_a_flat_region():
    flat = np.full((1, 6, 6, 1), 137.0)
    assert np.all(conv2d(flat, kernels.as_conv_weight(kernels.laplacian(dtype=np.float64))) == 0)


@pytest.mark.parametrize("make", [kernels.box_blur, kernels.gaussian_blur, kernels.sharpen])
def test_averaging_kernels_keep_a_flat_region_unchanged(make):
    flat = np.full((1, 6, 6, 1), 137.0)
    out = conv2d(flat, kernels.as_conv_weight(make(dtype=np.float64)))
    np.testing.assert_allclose(out, 137.0)


def test_gaussian_blur_3x3_is_the_binomial_1_2_1_kernel():
    expected = np.outer([1, 2, 1], [1, 2, 1]) / 16
    np.testing.assert_array_equal(kernels.gaussian_blur(3, dtype=np.float64), expected)


@pytest.mark.parametrize("size", [1, 2, 4, 5])
def test_blurs_of_any_size_sum_to_one(size):
    for make in (kernels.box_blur, kernels.gaussian_blur):
        k = make(size, dtype=np.float64)
        assert k.shape == (size, size)
        assert k.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("size", [0, -3, 2.5, True, "3"])
def test_blur_rejects_a_bad_size(size):
    with pytest.raises(ValueError, match="kernel size"):
        kernels.box_blur(size)


def test_sobel_y_is_sobel_x_transposed():
    np.testing.assert_array_equal(kernels.sobel_y(), kernels.sobel_x().T)


def test_sobel_x_is_positive_where_the_right_side_is_brighter():
    step = np.zeros((1, 5, 5, 1))
    step[:, :, 3:, :] = 1.0  # dark left, bright right
    assert np.all(conv2d(step, kernels.as_conv_weight(kernels.sobel_x(dtype=np.float64))) >= 0)
    assert conv2d(step, kernels.as_conv_weight(kernels.sobel_x(dtype=np.float64))).max() > 0


def test_kernels_are_fresh_arrays():
    k = kernels.laplacian()
    k[:] = 0
    assert kernels.laplacian()[1, 1] == 8


def test_classic_kernels_lists_every_3x3_kernel():
    assert set(kernels.CLASSIC_KERNELS.values()) == set(THREE_BY_THREE)


@pytest.mark.parametrize("in_channels", [1, 3, 5])
def test_as_conv_weight_of_one_kernel_has_shape_1_f_f_c(in_channels):
    w = kernels.as_conv_weight(kernels.laplacian(), in_channels)
    assert w.shape == (1, 3, 3, in_channels)
    for c in range(in_channels):
        np.testing.assert_array_equal(w[0, :, :, c], kernels.laplacian())


def test_as_conv_weight_of_a_stack_has_one_filter_per_kernel():
    stack = np.stack([kernels.sobel_x(), kernels.sobel_y()])
    w = kernels.as_conv_weight(stack, 3)
    assert w.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(w[1, :, :, 2], kernels.sobel_y())


def test_as_conv_weight_sums_the_kernel_over_rgb():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (2, 8, 8, 3))
    k = kernels.sobel_x(dtype=np.float64)
    per_channel = sum(conv2d(x[..., c:c + 1], kernels.as_conv_weight(k)) for c in range(3))
    np.testing.assert_allclose(conv2d(x, kernels.as_conv_weight(k, 3)), per_channel, rtol=1e-12)


def test_as_conv_weight_average_is_the_kernel_on_the_channel_mean():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, (2, 8, 8, 3))
    k = kernels.gaussian_blur(3, dtype=np.float64)
    on_mean = conv2d(x.mean(axis=3, keepdims=True), kernels.as_conv_weight(k))
    np.testing.assert_allclose(conv2d(x, kernels.as_conv_weight(k, 3, average=True)), on_mean,
                               rtol=1e-12)


def test_as_conv_weight_keeps_the_kernel_dtype_unless_told():
    assert kernels.as_conv_weight(kernels.laplacian(dtype=np.float64)).dtype == np.float64
    assert kernels.as_conv_weight(kernels.laplacian(), dtype=np.float64).dtype == np.float64
    assert kernels.as_conv_weight(np.ones((3, 3), dtype=int), 2, average=True).dtype.kind == "f"


@pytest.mark.parametrize("shape", [(3,), (3, 2), (2, 3, 4), (1, 2, 3, 3), (0, 3, 3)])
def test_as_conv_weight_rejects_a_non_square_kernel(shape):
    with pytest.raises(ValueError, match=r"square \(F, F\)"):
        kernels.as_conv_weight(np.ones(shape))


@pytest.mark.parametrize("in_channels", [0, -1, 1.5, True])
def test_as_conv_weight_rejects_bad_in_channels(in_channels):
    with pytest.raises(ValueError, match="in_channels"):
        kernels.as_conv_weight(kernels.laplacian(), in_channels)


def test_luminance_filter_is_the_weighted_sum_over_rgb():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (2, 4, 5, 3)).astype(np.float64)
    gray = conv2d(x, kernels.luminance_filter(dtype=np.float64))
    assert gray.shape == (2, 4, 5, 1)
    np.testing.assert_allclose(gray[..., 0], x @ np.array(kernels.LUMA_WEIGHTS), rtol=1e-12)


def test_luminance_weights_sum_to_one_so_white_stays_white():
    assert sum(kernels.LUMA_WEIGHTS) == pytest.approx(1.0)
