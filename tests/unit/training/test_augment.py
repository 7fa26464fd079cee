"""Random crop and flip, alternating flip and reflected translation: shapes, dtypes, exact
pixel placement, seeding, errors."""

import numpy as np
import pytest

from cnnlib.training.augment import (
    alternating_flip,
    augment,
    flip_pattern,
    random_crop,
    random_flip,
    translate,
)


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


# ------------------------------------------------------------ alternating flip (airbench)


def test_alternating_flip_mirrors_by_the_pattern_in_even_epochs_and_the_rest_in_odd_ones():
    x = numbered_images()
    first = np.array([True, False, True, True, False, False])
    for epoch in range(4):
        out = alternating_flip(x, first, epoch)
        for i in range(len(x)):
            mirrored = first[i] != (epoch % 2 == 1)
            np.testing.assert_array_equal(out[i], x[i, :, ::-1] if mirrored else x[i])
    assert out.dtype == x.dtype and not np.shares_memory(out, x)


def test_two_consecutive_epochs_show_every_image_both_ways():
    x = numbered_images(n=40)
    first = flip_pattern(40, seed=0)
    for epoch in range(3):
        a, b = alternating_flip(x, first, epoch), alternating_flip(x, first, epoch + 1)
        for i in range(40):
            assert {a[i].tobytes(), b[i].tobytes()} == {x[i].tobytes(),
                                                        x[i, :, ::-1].tobytes()}


def test_flip_pattern_is_a_seeded_random_half():
    a = flip_pattern(10_000, seed=4)
    assert a.dtype == np.bool_ and abs(a.mean() - 0.5) < 0.02
    np.testing.assert_array_equal(a, flip_pattern(10_000, seed=4))
    assert not np.array_equal(a, flip_pattern(10_000, seed=5))


# ------------------------------------------------------------------------ translation


def naive_translate(image, dy, dx):
    """Pixel by pixel: out[y, x] = image[y − dy, x − dx], reflected at the borders."""
    h, w = image.shape[:2]
    out = np.empty_like(image)
    for y in range(h):
        for x in range(w):
            sy, sx = y - dy, x - dx
            sy = -sy if sy < 0 else (2 * (h - 1) - sy if sy >= h else sy)
            sx = -sx if sx < 0 else (2 * (w - 1) - sx if sx >= w else sx)
            out[y, x] = image[sy, sx]
    return out


@pytest.mark.parametrize(("dy", "dx"), [(0, 0), (2, 2), (-2, -2), (1, -3), (-4, 0), (3, 6)])
def test_translate_matches_the_pixel_loop(dy, dx):
    x = numbered_images()
    out = translate(x, dy, dx)
    assert out.shape == x.shape and out.dtype == x.dtype
    for i in range(len(x)):
        np.testing.assert_array_equal(out[i], naive_translate(x[i], dy, dx))


def test_translate_moves_the_content_and_reflects_the_border():
    x = numbered_images(n=1, h=5, w=5, c=1)
    out = translate(x, 2, 0)[0, :, :, 0]
    np.testing.assert_array_equal(out[2:], x[0, :3, :, 0])  # moved down by 2
    np.testing.assert_array_equal(out[:2], x[0, [2, 1], :, 0])  # rows 2, 1 mirrored in


@pytest.mark.parametrize(("call", "match"), [
    (lambda: translate(np.zeros((1, 4, 4, 1)), 4, 0), r"dy = 4 must be an integer shift"),
    (lambda: translate(np.zeros((1, 4, 4, 1)), 0, 1.5), "dx = 1.5"),
    (lambda: translate(np.zeros((4, 4, 1)), 0, 0), "4-D"),
    (lambda: alternating_flip(np.zeros((2, 4, 4, 1)), np.array([True]), 0), r"shape \(2,\)"),
    (lambda: alternating_flip(np.zeros((2, 4, 4, 1)), np.array([1, 0]), 0), "bool"),
    (lambda: alternating_flip(np.zeros((2, 4, 4, 1)), np.array([True, False]), -1), "epoch"),
    (lambda: flip_pattern(-1, seed=0), "n = -1"),
])
def test_bad_arguments_of_the_fast_recipe_transforms_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
