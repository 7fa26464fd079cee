"""Parameter counts and a layer-by-layer summary of a model (output shapes, parameters).

The summary runs one forward pass on a batch of a single zero image, so it works for
any `cnnlib.Layer`, including layer types this module has never heard of.
Shapes are reported without the batch axis: (H, W, C) for images, (features,) after
Flatten.
Book: chapter 6 (counting parameters) and chapter 9 (the network's summary).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..checks import positive_ints
from ..nn.layers import Layer, Sequential


@dataclass(frozen=True)
class LayerRow:
    """One line of a summary: the layer, the shapes it maps between, its parameter count."""

    index: int
    name: str                        # repr(layer), e.g. "Conv2D(3, 8, kernel_size=3, ...)"
    input_shape: tuple[int, ...]     # without the batch axis
    output_shape: tuple[int, ...]    # without the batch axis
    params: int


def _layers_of(model: object) -> list[Layer]:
    """A Sequential, a list of layers, or a single layer -> its list of layers."""
    if isinstance(model, Sequential):
        return list(model.layers)
    if isinstance(model, Layer):
        return [model]
    if isinstance(model, Iterable) and not isinstance(model, str | bytes):
        layers = list(model)
        if all(isinstance(layer, Layer) for layer in layers):
            return layers
    raise ValueError(f"{model!r} is not a cnnlib.Layer, a Sequential or a list of layers")


def count_params(layer_or_model: object) -> int:
    """Number of learnable numbers in a layer, a Sequential or a list of layers.

    A layer without parameters (ReLU, pooling, Flatten) has 0.
    """
    return int(sum(np.size(p) for layer in _layers_of(layer_or_model)
                   for p in layer.params.values()))


def _model_dtype(layers: Sequence[Layer]) -> np.dtype:
    """The dtype of the first parameter found (float32 when there is none)."""
    for layer in layers:
        for p in layer.params.values():
            return np.asarray(p).dtype
    return np.dtype(np.float32)


def _check_input_shape(input_shape: object) -> tuple[int, ...]:
    shape = tuple(input_shape) if isinstance(input_shape, Iterable) else (input_shape,)
    try:
        return positive_ints("input_shape", shape)
    except ValueError as err:
        # The rule a reader most often breaks: the batch axis is left out.
        raise ValueError(f"{err}, without the batch axis, e.g. (32, 32, 3)") from None


def summary(model: object, input_shape: Sequence[int]) -> list[LayerRow]:
    """Output shape and parameter count of every layer, from one forward pass.

    model: a Sequential, a list of layers or one layer. input_shape: one example's shape
    without the batch axis, e.g. (32, 32, 3). A zero batch of one such example, in the
    model's own dtype, goes through the layers in order. Layers with a training mode
    (dropout, batch norm) are switched to evaluation for the pass and switched back, so
    the summary changes no running statistics.
    """
    shape = _check_input_shape(input_shape)
    layers = _layers_of(model)
    x = np.zeros((1, *shape), dtype=_model_dtype(layers))
    switched = [(layer, layer.training) for layer in {id(m): m for m in [*layers, model]
                                                      if isinstance(m, Layer)}.values()]
    rows = []
    try:
        for layer, _ in switched:
            layer.training = False  # not .eval(): a Sequential would switch its layers too
        for i, layer in enumerate(layers):
            try:
                y = layer.forward(x)
            except ValueError as err:
                raise ValueError(f"layer {i} ({layer!r}) rejects input shape {x.shape[1:]} "
                                 f"(batch axis dropped): {err}") from err
            rows.append(LayerRow(i, repr(layer), x.shape[1:], y.shape[1:], count_params(layer)))
            x = y
    finally:
        for layer, mode in switched:
            layer.training = mode
    return rows


def total_params(rows: Sequence[LayerRow]) -> int:
    """Sum of the rows' parameter counts."""
    return sum(row.params for row in rows)


def _shape_text(shape: tuple[int, ...]) -> str:
    return " × ".join(str(d) for d in shape)


def format_summary(rows: Sequence[LayerRow]) -> str:
    """A plain-text table: one line per layer, then the input shape and total parameters."""
    header = ("#", "layer", "output shape", "params")
    body = [(str(r.index), r.name, _shape_text(r.output_shape), f"{r.params:,}") for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(4)]

    def line(cells: Sequence[str]) -> str:
        # Numbers right-aligned, text left-aligned.
        return "  ".join([cells[0].rjust(widths[0]), cells[1].ljust(widths[1]),
                          cells[2].ljust(widths[2]), cells[3].rjust(widths[3])]).rstrip()

    lines = [line(header), *(line(b) for b in body)]
    rule = "-" * max(len(s) for s in lines)
    out = [lines[0], rule, *lines[1:], rule]
    if rows:
        out.append(f"input: {_shape_text(rows[0].input_shape)}   "
                   f"output: {_shape_text(rows[-1].output_shape)}")
    out.append(f"total parameters: {total_params(rows):,}")
    return "\n".join(out)


class SummaryTable:
    """A summary that shows as an HTML table in a notebook and as text everywhere else."""

    def __init__(self, rows: Sequence[LayerRow]):
        self.rows = list(rows)

    @property
    def total(self) -> int:
        return total_params(self.rows)

    def __str__(self) -> str:
        return format_summary(self.rows)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        pad = "padding:0.15em 0.9em"
        left, right = f' style="{pad};text-align:left"', f' style="{pad};text-align:right"'

        def row(cells: Sequence[tuple[str, str]]) -> str:
            return "<tr>" + "".join(f"<td{align}>{text}</td>" for align, text in cells) + "</tr>"

        head = "<tr>" + "".join(f"<th{align}>{name}</th>" for align, name in
                                [(right, "#"), (left, "layer"), (left, "output shape"),
                                 (right, "params")]) + "</tr>"
        body = []
        if self.rows:
            body.append(row([(right, ""), (left, "<em>input</em>"),
                             (left, esc(_shape_text(self.rows[0].input_shape))), (right, "")]))
        body += [row([(right, str(r.index)), (left, f"<code>{esc(r.name)}</code>"),
                      (left, esc(_shape_text(r.output_shape))), (right, f"{r.params:,}")])
                 for r in self.rows]
        foot = row([(right, ""), (left, "<strong>total</strong>"), (left, ""),
                    (right, f"<strong>{self.total:,}</strong>")])
        return (f'<table class="cnnlib-summary" style="border-collapse:collapse">'
                f"<thead>{head}</thead><tbody>{''.join(body)}</tbody>"
                f"<tfoot>{foot}</tfoot></table>")


def summary_table(model: object, input_shape: Sequence[int]) -> SummaryTable:
    """`summary` as an object that renders as an HTML table in Jupyter (text in a console)."""
    return SummaryTable(summary(model, input_shape))


def dense_equivalent_params(input_shape: Sequence[int], output_shape: Sequence[int]) -> int:
    """Parameters of one fully connected layer mapping a whole input volume to a whole
    output volume: every output neuron has a weight for every input number, plus a bias.

    (H1, W1, C) -> (H2, W2, K): (H1·W1·C)·(H2·W2·K) + H2·W2·K.
    """
    n_in = math.prod(_check_input_shape(input_shape))
    n_out = math.prod(_check_input_shape(output_shape))
    return n_in * n_out + n_out
