"""Output sizes of convolution and pooling: W2 = floor((W1 - F + 2P) / S) + 1.

A dilated convolution (taps d pixels apart) spans d(F - 1) + 1 pixels and takes that
span in place of F: W2 = floor((W1 + 2P - d(F - 1) - 1) / S) + 1.

When S divides (W - F + 2P) the division is exact and the last window ends exactly at
the edge of the padded input. When it does not, every framework floors the division:
the windows that fit are kept and the strip after the last one is left over. That is
harmless when the strip holds only zero padding (3×3 filters, stride 2, padding 1 on a
32×32 image: the standard ResNet downsampling layer), or only pixels that the stride
would skip anyway (a 1×1, stride-2 shortcut). It is a silent loss when the strip holds
real pixels that the next window would have read; those settings are refused here, with
a message that names the values and the rule.

Book: chapter 4 (convolution) and chapter 5 (pooling).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..checks import non_negative_int, positive_int


def _pixels(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def leftover_pixels(w: int, f: int, s: int, p: int = 0) -> tuple[int, int]:
    """(leftover, real): what lies past the last window of the floored grid, per axis.

    leftover = W + 2P - ((W2 - 1)·S + F) padded cells follow the last window, with
    W2 = floor((W - F + 2P)/S) + 1; real = max(0, leftover - P) of them are input pixels
    rather than zero padding. Assumes valid integers with F <= W + 2P.
    """
    w2 = (w - f + 2 * p) // s + 1
    leftover = w + 2 * p - ((w2 - 1) * s + f)
    return leftover, max(0, leftover - p)


def drops_real_pixels(w: int, f: int, s: int, p: int = 0) -> bool:
    """True when flooring the size would silently ignore real input pixels.

    No real pixel is left over, or (stride larger than the filter) no more than the
    S - F pixels that the stride skips between any two windows anyway: harmless.
    More real pixels than that, which the next window would have read: a loss.
    """
    _, real = leftover_pixels(w, f, s, p)
    return real > 0 and not (s > f and real <= s - f)


def _remember(fn: Callable[..., int]) -> Callable[..., int]:
    """`fn`, remembering its answers: the engine asks the same sizes for every chunk of
    every batch. Typed, so that True is never taken for 1; an unhashable argument (a list)
    goes straight to `fn`, which refuses it by name."""
    cached = functools.lru_cache(maxsize=4096, typed=True)(fn)

    @functools.wraps(fn)
    def call(*args: object, **kwargs: object) -> int:
        try:
            return cached(*args, **kwargs)
        except TypeError:
            return fn(*args, **kwargs)

    return call


@_remember
def conv_output_size(w: int, f: int, s: int = 1, p: int = 0, *, dilation: int = 1) -> int:
    """Spatial output size of a convolution: floor((W - F + 2P) / S) + 1.

    w: input width (or height), f: filter size, s: stride, p: zero padding per side,
    dilation d: the filter's taps are d pixels apart, so it spans F' = d(F - 1) + 1
    pixels and the size is floor((W + 2P - d(F - 1) - 1) / S) + 1, PyTorch's form
    (d = 1 gives the formula above). Raises ValueError when an argument is not a
    positive integer (p may be 0), when the filter (its span F') is larger than the
    padded input, or when the stride does not divide (W - F' + 2P) and the floored grid
    of windows would ignore real input pixels (see `drops_real_pixels`); a remainder that
    holds only padding is fine.
    """
    w = positive_int("input size W", w)
    f = positive_int("filter size F", f)
    s = positive_int("stride S", s)
    p = non_negative_int("padding P", p)
    d = positive_int("dilation d", dilation)
    span_f = d * (f - 1) + 1  # the dilated filter's span F'; F itself when d = 1
    span = w - span_f + 2 * p
    if span < 0:
        what = (f"filter size F = {f}" if d == 1 else
                f"dilated filter span d(F - 1) + 1 = {span_f} (F = {f}, d = {d})")
        rule = "F <= W + 2P" if d == 1 else "d(F - 1) + 1 <= W + 2P"
        raise ValueError(
            f"{what} is larger than the padded input W + 2P = {w + 2 * p}: the rule is {rule}"
        )
    if span % s != 0 and drops_real_pixels(w, span_f, s, p):
        _, real = leftover_pixels(w, span_f, s, p)
        what = ("(W - F + 2P)" if d == 1 else "(W + 2P - d(F - 1) - 1)")
        given = f"W = {w}, F = {f}, P = {p}" + ("" if d == 1 else f", d = {d}")
        raise ValueError(
            f"{what} = {span} is not divisible by stride S = {s} "
            f"({given}): the filter would not fit evenly, and flooring "
            f"would ignore the last {_pixels(real, 'real input pixel')} of every row and column; "
            f"change W, F, S or P so that S divides {what[1:-1]}, or pad so that only "
            "padding is left over"
        )
    return span // s + 1


@_remember
def pool_output_size(w: int, f: int, s: int) -> int:
    """Spatial output size of pooling (no padding): floor((W - F) / S) + 1.

    w: input width (or height), f: window size, s: stride. Raises ValueError for
    non-positive or non-integer arguments, a window larger than the input, or a stride
    that does not divide (W - F) when the floored windows would ignore real input pixels
    (with no padding, every leftover pixel is real; only a stride larger than the window
    may leave up to S - F of them, as it does between windows).
    """
    w = positive_int("input size W", w)
    f = positive_int("pool size F", f)
    s = positive_int("stride S", s)
    span = w - f
    if span < 0:
        raise ValueError(f"pool size F = {f} is larger than the input W = {w}: the rule is F <= W")
    if span % s != 0 and drops_real_pixels(w, f, s, 0):
        _, real = leftover_pixels(w, f, s, 0)
        raise ValueError(
            f"(W - F) = {span} is not divisible by stride S = {s} (W = {w}, F = {f}): "
            "the pooling window would not fit evenly, and flooring would ignore the last "
            f"{_pixels(real, 'input pixel')} of every row and column; "
            "change W, F or S so that S divides W - F"
        )
    return span // s + 1
