"""Argument checks shared by every module: one rule, one message, everywhere.

Each check returns the value in its plain Python form (so `np.int64(3)` becomes 3) or
raises ValueError naming the argument, the value and the rule. NumPy integers are
accepted wherever a Python int is; `True` and `False` never count as numbers.
Book: used by every chapter's code; not shown in the book.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def is_integer(value: object) -> bool:
    """True for Python and NumPy integers, False for bools, floats and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def is_real_number(value: object) -> bool:
    """True for Python and NumPy reals (ints included), False for bools and everything else."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def positive_int(name: str, value: object) -> int:
    """value as an int if it is an integer ≥ 1; else ValueError."""
    if not is_integer(value) or value < 1:
        raise ValueError(f"{name} = {value!r} must be a positive integer")
    return int(value)


def non_negative_int(name: str, value: object) -> int:
    """value as an int if it is an integer ≥ 0; else ValueError."""
    if not is_integer(value) or value < 0:
        raise ValueError(f"{name} = {value!r} must be a non-negative integer")
    return int(value)


def positive_number(name: str, value: object) -> float:
    """value as a float if it is a finite real number > 0; else ValueError."""
    if not is_real_number(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} = {value!r} must be a positive number")
    return float(value)


def non_negative_number(name: str, value: object) -> float:
    """value as a float if it is a finite real number ≥ 0; else ValueError."""
    if not is_real_number(value) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} = {value!r} must be a non-negative number")
    return float(value)


def positive_ints(name: str, values: object) -> tuple[int, ...]:
    """values as a tuple of ints if it is a non-empty sequence of integers ≥ 1; else ValueError."""
    try:
        items = tuple(values)  # type: ignore[arg-type]
    except TypeError:
        items = ()
    if isinstance(values, str | bytes) or not items \
            or not all(is_integer(v) and v >= 1 for v in items):
        raise ValueError(f"{name} = {values!r} must be a non-empty sequence of positive integers")
    return tuple(int(v) for v in items)


def boolean(name: str, value: object) -> bool:
    """value as a bool if it is True or False (NumPy's too); else ValueError."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} = {value!r} must be True or False")
    return bool(value)


def fraction(name: str, value: object, *, include_one: bool = False) -> float:
    """value as a float if it lies in [0, 1) (or [0, 1] with include_one); else ValueError."""
    if not is_real_number(value) \
            or not (0 <= value and (value <= 1 if include_one else value < 1)):
        interval = "[0, 1]" if include_one else "[0, 1)"
        raise ValueError(f"{name} = {value!r} must be a number in {interval}")
    return float(value)


def check_array(x: object, ndim: int, what: str, layout: str) -> np.ndarray:
    """x if it is an ndarray with `ndim` axes; else ValueError naming `what` and `layout`."""
    if not isinstance(x, np.ndarray) or x.ndim != ndim:
        raise ValueError(f"{what} expects a {ndim}-D input {layout}, got shape {np.shape(x)}")
    return x


def check_nhwc(x: object, name: str = "x") -> np.ndarray:
    """x if it is a 4-D ndarray (N, H, W, C); else ValueError naming `name` and its shape."""
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        raise ValueError(f"{name} must be a 4-D array (N, H, W, C), got shape {np.shape(x)}")
    return x


def check_last_axis(x: np.ndarray, size: int, what: str) -> None:
    """ValueError unless the last axis of x (channels or features) has `size` entries."""
    if x.shape[-1] != size:
        raise ValueError(f"{what} expects {size} input channels/features in the last axis, "
                         f"got shape {x.shape}")


def matching_labels(images: object, labels: object, what: str = "") -> np.ndarray:
    """labels as an array if there is one per image and at least one; else ValueError.

    what: names the pair in the message (e.g. "x_val/y_val"); the trainer and
    evaluate_model share this check, so both say the same thing.
    """
    labels = np.asarray(labels)
    n_images = len(images)  # type: ignore[arg-type]
    if labels.ndim != 1 or n_images != len(labels) or len(labels) == 0:
        pair = f" ({what})" if what else ""
        raise ValueError(f"need as many labels as images{pair}, at least one, labels 1-D: got "
                         f"{n_images} images and labels of shape {labels.shape}")
    return labels


def float_dtype(x: np.ndarray) -> np.dtype:
    """The dtype to compute in: float64 stays float64 (gradient checks), all else float32."""
    return np.dtype(np.float64) if x.dtype == np.float64 else np.dtype(np.float32)


# --------------------------------------------------------------------------- seeds

Seed = int | np.random.Generator | None


def make_rng(seed: Seed = None) -> np.random.Generator:
    """A Generator from an int seed, an existing Generator (used as is), or None (fresh)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and not is_integer(seed):
        raise ValueError(f"seed = {seed!r} must be an int, a numpy Generator or None")
    return np.random.default_rng(seed)
