"""Animations that play in the static book: a convolution, the worked example, pooling,
backpropagation, frame by frame, with no kernel and no network.

Python computes every frame at build time with cnnlib (`functional.conv2d`, the
`Conv2D` and `MaxPool2D` layers' forward and backward passes) and draws it as SVG. The
page carries one SVG drawing that stays (grids, labels) and, per frame, the SVG that
changes (highlights, the numbers filled in so far) plus a caption; a small script
(cnnlib/book/static/player.js) shows frame i, with play/pause, step buttons and a slider. An
animation is a few tens of kilobytes, so a page stays far below its weight budget.

    from IPython.display import HTML
    HTML(sliding_filter_animation(patch, kernel).html())   # in a notebook cell

Colors and positions tell the parts apart everywhere: the input is blue and on the left,
the filter orange in the middle, the output green on the right, a bias purple and a
gradient red (the palette of `cnnlib.book.volumes`).
Book: chapters 3, 4, 5 and 7.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.functional import conv2d
from ..nn.layers import Conv2D, MaxPool2D
from . import pages
from .palette import (
    BIAS,
    BLACK,
    FAINT,
    FILTER,
    GRADIENT,
    GRID,
    INPUT,
    MUTED,
    OUTPUT,
    PADDING,
    TEXT,
    WHITE,
    light,
)

_MINUS = "\u2212"    # a real minus sign in the drawings


@dataclass
class Animation:
    """Frames of one animation, ready to be written into a page.

    base: SVG elements drawn under every frame. frames: (SVG elements, caption) per frame.
    data: per frame, the numbers it shows (for tests: they must be cnnlib's numbers).
    width, height: the drawing's size in SVG units (pixels at 100 % zoom).
    """

    title: str
    width: int
    height: int
    base: str
    frames: list[tuple[str, str]]
    data: list[dict] = field(default_factory=list)
    interval_ms: int = 900

    def html(self, element_id: str | None = None) -> str:
        """An HTML fragment (inline <style> and <script>) that plays the animation."""
        return animation_html(self, element_id)

    def _repr_html_(self) -> str:
        return self.html()

    def __len__(self) -> int:
        return len(self.frames)


# --------------------------------------------------------------------------- SVG pieces


def _num(v: float) -> str:
    """A number as the drawings write it: integers without ".0", a real minus sign."""
    v = float(v)
    text = f"{v:.0f}" if v == round(v) else f"{v:.2f}".rstrip("0")
    return text.replace("-", _MINUS)


def _text(x: float, y: float, s: str, size: float = 12, fill: str = TEXT,
          anchor: str = "middle", weight: str | None = None) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{x:g}" y="{y:g}" font-size="{size:g}" fill="{fill}" '
            f'text-anchor="{anchor}" dominant-baseline="central"{bold}>{html.escape(s)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str = "none", stroke: str = "none",
          sw: float = 1.0, rx: float = 0) -> str:
    return (f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{sw:g}"' + (f' rx="{rx:g}"' if rx else "") + "/>")


@dataclass(frozen=True)
class _Grid:
    """Where a grid of cells sits in the drawing."""

    x: float
    y: float
    rows: int
    cols: int
    cell: float

    def at(self, r: float, c: float) -> tuple[float, float]:
        return self.x + c * self.cell, self.y + r * self.cell

    def center(self, r: int, c: int) -> tuple[float, float]:
        x, y = self.at(r, c)
        return x + self.cell / 2, y + self.cell / 2

    def cells(self, fill: str | Callable[[int, int], str], stroke: str = GRID) -> str:
        out = []
        for r in range(self.rows):
            for c in range(self.cols):
                x, y = self.at(r, c)
                out.append(_rect(x, y, self.cell, self.cell,
                                 fill if isinstance(fill, str) else fill(r, c), stroke, 0.7))
        return "".join(out)

    def numbers(self, values: np.ndarray, size: float | None = None,
                show: Callable[[int, int], bool] | None = None,
                color: Callable[[int, int], str] | None = None) -> str:
        size = size or self.cell * 0.42
        out = []
        for r in range(self.rows):
            for c in range(self.cols):
                if show is None or show(r, c):
                    cx, cy = self.center(r, c)
                    out.append(_text(cx, cy, _num(values[r, c]), size,
                                     color(r, c) if color else TEXT))
        return "".join(out)

    def box(self, r: int, c: int, h: int, w: int, color: str, sw: float = 3.0,
            inset: float = 0.0) -> str:
        x, y = self.at(r, c)
        return _rect(x + inset, y + inset, w * self.cell - 2 * inset, h * self.cell - 2 * inset,
                     "none", color, sw, rx=2)

    def label(self, s: str, color: str, size: float = 12, dy: float = -12) -> str:
        return _text(self.x, self.y + dy, s, size, color, anchor="start", weight="600")

    @property
    def right(self) -> float:
        return self.x + self.cols * self.cell

    @property
    def bottom(self) -> float:
        return self.y + self.rows * self.cell


def animation_html(anim: Animation, element_id: str | None = None) -> str:
    """The player for `anim` as an HTML fragment: title, drawing, caption, controls."""
    if not anim.frames:
        raise ValueError(f"animation {anim.title!r} has no frames")
    root_id = pages.element_id(element_id, "cnnp")
    payload = {"width": anim.width, "height": anim.height, "base": anim.base,
               "frames": [list(f) for f in anim.frames], "interval": anim.interval_ms,
               "label": html.escape(anim.title, quote=True)}
    first_svg, first_caption = anim.frames[0]
    frames = pages.script_json(payload)
    body = f"""<script type="application/json" data-cnnp="frames">{frames}</script>
<div class="cnnp-title">{html.escape(anim.title)}</div>
<div class="cnnp-stage" data-cnnp="stage"><svg xmlns="http://www.w3.org/2000/svg"
 viewBox="0 0 {anim.width} {anim.height}" width="{anim.width}" role="img"
 aria-label="{html.escape(anim.title, quote=True)}">{anim.base}{first_svg}</svg></div>
<div class="cnnp-caption" data-cnnp="caption" aria-live="polite">{html.escape(first_caption)}</div>
<div class="cnnp-controls">
<button type="button" data-cnnp="first" title="first frame">\u00AB First</button>
<button type="button" data-cnnp="back" title="one frame back">\u25C0 Step</button>
<button type="button" data-cnnp="play" aria-pressed="false">\u25B6 Play</button>
<button type="button" data-cnnp="next" title="one frame forward">Step \u25B6</button>
<input type="range" data-cnnp="slider" min="0" max="{len(anim.frames) - 1}" step="1" value="0"
 aria-label="frame">
<span class="cnnp-readout" data-cnnp="readout">frame 1 / {len(anim.frames)}</span>
</div>
<noscript>This animation needs JavaScript; the first frame is shown above.</noscript>"""
    return pages.fragment("cnnp", root_id, body, css="player.css", scripts=["player.js"],
                          start="cnnlibPlayer",
                          attributes=f'data-cnnp-frames="{len(anim.frames)}"')


def animations_page(animations: Sequence[Animation], title: str = "cnnlib animations") -> str:
    """A whole standalone HTML document with every animation, one under the other."""
    return pages.page(title, "\n".join(a.html(element_id=f"anim-{i}")
                                       for i, a in enumerate(animations)))


def _png_data_uri(image: np.ndarray) -> str:
    """A small uint8 image (H, W, 3) as a data: URI (a few kB for 32×32)."""
    from matplotlib.image import imsave

    buf = io.BytesIO()
    imsave(buf, image, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _square(name: str, a: np.ndarray) -> np.ndarray:
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 1:
        raise ValueError(f"{name} must be a square 2-D array (F, F), got shape {a.shape}")
    return a


def _plane(name: str, a: object, max_side: int) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 2 or not (1 <= arr.shape[0] <= max_side and 1 <= arr.shape[1] <= max_side):
        raise ValueError(f"{name} must be a 2-D array (H, W) with sides 1..{max_side}, "
                         f"got shape {arr.shape}")
    return arr


def _terms(window: np.ndarray, kernel: np.ndarray) -> str:
    """ "52·(−1) + 40·0 + ..." for a window and the weights on top of it."""
    parts = []
    for v, k in zip(window.ravel(), kernel.ravel(), strict=True):
        kk = _num(k)
        parts.append(f"{_num(v)}·({kk})" if k < 0 else f"{_num(v)}·{kk}")
    return " + ".join(parts)


# --------------------------------------------------------------------------- (a) sliding filter


def sliding_filter_animation(patch: np.ndarray, kernel: np.ndarray, *,
                             image: np.ndarray | None = None,
                             patch_origin: tuple[int, int] = (0, 0),
                             title: str = "A 3×3 filter sliding over a patch of a photo",
                             interval_ms: int = 700) -> Animation:
    """A filter sliding over a small gray patch, filling the feature map number by number.

    patch: (H, W) pixel values (0..255), at most 10×10. kernel: (F, F). The output is
    `cnnlib.core.functional.conv2d` of the patch (stride 1, no padding): (H - F + 1, W - F + 1),
    one frame per output number, in reading order. image: the (32, 32, 3) uint8 photo the
    patch was cut from, shown small with the patch (top-left at patch_origin) boxed.
    """
    x = _plane("patch", patch, 10).astype(np.float64)
    k = _square("kernel", np.asarray(kernel, dtype=np.float64))
    f = k.shape[0]
    out = conv2d(x[None, :, :, None], k[None, :, :, None])[0, :, :, 0]
    h2, w2 = out.shape
    cell = 34
    left = 10
    base = []
    if image is not None:
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[-1] != 3:
            raise ValueError(f"image must be (H, W, 3), got shape {img.shape}")
        thumb = 96
        scale = thumb / img.shape[1]
        base.append(f'<image x="{left}" y="40" width="{thumb}" height="{thumb}" '
                    f'href="{_png_data_uri(img.astype(np.uint8))}" '
                    'style="image-rendering:pixelated"/>')
        r0, c0 = patch_origin
        base.append(_rect(left + c0 * scale, 40 + r0 * scale, x.shape[1] * scale,
                          x.shape[0] * scale, "none", INPUT, 2))
        base.append(_text(left + thumb / 2, 40 + thumb + 14, "the photo", 11, MUTED))
        left += thumb + 24
    gx = _Grid(left, 40, *x.shape, cell)
    gk = _Grid(gx.right + 44, 40 + cell, f, f, cell)
    gy = _Grid(gk.right + 44, 40 + cell * (x.shape[0] - h2) / 2, h2, w2, cell)

    def gray(r: int, c: int) -> str:
        v = int(np.clip(x[r, c], 0, 255))
        return f"rgb({v},{v},{v})"

    base += [gx.cells(gray), gx.numbers(x, 11, color=lambda r, c: BLACK if x[r, c] > 110
                                        else WHITE),
             gx.box(0, 0, *x.shape, INPUT, 2.5),
             gx.label(f"input: {x.shape[0]}×{x.shape[1]} gray patch (0–255)", INPUT),
             gk.cells(light(FILTER)), gk.numbers(k, 12), gk.box(0, 0, f, f, FILTER, 2.5),
             gk.label(f"filter w ({f}×{f})", FILTER),
             _text((gx.right + gk.x) / 2, gk.y + f * cell / 2, "⊛", 20, MUTED),
             _text((gk.right + gy.x) / 2, gk.y + f * cell / 2, "=", 20, MUTED),
             gy.cells(light(OUTPUT)), gy.box(0, 0, h2, w2, OUTPUT, 2.5),
             gy.label(f"output y ({h2}×{w2} feature map)", OUTPUT)]
    frames, data = [], []
    for i in range(h2 * w2):
        r, c = divmod(i, w2)
        window = x[r:r + f, c:c + f]
        svg = (gy.numbers(out, 10, show=lambda rr, cc, i=i: rr * w2 + cc <= i)
               + gx.box(r, c, f, f, FILTER, 3.5) + gy.box(r, c, 1, 1, OUTPUT, 3.5))
        caption = (f"y[{r}, {c}] = {_terms(window, k)} = {_num(out[r, c])}"
                   f"   (window rows {r}–{r + f - 1}, columns {c}–{c + f - 1})")
        frames.append((svg, caption))
        data.append({"row": r, "col": c, "value": float(out[r, c])})
    width = int(gy.right + 16)
    height = int(max(gx.bottom, gy.bottom) + 16)
    return Animation(title, width, height, "".join(base), frames, data, interval_ms)


# --------------------------------------------------------------------------- (b) worked example


def worked_example_animation(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, *,
                             stride: int = 2, padding: int = 1,
                             title: str = "The worked example, number by number",
                             interval_ms: int = 1600) -> Animation:
    """A convolution layer computed one output number at a time, channel by channel.

    x: (H, W, C) input (small integers read best), weight: (K, F, F, C), bias: (K,), at
    most 3 channels and 2 filters (the worked example is 5×5×3, K = 2, F = 3, S = 2,
    P = 1). Each frame shows one output number o[r, c, k]: the window in each input
    channel, the sum of that channel's window × filter k's channel, and the bias; the
    frame's numbers come from `cnnlib.core.functional.conv2d`, and the per-channel sums are
    checked to add up to it.
    """
    xa = np.asarray(x, dtype=np.float64)
    wa = np.asarray(weight, dtype=np.float64)
    ba = np.asarray(bias, dtype=np.float64)
    if xa.ndim != 3 or wa.ndim != 4 or ba.ndim != 1:
        raise ValueError(f"x, weight, bias must be (H, W, C), (K, F, F, C), (K,), got shapes "
                         f"{xa.shape}, {wa.shape}, {ba.shape}")
    c_in, k_out, f = xa.shape[2], wa.shape[0], wa.shape[1]
    if not (1 <= c_in <= 3 and 1 <= k_out <= 2):
        raise ValueError(f"the drawing holds 1..3 channels and 1..2 filters, got C = {c_in}, "
                         f"K = {k_out}")
    out = conv2d(xa[None], wa, ba, stride=stride, padding=padding)[0]  # (H2, W2, K)
    h2, w2, _ = out.shape
    xp = np.pad(xa, ((padding, padding), (padding, padding), (0, 0)))
    hp, wp = xp.shape[:2]
    cell = 26
    gap = 30
    top = 50
    panel = hp * cell + gap
    ginp = [_Grid(14, top + ch * panel, hp, wp, cell) for ch in range(c_in)]
    fx0 = ginp[0].right + 60
    gw = [[_Grid(fx0 + k * (f * cell + 70), top + ch * panel + (hp - f) * cell / 2, f, f, cell)
           for ch in range(c_in)] for k in range(k_out)]
    ox = gw[-1][0].right + 70
    gout = [_Grid(ox, top + k * panel + (hp - h2) * cell / 2, h2, w2, cell)
            for k in range(k_out)]
    is_pad = np.ones((hp, wp), dtype=bool)
    is_pad[padding:padding + xa.shape[0], padding:padding + xa.shape[1]] = False
    base = [_text(ginp[0].x, 16, f"input x ({xa.shape[0]}×{xa.shape[1]}×{c_in}, "
                  f"P = {padding})", 13, INPUT, "start", "600"),
            _text(fx0, 16, f"K = {k_out} filters, {f}×{f}×{c_in}", 13, FILTER,
                  "start", "600"),
            _text(ox, 16, f"output: {h2}×{w2}×{k_out}", 13, OUTPUT, "start", "600")]
    for ch, g in enumerate(ginp):
        base += [g.cells(lambda r, c: PADDING if is_pad[r, c] else light(INPUT)),
                 g.numbers(xp[:, :, ch], 10, color=lambda r, c: FAINT if is_pad[r, c]
                           else TEXT),
                 g.label(f"x[:, :, {ch}]  (channel {ch})", INPUT, 11, -8)]
    for k in range(k_out):
        for ch in range(c_in):
            g = gw[k][ch]
            base += [g.cells(light(FILTER)), g.numbers(wa[k, :, :, ch], 10),
                     g.label(f"w{k}[:, :, {ch}]", FILTER, 11, -8)]
        last = gw[k][-1]
        base += [_rect(last.x, last.bottom + 22, f * cell, cell, light(BIAS), BIAS, 1),
                 _text(last.x + f * cell / 2, last.bottom + 22 + cell / 2,
                       f"b{k} = {_num(ba[k])}", 11, TEXT)]
    for k, g in enumerate(gout):
        base += [g.cells(light(OUTPUT)), g.label(f"o[:, :, {k}]  (map {k})", OUTPUT, 11, -8)]
    frames, data = [], []
    order = [(k, r, c) for k in range(k_out) for r in range(h2) for c in range(w2)]
    for i, (k, r, c) in enumerate(order):
        sums = [float(np.sum(xp[r * stride:r * stride + f, c * stride:c * stride + f, ch]
                             * wa[k, :, :, ch])) for ch in range(c_in)]
        total = sum(sums) + ba[k]
        if not np.isclose(total, out[r, c, k]):  # the drawing must be cnnlib's arithmetic
            raise AssertionError(f"channel sums {sums} + bias {ba[k]} != conv2d {out[r, c, k]}")
        done = set(order[:i + 1])
        svg = []
        for kk, g in enumerate(gout):
            svg.append(g.numbers(out[:, :, kk], 11,
                                 show=lambda rr, cc, kk=kk, done=done: (kk, rr, cc) in done))
        for ch in range(c_in):
            svg.append(ginp[ch].box(r * stride, c * stride, f, f, FILTER, 3))
            g = gw[k][ch]
            svg.append(g.box(0, 0, f, f, FILTER, 3))
            # Hovering the sum shows its nine products (a tooltip: no weight on screen).
            window = xp[r * stride:r * stride + f, c * stride:c * stride + f, ch]
            products = html.escape(_terms(window, wa[k, :, :, ch]))
            svg.append(f"<g><title>{products} = {_num(sums[ch])}</title>"
                       + _text(g.right + 8, g.y + f * cell / 2, f"= {_num(sums[ch])}", 12,
                               FILTER, "start", "600") + "</g>")
        last = gw[k][-1]
        svg.append(_rect(last.x, last.bottom + 22, f * cell, cell, "none", BIAS, 3))
        svg.append(gout[k].box(r, c, 1, 1, OUTPUT, 3.5))
        sum_text = " + ".join(f"({_num(s)})" if s < 0 else _num(s) for s in sums)
        bias_text = f"({_num(ba[k])})" if ba[k] < 0 else _num(ba[k])
        caption = (f"o[{r}, {c}, {k}]: window at rows {r * stride}–{r * stride + f - 1}, "
                   f"columns {c * stride}–{c * stride + f - 1} of the padded input; channel "
                   f"sums with filter {k}: " + ", ".join(_num(s) for s in sums)
                   + f"\n{sum_text} + bias {bias_text} = {_num(out[r, c, k])}")
        frames.append(("".join(svg), caption))
        data.append({"k": k, "row": r, "col": c, "channel_sums": sums, "bias": float(ba[k]),
                     "value": float(out[r, c, k])})
    width = int(max(g.right for g in gout) + 70)  # room for the map labels
    height = int(ginp[-1].bottom + 20)
    return Animation(title, width, height, "".join(base), frames, data, interval_ms)


# --------------------------------------------------------------------------- (c) max pooling


def max_pool_animation(x: np.ndarray, kernel_size: int = 2, stride: int = 2, *,
                       title: str | None = None, interval_ms: int = 1100) -> Animation:
    """Max pooling walking its windows over a map (H, W), at most 10×10.

    Output values from `MaxPool2D.forward`; the cell each maximum came from from
    `MaxPool2D.backward` of a one-hot gradient (the layer's own routing). Windows already
    visited stay outlined faintly, so overlapping windows (F > S) show their overlap.
    """
    xa = _plane("x", x, 10).astype(np.float64)
    layer = MaxPool2D(kernel_size, stride)
    out = layer.forward(xa[None, :, :, None])[0, :, :, 0]
    h2, w2 = out.shape
    f, s = layer.kernel_size, layer.stride
    winners = []
    for i in range(h2 * w2):
        one_hot = np.zeros((1, h2, w2, 1))
        one_hot.flat[i] = 1
        dx = layer.backward(one_hot)[0, :, :, 0]
        winners.append(tuple(int(v) for v in np.argwhere(dx)[0]))
    cell = 36
    gx = _Grid(14, 40, *xa.shape, cell)
    gy = _Grid(gx.right + 120, 40 + cell * (xa.shape[0] - h2) / 2, h2, w2, cell)
    base = "".join([gx.cells(light(INPUT)), gx.numbers(xa, 13),
                    gx.label(f"input ({xa.shape[0]}×{xa.shape[1]})", INPUT),
                    gy.cells(light(OUTPUT)),
                    gy.label(f"output ({h2}×{w2})", OUTPUT),
                    _text((gx.right + gy.x) / 2, gx.y + xa.shape[0] * cell / 2 - 10,
                          f"max {f}×{f}, S = {s}", 11, MUTED),
                    _text((gx.right + gy.x) / 2, gx.y + xa.shape[0] * cell / 2 + 8, "⟶", 18,
                          MUTED)])
    frames, data = [], []
    for i in range(h2 * w2):
        r, c = divmod(i, w2)
        svg = [gx.box(rr * s, cc * s, f, f, light(FILTER, 0.4), 1.2, inset=3)
               for rr, cc in (divmod(j, w2) for j in range(i))]
        wr, wc = winners[i]
        cx, cy = gx.center(wr, wc)
        svg += [gx.box(r * s, c * s, f, f, FILTER, 3.5),
                f'<circle cx="{cx:g}" cy="{cy:g}" r="{cell * 0.38:g}" fill="none" '
                f'stroke="{GRADIENT}" stroke-width="2.5"/>',
                gy.numbers(out, 13, show=lambda rr, cc, i=i: rr * w2 + cc <= i),
                gy.box(r, c, 1, 1, OUTPUT, 3.5)]
        window = xa[r * s:r * s + f, c * s:c * s + f]
        caption = (f"window {i + 1} of {h2 * w2}: rows {r * s}–{r * s + f - 1}, columns "
                   f"{c * s}–{c * s + f - 1}; max of {', '.join(_num(v) for v in window.ravel())}"
                   f" = {_num(out[r, c])} (circled, at row {wr}, column {wc})")
        frames.append(("".join(svg), caption))
        data.append({"row": r, "col": c, "value": float(out[r, c]), "argmax": (wr, wc)})
    title = title or f"Max pooling, F = {f}, S = {s}" + (" (overlapping windows)" if f > s else "")
    return Animation(title, int(gy.right + 16), int(gx.bottom + 16), base, frames, data,
                     interval_ms)


# --------------------------------------------------------------------------- (d) backprop


def conv_backprop_animation(x: np.ndarray, kernel: np.ndarray, dout: np.ndarray, *,
                            stride: int = 1, padding: int = 0,
                            title: str = "Backpropagation through a convolution: where one "
                                         "output gradient lands",
                            interval_ms: int = 1300) -> Animation:
    """The input gradient of a one-filter convolution, one output gradient at a time.

    x: (H, W) input, kernel: (F, F), dout: (H2, W2), the gradient dL/dy of the output.
    Frame i takes output gradient g = dout[i]: a `Conv2D` layer's backward pass on a
    gradient that is g there and 0 elsewhere gives g·w, placed on the window that output
    read; the running total after the last frame is the layer's backward pass on the
    whole dout (checked).
    """
    xa = _plane("x", x, 9).astype(np.float64)
    ka = _square("kernel", np.asarray(kernel, dtype=np.float64))
    f = ka.shape[0]
    layer = Conv2D(1, 1, f, stride=stride, padding=padding, dtype=np.float64)
    layer.params["weight"][...] = ka[None, :, :, None]
    layer.params["bias"][...] = 0
    y = layer.forward(xa[None, :, :, None])
    h2, w2 = y.shape[1:3]
    da = np.asarray(dout, dtype=np.float64)
    if da.shape != (h2, w2):
        raise ValueError(f"dout must have the output's shape {(h2, w2)}, got {da.shape}")
    full = layer.backward(da[None, :, :, None])[0, :, :, 0]
    cell = 30
    gd = _Grid(14, 52 + cell * (xa.shape[0] - h2) / 2, h2, w2, cell)
    gk = _Grid(gd.right + 40, 52 + cell * (xa.shape[0] - f) / 2, f, f, cell)
    gc = _Grid(gk.right + 50, 52, *xa.shape, cell)
    gt = _Grid(gc.right + 50, 52, *xa.shape, cell)
    base = "".join([
        gd.cells(light(GRADIENT)), gd.numbers(da, 12),
        gd.label("dL/dy (from above)", GRADIENT, 12, -26),
        gd.label(f"{h2}×{w2} output gradient", GRADIENT, 10, -10),
        gk.cells(light(FILTER)), gk.numbers(ka, 12),
        gk.label(f"filter w ({f}×{f})", FILTER, 12, -10),
        gc.cells(light(INPUT)), gc.label("this output's share", INPUT, 12, -26),
        gc.label("g · w on its window", INPUT, 10, -10),
        gt.cells(light(INPUT)), gt.label(f"dL/dx so far ({xa.shape[0]}×{xa.shape[1]})",
                                          INPUT, 12, -26),
        gt.label("sum of all shares", INPUT, 10, -10)])
    total = np.zeros_like(xa)
    covered = np.zeros(xa.shape, dtype=bool)
    frames, data = [], []
    for i in range(h2 * w2):
        r, c = divmod(i, w2)
        one = np.zeros((1, h2, w2, 1))
        one[0, r, c, 0] = da[r, c]
        share = layer.backward(one)[0, :, :, 0]
        total = total + share
        top, left = r * stride - padding, c * stride - padding
        rows = range(max(top, 0), min(top + f, xa.shape[0]))
        cols = range(max(left, 0), min(left + f, xa.shape[1]))
        in_window = np.zeros(xa.shape, dtype=bool)
        in_window[rows.start:rows.stop, cols.start:cols.stop] = True
        covered |= in_window  # inputs that have received a share so far
        svg = [gd.box(r, c, 1, 1, GRADIENT, 3.5), gk.box(0, 0, f, f, FILTER, 3),
               gc.numbers(share, 11, show=lambda rr, cc, m=in_window: m[rr, cc]),
               gc.box(top, left, f, f, FILTER, 3),
               gt.numbers(total, 11, show=lambda rr, cc, m=covered: m[rr, cc]),
               gt.box(top, left, f, f, FILTER, 2)]
        caption = (f"output ({r}, {c}) read the window at rows {top}–{top + f - 1}, columns "
                   f"{left}–{left + f - 1}; its gradient g = {_num(da[r, c])} goes back to "
                   f"those {f * f} inputs as g·w (middle), and adds to what the other "
                   "outputs sent (right)")
        frames.append(("".join(svg), caption))
        data.append({"row": r, "col": c, "share": share.copy(), "total": total.copy()})
    if not np.allclose(total, full):  # the frames must add up to the layer's backward pass
        raise AssertionError("the shares do not add up to Conv2D.backward(dout)")
    return Animation(title, int(gt.right + 16), int(gc.bottom + 16), base, frames, data,
                     interval_ms)


# --------------------------------------------------------------------------- a standalone page


def book_animations() -> list[Animation]:
    """The book's five animations, built the way the chapters build them (needs CIFAR-10
    for the photo patch: $CNNLIB_DATA or the download cache)."""
    from ..training.data import load_cifar10
    from .kernels import LUMA_WEIGHTS, laplacian

    horse = load_cifar10(subset="book")[0][7]  # (32, 32, 3) uint8
    patch = (horse @ np.array(LUMA_WEIGHTS)).round()[10:17, 12:19]
    small = np.random.default_rng(15)
    x_ints, w_ints = small.integers(0, 3, (5, 5, 3)), small.integers(-1, 2, (2, 3, 3, 3))
    grad = np.random.default_rng(5)
    return [
        sliding_filter_animation(patch, laplacian(), image=horse, patch_origin=(10, 12)),
        worked_example_animation(x_ints, w_ints, np.array([1, 0])),
        max_pool_animation(np.array([[1, 3, 2, 1], [4, 6, 5, 0], [3, 1, 1, 2], [0, 2, 7, 4]]),
                           2, 2),
        max_pool_animation(np.array([[0, 1, 2, 3, 4], [5, 6, 0, 1, 2], [3, 4, 9, 6, 0],
                                     [1, 2, 3, 4, 5], [6, 0, 1, 2, 3]]), 3, 2),
        conv_backprop_animation(grad.integers(0, 5, (5, 5)), grad.integers(-1, 2, (3, 3)),
                                grad.integers(-2, 3, (3, 3))),
    ]


def main(argv: list[str] | None = None) -> int:
    """`python -m cnnlib.book.animations OUT.html`: write the book's animations on one page."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out", type=Path, help="the HTML file to write")
    args = parser.parse_args(argv)
    args.out.write_text(animations_page(book_animations(), "The book's animations"),
                        encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} kB); open it in a browser")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
