"""Volumes in 3-D: activations and filters drawn as boxes, and a network drawn from its model.

A convolution layer maps a volume of numbers (height × width × depth) to another volume.
These pictures draw such volumes as boxes in an oblique projection (width to the right,
height up, depth going back up and to the right), the way the classic CNN diagrams do:

- `show_volume`: a small volume as a grid of cubes, with one depth slice and one depth
  column picked out;
- `show_receptive_field`: one neuron of a `Conv2D` layer and the F×F×D region of the
  input it looks at;
- `show_filter_bank`: the K filters of a `Conv2D` layer (each F×F×C) and the K feature
  maps they make, stacked into the output volume;
- `show_pooling_volume`: pooling shrinks width and height and keeps the depth;
- `draw_network`: any `Sequential`, one box per layer that changes the shape, with the
  shapes that `cnnlib.book.summary.summary` measures on a forward pass.

Every shape in every picture is computed by cnnlib (`conv_output_size`, `summary`), so a
picture cannot disagree with the code. Figures are not registered with pyplot, have a
title, and say what each axis of a box is.
Book: chapters 1, 3, 4, 5, 6, 9 and 10.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Polygon

from ..checks import is_integer, positive_int, positive_ints
from ..core.shapes import pool_output_size
from ..nn.layers import AvgPool2D, Conv2D, Flatten, Layer, Linear, MaxPool2D, Sequential
from .palette import BIAS, FILTER, GRADIENT, INPUT, NEUTRAL, OUTPUT, POOLED, SERIES
from .summary import summary

# Input, filter and output are told apart by colour as well as by position, in the
# book's one palette. Filters of one layer take the palette's series, filter colour first.
_FILTER_COLORS = (FILTER, GRADIENT, BIAS, *SERIES[5:])

# The depth axis goes back at this angle and is shortened by this factor, as in a
# cabinet projection: boxes look deep without hiding their front faces.
_ANGLE = math.radians(40)
_SHORTEN = 0.5
_DX, _DY = _SHORTEN * math.cos(_ANGLE), _SHORTEN * math.sin(_ANGLE)


def _xy(x: float, y: float, z: float) -> tuple[float, float]:
    """Screen position of the point x to the right, y up, z back."""
    return x + z * _DX, y + z * _DY


def _cuboid(ax: Axes, x: float, y: float, z: float, w: float, h: float, d: float,
            color: str, *, alpha: float = 1.0, edge: str = "0.25", lw: float = 0.6,
            zorder: float = 1.0) -> None:
    """A box from (x, y, z) to (x + w, y + h, z + d): its front, top and right faces."""
    front = [_xy(x, y, z), _xy(x + w, y, z), _xy(x + w, y + h, z), _xy(x, y + h, z)]
    top = [_xy(x, y + h, z), _xy(x + w, y + h, z), _xy(x + w, y + h, z + d),
           _xy(x, y + h, z + d)]
    right = [_xy(x + w, y, z), _xy(x + w, y, z + d), _xy(x + w, y + h, z + d),
             _xy(x + w, y + h, z)]
    # Shading tells the faces apart: the top is lighter, the side darker.
    for pts, shade in ((right, 0.75), (top, 1.25), (front, 1.0)):
        ax.add_patch(Polygon(pts, closed=True, facecolor=_shaded(color, shade), alpha=alpha,
                             edgecolor=edge, linewidth=lw, zorder=zorder))


def _shaded(color: str, factor: float) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    if factor >= 1:
        return tuple(c + (1 - c) * (factor - 1) for c in (r, g, b))  # towards white
    return tuple(c * factor for c in (r, g, b))


def _cubes(ax: Axes, shape: tuple[int, int, int], colors: dict[tuple[int, int, int], str],
           *, x0: float = 0.0, y0: float = 0.0, base: str = NEUTRAL, alpha: float = 1.0,
           zorder: float = 1.0) -> None:
    """A volume (H, W, D) as H·W·D unit cubes; cell (row, col, depth) gets colors[cell]
    or `base`. Row 0 is the top row, depth 0 the front slice."""
    h, w, d = shape
    # Painter's order for this projection: back to front, left to right, bottom to top.
    for k in range(d - 1, -1, -1):
        for c in range(w):
            for r in range(h - 1, -1, -1):
                color = colors.get((r, c, k), base)
                _cuboid(ax, x0 + c, y0 + h - 1 - r, k, 1, 1, 1, color,
                        alpha=alpha if color == base else 1.0, lw=0.5, zorder=zorder)


# The axes of a 3-D drawing are not data axes: this note under it says how to read it.
_READING = "width to the right, height up, depth going back (one cube = one number)"


def _finish(ax: Axes, margin: float = 0.6, note: str = _READING) -> None:
    """Equal scales, no ticks or frame, and a note under the drawing as its axis label."""
    ax.set_xlabel(note, fontsize=8)
    ax.set_aspect("equal")
    ax.autoscale_view()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    ax.set_xlim(x0 - margin, x1 + margin)
    ax.set_ylim(y0 - margin, y1 + margin)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _axis_labels(ax: Axes, h: float, w: float, d: float, names: tuple[str, str, str],
                 *, x0: float = 0.0, y0: float = 0.0, size: int = 9) -> None:
    """Name the three edges of a box: width under it, height left of it, depth along its
    receding top-right edge."""
    ax.text(x0 + w / 2, y0 - 0.35, names[1], ha="center", va="top", fontsize=size)
    ax.text(x0 - 0.35, y0 + h / 2, names[0], ha="right", va="center", fontsize=size,
            rotation=90)
    px, py = _xy(x0 + w, y0, d / 2)
    ax.text(px + 0.3, py, names[2], ha="left", va="center", fontsize=size,
            rotation=math.degrees(_ANGLE))


def _shape3(name: str, shape: object) -> tuple[int, int, int]:
    try:
        dims = positive_ints(name, shape)
    except ValueError:
        dims = ()
    if len(dims) != 3:
        raise ValueError(f"{name} = {shape!r} must be three positive integers (H, W, D)")
    return dims  # type: ignore[return-value]


# --------------------------------------------------------------------------- one volume

_MAX_CUBES = 16  # per axis: beyond that, single cubes are too small to see


def show_volume(shape: Sequence[int], *, depth_slice: int | None = 0,
                depth_column: tuple[int, int] | None = (0, 0),
                title: str | None = None, what: str = "neurons") -> Figure:
    """A volume (H, W, D) drawn as cubes, one depth slice and one depth column colored.

    depth_slice: index d of the H×W slice drawn in orange (None: none), e.g. one feature
    map. depth_column: (row, col) of the 1×1×D column drawn in purple (None: none), the
    D numbers at one position. Each axis may hold at most 16 cells. ValueError names a
    shape, slice or column that does not fit.
    """
    h, w, d = _shape3("shape", shape)
    if max(h, w, d) > _MAX_CUBES:
        raise ValueError(f"shape = {(h, w, d)} has an axis longer than {_MAX_CUBES} cubes: "
                         "draw a smaller volume")
    colors: dict[tuple[int, int, int], str] = {}
    if depth_slice is not None:
        if not (is_integer(depth_slice) and 0 <= depth_slice < d):
            raise ValueError(f"depth_slice = {depth_slice!r} must be in 0..{d - 1} (D = {d})")
        colors.update({(r, c, depth_slice): FILTER for r in range(h) for c in range(w)})
    if depth_column is not None:
        r0, c0 = depth_column
        if not (is_integer(r0) and is_integer(c0) and 0 <= r0 < h and 0 <= c0 < w):
            raise ValueError(f"depth_column = {depth_column!r} must be (row, col) inside "
                             f"the {h}×{w} grid")
        colors.update({(r0, c0, k): BIAS for k in range(d)})
    fig = Figure(figsize=(5.2, 4.2), layout="constrained")
    ax = fig.subplots()
    _cubes(ax, (h, w, d), colors, alpha=0.55)
    _axis_labels(ax, h, w, d, (f"height H = {h}", f"width W = {w}", f"depth D = {d}"))
    handles = []
    if depth_slice is not None:
        handles.append(Patch(color=FILTER, label=f"depth slice {depth_slice}: {h}×{w} {what}"))
    if depth_column is not None:
        handles.append(Patch(color=BIAS, label=f"depth column at (row {depth_column[0]}, "
                             f"col {depth_column[1]}): {d} {what}"))
    _finish(ax)
    if handles:
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.45 * len(handles))  # room for the legend above the volume
        ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    ax.set_title(title if title is not None else f"A {h}×{w}×{d} volume of {what}")
    return fig


# --------------------------------------------------------------------------- receptive field


def _conv_layer(layer: object) -> Conv2D:
    if not isinstance(layer, Conv2D):
        raise ValueError(f"layer = {layer!r} must be a cnnlib Conv2D layer")
    return layer


def show_receptive_field(layer: Conv2D, input_shape: Sequence[int],
                         neuron: tuple[int, int] = (0, 0), title: str | None = None) -> Figure:
    """One output position of a Conv2D layer and the F×F×D input region it sees.

    input_shape: (H, W, D) with D = layer.in_channels, at most 16 per axis. neuron: (row,
    col) of the output position; its depth column (K neurons, one per filter) is drawn in
    purple in the output volume, and the F×F×D region they all read in orange in the
    (padded) input. The output shape comes from the layer itself (a forward pass).
    """
    conv = _conv_layer(layer)
    h, w, d = _shape3("input_shape", input_shape)
    (row,) = summary(conv, (h, w, d))
    h2, w2, k = row.output_shape
    f, s, p = conv.kernel_size, conv.stride, conv.padding
    r0, c0 = neuron
    if not (is_integer(r0) and is_integer(c0) and 0 <= r0 < h2 and 0 <= c0 < w2):
        raise ValueError(f"neuron = {neuron!r} must be (row, col) inside the {h2}×{w2} output")
    hp, wp = h + 2 * p, w + 2 * p
    if max(hp, wp, d, h2, w2, k) > _MAX_CUBES:
        raise ValueError(f"input_shape = {(h, w, d)} with padding {p} is too large to draw "
                         f"as cubes (at most {_MAX_CUBES} per axis)")
    field = {(r0 * s + a, c0 * s + b, c): FILTER for a in range(f) for b in range(f)
             for c in range(d)}
    padding_cells = {(r, c, z): "white" for r in range(hp) for c in range(wp) for z in range(d)
                     if not (p <= r < p + h and p <= c < p + w)}
    fig = Figure(figsize=(8.2, 4.2), layout="constrained")
    ax = fig.subplots()
    _cubes(ax, (hp, wp, d), {**padding_cells, **field}, base=INPUT, alpha=0.35)
    gap = wp + d * _DX + 4.0
    y_out = (hp - h2) / 2
    _cubes(ax, (h2, w2, k), {(r0, c0, z): BIAS for z in range(k)}, x0=gap, y0=y_out,
           base=OUTPUT, alpha=0.35)
    # Lines from the field's front corners to the neuron's front face.
    top, left = hp - (r0 * s), c0 * s
    nx, ny = gap + c0 + 0.5, y_out + h2 - 1 - r0 + 0.5
    for cx, cy in ((left, top), (left + f, top), (left, top - f), (left + f, top - f)):
        ax.plot([cx, nx], [cy, ny], color="0.35", lw=0.7, ls="--", zorder=50)
    _axis_labels(ax, hp, wp, d, (f"H = {h}" + (f" + 2·{p}" if p else ""),
                                 f"W = {w}" + (f" + 2·{p}" if p else ""), f"D = {d}"))
    _axis_labels(ax, h2, w2, k, (f"H₂ = {h2}", f"W₂ = {w2}", f"K = {k}"), x0=gap, y0=y_out)
    handles = [Patch(color=INPUT, alpha=0.5, label=f"input {h}×{w}×{d}"),
               Patch(color=FILTER, label=f"receptive field {f}×{f}×{d} = {f * f * d} inputs"),
               Patch(color=OUTPUT, alpha=0.5, label=f"output {h2}×{w2}×{k}"),
               Patch(color=BIAS, label=f"depth column: {k} neurons at (row {r0}, col {c0})")]
    if p:
        handles.insert(1, Patch(facecolor="white", edgecolor="0.25", label=f"zero padding P = {p}"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2,
              fontsize=8, frameon=False)
    _finish(ax)
    ax.set_title(title if title is not None else
                 f"Conv2D(F = {f}, S = {s}, P = {p}, K = {k}): each neuron sees "
                 f"{f}×{f}×{d} inputs")
    return fig


# --------------------------------------------------------------------------- filter bank


def _scale(n: int, unit: float = 0.55, power: float = 0.5) -> float:
    """Drawn length of an axis holding n numbers: grows like n**power, so 4 and 128 both fit."""
    return unit * n ** power


def show_filter_bank(layer: Conv2D, input_shape: Sequence[int], title: str | None = None) -> Figure:
    """The K filters of a Conv2D layer, each F×F×C, and the K feature maps they make.

    input_shape: (H, W, C), C = layer.in_channels. Left: the input volume; middle: K
    filter boxes, each in its own color (at most 8 filters); right: the output volume,
    its K depth slices colored like the filters that made them. Shapes from a forward
    pass of the layer.
    """
    conv = _conv_layer(layer)
    h, w, c = _shape3("input_shape", input_shape)
    (row,) = summary(conv, (h, w, c))
    h2, w2, k = row.output_shape
    if k > len(_FILTER_COLORS):
        raise ValueError(f"the layer has K = {k} filters: at most {len(_FILTER_COLORS)} can "
                         "be drawn one by one")
    f = conv.kernel_size
    unit = 4.0 / max(h, w, h2, w2)  # the largest face is 4 units tall
    depth_unit = 1.2 / max(c, k)
    fig = Figure(figsize=(8.4, 3.9), layout="constrained")
    ax = fig.subplots()
    H, W, C = h * unit, w * unit, max(c * depth_unit, 0.3)
    _cuboid(ax, 0, 0, 0, W, H, C, INPUT, alpha=0.8)
    ax.text(W / 2, -0.25, f"input {h}×{w}×{c}", ha="center", va="top", fontsize=9, color=INPUT)
    # The filters: small boxes F×F×C in a column, same depth as the input.
    fx = W + C * _DX + 1.6
    fsize = max(f * unit, 0.35)
    step = min(H / max(k, 1) + 0.05, fsize + 0.35)
    y_top = H / 2 + step * (k - 1) / 2
    for j in range(k):
        fy = y_top - j * step - fsize / 2
        _cuboid(ax, fx, fy, 0, fsize, fsize, C, _FILTER_COLORS[j], zorder=2 + j)
        ax.text(fx - 0.15, fy + fsize / 2, f"filter {j}", ha="right", va="center", fontsize=8,
                color=_FILTER_COLORS[j])
    ax.text(fx + fsize / 2, y_top - (k - 1) * step - fsize / 2 - 0.3,
            f"K = {k} filters\neach {f}×{f}×{c}", ha="center", va="top", fontsize=9,
            color=FILTER)
    # The output: K depth slices, slice j colored like filter j.
    ox = fx + fsize + C * _DX + 1.8
    oy = (H - h2 * unit) / 2
    slab = max(k * depth_unit, 0.3) / k
    for j in range(k - 1, -1, -1):
        _cuboid(ax, ox, oy, j * slab, w2 * unit, h2 * unit, slab, _FILTER_COLORS[j], lw=0.5)
    ax.text(ox + w2 * unit / 2, oy - 0.25, f"output {h2}×{w2}×{k}\n({k} feature maps)",
            ha="center", va="top", fontsize=9, color=OUTPUT)
    for x_from, x_to in ((W + C * _DX + 0.2, fx - 1.0), (fx + fsize + C * _DX + 0.2, ox - 0.2)):
        ax.annotate("", xy=(x_to, H / 2), xytext=(x_from, H / 2),
                    arrowprops={"arrowstyle": "->", "color": "0.3", "lw": 1.2})
    _finish(ax, 0.8, "boxes: width to the right, height up, depth (channels) going back")
    ax.set_title(title if title is not None else
                 f"K = {k} filters of depth C = {c} make K = {k} feature maps "
                 f"(F = {f}, S = {conv.stride}, P = {conv.padding})")
    return fig


# --------------------------------------------------------------------------- pooling


def show_pooling_volume(input_shape: Sequence[int] = (224, 224, 64), kernel_size: int = 2,
                        stride: int = 2, title: str | None = None) -> Figure:
    """Pooling as volumes: (H, W, D) -> (H₂, W₂, D). Width and height shrink, depth stays.

    Sizes are drawn in proportion (width and height on one scale, depth on another), with
    H₂ and W₂ from `pool_output_size` (ValueError when the window does not fit).
    """
    h, w, d = _shape3("input_shape", input_shape)
    f, s = positive_int("kernel_size", kernel_size), positive_int("stride", stride)
    h2, w2 = pool_output_size(h, f, s), pool_output_size(w, f, s)
    unit = 4.0 / max(h, w)
    depth = 2.0
    fig = Figure(figsize=(7.4, 3.6), layout="constrained")
    ax = fig.subplots()
    _cuboid(ax, 0, 0, 0, w * unit, h * unit, depth, INPUT, alpha=0.85)
    ox = w * unit + depth * _DX + 3.4
    oy = (h - h2) * unit / 2
    _cuboid(ax, ox, oy, 0, w2 * unit, h2 * unit, depth, OUTPUT, alpha=0.85)
    _axis_labels(ax, h * unit, w * unit, depth, (f"H = {h}", f"W = {w}", f"D = {d}"))
    _axis_labels(ax, h2 * unit, w2 * unit, depth, (f"H₂ = {h2}", f"W₂ = {w2}", f"D₂ = {d}"),
                 x0=ox, y0=oy)
    ax.annotate("", xy=(ox - 0.3, h * unit / 2), xytext=(w * unit + depth * _DX + 0.3,
                                                         h * unit / 2),
                arrowprops={"arrowstyle": "->", "color": "0.3", "lw": 1.2})
    ax.text(ox - 1.7, h * unit / 2 + 0.2, f"pool\n{f}×{f}, S = {s}", ha="center",
            va="bottom", fontsize=9)
    _finish(ax, 0.9, "drawn to scale: width to the right, height up, depth going back")
    ax.set_title(title if title is not None else
                 f"Pooling {h}×{w}×{d} -> {h2}×{w2}×{d}: width and height shrink, "
                 "depth stays")
    return fig


# --------------------------------------------------------------------------- a whole network


def _layer_label(layer: Layer) -> str:
    """A short name for a box: "conv 3×3", "max pool 2×2", "dense", "flatten"."""
    if isinstance(layer, Conv2D):
        extra = f", S={layer.stride}" if layer.stride != 1 else ""
        return f"conv {layer.kernel_size}×{layer.kernel_size}{extra}"
    if isinstance(layer, MaxPool2D | AvgPool2D):
        kind = "max" if isinstance(layer, MaxPool2D) else "avg"
        return f"{kind} pool {layer.kernel_size}×{layer.kernel_size}"
    if isinstance(layer, Flatten):
        return "flatten"
    if isinstance(layer, Linear):
        return "dense"
    return type(layer).__name__


def network_boxes(model: Sequential, input_shape: Sequence[int]) -> list[dict]:
    """What `draw_network` draws: one entry per box, from a forward pass (`summary`).

    Each entry: {"label": str, "shape": tuple (H, W, C) or (features,), "layers": [index
    of each layer shown by this box], "extras": [names of the shape-keeping layers that
    follow it, e.g. "ReLU"]}. The first box is the input. A layer that changes the shape,
    or is a convolution or a dense layer, gets a box; layers that keep the shape (ReLU,
    batch norm, dropout, standardization) are listed under the box before them.
    """
    if not isinstance(model, Sequential):
        raise ValueError(f"model = {model!r} must be a cnnlib Sequential")
    rows = summary(model, input_shape)
    if not rows:
        raise ValueError("model has no layers: there is nothing to draw")
    boxes = [{"label": "input", "shape": tuple(rows[0].input_shape), "layers": [],
              "extras": []}]
    for row, layer in zip(rows, model.layers, strict=True):
        keeps = tuple(row.output_shape) == tuple(row.input_shape)
        if keeps and not isinstance(layer, Conv2D | Linear):
            boxes[-1]["extras"].append(type(layer).__name__)
            continue
        boxes.append({"label": _layer_label(layer), "shape": tuple(row.output_shape),
                      "layers": [row.index], "extras": []})
    return boxes


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in shape)


def draw_network(model: Sequential, input_shape: Sequence[int], title: str | None = None,
                 *, width: float = 8.6) -> Figure:
    """A network drawn as the volumes it computes, layer by layer, from left to right.

    model: a cnnlib Sequential; input_shape: one example without the batch axis, e.g.
    (32, 32, 3). Every shape comes from a forward pass (`summary`), so changing a layer
    changes the picture. Volumes (H, W, C) are boxes: height and width on a square-root
    scale (so 32 and 4 both show), channels as the thickness on a logarithmic one; vectors
    are thin bars.
    Under each box: its shape, its layer and the shape-keeping layers after it. Raises
    ValueError for a model that is not a Sequential or an input it rejects.
    """
    boxes = network_boxes(model, input_shape)
    # A short network gets a narrower figure, so its boxes are not shrunk to fit the height.
    fig = Figure(figsize=(min(width, 2.0 + 0.75 * len(boxes)), 3.6), layout="constrained")
    ax = fig.subplots()
    max_side = max((max(b["shape"][:2]) for b in boxes if len(b["shape"]) == 3), default=1)
    max_len = max((b["shape"][0] for b in boxes if len(b["shape"]) == 1), default=1)
    side_unit = 3.2 / math.sqrt(max_side)
    half = max(side_unit * math.sqrt(max_side), 3.3) / 2
    # Drawn sizes first, then one slot per box, wide enough for the widest box; labels
    # alternate below and above the boxes so that neighbors never overlap.
    sizes = []
    for box in boxes:
        if len(box["shape"]) == 3:
            h, w, c = box["shape"]
            # The classic diagrams' layout: height up, width going back, channels across,
            # so a deep stack of feature maps is a thick slab.
            sizes.append((0.12 + 0.16 * math.log2(c), side_unit * math.sqrt(h),
                          side_unit * math.sqrt(w)))
        else:
            (n,) = box["shape"]
            sizes.append((0.18, 0.6 + 2.6 * math.log10(n) / math.log10(max(max_len, 10)), 0.18))
    slot = max(cc + ww * _DX for cc, _, ww in sizes) + 0.35
    top = max(hh / 2 + ww * _DY for _, hh, ww in sizes)  # highest point of any box
    for i, (box, (cc, hh, ww)) in enumerate(zip(boxes, sizes, strict=True)):
        shape = box["shape"]
        color = INPUT if i == 0 else (FILTER if box["label"].startswith("conv") else
                                      OUTPUT if len(shape) == 1 else NEUTRAL)
        if "pool" in box["label"]:
            color = POOLED
        x = i * slot
        _cuboid(ax, x, -hh / 2, 0, cc, hh, ww, color, lw=0.6)
        center = x + (cc + ww * _DX) / 2
        lines = [_shape_text(shape), box["label"]]
        if box["extras"]:
            lines.append("+ " + ", ".join(_short(e) for e in box["extras"]))
        if i % 2 == 0:
            ax.text(center, -half - 0.25, "\n".join(lines), ha="center", va="top",
                    fontsize=7, linespacing=1.2)
        else:
            ax.text(center, top + 0.2, "\n".join(lines), ha="center",
                    va="bottom", fontsize=7, linespacing=1.2)
    _finish(ax, 0.3, "")
    ax.set_ylim(-half - 2.3, top + 2.3)  # room for three lines of labels
    counts = len([b for b in boxes if b["label"].startswith("conv")])
    ax.set_title(title if title is not None else
                 f"The network, {len(model.layers)} layers ({counts} convolution"
                 f"{'s' if counts != 1 else ''}): "
                 f"{_shape_text(boxes[0]['shape'])} -> {_shape_text(boxes[-1]['shape'])}")
    ax.set_xlabel("layers, input to output (height and depth ∝ √size, thickness ∝ log₂ channels)",
                  fontsize=8)
    return fig


def _short(name: str) -> str:
    return {"BatchNorm2D": "BN", "Standardize": "standardize", "Dropout": "dropout"}.get(
        name, name)


def network_shapes(model: Sequential, input_shape: Sequence[int]) -> list[tuple[int, ...]]:
    """The shapes `draw_network` writes under its boxes, in order (input first)."""
    return [box["shape"] for box in network_boxes(model, input_shape)]


__all__ = ["BIAS", "FILTER", "GRADIENT", "INPUT", "OUTPUT", "draw_network", "network_boxes",
           "network_shapes", "show_filter_bank", "show_pooling_volume",
           "show_receptive_field", "show_volume"]
