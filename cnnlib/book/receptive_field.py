"""Receptive fields: how much of the input one unit of a deep layer can see.

Walking up a stack of conv/pool layers, each layer widens the field by (F − 1) steps of
the current *jump* (the distance, in input pixels, between neighboring units), and its
stride multiplies the jump:

    r_out = r_in + (F − 1) · jump_in,    jump_out = jump_in · S,    starting at r = jump = 1.

`receptive_field` does that arithmetic; `input_gradient_support` measures the same thing
on a real network (where the gradient of one output unit is non-zero), so the book can
check the formula against the network.
Book: chapter 5 ("Stacking layers widens the field of view").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..checks import Seed, is_integer, make_rng

LayerSpec = tuple[int, int] | tuple[int, int, int]  # (F, S) or (F, S, P)


def _unpack(i: int, layer: Sequence[int]) -> tuple[int, int, int]:
    if len(layer) not in (2, 3):
        raise ValueError(f"layer {i} = {layer!r} must be (F, S) or (F, S, P)")
    f, s, p = (*layer, 0)[:3]
    for name, value, minimum in (("F", f, 1), ("S", s, 1), ("P", p, 0)):
        if not is_integer(value) or value < minimum:
            raise ValueError(f"layer {i}: {name} = {value!r} must be an integer >= {minimum}")
    return int(f), int(s), int(p)


def receptive_field_steps(layers: Sequence[LayerSpec]) -> list[dict[str, int]]:
    """After each layer: its receptive field `size`, the `jump` (input
    pixels between neighboring units) and the input index `start` where
    the field of its unit 0 begins (negative with padding).

    layers: (F, S) or (F, S, P) per conv/pool layer, input first.
    Elementwise layers (ReLU, ...) change nothing and are left out.
    """
    size, jump, start = 1, 1, 0
    steps = []
    for i, layer in enumerate(layers):
        f, s, p = _unpack(i, layer)
        size += (f - 1) * jump  # F - 1 more units, `jump` pixels apart
        start -= p * jump  # padding: unit 0 starts P old units earlier
        jump *= s
        steps.append({"size": size, "jump": jump, "start": start})
    return steps


def receptive_field(layers: Sequence[LayerSpec]) -> list[int]:
    """Receptive field size (in input pixels, along one axis) after each layer.

    >>> receptive_field([(3, 1), (3, 1), (2, 2)])
    [3, 5, 6]
    """
    return [step["size"] for step in receptive_field_steps(layers)]


def receptive_field_window(layers: Sequence[LayerSpec], index: int) -> tuple[int, int]:
    """[start, stop) input indices seen by unit `index` of the last layer, along one axis.

    Indices may fall outside the input (into the padding) when layers pad.
    """
    if not layers:
        return index, index + 1
    last = receptive_field_steps(layers)[-1]
    start = last["start"] + index * last["jump"]
    return start, start + last["size"]


def layer_geometry(model: object) -> list[tuple[int, int, int]]:
    """(F, S, P) of every conv/pool layer of a cnnlib Sequential (or a single layer).

    Layers without `kernel_size` (ReLU, Flatten, ...) are skipped: they act on one value
    at a time and do not widen the field.
    """
    layers = getattr(model, "layers", [model])
    return [(layer.kernel_size, layer.stride, getattr(layer, "padding", 0))
            for layer in layers if hasattr(layer, "kernel_size")]


def input_gradient_support(model: object, input_shape: tuple[int, int, int],
                           unit: tuple[int, int, int], *, seed: Seed = 0,
                           x: np.ndarray | None = None) -> np.ndarray:
    """Where d(output[unit]) / d(input) is non-zero: a bool mask of shape (H, W).

    model: anything with forward/backward (e.g. a Sequential); input_shape: (H, W, C);
    unit: (row, col, channel) of the output. The input is `x` (1, H, W, C) or a seeded
    random one. Pixels outside the unit's receptive field can never get gradient; pixels
    inside get it unless something blocks it (a ReLU that is off, a max pool that
    picked a neighbor, a zero weight).
    """
    if x is None:
        x = make_rng(seed).standard_normal((1, *input_shape))
    out = model.forward(x)
    row, col, channel = unit
    if not (0 <= row < out.shape[1] and 0 <= col < out.shape[2] and 0 <= channel < out.shape[3]):
        raise ValueError(f"unit = {unit} is outside the output of shape {out.shape[1:]}")
    dout = np.zeros_like(out)
    dout[0, row, col, channel] = 1.0
    dx = model.backward(dout)
    return np.any(dx[0] != 0, axis=-1)


def support_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right), bottom/right exclusive, of the True cells of a 2-D mask.

    Raises ValueError for a mask with no True cell.
    """
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("the mask has no True cell: the gradient is zero everywhere")
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
