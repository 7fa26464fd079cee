"""Why did the network say "cat"? Explanations computed with the network's own passes.

Four of them use the gradient of the input, `backward` pointed at the image instead of
at the weights (the same chain rule, one step further back):

- `class_score_gradient`: ∂ score_c / ∂ pixel, for each image's class c;
- `saliency_map`: its absolute value, the largest over the color channels;
- `grad_cam`: a deep layer's maps A_k, weighted by the mean gradient of the class score
  over each map, summed, ReLU'd and scaled up to the image (Selvaraju et al., 2017,
  "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization");
- `fgsm`: a small step of every pixel in the direction that raises the loss, the fast
  gradient sign method (Goodfellow, Shlens and Szegedy, 2015, "Explaining and
  Harnessing Adversarial Examples").

Two need forward passes only: `occlusion_map` slides a gray patch over the image and
records how much the class's probability drops (Zeiler and Fergus, 2014, "Visualizing
and Understanding Convolutional Networks"), and `top_activations` finds the images in
which one channel of a layer responds most; `unit_field` and `field_patch` say which
pixels one unit of that layer sees (its receptive field), so they can be cut out.

Every function runs the model in evaluation mode (batch norm with its running
statistics, no dropout), so each image's scores depend on that image alone, and hands it
back as it found it: each layer's training/evaluation mode is restored, and so are the
parameter gradients (`grads`) that the backward passes overwrite. Only the layers' caches
of the last forward pass are the explanation's, as after any forward pass.
Book: chapter 11 ("Why did it say cat?").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from ..checks import check_nhwc, is_real_number, non_negative_int, positive_int
from ..core.losses import softmax, softmax_cross_entropy
from .layers import AvgPool2D, Conv2D, Dropout, Layer, MaxPool2D, ReLU, Sequential
from .normalization import BatchNorm, Standardize

# Layers that keep every position where it is (one value in, one value out), so they leave
# the receptive field unchanged; `unit_field` knows these and the conv/pool layers.
_POINTWISE = (ReLU, BatchNorm, Standardize, Dropout)


def _layers_in(model: Layer) -> Iterator[Layer]:
    """`model` and every layer inside it (a Sequential's list, a block's attributes)."""
    yield model
    for value in vars(model).values():
        parts = value if isinstance(value, (list, tuple)) else [value]
        for part in parts:
            if isinstance(part, Layer):
                yield from _layers_in(part)


@contextmanager
def _evaluating(model: Layer, *, keep_grads: bool = False) -> Iterator[Layer]:
    """The model in evaluation mode for the `with` block; afterwards every layer's mode is
    what it was, and with keep_grads=True every parameter gradient too (copies are kept,
    because `backward` overwrites some arrays in place and replaces others)."""
    if not isinstance(model, Layer):
        raise ValueError(f"model must be a cnnlib Layer, got {type(model).__name__}")
    layers = list(_layers_in(model))
    modes = [layer.training for layer in layers]
    # Only the layers that hold their own arrays: a Sequential's or a block's grads are views.
    saved = [(layer, {name: g.copy() for name, g in layer.grads.items()})
             for layer in layers if keep_grads and "grads" in vars(layer)]
    try:
        yield model.eval()
    finally:
        for layer, mode in zip(layers, modes, strict=True):
            layer.training = mode
        for layer, grads in saved:
            layer.grads.update(grads)


def _check_images(images: object) -> np.ndarray:
    images = check_nhwc(images, "images")
    if len(images) == 0:
        raise ValueError("images must hold at least one image, got shape (0, ...)")
    return images


def _check_classes(classes: object, n: int, num_classes: int, name: str = "classes") -> np.ndarray:
    classes = np.asarray(classes)
    if classes.shape != (n,) or not np.issubdtype(classes.dtype, np.integer) \
            or np.any((classes < 0) | (classes >= num_classes)):
        raise ValueError(f"{name} must be {n} integers in [0, {num_classes}), one per image, "
                         f"got {classes!r}")
    return classes


def _check_layer(model: Sequential, layer: int) -> int:
    if not isinstance(model, Sequential):
        raise ValueError(f"model must be a cnnlib Sequential, got {type(model).__name__}")
    layer = non_negative_int("layer", layer)
    if layer >= len(model.layers) - 1:
        raise ValueError(f"layer = {layer} must index a layer before the model's last "
                         f"(0..{len(model.layers) - 2})")
    return layer


def _one_hot(shape: tuple[int, ...], classes: np.ndarray, dtype: np.dtype) -> np.ndarray:
    dout = np.zeros(shape, dtype=dtype)
    dout[np.arange(len(classes)), classes] = 1
    return dout


def class_score_gradient(model: Layer, images: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """∂ score[n, classes[n]] / ∂ images[n]: how each pixel moves the class's score.

    images: (N, H, W, C), raw pixels or floats, as the model takes them; classes: (N,)
    ints. Returns (N, H, W, C) in the model's float type. The score is the logit (the
    model's output before softmax). One forward and one backward pass for the whole
    batch: in evaluation mode image n's score depends on image n alone, so the gradient
    of Σ_n score[n, c_n] holds every image's own gradient.
    """
    images = _check_images(images)
    with _evaluating(model, keep_grads=True):
        logits = model.forward(images)
        classes = _check_classes(classes, len(images), logits.shape[1])
        return model.backward(_one_hot(logits.shape, classes, logits.dtype))


def saliency_map(model: Layer, images: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """|∂ score_c / ∂ pixel|, the largest over the color channels: (N, H, W).

    images: (N, H, W, C), classes: (N,). Simonyan, Vedaldi and Zisserman (2014, "Deep
    Inside Convolutional Networks") take the maximum over channels, as here.
    """
    return np.abs(class_score_gradient(model, images, classes)).max(axis=3)


def _resize_matrix(small: int, large: int) -> np.ndarray:
    """(large, small) weights of linear interpolation: row i mixes the two small cells
    nearest to large cell i's center (cell centers aligned, edges clamped)."""
    centers = (np.arange(large) + 0.5) * small / large - 0.5
    lo = np.clip(np.floor(centers).astype(int), 0, small - 1)
    hi = np.minimum(lo + 1, small - 1)
    frac = np.clip(centers - lo, 0, 1)
    m = np.zeros((large, small))
    m[np.arange(large), lo] += 1 - frac
    m[np.arange(large), hi] += frac
    return m


def grad_cam(model: Sequential, images: np.ndarray, classes: Sequence[int], layer: int,
             *, upsample: bool = True) -> np.ndarray:
    """Grad-CAM of `model.layers[layer]`'s output for each image's class.

    With A_k (h, w) the layer's K maps and y_c the class score:
        α_k = mean over (i, j) of ∂y_c/∂A_k[i, j],    L = ReLU(Σ_k α_k · A_k).
    images: (N, H, W, C), classes: (N,) -> (N, H, W), L scaled up bilinearly to the
    image (or (N, h, w) with upsample=False). The layer's output must be (N, h, w, K).
    """
    layer = _check_layer(model, layer)
    images = _check_images(images)
    with _evaluating(model, keep_grads=True):
        maps = images
        for part in model.layers[:layer + 1]:
            maps = part.forward(maps)
        if maps.ndim != 4:
            raise ValueError(f"layer {layer} ({model.layers[layer]!r}) outputs shape "
                             f"{maps.shape}: Grad-CAM needs feature maps (N, h, w, K)")
        rest = model.layers[layer + 1:]
        logits = maps
        for part in rest:
            logits = part.forward(logits)
        classes = _check_classes(classes, len(images), logits.shape[1])
        grad = _one_hot(logits.shape, classes, logits.dtype)
        for part in reversed(rest):
            grad = part.backward(grad)  # ends as ∂y_c/∂A: (N, h, w, K)
    alpha = grad.mean(axis=(1, 2))  # (N, K): how much the class wants more of map k
    cam = np.maximum(np.einsum("nhwk,nk->nhw", maps, alpha), 0)
    if not upsample:
        return cam
    rows = _resize_matrix(cam.shape[1], images.shape[1])
    cols = _resize_matrix(cam.shape[2], images.shape[2])
    return np.einsum("Hh,nhw,Ww->nHW", rows, cam, cols)


def occlusion_map(model: Layer, images: np.ndarray, classes: Sequence[int], *,
                  patch: int = 8, stride: int = 4, fill: float = 128.0,
                  batch: int = 256) -> np.ndarray:
    """How much the class's probability drops with a gray patch over each place.

    images: (N, H, W, C), classes: (N,) -> drops (N, rows, cols) with
    rows = (H − patch)//stride + 1 (cols alike): drop[n, i, j] = p_c(image) −
    p_c(image with pixels [i·stride, i·stride + patch) × [j·stride, j·stride + patch)
    set to `fill`). Forward passes only, `batch` occluded images at a time.
    """
    images = _check_images(images)
    patch, stride = positive_int("patch", patch), positive_int("stride", stride)
    batch = positive_int("batch", batch)
    n, h, w, c = images.shape
    if patch > min(h, w):
        raise ValueError(f"patch = {patch} must fit in the {h}×{w} image")
    if not is_real_number(fill):
        raise ValueError(f"fill = {fill!r} must be a number (a pixel value)")
    with _evaluating(model):
        base = softmax(model.forward(images).astype(np.float64))
        classes = _check_classes(classes, n, base.shape[1])
        rows, cols = (h - patch) // stride + 1, (w - patch) // stride + 1
        tops = np.repeat(np.arange(rows) * stride, cols)  # one (top, left) per place
        lefts = np.tile(np.arange(cols) * stride, rows)
        drops = np.empty((n, rows * cols))
        dtype = np.result_type(images.dtype, np.float32)
        for i in range(n):
            for start in range(0, rows * cols, batch):
                t, left = tops[start:start + batch], lefts[start:start + batch]
                covered = np.repeat(images[i:i + 1].astype(dtype), len(t), axis=0)
                inside_r = (np.arange(h) >= t[:, None]) & (np.arange(h) < t[:, None] + patch)
                inside_c = (np.arange(w) >= left[:, None]) & (np.arange(w) < left[:, None] + patch)
                covered[inside_r[:, :, None] & inside_c[:, None, :]] = fill
                p = softmax(model.forward(covered).astype(np.float64))[:, classes[i]]
                drops[i, start:start + len(t)] = base[i, classes[i]] - p
    return drops.reshape(n, rows, cols)


def fgsm(model: Layer, images: np.ndarray, labels: Sequence[int], epsilon: float, *,
         low: float = 0.0, high: float = 255.0) -> np.ndarray:
    """The fast gradient sign method: x' = clip(x + ε · sign(∂L/∂x), low, high).

    images: (N, H, W, C) pixels in [low, high]; labels: (N,) the true classes; L is the
    cross-entropy of the model's softmax against them. epsilon ≥ 0, in pixel units
    (ε = 2 moves a pixel by 2 of its 255 levels). Returns float images (N, H, W, C) with
    |x' − x| ≤ ε everywhere and every value in [low, high].
    """
    images = _check_images(images)
    for name, value in (("epsilon", epsilon), ("low", low), ("high", high)):
        if not is_real_number(value) or not np.isfinite(value):
            raise ValueError(f"{name} = {value!r} must be a finite number")
    if epsilon < 0 or low >= high:
        raise ValueError(f"need epsilon ≥ 0 and low < high, got epsilon = {epsilon}, "
                         f"low = {low}, high = {high}")
    if np.any(images < low) or np.any(images > high):
        raise ValueError(f"images must lie in [low, high] = [{low}, {high}], got values in "
                         f"[{images.min()}, {images.max()}]")
    with _evaluating(model, keep_grads=True):
        logits = model.forward(images)
        labels = _check_classes(labels, len(images), logits.shape[1], "labels")
        _, dlogits = softmax_cross_entropy(logits, labels)
        step = np.sign(model.backward(dlogits))  # only the sign: every pixel moves by ε
    x = images.astype(np.result_type(images.dtype, np.float32))
    return np.clip(x + x.dtype.type(epsilon) * step, low, high).astype(x.dtype, copy=False)


def unit_field(model: Sequential, layer: int) -> tuple[int, int, int]:
    """(size, jump, start) of the units of `model.layers[layer]`'s output, in input pixels.

    Unit (i, j) sees rows [start + i·jump, start + i·jump + size) and the same columns;
    `start` is negative where the field reaches into the padding. Walks the conv and
    pool layers up to `layer` (r ← r + (F − 1)·jump, start ← start − P·jump,
    jump ← jump·S, from r = jump = 1, start = 0); pointwise layers change nothing.
    """
    if not isinstance(model, Sequential):
        raise ValueError(f"model must be a cnnlib Sequential, got {type(model).__name__}")
    layer = non_negative_int("layer", layer)
    if layer >= len(model.layers):
        raise ValueError(f"layer = {layer} must index one of the model's "
                         f"{len(model.layers)} layers")
    size, jump, start = 1, 1, 0
    for i, part in enumerate(model.layers[:layer + 1]):
        if isinstance(part, (Conv2D, MaxPool2D, AvgPool2D)):
            size += (part.kernel_size - 1) * jump
            start -= getattr(part, "padding", 0) * jump
            jump *= part.stride
        elif not isinstance(part, _POINTWISE):
            raise ValueError(f"layer {i} ({part!r}) does not keep positions: the units after "
                             "it have no receptive field in the image")
    return size, jump, start


def field_patch(image: np.ndarray, row: int, col: int, field: tuple[int, int, int], *,
                fill: float = 0.0) -> np.ndarray:
    """The pixels that unit (row, col) sees: image (H, W, C) -> (size, size, C).

    field: (size, jump, start) from `unit_field`. Parts of the field outside the image
    (the padding) are `fill`.
    """
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"image must be one (H, W, C) image, got shape {image.shape}")
    size, jump, start = field
    top = start + non_negative_int("row", row) * jump
    left = start + non_negative_int("col", col) * jump
    h, w = image.shape[:2]
    if top >= h or left >= w:
        raise ValueError(f"unit ({row}, {col}) sees rows from {top} and columns from {left}, "
                         f"outside the {h}×{w} image")
    out = np.full((size, size, image.shape[2]), fill, dtype=image.dtype)
    r0, r1, c0, c1 = max(top, 0), min(top + size, h), max(left, 0), min(left + size, w)
    out[r0 - top:r1 - top, c0 - left:c1 - left] = image[r0:r1, c0:c1]
    return out


def top_activations(model: Sequential, images: np.ndarray, layer: int, channel: int,
                    k: int = 9, *, batch: int = 250) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                              np.ndarray]:
    """The k images in which channel `channel` of `model.layers[layer]` responds most.

    images: (N, H, W, C). For each image, the channel's largest value and where it is;
    the k images with the largest of those, largest first (one patch per image, so one
    photo cannot fill the grid). Returns (image_index, row, col, value), each (k,).
    """
    images = _check_images(images)
    layer = _check_layer(model, layer)
    k, batch = positive_int("k", k), positive_int("batch", batch)
    if k > len(images):
        raise ValueError(f"k = {k} must be at most the number of images, {len(images)}")
    with _evaluating(model):
        best = []
        for start in range(0, len(images), batch):
            maps = images[start:start + batch]
            for part in model.layers[:layer + 1]:
                maps = part.forward(maps)
            channel = non_negative_int("channel", channel)
            if maps.ndim != 4 or channel >= maps.shape[3]:
                raise ValueError(f"channel = {channel} must index a channel of layer {layer}'s "
                                 f"feature maps, shape {maps.shape[1:]}")
            best.append(maps[..., channel].reshape(len(maps), -1))
    flat = np.concatenate(best)  # (N, h·w)
    where = flat.argmax(axis=1)
    peak = flat[np.arange(len(flat)), where]
    order = np.argsort(-peak, kind="stable")[:k]
    rows, cols = np.divmod(where[order], maps.shape[2])
    return order, rows, cols, peak[order]
