"""cnnlib.checks: one rule and one message per kind of argument."""

import re

import numpy as np
import pytest

from cnnlib.checks import (
    boolean,
    fraction,
    matching_labels,
    non_negative_int,
    non_negative_number,
    positive_int,
    positive_ints,
    positive_number,
)


@pytest.mark.parametrize(("check", "value", "expected"), [
    (positive_int, np.int64(3), 3), (non_negative_int, 0, 0),
    (positive_number, 2, 2.0), (non_negative_number, 0, 0.0),
    (fraction, 0.0, 0.0), (boolean, np.bool_(True), True),
])
def test_checks_return_plain_python_values(check, value, expected):
    out = check("v", value)
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize(("check", "value", "rule"), [
    (positive_int, True, "a positive integer"), (positive_int, 0, "a positive integer"),
    (positive_int, 2.0, "a positive integer"), (non_negative_int, -1, "a non-negative integer"),
    (positive_number, False, "a positive number"), (positive_number, "0.1", "a positive number"),
    (positive_number, float("inf"), "a positive number"),
    (non_negative_number, -0.5, "a non-negative number"),
    (non_negative_number, float("nan"), "a non-negative number"),
    (fraction, 1.0, r"a number in \[0, 1\)"), (boolean, 1, "True or False"),
    (boolean, "yes", "True or False"),
])
def test_checks_name_the_value_and_the_rule(check, value, rule):
    with pytest.raises(ValueError, match=rf"^v = {re.escape(repr(value))} must be {rule}"):
        check("v", value)


def test_positive_ints_takes_any_sequence_and_refuses_the_rest():
    assert positive_ints("widths", [8, np.int32(16)]) == (8, 16)
    assert positive_ints("widths", range(1, 3)) == (1, 2)
    for bad in ([], (8, 0), (8, 2.0), (True,), "88", 8, None):
        with pytest.raises(ValueError, match="must be a non-empty sequence of positive integers"):
            positive_ints("widths", bad)


def test_matching_labels_one_label_per_image():
    images = np.zeros((3, 2, 2, 1))
    np.testing.assert_array_equal(matching_labels(images, [0, 1, 2]), [0, 1, 2])
    for labels in ([0, 1], [], np.zeros((3, 1), int)):
        with pytest.raises(ValueError, match=r"need as many labels as images \(x/y\)"):
            matching_labels(images if len(labels) else images[:0], labels, "x/y")
