"""The output-size formulas: W2 = floor((W - F + 2P)/S) + 1 and floor((W - F)/S) + 1.

A floored size is accepted when the strip after the last window holds no real pixel that
the grid of windows would reach (only padding, or pixels in a gap the stride leaves
between windows anyway); otherwise it is refused.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optional import require_torch

from cnnlib import conv_output_size, pool_output_size


@pytest.mark.parametrize(
    ("w", "f", "s", "p", "expected"),
    [
        (5, 3, 2, 1, 3),  # the source article's worked example
        (7, 3, 1, 0, 5),
        (7, 3, 2, 0, 3),
        (32, 5, 1, 2, 32),  # "same" padding P = (F-1)/2
        (227, 11, 4, 0, 55),  # AlexNet's first layer
        (1, 1, 1, 0, 1),
        # Floored, with only padding left over:
        (32, 3, 2, 1, 16),  # the ResNet downsampling layer: 31/2 floored
        (8, 3, 2, 1, 4),
        (224, 7, 2, 3, 112),  # ResNet's first layer
        # Floored, with real pixels left over only in a gap the stride skips anyway:
        (32, 1, 2, 0, 16),  # the 1x1 stride-2 shortcut
        (7, 3, 4, 1, 2),
    ],
)
def test_conv_output_size_known_cases(w, f, s, p, expected):
    assert conv_output_size(w, f, s, p) == expected


def test_conv_output_size_defaults_are_stride_1_no_padding():
    assert conv_output_size(10, 3) == 8


@pytest.mark.parametrize(
    ("w", "f", "s", "expected"),
    [(4, 2, 2, 2), (5, 3, 2, 2), (32, 2, 2, 16), (4, 1, 2, 2), (8, 2, 4, 2), (7, 2, 4, 2)],
)
def test_pool_output_size_known_cases(w, f, s, expected):
    assert pool_output_size(w, f, s) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((10, 3, 2, 0), r"\(W - F \+ 2P\) = 7 is not divisible by stride S = 2 \(W = 10"),
        ((6, 3, 2, 0), r"\(W - F \+ 2P\) = 3 is not divisible by stride S = 2"),
        ((9, 3, 4, 0), r"\(W - F \+ 2P\) = 6 is not divisible by stride S = 4"),
        ((8, 3, 4, 1), r"\(W - F \+ 2P\) = 7 is not divisible by stride S = 4"),
    ],
)
def test_conv_output_size_rejects_a_stride_that_would_ignore_real_pixels(args, message):
    with pytest.raises(ValueError, match=message) as err:
        conv_output_size(*args)
    assert "real input pixel" in str(err.value), str(err.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((5, 2, 2), r"\(W - F\) = 3 is not divisible by stride S = 2"),
        ((4, 3, 2), r"\(W - F\) = 1 is not divisible by stride S = 2"),
        ((9, 2, 4), r"\(W - F\) = 7 is not divisible by stride S = 4.*last 3 input pixels"),
    ],
)
def test_pool_output_size_rejects_a_stride_that_would_ignore_pixels(args, message):
    with pytest.raises(ValueError, match=message):
        pool_output_size(*args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, 5, 1, 0), r"filter size F = 5 is larger than the padded input W \+ 2P = 3"),
        ((0, 1, 1, 0), r"input size W = 0 must be a positive integer"),
        ((5, 0, 1, 0), r"filter size F = 0 must be a positive integer"),
        ((5, 3, 0, 0), r"stride S = 0 must be a positive integer"),
        ((5, 3, -1, 0), r"stride S = -1 must be a positive integer"),
        ((5, 3, 1, -1), r"padding P = -1 must be a non-negative integer"),
        ((5.5, 3, 1, 0), r"input size W = 5.5 must be a positive integer"),
        ((5, 3.0, 1, 0), r"filter size F = 3.0 must be a positive integer"),
        ((5, 3, 1, True), r"padding P = True must be a non-negative integer"),
        (("5", 3, 1, 0), r"input size W = '5' must be a positive integer"),
    ],
)
def test_conv_output_size_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(*args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2, 3, 1), r"pool size F = 3 is larger than the input W = 2"),
        ((4, 2, 0), r"stride S = 0 must be a positive integer"),
        ((4, 0, 1), r"pool size F = 0 must be a positive integer"),
        ((4.0, 2, 2), r"input size W = 4.0 must be a positive integer"),
    ],
)
def test_pool_output_size_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        pool_output_size(*args)


def reached_but_missed(w: int, f: int, s: int, p: int) -> list[int]:
    """Real pixels (padded indices) that an endless grid of windows at 0, S, 2S, ...
    would cover but the windows that fit inside the padded input do not: counted by loops."""
    padded = w + 2 * p
    fitting = [start for start in range(0, padded - f + 1, s)]
    covered = {i for start in fitting for i in range(start, start + f)}
    endless = {i for start in range(0, padded, s) for i in range(start, start + f)}
    return [i for i in range(p, p + w) if i in endless and i not in covered]


@given(
    w=st.integers(1, 64), f=st.integers(1, 11), s=st.integers(1, 5), p=st.integers(0, 5)
)
def test_conv_output_size_counts_filter_positions(w, f, s, p):
    """Property: the result is the number of positions that fit, and it is refused exactly
    when those positions miss a real pixel that the grid of windows would reach."""
    padded = w + 2 * p
    positions = [start for start in range(0, padded - f + 1, s)]
    if padded < f:
        with pytest.raises(ValueError, match="larger than the padded input"):
            conv_output_size(w, f, s, p)
        return
    missed = reached_but_missed(w, f, s, p)
    if missed:
        with pytest.raises(ValueError, match="real input pixel"):
            conv_output_size(w, f, s, p)
        return
    assert conv_output_size(w, f, s, p) == len(positions)
    # Nothing hangs over, and one more step would.
    assert positions[-1] + f <= padded < positions[-1] + s + f
    if (padded - f) % s == 0:  # the exact case: the last window ends at the padded edge
        assert positions[-1] + f == padded


@given(w=st.integers(1, 64), f=st.integers(1, 8), s=st.integers(1, 8))
def test_pool_output_size_equals_conv_without_padding(w, f, s):
    try:
        expected = conv_output_size(w, f, s, 0)
    except ValueError:
        with pytest.raises(ValueError):
            pool_output_size(w, f, s)
    else:
        assert pool_output_size(w, f, s) == expected


# Dilation: taps d pixels apart, the filter spans d(F - 1) + 1 pixels ------------------


@pytest.mark.parametrize(
    ("w", "f", "s", "p", "d", "expected"),
    [
        (7, 3, 1, 0, 2, 3),  # span 5: windows at 0, 1, 2
        (32, 3, 1, 2, 2, 32),  # "same" padding for a dilated 3x3 is P = d
        (9, 3, 2, 0, 2, 3),  # span 5, stride 2: (9 - 5)/2 + 1
        (10, 3, 1, 0, 4, 2),  # span 9
        (12, 2, 3, 1, 3, 4),  # (12 + 2 - 3 - 1)/3 = 10/3 floored: only padding left over
    ],
)
def test_conv_output_size_with_dilation(w, f, s, p, d, expected):
    assert conv_output_size(w, f, s, p, dilation=d) == expected
    # PyTorch's documented form, written out here independently.
    assert expected == (w + 2 * p - d * (f - 1) - 1) // s + 1


def test_dilation_1_is_the_undilated_formula_and_the_old_contract_holds():
    assert conv_output_size(10, 3, 2, 1, dilation=1) == conv_output_size(10, 3, 2, 1) == 5
    assert conv_output_size(10, 3) == conv_output_size(10, 3, dilation=1) == 8


@pytest.mark.parametrize(
    ("args", "dilation", "message"),
    [
        ((5, 3, 1, 0), 3, r"dilated filter span d\(F - 1\) \+ 1 = 7 \(F = 3, d = 3\) is larger "
                          r"than the padded input W \+ 2P = 5: the rule is d\(F - 1\) \+ 1 <= W \+ 2P"),
        ((5, 3, 1, 0), 0, r"dilation d = 0 must be a positive integer"),
        ((5, 3, 1, 0), 1.5, r"dilation d = 1.5 must be a positive integer"),
        ((5, 3, 1, 0), True, r"dilation d = True must be a positive integer"),
        ((10, 3, 2, 0), 2, r"\(W \+ 2P - d\(F - 1\) - 1\) = 5 is not divisible by stride S = 2 "
                           r"\(W = 10, F = 3, P = 0, d = 2\).*last 1 real input pixel "),
    ],
)
def test_conv_output_size_dilation_refusals(args, dilation, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(*args, dilation=dilation)


def test_dilation_is_keyword_only():
    with pytest.raises(TypeError):
        conv_output_size(10, 3, 1, 0, 2)


@given(w=st.integers(1, 40), f=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 4),
       d=st.integers(1, 4))
def test_dilated_size_is_the_undilated_size_of_the_span(w, f, s, p, d):
    """Property: a dilated filter is refused or sized exactly as a dense filter of its span."""
    span_f = d * (f - 1) + 1
    try:
        expected = conv_output_size(w, span_f, s, p)
    except ValueError:
        with pytest.raises(ValueError):
            conv_output_size(w, f, s, p, dilation=d)
    else:
        assert conv_output_size(w, f, s, p, dilation=d) == expected


def test_dilated_sizes_match_torch():
    torch = require_torch()
    for w, f, s, p, d in [(7, 3, 1, 0, 2), (9, 3, 2, 0, 2), (12, 2, 3, 1, 3), (32, 3, 1, 2, 2)]:
        x = torch.zeros(1, 1, w, w + 2)  # not square: H and W cannot be swapped unseen
        y = torch.nn.functional.conv2d(x, torch.zeros(1, 1, f, f), stride=s, padding=p,
                                       dilation=d)
        assert y.shape[2:] == (conv_output_size(w, f, s, p, dilation=d),
                               conv_output_size(w + 2, f, s, p, dilation=d))
