"""Output sizes of convolution and pooling: W2 = (W1 - F + 2P) / S + 1.

The formula only describes a real layer when the division is exact: otherwise the
filter's last step would hang over the edge of the (padded) input. We refuse those
settings with a message that names the values and the rule, instead of silently
flooring like most frameworks do.
"""

from __future__ import annotations

import numbers


def _check_int(name: str, value: object, minimum: int) -> int:
    """Return `value` as an int, or raise ValueError naming it and the rule."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} = {value!r} must be an integer")
    if value < minimum:
        rule = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} = {value} must be {rule}")
    return int(value)


def conv_output_size(w: int, f: int, s: int = 1, p: int = 0) -> int:
    """Spatial output size of a convolution: (W - F + 2P) / S + 1.

    w: input width (or height), f: filter size, s: stride, p: zero padding per side.
    Raises ValueError when an argument is not a positive integer (p may be 0), when the
    filter is larger than the padded input, or when the stride does not divide
    (W - F + 2P) exactly.
    """
    w = _check_int("input size W", w, 1)
    f = _check_int("filter size F", f, 1)
    s = _check_int("stride S", s, 1)
    p = _check_int("padding P", p, 0)
    span = w - f + 2 * p
    if span < 0:
        raise ValueError(
            f"filter size F = {f} is larger than the padded input W + 2P = {w + 2 * p}: "
            "the rule is F <= W + 2P"
        )
    if span % s != 0:
        raise ValueError(
            f"(W - F + 2P) = {span} is not divisible by stride S = {s} "
            f"(W = {w}, F = {f}, P = {p}): the filter would not fit evenly; "
            "change W, F, S or P so that S divides W - F + 2P"
        )
    return span // s + 1


def pool_output_size(w: int, f: int, s: int) -> int:
    """Spatial output size of pooling (no padding): (W - F) / S + 1.

    w: input width (or height), f: window size, s: stride. Raises ValueError for
    non-positive or non-integer arguments, a window larger than the input, or a stride
    that does not divide (W - F).
    """
    w = _check_int("input size W", w, 1)
    f = _check_int("pool size F", f, 1)
    s = _check_int("stride S", s, 1)
    span = w - f
    if span < 0:
        raise ValueError(f"pool size F = {f} is larger than the input W = {w}: the rule is F <= W")
    if span % s != 0:
        raise ValueError(
            f"(W - F) = {span} is not divisible by stride S = {s} (W = {w}, F = {f}): "
            "the pooling window would not fit evenly; change W, F or S so that S divides W - F"
        )
    return span // s + 1
