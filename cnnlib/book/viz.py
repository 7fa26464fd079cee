"""Pictures of images, channels, feature maps and convolution steps.

Every function returns a `matplotlib.figure.Figure` that is not registered with pyplot:
in a notebook it is drawn once, as the cell's value, and nothing is left open when a
script or a test makes thousands of them. Every figure has a title and axis labels.

Arrays follow cnnlib's layout: images (N, H, W, C), channels last.
Book: the figures of every chapter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..checks import positive_int
from .palette import SERIES

# Black -> pure color: each plane shows exactly what it adds to the picture.
_CHANNEL_CMAPS = {
    name: LinearSegmentedColormap.from_list(f"black_{name}", ["black", name])
    for name in ("red", "green", "blue")
}
_PANEL_INCHES = 2.2  # width of one image panel; 32×32 images stay crisp at this size
# A book page shows a figure about 600-800 pixels wide: wider figures shrink their text
# below readable, so grids get narrower panels instead of a wider figure.
_MAX_INCHES = 8.5
_HIGHLIGHTS = SERIES[:6]  # one colour per window, from the book's palette


# --------------------------------------------------------------------------- checks


def _image_batch(images: np.ndarray, name: str = "images") -> np.ndarray:
    """(N, H, W), (N, H, W, 1) or (N, H, W, 3) -> (N, H, W, C) with C in {1, 3}."""
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3) or 0 in arr.shape:
        raise ValueError(
            f"{name} must have shape (N, H, W), (N, H, W, 1) or (N, H, W, 3) with N, H, W > 0, "
            f"got {np.shape(images)}"
        )
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
            or arr.dtype == bool):
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")
    return arr


def _display_range(img: np.ndarray) -> tuple[np.ndarray, float, float]:
    """An image (H, W, C) ready for imshow, and the value range that maps to black..white.

    uint8 and other integers: 0..255. Floats inside [0, 1]: 0..1. Any other floats (say,
    standardized images): stretched from their own minimum to their own maximum.
    """
    if not np.issubdtype(img.dtype, np.floating):
        return np.clip(img, 0, 255).astype(np.uint8), 0.0, 255.0
    lo, hi = float(np.nanmin(img)), float(np.nanmax(img))
    if lo >= 0.0 and hi <= 1.0:
        return img, 0.0, 1.0
    span = hi - lo if hi > lo else 1.0
    return (img - lo) / span, 0.0, 1.0


def _draw_image(ax: Axes, img: np.ndarray, cmap: str = "gray") -> None:
    """Draw one (H, W, C) image with nearest-neighbor pixels (no smoothing)."""
    shown, lo, hi = _display_range(img)
    if shown.shape[-1] == 1:
        ax.imshow(shown[..., 0], cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    else:
        ax.imshow(shown, interpolation="nearest")


def _grid_shape(n: int, ncols: int) -> tuple[int, int]:
    ncols = min(positive_int("ncols", ncols), n)
    return -(-n // ncols), ncols


def _label_text(label: object, class_names: Sequence[str] | None) -> str:
    if class_names is not None and isinstance(label, int | np.integer):
        if not 0 <= label < len(class_names):
            raise ValueError(
                f"label {label} has no name: class_names has {len(class_names)} entries "
                f"(ids 0..{len(class_names) - 1})"
            )
        return str(class_names[label])
    return str(label)


# --------------------------------------------------------------------------- images


def show_images(images: np.ndarray, labels: Sequence | np.ndarray | None = None,
                class_names: Sequence[str] | None = None, ncols: int = 8,
                title: str | None = None, *, cmap: str = "gray") -> Figure:
    """A grid of images with an optional caption under each.

    images: (N, H, W, C) with C = 3 (RGB) or 1, or (N, H, W) for grayscale; uint8 0..255
    or float (0..1 shown as is; any other range stretched per image). labels: N class ids
    (named through class_names when given) or N strings. Returns the Figure.
    """
    batch = _image_batch(images)
    n, h, w, _ = batch.shape
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries but there are {n} images")
    nrows, ncols = _grid_shape(n, ncols)
    size = min(_PANEL_INCHES, _MAX_INCHES / ncols)
    caption_room = 0.3 if labels is not None else 0.0
    fig = Figure(figsize=(size * ncols, (size + caption_room) * nrows + 0.6),
                 layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.set_axis_off()
            continue
        _draw_image(ax, batch[i], cmap)
        if labels is not None:
            ax.set_title(_label_text(labels[i], class_names), fontsize=10 if size > 1.2 else 9)
    fig.suptitle(title if title is not None else f"{n} image{'s' if n != 1 else ''}")
    fig.supxlabel(f"width: {w} pixels per image")
    fig.supylabel(f"height: {h} pixels")
    return fig


def show_channels(image: np.ndarray, title: str | None = None) -> Figure:
    """An RGB image beside its red, green and blue planes, each with a color bar.

    image: (H, W, 3), uint8 0..255 or float. Each plane is drawn from black (0) to its
    pure color (255, or 1 for floats in [0, 1]), so it shows what that channel adds.
    """
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[-1] != 3 or 0 in img.shape:
        raise ValueError(f"image must have shape (H, W, 3) (an RGB image), got {np.shape(image)}")
    h, w, _ = img.shape
    is_float = np.issubdtype(img.dtype, np.floating)
    vmax = 1.0 if is_float and img.max() <= 1.0 else 255.0
    unit = "value (0–1)" if vmax == 1.0 else "value (0–255)"
    fig = Figure(figsize=(7.5, 6.2), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    _draw_image(axes[0], img)
    axes[0].set_title(f"RGB image ({h}×{w}×3)")
    for c, (ax, name) in enumerate(zip(axes[1:], ("red", "green", "blue"), strict=True)):
        im = ax.imshow(img[..., c], cmap=_CHANNEL_CMAPS[name], vmin=0, vmax=vmax,
                       interpolation="nearest")
        ax.set_title(f"channel {c}: {name} ({h}×{w})")
        fig.colorbar(im, ax=ax, shrink=0.8, label=f"{name} {unit}")
    for ax in axes:
        ax.set_xlabel("column (pixel)")
        ax.set_ylabel("row (pixel)")
    fig.suptitle(title if title is not None else "An image is three planes of numbers")
    return fig


# --------------------------------------------------------------------------- feature maps


def _map_style(m: np.ndarray, cmap: str | None) -> dict:
    """imshow arguments for the values m (a map, or all maps when they share one scale):
    signed values get a diverging colormap centered on 0 (white = 0)."""
    lo, hi = float(np.min(m)), float(np.max(m))
    if cmap is None and lo < 0 < hi:
        lim = max(-lo, hi)
        return {"cmap": "RdBu_r", "vmin": -lim, "vmax": lim}
    return {"cmap": cmap or "gray", "vmin": lo, "vmax": hi if hi > lo else lo + 1}


def show_feature_maps(maps: np.ndarray, title: str = "Feature maps",
                      names: Sequence[str] | None = None, ncols: int = 4, *,
                      images: np.ndarray | None = None,
                      cmap: str | Sequence[str | None] | None = None,
                      colorbar: bool = True, unit: str = "activation",
                      share_scale: bool = False) -> Figure:
    """Feature maps, one panel each, with a color bar per panel.

    maps: (H, W, K) or (1, H, W, K) -> a grid of K panels, ncols wide; (N, H, W, K) with
    N > 1 -> one row per image. names: K panel titles. images: the inputs (N, H, W, C)
    or (H, W, C), drawn first in each row. cmap: one name for all maps, or K names; None
    (the default, also per map) draws a map with both signs in a diverging colormap
    centered on 0 (red positive, blue negative, white 0), any other map in gray.
    share_scale: one color scale for all maps (to compare their strength), instead of
    one per map (to see each map's detail).
    """
    arr = np.asarray(maps)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or 0 in arr.shape:
        raise ValueError(f"maps must have shape (H, W, K) or (N, H, W, K), got {np.shape(maps)}")
    n, h, w, k = arr.shape
    if names is not None and len(names) != k:
        raise ValueError(f"names has {len(names)} entries but there are K = {k} maps")
    inputs = None
    if images is not None:
        inputs = _image_batch(images[None] if np.ndim(images) == 3 else images, "images")
        if len(inputs) != n:
            raise ValueError(f"images has {len(inputs)} entries but maps has N = {n}")
    if cmap is None or isinstance(cmap, str):
        cmaps = [cmap] * k
    elif len(cmap) == k:
        cmaps = list(cmap)
    else:
        raise ValueError(f"cmap must be None, a name, or K = {k} names/None, got {len(cmap)}")
    per_row = k + (inputs is not None)
    if n == 1:
        nrows, ncols = _grid_shape(per_row, ncols)
    else:
        nrows, ncols = n, per_row
    size = min(_PANEL_INCHES + 0.5 * colorbar, 1.1 * _MAX_INCHES / ncols)
    small = size < 2.0  # many columns: smaller titles and color-bar labels
    fig = Figure(figsize=(size * ncols, size * 0.95 * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    panels = []  # (image index, map index or None for the input)
    for i in range(n):
        panels += [(i, None)] * (inputs is not None) + [(i, j) for j in range(k)]
    for ax, panel in zip(axes.flat, panels + [None] * (nrows * ncols - len(panels)), strict=True):
        ax.set_xticks([])
        ax.set_yticks([])
        if panel is None:
            ax.set_axis_off()
            continue
        i, j = panel
        if j is None:
            _draw_image(ax, inputs[i])
            ax.set_title("input" if n == 1 else f"input {i}", fontsize=9 if small else 10)
            continue
        style = _map_style(arr if share_scale else arr[i, :, :, j], cmaps[j])
        im = ax.imshow(arr[i, :, :, j], interpolation="nearest", **style)
        ax.set_title(names[j] if names is not None else f"map {j}", fontsize=9 if small else 10)
        if colorbar:
            bar = fig.colorbar(im, ax=ax, shrink=0.8, label=unit if (j == k - 1) else None)
            bar.ax.tick_params(labelsize=7 if small else 9)
    fig.suptitle(title)
    fig.supxlabel(f"column (each map {h}×{w} pixels)")
    fig.supylabel("row")
    return fig


# --------------------------------------------------------------------------- number grids


def _box(ax: Axes, top: float, left: float, height: float, width: float, color: str,
         inset: float = 0.0) -> None:
    """A rectangle around grid cells; `inset` pulls it inwards so overlapping boxes show."""
    ax.add_patch(Rectangle((left - 0.5 + inset, top - 0.5 + inset), width - 2 * inset,
                           height - 2 * inset, fill=False, edgecolor=color, linewidth=3))


def show_grid(values: np.ndarray, ax: Axes | None = None, title: str | None = None, *,
              highlight: Sequence[tuple[int, int, int, int]] = (), fmt: str = "{:g}",
              colors: Sequence[str] = _HIGHLIGHTS, shade: np.ndarray | None = None,
              blank: np.ndarray | None = None) -> Axes:
    """A 2-D array drawn as a table of numbers, with rectangles around chosen cells.

    values: (H, W) numbers (written with `fmt`) or strings. highlight: (top, left,
    height, width) rectangles, drawn in `colors` order. shade: (H, W) bool, cells drawn
    gray (e.g. zero padding). blank: (H, W) bool, cells left empty (e.g. outputs not
    computed yet). Draws into `ax`, or into a new figure. Returns the Axes.
    """
    v = np.asarray(values)
    if v.ndim != 2 or 0 in v.shape:
        raise ValueError(
            f"values must be a non-empty 2-D array (H, W), got shape {np.shape(values)}"
        )
    for name, mask in (("shade", shade), ("blank", blank)):
        if mask is not None and np.shape(mask) != v.shape:
            raise ValueError(
                f"{name} must have the shape of values {v.shape}, got {np.shape(mask)}"
            )
    if ax is None:
        h, w = v.shape
        fig = Figure(figsize=(0.5 * w + 1.2, 0.5 * h + 1.0), layout="constrained")
        ax = fig.subplots()
    ax.imshow(np.where(shade, 0.85, 1.0) if shade is not None else np.ones(v.shape),
              cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for r in range(v.shape[0]):
        for c in range(v.shape[1]):
            if blank is None or not blank[r, c]:
                text = v[r, c] if v.dtype.kind in "USO" else fmt.format(v[r, c])
                ax.text(c, r, text, ha="center", va="center", fontsize=10)
    # Thin lines between cells.
    ax.set_xticks(np.arange(-0.5, v.shape[1], 1), minor=True)
    ax.set_yticks(np.arange(-0.5, v.shape[0], 1), minor=True)
    ax.grid(which="minor", color="0.6", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    ax.set_xticks(range(v.shape[1]))
    ax.set_yticks(range(v.shape[0]))
    ax.tick_params(labelsize=8)
    for idx, (top, left, hh, ww) in enumerate(highlight):
        _box(ax, top, left, hh, ww, colors[idx % len(colors)])
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    if title is not None:
        ax.set_title(title)
    return ax


def show_conv_step(x: np.ndarray, kernel: np.ndarray, row: int, col: int, stride: int = 1,
                   padding: int = 0, title: str | None = None) -> Figure:
    """One step of a single-channel convolution: the window, the kernel, the output so far.

    x: (H, W), kernel: (F, F). Output pixel (row, col) reads the F×F window of the padded
    input whose top-left corner is (row·S, col·S) (boxed); outputs up to it in reading
    order are filled in, later ones are blank. Cross-correlation, as conv2d computes it.
    """
    from ..core.functional import conv2d  # here, not at the top: viz stays importable on its own

    img, ker = np.asarray(x), np.asarray(kernel)
    if img.ndim != 2 or ker.ndim != 2 or ker.shape[0] != ker.shape[1]:
        raise ValueError(
            f"x must be 2-D (H, W) and kernel square (F, F), got shapes {img.shape} and "
            f"{ker.shape}"
        )
    out = conv2d(img[None, :, :, None], ker[None, :, :, None], stride=stride,
                 padding=padding)[0, :, :, 0]
    h2, w2 = out.shape
    if not (0 <= row < h2 and 0 <= col < w2):
        raise ValueError(
            f"output pixel (row, col) = ({row}, {col}) is outside the {h2}×{w2} output"
        )
    f = ker.shape[0]
    padded = np.pad(img, padding)
    shade = np.ones(padded.shape, dtype=bool)
    shade[padding:padding + img.shape[0], padding:padding + img.shape[1]] = False
    order = np.arange(h2 * w2).reshape(h2, w2)
    fig = Figure(figsize=(0.42 * (padded.shape[1] + f + w2) + 3.0, 0.42 * padded.shape[0] + 2.1),
                 layout="constrained")
    ax_x, ax_k, ax_y = fig.subplots(1, 3, width_ratios=[padded.shape[1], f, w2])
    input_title = f"input x ({img.shape[0]}×{img.shape[1]}" + (f", padded P={padding})"
                                                              if padding else ")")
    show_grid(padded, ax_x, input_title, highlight=[(row * stride, col * stride, f, f)],
              shade=shade if padding else None)
    show_grid(ker, ax_k, f"kernel w ({f}×{f})", highlight=[(0, 0, f, f)])
    show_grid(out, ax_y, f"output y ({h2}×{w2})", highlight=[(row, col, 1, 1)],
              blank=order > order[row, col])
    fig.suptitle(title if title is not None else
                 f"y[{row}, {col}] = sum of (boxed window × kernel) = {out[row, col]:g}")
    return fig


def show_im2col(h: int = 4, w: int = 4, f: int = 3, stride: int = 1, k: int = 2,
                title: str | None = None) -> Figure:
    """im2col on a tiny single-channel input whose pixel values are their own indices.

    Left: the H×W input (pixel p holds p), each window boxed in its own color. Middle:
    the window matrix, one row per window (H2·W2 rows, F·F columns), boxed alike. Right:
    the filter matrix, one column per filter (F·F rows, K columns; filter 0's weights are
    a0..a8 in reading order, filter 1's b0..b8, ...). Their product is every output pixel
    of every filter at once.
    """
    from ..core.functional import extract_windows
    from ..core.shapes import conv_output_size

    if not 1 <= k <= 26:
        raise ValueError(f"k = {k} filters must lie in 1..26 (one letter each)")
    h2, w2 = conv_output_size(h, f, stride), conv_output_size(w, f, stride)
    x = np.arange(h * w).reshape(h, w)
    cols = extract_windows(x[None, :, :, None], f, stride).reshape(h2 * w2, f * f)
    letters = "abcdefghijklmnopqrstuvwxyz"
    filters = np.array([[f"{letters[j]}{p}" for j in range(k)] for p in range(f * f)])
    n_win = h2 * w2
    fig = Figure(figsize=(0.42 * (w + f * f + k) + 3.0, 0.42 * max(h, n_win, f * f) + 1.5),
                 layout="constrained")
    ax_x, ax_c, ax_w = fig.subplots(1, 3, width_ratios=[w, f * f, k])
    show_grid(x, ax_x, f"input ({h}×{w}): pixel p holds p")
    show_grid(cols, ax_c, f"windows as rows ({n_win}×{f * f})")
    show_grid(filters, ax_w, f"filters as\ncolumns ({f * f}×{k})")
    step = 0.35 / max(n_win, 1)  # overlapping windows: each box a little further in
    for i in range(n_win):
        color = _HIGHLIGHTS[i % len(_HIGHLIGHTS)]
        r, c = divmod(i, w2)
        _box(ax_x, r * stride, c * stride, f, f, color, inset=0.04 + i * step)
        _box(ax_c, i, 0, 1, f * f, color, inset=0.04)
    ax_c.set_xlabel("position in window (reading order)")
    ax_c.set_ylabel("window = output pixel")
    ax_w.set_xlabel("filter")
    ax_w.set_ylabel("position in window")
    fig.suptitle(title if title is not None else
                 f"im2col: ({n_win}×{f * f}) windows @ ({f * f}×{k}) filters = "
                 f"({n_win}×{k}) outputs, in one matrix product")
    return fig
