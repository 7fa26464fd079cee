"""Where a filter lands: the geometry behind W2 = floor((W1 - F + 2P)/S) + 1, as plain data.

A dilated filter (dilation d: its F taps are d pixels apart) is placed like a dense filter
of span d(F - 1) + 1 and reads only its taps: W2 = floor((W1 + 2P - d(F - 1) - 1)/S) + 1.

Pure functions and a frozen dataclass, no plotting: the matplotlib drawings
(`cnnlib.book.conv_explorer`), the ipywidgets explorer and a static HTML/JS explorer all read the
same numbers from here. `describe_conv` returns only JSON types (dict, list, int, str,
bool, None), so its result can be embedded in a web page as is.

The size rule itself lives in `cnnlib.core.shapes.conv_output_size`; this module only asks it,
so every drawing refuses exactly the settings the library refuses, with the same message.

Book: chapter 4 (the explorers' drawings and step texts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

from ..checks import is_integer, positive_int
from ..core.shapes import conv_output_size, drops_real_pixels, leftover_pixels

# Slider ranges (inclusive) shared by the ipywidgets explorer and the static explorer.
EXPLORER_RANGES: dict[str, tuple[int, int]] = {
    "w": (1, 16), "f": (1, 7), "s": (1, 4), "p": (0, 3), "k": (1, 4), "d": (1, 3),
}

_MINUS = "\u2212"  # typographic minus sign, so "7 − 3" reads like printed math


def _num(value: int) -> str:
    """An integer with a typographic minus sign."""
    return f"{_MINUS}{-value}" if value < 0 else str(value)


def conv_formula(w: int, f: int, s: int, p: int, dilation: int = 1) -> str:
    """W₂ = (W − F + 2·P)/S + 1 with the numbers filled in, valid or not.

    Exact: "W₂ = (7 − 3 + 2·1)/2 + 1 = 4". When S does not divide the span and only
    padding (or pixels the stride skips anyway) is left over, the floor is written out:
    "W₂ = ⌊(32 − 3 + 2·1)/2⌋ + 1 = ⌊31/2⌋ + 1 = 16". When flooring would ignore real
    pixels, the result is shown as a fraction ("= 3/2 + 1, not a whole number"); when the
    filter is larger than the padded input, the negative span is shown.
    With dilation d > 1 the dilated form is written, in the same four ways:
    "W₂ = (7 + 2·1 − 2·(3 − 1) − 1)/2 + 1 = 3" (PyTorch's form of the formula).
    """
    d = dilation
    span_f = d * (f - 1) + 1  # the filter's span; F when d = 1
    span = w - span_f + 2 * p
    head = (f"({w} {_MINUS} {f} + 2\u00b7{p})/{s}" if d == 1 else
            f"({w} + 2\u00b7{p} {_MINUS} {d}\u00b7({f} {_MINUS} 1) {_MINUS} 1)/{s}")
    if span < 0:
        return (f"W\u2082 = {head} + 1 = {_num(span)}/{s} + 1: "
                "the filter is wider than the padded input")
    if span % s == 0:
        return f"W\u2082 = {head} + 1 = {span // s + 1}"
    if w >= 1 and f >= 1 and not drops_real_pixels(w, span_f, s, p):
        return f"W\u2082 = \u230a{head}\u230b + 1 = \u230a{span}/{s}\u230b + 1 = {span // s + 1}"
    return f"W\u2082 = {head} + 1 = {span}/{s} + 1, not a whole number"


@dataclass(frozen=True)
class ConvGeometry:
    """One axis of a convolution (the other axis is the same: inputs are square here).

    Coordinates are indices into the *padded* input, 0 ... padded_size - 1; the real
    input occupies p ... p + w - 1 and the rest is zero padding.
    """

    w: int  # input size W₁
    f: int  # filter size F
    s: int  # stride S
    p: int  # zero padding P on each side
    k: int  # number of filters K = output depth D₂
    padded_size: int  # W₁ + 2P
    output_size: int  # W₂
    starts: tuple[int, ...]  # first padded index of every filter position along the axis
    formula: str  # e.g. "W₂ = (7 − 3 + 2·1)/2 + 1 = 4"
    dilation: int = 1  # d: the filter's taps are d pixels apart

    @property
    def span(self) -> int:
        """Padded cells one filter position spans: d(F − 1) + 1 (F when d = 1)."""
        return self.dilation * (self.f - 1) + 1

    def taps(self, start: int) -> tuple[int, ...]:
        """The padded indices that the position starting at `start` reads: start + j·d."""
        return tuple(start + j * self.dilation for j in range(self.f))

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """(W₂, H₂, D₂) = (W₂, W₂, K)."""
        return (self.output_size, self.output_size, self.k)

    @property
    def n_positions(self) -> int:
        """How many places the filter lands on the 2-D input: W₂ · H₂."""
        return self.output_size * self.output_size

    @property
    def leftover(self) -> int:
        """Padded cells after the last filter position: 0 when S divides W − F + 2P
        (W + 2P − d(F − 1) − 1 when dilated)."""
        return self.padded_size - (self.starts[-1] + self.span)

    @property
    def leftover_real(self) -> int:
        """How many of the `leftover` cells are real input pixels, not zero padding.

        Nonzero only when the stride is larger than the filter, and then no more than the
        S − F pixels it skips between any two positions (otherwise the size is refused).
        """
        return max(0, self.leftover - self.p)

    def is_padding(self, index: int) -> bool:
        """True when padded index `index` is a zero-padding cell, not a real input cell."""
        return is_padding_cell(index, self.w, self.p)

    def window(self, step: int) -> tuple[int, int]:
        """(top, left) padded index of the `step`-th filter position, row by row.

        Step 0 is the top-left position, step W₂ − 1 the top-right, step W₂ the first
        one of the second output row. Raises ValueError outside 0 ... n_positions − 1.
        """
        if not is_integer(step) or not (
            0 <= step < self.n_positions
        ):
            raise ValueError(
                f"step = {step!r} must be an integer from 0 to {self.n_positions - 1} "
                f"(the filter lands W\u2082\u00b7H\u2082 = {self.n_positions} times)"
            )
        row, col = divmod(int(step), self.output_size)
        return self.starts[row], self.starts[col]

    def coverage(self) -> tuple[int, ...]:
        """For every padded index along the axis, how many filter positions read it.

        0 marks a cell the filter skips (possible when S > F, or between the taps of a
        dilated filter); values above 1 mark overlapping windows (S < F).
        """
        counts = [0] * self.padded_size
        for start in self.starts:
            for i in self.taps(start):
                counts[i] += 1
        return tuple(counts)

    def to_dict(self) -> dict:
        """JSON-friendly copy: lists instead of tuples, plus the derived fields."""
        out = asdict(self)
        out["starts"] = list(self.starts)
        out["output_shape"] = list(self.output_shape)
        out["n_positions"] = self.n_positions
        out["leftover"] = self.leftover
        out["leftover_real"] = self.leftover_real
        out["span"] = self.span
        out["coverage"] = list(self.coverage())
        return out


def conv_geometry(w: int, f: int, s: int, p: int, k: int = 1, *,
                  dilation: int = 1) -> ConvGeometry:
    """Everything a picture of one conv layer needs, along one spatial axis.

    w: input size W₁, f: filter size F, s: stride S, p: zero padding P, k: filters K,
    dilation d (taps d pixels apart). Raises the ValueError of
    `cnnlib.core.shapes.conv_output_size` when the settings do not fit (and one naming K
    when K is not a positive integer).
    """
    out = conv_output_size(w, f, s, p, dilation=dilation)  # the rule and its messages
    k = positive_int("number of filters K", k)
    w, f, s, p, d = int(w), int(f), int(s), int(p), int(dilation)
    return ConvGeometry(
        w=w, f=f, s=s, p=p, k=k, padded_size=w + 2 * p, output_size=out,
        starts=tuple(i * s for i in range(out)), formula=conv_formula(w, f, s, p, d),
        dilation=d,
    )


def _all_ints(*values: object) -> bool:
    return all(is_integer(v) for v in values)


def describe_conv(w: int, f: int, s: int, p: int, k: int = 1, *, dilation: int = 1) -> dict:
    """A JSON-serialisable summary for widgets and the static explorer; never raises.

    Valid settings: {"ok": True, "error": None, "formula", "output_size",
    "output_shape", "starts", "coverage", "leftover", "leftover_real", ...} (all fields
    of `ConvGeometry.to_dict`; "leftover" > 0 when the size was floored).
    Invalid: {"ok": False, "error": <conv_output_size's message>, "formula" (filled in
    when all values are integers, else None), "fitting_starts": where a filter would
    land if the last, overhanging step were dropped (what frameworks that floor the
    division silently do), "leftover": how many padded cells past the last fitting
    window no filter reaches, "leftover_real": how many of those are real pixels,
    "span": d(F − 1) + 1}.
    `dilation` d spaces the filter's taps d pixels apart (see `ConvGeometry.taps`).
    """
    base = {"w": w, "f": f, "s": s, "p": p, "k": k, "dilation": dilation}
    try:
        geometry = conv_geometry(w, f, s, p, k, dilation=dilation)
    except ValueError as err:
        out = {**base, "ok": False, "error": str(err), "formula": None,
               "padded_size": None, "fitting_starts": [], "leftover": None,
               "leftover_real": None, "span": None}
        if _all_ints(w, f, s, p, dilation) and s >= 1 and p >= 0 and dilation >= 1:
            out["formula"] = conv_formula(w, f, s, p, dilation)
            out["padded_size"] = w + 2 * p
            if f >= 1:
                out["span"] = dilation * (f - 1) + 1
            span = w - dilation * (f - 1) - 1 + 2 * p
            if w >= 1 and f >= 1 and span >= 0:
                out["fitting_starts"] = [i * s for i in range(span // s + 1)]
                out["leftover"], out["leftover_real"] = leftover_pixels(w, out["span"], s, p)
        # Keep the echo of the inputs JSON-safe even for odd inputs such as "5" or 2.5.
        for name, value in base.items():
            if not isinstance(value, int | float | str | type(None)):
                out[name] = repr(value)
        return out
    return {**geometry.to_dict(), "ok": True, "error": None}


def explorer_settings(ranges: dict[str, tuple[int, int]] | None = None
                      ) -> Iterator[tuple[int, int, int, int]]:
    """Every (W, F, S, P) in the explorer's slider ranges, P varying fastest.

    K only sets the output depth, so the explorers fill it in themselves. With the
    default ranges that is 16·7·4·4 = 1792 settings.
    """
    r = {**EXPLORER_RANGES, **(ranges or {})}
    for w in range(r["w"][0], r["w"][1] + 1):
        for f in range(r["f"][0], r["f"][1] + 1):
            for s in range(r["s"][0], r["s"][1] + 1):
                for p in range(r["p"][0], r["p"][1] + 1):
                    yield w, f, s, p


def is_padding_cell(index: int, w: int, p: int) -> bool:
    """True when index `index` of a W-wide input padded by P is a zero-padding cell."""
    return index < p or index >= p + w
