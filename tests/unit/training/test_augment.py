"""Random crop and flip: shapes, dtypes, exact pixel placement, seeding, errors."""

import numpy as np
import pytest

from cnnlib.training.augment import augment, random_crop, random_flip


def numbered_images(n=6, h=5, w=7, c=3):
    """Every pixel value unique and non-zero, so its origin can be traced."""
    return (np.arange(n * h * w * c).reshape(n, h, w, c) + 1).astype(np.int64)


def reference_crop(image, padding, top, left):
    """The obvious version: np.pad, then a slice."""
    padded = np.pad(image, ((padding, padding), (padding, padding), (0, 0)))
    h, w = image.shape[:2]
    return padded[top:top + h, left:left + w]


def test_random_crop_matches_pad_then_slice_per_image():
    x = numbered_images()
    y = random_crop(x, 2, seed=np.random.default_rng(0))
    gen = np.random.default_rng(0)  # replay the draws: tops, then lefts
    tops, lefts = gen.integers(0, 5, size=6), gen.integers(0, 5, size=6)
    for i in range(len(x)):
        np.testing.assert_array_equal(y[i], reference_crop(x[i], 2, tops[i], lefts[i]))


def test_random_crop_keeps_shape_and_dtype():
    x = np.random.default_rng(1).integers(0, 256, (10, 32, 32, 3), dtype=np.uint8)
    y = random_crop(x, 4, seed=0)
    assert y.shape == x.shape and y.dtype == np.uint8


def test_random_crop_uses_every_offset():
    x = np.ones((4000, 3, 3, 1), np.int64)
    y = random_crop(x, 1, seed=0)
    # A shift of (dy, dx) leaves 3·3 − zeros pixels; all 9 shifts give 4 distinct counts.
    assert set(np.unique(y.sum(axis=(1, 2, 3)))) == {4, 6, 9}


def test_random_flip_mirrors_about_half_and_leaves_the_rest():
    x = numbered_images(n=400)
    y = random_flip(x, seed=0)
    flipped = np.all(y == x[:, :, ::-1], axis=(1, 2, 3))
    same = np.all(y == x, axis=(1, 2, 3))
    assert np.all(flipped ^ same)
    assert 0.4 < flipped.mean() < 0.6


def test_augment_is_reproducible_with_a_seed():
    x = numbered_images()
    np.testing.assert_array_equal(augment(x, seed=np.random.default_rng(5)),
                                  augment(x, seed=np.random.default_rng(5)))
    assert not np.array_equal(augment(x, seed=5), augment(x, seed=6))


def test_augment_does_not_modify_its_input():
    x = numbered_images()
    before = x.copy()
    augment(x, seed=0)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: random_crop(np.zeros((2, 4, 4)), 1, seed=0), "4-D"),
    (lambda: random_crop(np.zeros((2, 4, 4, 1)), -1, seed=0), "padding"),
    (lambda: random_flip(np.zeros((2, 4, 4, 1)), p=1.5, seed=0), "flip probability"),
    (lambda: random_flip(np.zeros((2, 4, 4, 1)), p=True), "flip probability"),
    (lambda: augment(np.zeros((2, 4, 4, 1)), flip="yes"), "flip = 'yes'"),
    (lambda: augment(np.zeros((2, 4, 4, 1)), seed="0"), "seed = '0'"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_seed_is_keyword_only_in_every_transform():
    # One order everywhere (images, options, *, seed): a Generator passed where the
    # options go is refused instead of being read as a padding or a probability.
    x, gen = numbered_images(), np.random.default_rng(0)
    for call in (lambda: random_crop(x, 2, gen), lambda: random_flip(x, 0.5, gen),
                 lambda: augment(x, 4, True, gen)):
        with pytest.raises(TypeError):
            call()
