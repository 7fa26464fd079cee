"""`validation_split`: balanced per class, disjoint, complete, order-keeping, reproducible,
and clear errors for sizes that cannot work."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib.training.splits import validation_split


def labelled(counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Images whose single pixel value is their index, so every image can be traced."""
    y = np.repeat(np.arange(len(counts)), counts)
    y = np.random.default_rng(0).permutation(y)
    x = np.arange(len(y)).reshape(-1, 1, 1, 1)
    return x, y


def test_book_sized_split_is_fifty_per_class_and_keeps_the_rest_in_order():
    x, y = labelled([517] * 10)
    x_tr, y_tr, x_val, y_val = validation_split(x, y, 500)
    assert len(y_val) == 500 and len(y_tr) == 4670
    assert np.bincount(y_val).tolist() == [50] * 10
    idx_tr, idx_val = x_tr.ravel(), x_val.ravel()
    assert not set(idx_tr) & set(idx_val)  # disjoint
    assert sorted(np.concatenate([idx_tr, idx_val])) == list(range(len(y)))  # complete
    assert np.all(np.diff(idx_tr) > 0) and np.all(np.diff(idx_val) > 0)  # original order
    np.testing.assert_array_equal(y_tr, y[idx_tr])  # labels travel with their images
    np.testing.assert_array_equal(y_val, y[idx_val])


def test_the_remainder_goes_to_the_first_classes():
    x, y = labelled([10, 10, 10, 10, 10])
    _, _, _, y_val = validation_split(x, y, 13)
    assert np.bincount(y_val).tolist() == [3, 3, 3, 2, 2]


def test_same_seed_same_split_other_seed_other_split():
    x, y = labelled([40] * 10)
    a = validation_split(x, y, 50, seed=0)[2].ravel()
    b = validation_split(x, y, 50, seed=0)[2].ravel()
    c = validation_split(x, y, 50, seed=1)[2].ravel()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(2, 30), min_size=1, max_size=8), data=st.data())
def test_any_valid_size_partitions_the_images(counts, data):
    x, y = labelled(counts)
    most = len(counts) * (min(counts) - 1)  # every class keeps at least one for training
    size = data.draw(st.integers(1, most))
    x_tr, y_tr, x_val, y_val = validation_split(x, y, size)
    assert len(y_val) == size and len(y_tr) == len(y) - size
    per_class = np.bincount(y_val, minlength=len(counts))
    assert per_class.max() - per_class.min() <= 1  # balanced
    assert sorted(np.concatenate([x_tr.ravel(), x_val.ravel()])) == list(range(len(y)))


@pytest.mark.parametrize(("size", "match"), [
    (0, "size = 0 must be a positive integer"),
    (2.5, "size = 2.5 must be a positive integer"),
    (True, "size = True must be a positive integer"),
    (30, "size = 30 must be less than the number of images"),
    (25, "class 0 has 4 images: too few to give 9"),
])
def test_impossible_sizes_are_refused_by_name(size, match):
    x, y = labelled([4, 13, 13])
    with pytest.raises(ValueError, match=match):
        validation_split(x, y, size)


def test_labels_must_match_the_images():
    x, y = labelled([5, 5])
    with pytest.raises(ValueError, match="one label per image"):
        validation_split(x, y[:-1], 2)
