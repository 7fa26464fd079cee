"""The output-size formulas: W2 = (W - F + 2P)/S + 1 and (W - F)/S + 1."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlib import conv_output_size, pool_output_size


@pytest.mark.parametrize(
    ("w", "f", "s", "p", "expected"),
    [
        (5, 3, 2, 1, 3),  # the seed article's worked example
        (7, 3, 1, 0, 5),
        (7, 3, 2, 0, 3),
        (32, 5, 1, 2, 32),  # "same" padding P = (F-1)/2
        (227, 11, 4, 0, 55),  # AlexNet's first layer
        (1, 1, 1, 0, 1),
    ],
)
def test_conv_output_size_known_cases(w, f, s, p, expected):
    assert conv_output_size(w, f, s, p) == expected


def test_conv_output_size_defaults_are_stride_1_no_padding():
    assert conv_output_size(10, 3) == 8


@pytest.mark.parametrize(("w", "f", "s", "expected"), [(4, 2, 2, 2), (5, 3, 2, 2), (32, 2, 2, 16)])
def test_pool_output_size_known_cases(w, f, s, expected):
    assert pool_output_size(w, f, s) == expected


def test_conv_output_size_rejects_fractional_stride():
    with pytest.raises(ValueError, match=r"\(W - F \+ 2P\) = 6 is not divisible by stride S = 4"):
        conv_output_size(7, 3, 4, 1)


def test_pool_output_size_rejects_fractional_stride():
    with pytest.raises(ValueError, match=r"\(W - F\) = 3 is not divisible by stride S = 2"):
        pool_output_size(5, 2, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, 5, 1, 0), r"filter size F = 5 is larger than the padded input W \+ 2P = 3"),
        ((0, 1, 1, 0), r"input size W = 0 must be positive"),
        ((5, 0, 1, 0), r"filter size F = 0 must be positive"),
        ((5, 3, 0, 0), r"stride S = 0 must be positive"),
        ((5, 3, -1, 0), r"stride S = -1 must be positive"),
        ((5, 3, 1, -1), r"padding P = -1 must be >= 0"),
        ((5.5, 3, 1, 0), r"input size W = 5.5 must be an integer"),
        ((5, 3.0, 1, 0), r"filter size F = 3.0 must be an integer"),
        ((5, 3, 1, True), r"padding P = True must be an integer"),
        (("5", 3, 1, 0), r"input size W = '5' must be an integer"),
    ],
)
def test_conv_output_size_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(*args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2, 3, 1), r"pool size F = 3 is larger than the input W = 2"),
        ((4, 2, 0), r"stride S = 0 must be positive"),
        ((4, 0, 1), r"pool size F = 0 must be positive"),
        ((4.0, 2, 2), r"input size W = 4.0 must be an integer"),
    ],
)
def test_pool_output_size_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        pool_output_size(*args)


@given(
    w=st.integers(1, 64), f=st.integers(1, 11), s=st.integers(1, 5), p=st.integers(0, 5)
)
def test_conv_output_size_counts_filter_positions(w, f, s, p):
    """Property: the result is exactly the number of positions a filter can take."""
    positions = [start for start in range(0, w + 2 * p - f + 1, s)]
    fits = w + 2 * p >= f and (w + 2 * p - f) % s == 0
    if fits:
        assert conv_output_size(w, f, s, p) == len(positions)
        # The last position ends exactly at the padded edge: nothing hangs over.
        assert positions[-1] + f == w + 2 * p
    else:
        with pytest.raises(ValueError):
            conv_output_size(w, f, s, p)


@given(w=st.integers(1, 64), f=st.integers(1, 8), s=st.integers(1, 8))
def test_pool_output_size_equals_conv_without_padding(w, f, s):
    try:
        expected = conv_output_size(w, f, s, 0)
    except ValueError:
        with pytest.raises(ValueError):
            pool_output_size(w, f, s)
    else:
        assert pool_output_size(w, f, s) == expected
