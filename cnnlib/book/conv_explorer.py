"""The stride/padding explorer: pictures of where a filter lands, and an ipywidgets UI.

A dilation slider (d = 1 ... 3) spaces the filter's taps d pixels apart: the picture
marks the taps of the shown position, and the formula becomes
W₂ = ⌊(W₁ + 2P − d(F − 1) − 1)/S⌋ + 1.

`draw_conv_geometry` draws one conv layer's geometry with matplotlib (no pyplot, so it
never pops up a second copy of a figure in a notebook). `explorer_state` is the widget's
whole callback as a pure function of the slider values, so it can be tested without a
browser; `conv_explorer` wires it to sliders. The numbers all come from
`cnnlib.book.geometry`, which asks `cnnlib.core.shapes.conv_output_size` for the rule.

Book: chapter 4, "The stride and padding explorer" (in Jupyter, with a kernel).
"""

from __future__ import annotations

import base64
import html
import io
import textwrap

import ipywidgets as widgets
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

from ..checks import is_integer
from .geometry import EXPLORER_RANGES, describe_conv, is_padding_cell
from .palette import FAINT, GRID, HIGHLIGHT, INPUT, INVALID, OUTPUT, PADDING, SKIPPED, light

# Cells are filled with the light versions of their roles, the filter positions' marks
# use the strong input colour (they are where the filter reads the input).
INPUT_CELL = light(INPUT)
OUTPUT_CELL = light(OUTPUT)
WINDOWS = INPUT

_GAP = 3.0  # cells between the input grid and the output grid
_DEPTH_SHIFT = 0.35  # offset of each filter's output sheet behind the first one


def _grid(ax: Axes, x0: float, y0: float, n: int, colors: list[list[str]], **style) -> None:
    """n×n unit squares with their top-left corner at (x0, y0); y grows downward."""
    cells = [Rectangle((x0 + c, y0 + r), 1, 1) for r in range(n) for c in range(n)]
    faces = [colors[r][c] for r in range(n) for c in range(n)]
    ax.add_collection(PatchCollection(cells, facecolors=faces, edgecolors=GRID,
                                      linewidths=0.6, **style))


def _setup_axes(ax: Axes | None, width_cells: float, height_cells: float) -> Axes:
    if ax is None:
        # Inches per cell chosen so the figure has the drawing's aspect ratio (no empty
        # bands around an equal-aspect axes), within 5-11 inches wide and 7.5 tall.
        scale = min(0.45, 9.0 / (width_cells + 2), 6.5 / (height_cells + 2))
        scale = max(scale, 5.0 / (width_cells + 2))
        fig = Figure(figsize=(scale * (width_cells + 2), scale * (height_cells + 2) + 0.6))
        ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def _draw_invalid(ax: Axes | None, info: dict) -> Figure:
    """The reason, in words, and (when the numbers allow) the step that does not fit."""
    padded = info.get("padded_size")
    drawable = padded is not None and isinstance(info["f"], int) and info["w"] >= 1 \
        and info["f"] >= 1 and padded <= 40 and info["f"] <= 40
    if not drawable:
        ax = _setup_axes(ax, 12, 4)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, "\n".join(textwrap.wrap(info["error"], 60)), ha="center",
                va="center", color=INVALID, fontsize=11, transform=ax.transAxes)
        ax.set_title("These settings do not fit", fontsize=13, color=INVALID)
        return ax.figure

    w, s, p = info["w"], info["s"], info["p"]
    f = info["span"] or info["f"]  # a dilated filter spans d(F - 1) + 1 cells
    fitting = info["fitting_starts"]
    nxt = fitting[-1] + s if fitting else 0  # where the next step would start
    overhang = nxt + f - padded
    width = max(padded, nxt + f)
    span = max(width + 1.0, 16.0)  # room for the title and the message
    ax = _setup_axes(ax, span, padded + 4)
    colors = [[PADDING if is_padding_cell(r, w, p) or is_padding_cell(c, w, p) else INPUT_CELL
               for c in range(padded)] for r in range(padded)]
    _grid(ax, 0, 0, padded, colors)
    for start in fitting:  # the positions that fit, along the top row
        ax.add_patch(Rectangle((start, 0), f, f, fill=False, ec=WINDOWS, lw=1.5, alpha=0.8))
    ax.add_patch(Rectangle((nxt, 0), f, f, fill=True, fc=INVALID, alpha=0.18, ec=INVALID,
                           lw=2.5, ls="--"))
    where = (f"the first step already hangs over the edge by {overhang}"
             if not fitting else
             f"after {len(fitting)} step{'s' if len(fitting) > 1 else ''}, the next one "
             f"hangs over the edge by {overhang}")
    ax.text(width / 2, -0.4, f"{where} cell{'s' if overhang > 1 else ''}", ha="center",
            va="bottom", color=INVALID, fontsize=11)
    ax.set_xlim(width / 2 - span / 2, width / 2 + span / 2)
    ax.set_ylim(padded + 0.5, -2.0)
    ax.set_title(f"\u2717  {info['formula']}", fontsize=13, color=INVALID)
    ax.set_xlabel("\n".join(textwrap.wrap(info["error"], 70)), color=INVALID, fontsize=10)
    ax.set_ylabel("rows of the padded input")
    return ax.figure


def _legend(ax: Axes, skipped: bool, dilation: int = 1) -> None:
    handles = [Patch(fc=INPUT_CELL, ec=GRID, label="input pixel"),
               Patch(fc=PADDING, ec=GRID, label="zero padding")]
    if skipped:
        handles.append(Patch(fc=SKIPPED, ec=GRID, label="never covered (S > F)" if dilation == 1
                             else "never read (between taps, or skipped)"))
    handles += [Line2D([], [], ls="", marker="o", ms=5, color=WINDOWS,
                       label="centre of a filter position"),
                Patch(fc="none", ec=HIGHLIGHT, lw=2, label="filter (F\u00d7F)" if dilation == 1
                      else "filter's span (d(F\u22121)+1 square)")]
    if dilation > 1:
        handles.append(Line2D([], [], ls="", marker="s", ms=6, color=HIGHLIGHT,
                              label=f"tap ({dilation} pixels apart)"))
    handles.append(Patch(fc=OUTPUT_CELL, ec=GRID, label="output unit"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.06),
              ncol=3, fontsize=9, frameon=False)


def draw_conv_geometry(w: int, f: int, s: int, p: int, k: int = 1, step: int | None = None,
                       ax: Axes | None = None, *, position: int | None = None,
                       dilation: int = 1) -> Figure:
    """Draw the padded input, where the filter lands, and the output, for one conv layer.

    Left: the (W + 2P)×(W + 2P) padded input (padding cells grey, marked 0); a dot at
    the centre of every filter position (step=None: all positions, the first one outlined)
    or the `step`-th position (0-based, row by row) highlighted with its output unit.
    Right: the W₂×W₂ output grid, drawn as K stacked sheets (depth D₂ = K). Title: the
    formula with the numbers filled in. Settings that do not fit never raise: the figure
    shows the reason (the message of `conv_output_size`) and the step that hangs over.
    Draws into `ax` when given, else into a new Figure; returns the Figure.
    `position` is the same choice counted from 1, like the explorer's slider:
    position=6 is step=5. Give one or the other. `dilation` d > 1 draws a dilated filter:
    its outline spans d(F − 1) + 1 cells and its F×F taps, d pixels apart, are marked.
    """
    if position is not None:
        if step is not None:
            raise ValueError("give step (from 0) or position (from 1), not both")
        if not is_integer(position) or position < 1:
            raise ValueError(f"position = {position!r} must be an integer >= 1 (counted from 1)")
        step = position - 1
    info = describe_conv(w, f, s, p, k, dilation=dilation)
    if not info["ok"]:
        return _draw_invalid(ax, info)
    if step is not None and not (0 <= step < info["n_positions"]):
        raise ValueError(f"step = {step} must be None or from 0 to {info['n_positions'] - 1}")

    padded, out, starts, cover = info["padded_size"], info["output_size"], info["starts"], \
        info["coverage"]
    d, span = info["dilation"], info["span"]
    out_x0 = padded + max(_GAP, 7.0 - padded)  # tiny grids: room for the captions
    out_y0 = (padded - out) / 2
    depth_extra = (k - 1) * _DEPTH_SHIFT
    ax = _setup_axes(ax, out_x0 + out + depth_extra + 0.5, padded + 2.5)

    # Input: real pixels, padding, and pixels that no filter position ever covers.
    def input_color(r: int, c: int) -> str:
        if is_padding_cell(r, w, p) or is_padding_cell(c, w, p):
            return PADDING
        return SKIPPED if cover[r] == 0 or cover[c] == 0 else INPUT_CELL

    _grid(ax, 0, 0, padded, [[input_color(r, c) for c in range(padded)] for r in range(padded)])
    if p and padded <= 14:
        for r in range(padded):
            for c in range(padded):
                if input_color(r, c) == PADDING:
                    ax.text(c + 0.5, r + 0.5, "0", ha="center", va="center", fontsize=8,
                            color=FAINT)

    # Every filter position's centre; the shown position outlined.
    centres = [(left + span / 2, top + span / 2) for top in starts for left in starts]
    ax.scatter([x for x, _ in centres], [y for _, y in centres], s=14, color=WINDOWS,
               zorder=3)
    shown = 0 if step is None else step
    top, left = starts[shown // out], starts[shown % out]
    ax.add_patch(Rectangle((left, top), span, span, fill=step is not None, fc=HIGHLIGHT,
                           alpha=0.25, ec="none", zorder=2))
    ax.add_patch(Rectangle((left, top), span, span, fill=False, ec=HIGHLIGHT, lw=2.5,
                           ls="-" if step is not None else "--", zorder=4))
    if d > 1:  # the taps: the only cells a dilated filter reads
        for i in range(f):
            for j in range(f):
                ax.add_patch(Rectangle((left + j * d + 0.25, top + i * d + 0.25), 0.5, 0.5,
                                       fc=HIGHLIGHT, ec="none", alpha=0.85, zorder=4))

    # Output: K sheets, back to front, so depth D₂ = K is visible.
    for sheet in reversed(range(k)):
        shift = sheet * _DEPTH_SHIFT
        colors = [[OUTPUT_CELL] * out for _ in range(out)]
        _grid(ax, out_x0 + shift, out_y0 - shift, out, colors, alpha=1.0 if sheet == 0 else 0.7,
              zorder=1 + (k - sheet) * 0.01)
    if step is not None:
        r, c = divmod(step, out)
        ax.add_patch(Rectangle((out_x0 + c, out_y0 + r), 1, 1, fc=HIGHLIGHT, ec=HIGHLIGHT,
                               alpha=0.85, zorder=5))
        ax.add_patch(FancyArrowPatch((left + span, top + span / 2), (out_x0 + c, out_y0 + r + 0.5),
                                     arrowstyle="-|>", mutation_scale=12, color=HIGHLIGHT,
                                     lw=1.5, connectionstyle="arc3,rad=-0.15", zorder=6))

    # Captions above each grid, formula as the title.
    dilated = "" if d == 1 else f", d = {d}"
    ax.text(padded / 2, -0.4, f"padded input {padded}\u00d7{padded}\n(W = {w}, P = {p}{dilated})",
            ha="center", va="bottom", fontsize=11)
    ax.text(out_x0 + (out + depth_extra) / 2, out_y0 - depth_extra - 0.4,
            f"output {out}\u00d7{out}\u00d7{k}\n(depth D\u2082 = K = {k})", ha="center",
            va="bottom", fontsize=11)
    where = ("all positions" if step is None
             else f"position {step + 1} of {info['n_positions']}")
    ax.set_title(f"{info['formula']}\n(F = {f}, S = {s}{dilated}; {where})", fontsize=13)
    xlabel = "columns (one square = one pixel)"
    if info["leftover"]:
        n = info["leftover"]
        held = ("only zero padding" if not info["leftover_real"]
                else "padding and pixels the stride skips anyway")
        which = "row and column" if n == 1 else f"{n} rows and columns"
        xlabel += f"\nfloored: the last padded {which} are left over, {held}; nothing is lost"
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_ylabel("rows", fontsize=10)
    ax.set_xlim(-0.5 - max(0, 3 - padded), out_x0 + out + depth_extra + 0.5)
    ax.set_ylim(padded + 0.5, -2.2 - depth_extra)
    _legend(ax, skipped=any(c == 0 for c in cover[p:p + w]), dilation=d)
    return ax.figure


# --------------------------------------------------------------------------- the widget


def _figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return buf.getvalue()


def explorer_state(w: int, f: int, s: int, p: int, k: int = 1, step: int = 0,
                   d: int = 1) -> dict:
    """Everything the explorer shows for these slider values, as plain data (no figure).

    step follows the step slider: 0 shows every filter position, 1 ... W₂·H₂ highlights
    that one (values past the end are clamped). d is the dilation (taps d pixels
    apart). Returns {"ok", "formula", "error", "label_html", "output_shape",
    "n_positions", "step", "step_max", "draw_step", "window", "output_cell", "geometry"};
    `draw_step` is the argument for
    `draw_conv_geometry` (None or 0-based).
    """
    info = describe_conv(w, f, s, p, k, dilation=d)
    if not info["ok"]:
        return {
            "ok": False, "formula": info["formula"], "error": info["error"],
            "label_html": f'<span style="color:{INVALID}">\u2717 {html.escape(info["error"])}'
                          "</span>",
            "output_shape": None, "n_positions": 0, "step": 0, "step_max": 0,
            "draw_step": None, "window": None, "output_cell": None, "geometry": info,
        }
    n = info["n_positions"]
    step = max(0, min(int(step), n))
    out, starts = info["output_size"], info["starts"]
    window = cell = None
    text = (f"<b>{html.escape(info['formula'])}</b> &nbsp;\u2192&nbsp; output "
            f"{out} \u00d7 {out} \u00d7 {k} (depth D\u2082 = K = {k}); "
            f"the filter lands {out} \u00d7 {out} = {n} times")
    if info["leftover"]:
        n = info["leftover"]
        which = "row and column" if n == 1 else f"{n} rows and columns"
        text += (f"<br>floored: the last padded {which} are left over, but no real pixel the "
                 "filter would reach is lost")
    if d > 1:
        text += (f"<br>dilation d = {d}: the filter's {f} \u00d7 {f} taps are {d} pixels "
                 f"apart, so it spans d(F \u2212 1) + 1 = {info['span']} pixels")
    if step:
        row, col = divmod(step - 1, out)
        window, cell = [starts[row], starts[col]], [row, col]
        last = info["span"] - 1
        every = "" if d == 1 else f" (every {'2nd' if d == 2 else '3rd' if d == 3 else f'{d}th'})"
        text += (f"<br>position {step} of {n}: padded rows {starts[row]}\u2013"
                 f"{starts[row] + last}{every}, columns {starts[col]}\u2013"
                 f"{starts[col] + last}{every} "
                 f"\u2192 output unit (row {row}, column {col})")
    return {
        "ok": True, "formula": info["formula"], "error": None, "label_html": text,
        "output_shape": tuple(info["output_shape"]), "n_positions": n, "step": step,
        "step_max": n, "draw_step": step - 1 if step else None, "window": window,
        "output_cell": cell, "geometry": info,
    }


class ConvExplorer(widgets.VBox):
    """Sliders W, F, S, P, K (`sliders`), a dilation slider d (`dilation`) and a step
    slider; a label with the formula or the error, and an Output with the picture.
    `state` holds the last `explorer_state` result."""

    LABELS = {"w": "input W", "f": "filter F", "s": "stride S", "p": "padding P",
              "k": "filters K"}

    def __init__(self, w: int = 7, f: int = 3, s: int = 2, p: int = 1, k: int = 2, d: int = 1,
                 **kwargs):
        values = {"w": w, "f": f, "s": s, "p": p, "k": k}
        self.sliders = {
            name: widgets.IntSlider(value=values[name], min=lo, max=hi,
                               description=self.LABELS[name], continuous_update=False,
                               style={"description_width": "70px"},
                               layout=widgets.Layout(width="290px"))
            for name, (lo, hi) in EXPLORER_RANGES.items() if name != "d"
        }
        d_lo, d_hi = EXPLORER_RANGES["d"]
        self.dilation = widgets.IntSlider(value=d, min=d_lo, max=d_hi, description="dilation d",
                                          continuous_update=False,
                                          style={"description_width": "70px"},
                                          layout=widgets.Layout(width="290px"))
        self.step = widgets.IntSlider(value=0, min=0, max=0, description="step",
                                 continuous_update=True, style={"description_width": "70px"},
                                 layout=widgets.Layout(width="580px"))
        self.step_hint = widgets.HTML("<i>step 0 shows every position</i>")
        self.label = widgets.HTML()
        self.output = widgets.Output(layout=widgets.Layout(min_height="300px"))
        self.state: dict = {}
        self.renders = 0  # how many pictures were drawn (tests read it)
        self._updating = False
        sliders = self.sliders
        rows = [widgets.HBox([sliders["w"], sliders["f"]]),
                widgets.HBox([sliders["s"], sliders["p"]]),
                widgets.HBox([sliders["k"], self.dilation]),
                widgets.HBox([self.step, self.step_hint])]
        super().__init__([*rows, self.label, self.output], **kwargs)
        for slider in (*self.sliders.values(), self.dilation, self.step):
            slider.observe(self._on_change, names="value")
        self.refresh()

    def values(self) -> dict[str, int]:
        """The current slider values, dilation d and step included."""
        return {**{name: sl.value for name, sl in self.sliders.items()},
                "d": self.dilation.value, "step": self.step.value}

    def _on_change(self, change: dict) -> None:
        if not self._updating:  # changing step.max below may move step.value: one redraw
            self.refresh()

    def refresh(self) -> None:
        """Recompute the state from the sliders and redraw; never raises for bad settings."""
        self._updating = True
        try:
            v = self.values()
            state = explorer_state(v["w"], v["f"], v["s"], v["p"], v["k"], v["step"], v["d"])
            self.step.max = state["step_max"]
            self.step.disabled = not state["ok"]
            self.step.value = state["step"]
        finally:
            self._updating = False
        self.state = state
        self.label.value = state["label_html"]
        self._show(state)

    def _show(self, state: dict) -> None:
        g = state["geometry"]
        try:
            fig = draw_conv_geometry(g["w"], g["f"], g["s"], g["p"], g["k"], state["draw_step"],
                                     dilation=g["dilation"])
            data = {"image/png": base64.b64encode(_figure_png(fig)).decode("ascii"),
                    "text/plain": state["formula"] or ""}
        except Exception as err:  # a widget callback must not raise
            data = {"text/plain": f"could not draw: {err}"}
        if not state["ok"]:
            data["text/plain"] = state["error"]
        # Setting `outputs` directly (rather than `with self.output: display(...)`) works
        # with or without a front end, so headless tests see exactly what a reader sees.
        self.output.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)
        self.renders += 1


def conv_explorer(w: int = 7, f: int = 3, s: int = 2, p: int = 1, k: int = 2,
                  d: int = 1) -> ConvExplorer:
    """The interactive explorer (an ipywidgets VBox), starting at the given settings
    (d: the dilation)."""
    return ConvExplorer(w=w, f=f, s=s, p=p, k=k, d=d)
