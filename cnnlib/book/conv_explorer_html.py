"""The stride/padding/dilation explorer as a self-contained web page fragment: no kernel,
no network.

The ipywidgets explorer (`cnnlib.book.conv_explorer.conv_explorer`) needs a running Python kernel,
so in the rendered book its sliders would move and nothing would be recomputed. This
module writes the same explorer as HTML + inline JavaScript + inline CSS that works in any
browser, offline, with no kernel:

    from IPython.display import HTML
    from cnnlib.book.conv_explorer_html import conv_explorer_html
    HTML(conv_explorer_html())          # in a notebook cell (tag it `remove-input` for the book)

Python computes every number and every sentence the reader sees: for each slider setting
(W, F, S, P, dilation d) the page carries `cnnlib.book.geometry.describe_conv`'s verdict,
formula and error message (which is `cnnlib.core.shapes.conv_output_size`'s ValueError
text, word for word). The JavaScript (cnnlib/book/static/explorer.js) only looks them up
and draws. To keep the page small (about 100 kB instead of 800 kB), each text is stored as
a template with its numbers cut out ("(W - F + 2P) = \\0 is not divisible by stride
S = \\0 ..." plus [6, 4]), and the numbers of one (W, F, S, P) setting, for every d, are
packed into one string, a character per number (`_pack`); `lookup` below is the decoder,
the same one the JavaScript runs.

Book: chapter 4 (the explorer in the rendered book, with no kernel).
"""

from __future__ import annotations

import html
import re

from ..checks import is_integer
from . import pages
from .geometry import EXPLORER_RANGES, describe_conv, explorer_settings

PARAMS = ("w", "f", "s", "p")  # the table's rows, in this order; K only sets the depth
LABELS = {"w": "Input size W", "f": "Filter size F", "s": "Stride S", "p": "Padding P",
          "d": "Dilation d", "k": "Filters K"}
SLIDERS = ("w", "f", "s", "p", "d", "k")  # on the page, in this order
# A packed row: one character per number n, chr(_ZERO + n), from "?" (-1, no text) to "~" (62).
# All printable ASCII above "<", ">" and "&", which script_json would have to escape.
_ZERO = 0x40
_MAX_PACKED = 0x7E - _ZERO
# One run of digits, without swallowing leading zeros, so that cutting numbers out of a
# text and putting them back (str(int)) gives the text back exactly.
_NUMBER = re.compile(r"0|[1-9][0-9]*")
_HOLE = "\x00"  # where a number was cut out of a template


def _encode_text(text: str | None, templates: dict[str, int]) -> list[int]:
    """[template index, number, number, ...]; [-1] for None. Lossless (see `lookup`)."""
    if text is None:
        return [-1]
    if _HOLE in text:
        raise ValueError(f"text {text!r} contains NUL, which marks numbers in templates")
    template = _NUMBER.sub(_HOLE, text)
    index = templates.setdefault(template, len(templates))
    return [index, *(int(n) for n in _NUMBER.findall(text))]


def _pack(numbers: list[int]) -> str:
    """One character per number (see `_ZERO`); the inverse of `_unpack`."""
    for n in numbers:
        if not -1 <= n <= _MAX_PACKED:
            raise ValueError(f"number {n} cannot be packed: the rule is -1 <= n <= {_MAX_PACKED}")
    return "".join(chr(_ZERO + n) for n in numbers)


def _unpack(packed: str) -> list[int]:
    return [ord(c) - _ZERO for c in packed]


def conv_explorer_data() -> dict:
    """The table the static explorer looks up, as JSON types.

    {"ranges": {"w": [1, 16], ..., "d": [1, 3]}, "templates": [str, ...], "rows": [str,
    ...]}, one row per (W, F, S, P) setting in `explorer_settings` order (16·7·4·4 = 1792
    rows). A row is a `_pack`ed string holding, for d = 1, 2, 3 in turn: [ok (1 or 0),
    filter positions per axis (W₂ when ok; when not, how many fit before one hangs over
    the edge), encoded formula, encoded error]. All from `describe_conv`.
    """
    ranges = {name: EXPLORER_RANGES[name] for name in (*PARAMS, "k", "d")}
    d_lo, d_hi = ranges["d"]
    templates: dict[str, int] = {}
    rows = []
    for w, f, s, p in explorer_settings(ranges):
        row: list[list[int]] = []  # ok, positions, then the encoded texts
        for d in range(d_lo, d_hi + 1):
            info = describe_conv(w, f, s, p, 1, dilation=d)
            positions = info["output_size"] if info["ok"] else len(info["fitting_starts"])
            row += [[1 if info["ok"] else 0], [positions],
                    _encode_text(info["formula"], templates),
                    _encode_text(info["error"], templates)]
        rows.append(row)
    templates, rows = _fold_constants(list(templates), rows)
    return {"ranges": {k: list(v) for k, v in ranges.items()}, "templates": templates,
            "rows": [_pack([n for part in row for n in part]) for row in rows]}


def _fold_constants(templates: list[str], rows: list[list[list[int]]]
                    ) -> tuple[list[str], list[list[list[int]]]]:
    """Write the numbers that a template has in every row (the 2 of "2P", the 1 of
    "F - 1") into the template, and drop them from the rows: still lossless, a third
    fewer numbers. Rows are lists of parts; parts of length 1 are plain numbers."""
    seen: list[list[set[int]]] = [[set() for _ in range(t.count(_HOLE))] for t in templates]
    # Each dilation's entry is 4 parts: ok, positions, formula, error.
    texts = [part for row in rows for i, part in enumerate(row) if i % 4 >= 2]
    for part in texts:
        if part[0] >= 0:
            for hole, n in enumerate(part[1:]):
                seen[part[0]][hole].add(n)
    constant = [[next(iter(v)) if len(v) == 1 else None for v in holes] for holes in seen]
    folded = []
    for template, fixed in zip(templates, constant, strict=True):
        pieces = template.split(_HOLE)
        folded.append(pieces[0] + "".join((_HOLE if n is None else str(n)) + piece
                                          for n, piece in zip(fixed, pieces[1:], strict=True)))

    def fold(part: list[int], is_text: bool) -> list[int]:
        if not is_text or part[0] < 0:
            return part
        return [part[0], *(n for n, c in zip(part[1:], constant[part[0]], strict=True)
                           if c is None)]

    return folded, [[fold(part, i % 4 >= 2) for i, part in enumerate(row)] for row in rows]


def _decode_text(templates: list[str], row: list[int], at: int) -> tuple[str | None, int]:
    """The text encoded at row[at:], and the index just past it."""
    if row[at] < 0:
        return None, at + 1
    pieces = templates[row[at]].split(_HOLE)
    numbers = row[at + 1: at + len(pieces)]
    text = pieces[0] + "".join(str(n) + piece for n, piece in zip(numbers, pieces[1:], strict=True))
    return text, at + len(pieces)


def lookup(data: dict, w: int, f: int, s: int, p: int, d: int = 1) -> dict:
    """Decode one setting from `conv_explorer_data()`: {"ok", "positions", "formula", "error"}.

    d is the dilation. The same steps as `lookup` in cnnlib/book/static/explorer.js.
    Raises ValueError for a setting outside the sliders' ranges.
    """
    index = 0
    for name, value in zip((*PARAMS, "d"), (w, f, s, p, d), strict=True):
        lo, hi = data["ranges"][name]
        if not lo <= value <= hi:
            raise ValueError(f"{name if name == 'd' else name.upper()} = {value} is outside "
                             f"the explorer's range {lo} ... {hi}")
        if name != "d":
            index = index * (hi - lo + 1) + (value - lo)
    row, at = _unpack(data["rows"][index]), 0
    for _ in range(d - data["ranges"]["d"][0]):  # skip the smaller dilations' entries
        _, at = _decode_text(data["templates"], row, at + 2)
        _, at = _decode_text(data["templates"], row, at)
    formula, after = _decode_text(data["templates"], row, at + 2)
    error, _ = _decode_text(data["templates"], row, after)
    return {"ok": row[at] == 1, "positions": row[at + 1], "formula": formula, "error": error}


def _slider(name: str, lo: int, hi: int, value: int, label: str) -> str:
    return (f'<label class="cnnx-slider"><span>{html.escape(label)}</span>'
            f'<input type="range" name="{name}" data-cnnx-param="{name}" min="{lo}" '
            f'max="{hi}" step="1" value="{value}">'
            f'<output data-cnnx-readout="{name}">{value}</output></label>')


def conv_explorer_html(w: int = 5, f: int = 3, s: int = 2, p: int = 1, k: int = 2, step: int = 0,
                  element_id: str | None = None, d: int = 1) -> str:
    """An HTML fragment (inline <style> and <script>) with the stride/padding explorer.

    Starts at the given slider values (default: the source article's worked example, a
    5×5 input, F = 3, S = 2, P = 1, K = 2 filters, whose output is 3×3×2; dilation d = 1,
    a dense filter; d = 2 or 3 spaces its taps d pixels apart). `step` is
    the filter position slider: 0 shows every position, 1 ... W₂·H₂ one of them.
    Settings that do not fit are allowed: the page then explains why. `element_id`
    names the explorer's root element (default: a fresh random id), so that several
    explorers can share a page. Raises ValueError for a value outside its slider's range.
    """
    values = {"w": w, "f": f, "s": s, "p": p, "k": k, "d": d}
    for name, value in values.items():
        lo, hi = EXPLORER_RANGES[name]
        if not is_integer(value) or not lo <= value <= hi:
            raise ValueError(f"{LABELS[name]} = {value!r} must be an integer from {lo} to {hi} "
                             "(the explorer's slider range)")
    if not is_integer(step) or step < 0:
        raise ValueError(f"step = {step!r} must be an integer >= 0 (0 shows every position)")
    root_id = pages.element_id(element_id, "cnnx")
    sliders = "".join(_slider(name, *EXPLORER_RANGES[name], values[name], LABELS[name])
                      for name in SLIDERS)
    table = pages.script_json(conv_explorer_data())
    body = f"""<script type="application/json" data-cnnx="table">{table}</script>
<div class="cnnx-title">Stride and padding explorer</div>
<div class="cnnx-controls">{sliders}</div>
<div class="cnnx-formula" data-cnnx="formula"></div>
<div class="cnnx-result">H<sub>2</sub> = W<sub>2</sub> = <b data-cnnx="w2"></b>
 &nbsp;·&nbsp; D<sub>2</sub> = K = <b data-cnnx="d2"></b>
 &nbsp;·&nbsp; output volume <b data-cnnx="volume"></b></div>
<div class="cnnx-error" data-cnnx="error" role="alert" hidden></div>
<div class="cnnx-figures">
<figure><svg data-cnnx="input" role="img" aria-label="the padded input"></svg>
<figcaption data-cnnx="input-caption"></figcaption></figure>
<figure><svg data-cnnx="output" role="img" aria-label="the output"></svg>
<figcaption data-cnnx="output-caption"></figcaption></figure>
</div>
<div class="cnnx-stepbar"><label class="cnnx-slider cnnx-step"><span>Filter position</span>
<input type="range" name="step" data-cnnx-param="step" min="0" max="0" step="1" value="0">
<output data-cnnx-readout="step">0</output></label>
<button type="button" data-cnnx="play">▶ Play</button></div>
<div class="cnnx-steptext" data-cnnx="steptext"></div>
<noscript>This explorer needs JavaScript. Without it, run the notebook and use
cnnlib.book.conv_explorer.conv_explorer().</noscript>"""
    return pages.fragment("cnnx", root_id, body, css="explorer.css", scripts=["explorer.js"],
                          start="cnnlibConvExplorer", attributes=f'data-cnnx-step="{step}"')


def conv_explorer_page(title: str = "Stride and padding explorer", **kwargs) -> str:
    """A whole standalone HTML document holding `conv_explorer_html(**kwargs)`."""
    return pages.page(title, conv_explorer_html(**kwargs))


def main(argv: list[str] | None = None) -> int:
    """`python -m cnnlib.book.conv_explorer_html OUT.html`: write the standalone page."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out", type=Path, help="the HTML file to write")
    args = parser.parse_args(argv)
    args.out.write_text(conv_explorer_page(), encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} kB); open it in a browser")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
