"""What the exercises' checks share: failures that say what is wrong, in the reader's terms.

Every check names its exercise ("Exercise 3.3: ...") and says whether a shape, a value or
a gradient is off, and a stub left as it is (a function that raises NotImplementedError,
or `answer = None`) fails with "implement ... first" instead of a traceback.
Book: the "Exercises" section at the end of every chapter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def attempt(label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """fn(*args, **kwargs), with a stub that is still a stub turned into a clear failure."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        name = getattr(fn, "__qualname__", repr(fn))
        raise AssertionError(
            f"Exercise {label}: implement {name} first (it still raises NotImplementedError)"
        ) from None


def answered(label: str, value: Any, name: str = "answer") -> Any:
    """value, unless it is still None: then the reader has not answered yet."""
    if value is None:
        raise AssertionError(f"Exercise {label}: set {name} first (it is still None)")
    return value


def check_equal(label: str, what: str, got: Any, expected: Any) -> None:
    """An exact answer: a count, a size, a shape (as a tuple), an index."""
    if isinstance(expected, tuple):
        got = tuple(got) if isinstance(got, (tuple, list, np.ndarray)) else got
    if got != expected:
        raise AssertionError(f"Exercise {label}: {what} is {got!r}, expected {expected!r}")


def check_close(label: str, what: str, got: Any, expected: Any, *,
                rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """An array answer: first its shape, then its values, naming the entry furthest out of
    tolerance (|got - expected| <= atol + rtol·|expected|, as np.allclose)."""
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape:
        raise AssertionError(
            f"Exercise {label}: {what} has shape {got.shape}, expected {expected.shape}"
        )
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"Exercise {label}: {what} contains NaN or infinity")
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
        excess = diff - (atol + rtol * np.abs(expected.astype(np.float64)))
        worst = np.unravel_index(np.argmax(excess), diff.shape) if diff.ndim else ()
        raise AssertionError(
            f"Exercise {label}: {what} is wrong: at index {tuple(int(i) for i in worst)} "
            f"it is {got[worst]!r}, expected {expected[worst]!r} "
            f"(largest difference {diff.max():.3g})"
        )
