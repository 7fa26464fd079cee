"""`patch_whitening` and `fast_network`: whitened filters decorrelate patches (checked
through Conv2D, so the filters' (K, F, F, C) layout is the convolution's), bad arguments
are refused, and the fast network has the advertised shape and a whitened first layer."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib.nn.init import patch_whitening
from cnnlib.nn.layers import Conv2D, MaxPool2D
from cnnlib.nn.models import fast_network
from cnnlib.nn.normalization import Standardize
from cnnlib.nn.serialization import load_model, save_model


def correlated_images(n: int = 30, h: int = 14, w: int = 17, seed: int = 0) -> np.ndarray:
    """Smooth images (neighbouring pixels and channels correlated), not square."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, 3))
    x = np.cumsum(np.cumsum(x, axis=1), axis=2) / 4 + rng.standard_normal((n, h, w, 3))
    return x @ np.array([[1.0, 0.6, 0.2], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])


def conv_outputs(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    k, f, _, c = weight.shape
    conv = Conv2D(c, k, f, padding=0, seed=0)
    conv.params["weight"] = weight.astype(np.float64)
    conv.params["bias"] = np.zeros(k)
    return conv.forward(x).reshape(-1, k)


@pytest.mark.parametrize("f", [2, 3])
def test_whitened_patches_are_uncorrelated_with_unit_variance(f):
    x = correlated_images()
    weight = patch_whitening(x, f, 6, eps=1e-8, max_patches=10**9)
    assert weight.shape == (12, f, f, 3) and weight.dtype == np.float32
    np.testing.assert_array_equal(weight[6:], -weight[:6])
    y = conv_outputs(x, weight[:6])
    covariance = y.T @ y / len(y)
    np.testing.assert_allclose(covariance, np.eye(6), atol=2e-4)


def test_the_directions_are_those_of_largest_variance_in_order():
    x = correlated_images()
    weight = patch_whitening(x, 3, 27, eps=1e-8, max_patches=10**9).astype(np.float64)
    # Unit-length filter directions: the variance of the patches along each.
    unit = weight[:27].reshape(27, -1)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    variances = (conv_outputs(x, unit.reshape(27, 3, 3, 3)) ** 2).mean(axis=0)
    assert np.all(np.diff(variances) <= 1e-9 * variances[0])
    assert variances[0] > 50 * variances[-1]  # smooth images: a few directions dominate


def test_a_sample_of_patches_gives_nearly_the_same_filters():
    x = correlated_images(n=60)
    full = patch_whitening(x, 3, 4, max_patches=10**9)
    sample = patch_whitening(x, 3, 4, max_patches=4000, seed=1)
    y = conv_outputs(x, sample[:4])
    covariance = y.T @ y / len(y)
    np.testing.assert_allclose(covariance, np.eye(4), atol=0.1)
    assert not np.array_equal(full, sample)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"x": np.zeros((3, 8, 8))}, "must be a 4-D array"),
    ({"kernel_size": 9}, "kernel_size = 9 must be at most the images' height and width 8×10"),
    ({"kernel_size": 0}, "kernel_size"),
    ({"directions": 13}, "directions = 13 must be at most F·F·C = 12"),
    ({"directions": 0}, "directions"),
    ({"eps": 0.0}, "eps"),
    ({"max_patches": 0}, "max_patches"),
    ({"x": np.full((2, 8, 10, 3), np.nan)}, "NaN or inf"),
])
def test_bad_arguments_are_refused(kwargs, match):
    args = {"x": np.random.default_rng(0).standard_normal((2, 8, 10, 3)), "kernel_size": 2,
            "directions": 4} | kwargs
    with pytest.raises(ValueError, match=match.replace("(", r"\(").replace(")", r"\)")):
        patch_whitening(**args)


def test_fast_network_shape_and_whitened_first_layer(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    mean, std = (120.0, 118.0, 110.0), (60.0, 61.0, 66.0)
    model = fast_network(1, whiten=images, widths=(8, 16, 32), directions=5,
                         mean=mean, std=std)
    stem = model.layers[1]
    expected = patch_whitening(Standardize(mean, std).forward(images), 3, 5)
    np.testing.assert_array_equal(stem.params["weight"], expected)
    assert not stem.params["bias"].any()
    pool = model.layers[-3]
    assert isinstance(pool, MaxPool2D) and pool.kernel_size == 4  # 32 / 2³: global
    logits = model.forward(images[:6])
    assert logits.shape == (6, 10) and not logits.any()  # the classifier starts at zero
    save_model(tmp_path / "fast.npz", model)
    again = load_model(tmp_path / "fast.npz")
    np.testing.assert_array_equal(again.layers[1].params["weight"], expected)
    unwhitened = fast_network(1, widths=(8, 16, 32), directions=5)
    assert unwhitened.layers[1].params["weight"].shape == (10, 3, 3, 3)
    assert not np.array_equal(unwhitened.layers[1].params["weight"], expected)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"image_size": 28}, "image_size = 28 must be divisible by 2^3"),
    ({"directions": 0}, "directions"),
    ({"widths": (8, 0)}, "widths"),
])
def test_fast_network_refuses_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match.replace("^", r"\^")):
        fast_network(0, **kwargs)
