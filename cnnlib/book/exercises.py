"""What the exercises' checks share: failures that say what is wrong, in the reader's terms.

Every check names its exercise ("Exercise 3.3: ...") and says whether a shape, a value or
a gradient is off, and a stub left as it is (a function that raises NotImplementedError,
or `answer = None`) fails with "implement ... first" instead of a traceback.
Book: the "Exercises" section at the end of every chapter.
"""

from __future__ import annotations

import dis
import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType
from typing import Any

import numpy as np


def attempt(label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """fn(*args, **kwargs), with a stub that is still a stub turned into a clear failure,
    and any error raised inside the reader's function named with the exercise (the
    original error and its line stay attached, as the cause)."""
    name = getattr(fn, "__qualname__", repr(fn))
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(
            f"Exercise {label}: implement {name} first (it still raises NotImplementedError)"
        ) from None
    except AssertionError:
        raise
    except Exception as err:
        raise AssertionError(
            f"Exercise {label}: {name} raised {type(err).__name__}: {err} (the traceback "
            "above points at the line)") from err


def answered(label: str, value: Any, name: str = "answer") -> Any:
    """value, unless it is still None: then the reader has not answered yet."""
    if value is None:
        raise AssertionError(f"Exercise {label}: set {name} first (it is still None)")
    return value


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds, so that a message prints 0.25, not
    np.float64(0.25)."""
    return value.item() if isinstance(value, np.generic) else value


def check_equal(label: str, what: str, got: Any, expected: Any) -> None:
    """An exact answer: a count, a size, a shape (as a tuple), an index."""
    if isinstance(expected, tuple):
        got = tuple(got) if isinstance(got, (tuple, list, np.ndarray)) else got
    if got != expected:
        raise AssertionError(f"Exercise {label}: {what} is {_plain(got)!r}, "
                             f"expected {_plain(expected)!r}")


def check_close(label: str, what: str, got: Any, expected: Any, *,
                rtol: float = 1e-6, atol: float = 1e-8, hint: str = "",
                if_not_finite: str = "") -> None:
    """An array answer: first its shape, then its values, naming the entry furthest out of
    tolerance (|got - expected| <= atol + rtol·|expected|, as np.allclose). `hint` is
    added to a wrong value's message, `if_not_finite` to a NaN's or an infinity's (the
    usual cause, in the reader's terms)."""
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape:
        raise AssertionError(
            f"Exercise {label}: {what} has shape {got.shape}, expected {expected.shape}"
        )
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"Exercise {label}: {what} contains NaN or infinity"
                             + (f": {if_not_finite}" if if_not_finite else ""))
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
        excess = diff - (atol + rtol * np.abs(expected.astype(np.float64)))
        worst = np.unravel_index(np.argmax(excess), diff.shape) if diff.ndim else ()
        raise AssertionError(
            f"Exercise {label}: {what} is wrong: at index {tuple(int(i) for i in worst)} "
            f"it is {_plain(got[worst])!r}, expected {_plain(expected[worst])!r} "
            f"(largest difference {diff.max():.3g})" + (f": {hint}" if hint else "")
        )


def _code_objects(code: CodeType) -> list[CodeType]:
    """code and every function, lambda or comprehension nested in it."""
    found = [code]
    for const in code.co_consts:
        if isinstance(const, CodeType):
            found += _code_objects(const)
    return found


def _is_loop(instruction: dis.Instruction) -> bool:
    """A Python loop (for, while, a comprehension) compiles to an iteration or to a jump
    back to an earlier instruction; nothing else jumps backwards."""
    jumps = instruction.opcode in dis.hasjrel or instruction.opcode in dis.hasjabs
    return instruction.opname == "FOR_ITER" or (
        jumps and isinstance(instruction.argval, int) and instruction.argval <= instruction.offset)


def check_no_python_loops(label: str, fn: Callable[..., Any], hint: str) -> None:
    """Fail if fn's own code holds a Python loop: for, while or a comprehension (read from
    its bytecode, so it works wherever the function was defined). Loops inside the NumPy
    functions it calls do not count: that is what "vectorized" means."""
    name = getattr(fn, "__qualname__", repr(fn))
    code = getattr(fn, "__code__", None)
    if code is None:
        raise AssertionError(f"Exercise {label}: {name} should be a function defined with def")
    for inner in _code_objects(code):
        for instruction in dis.get_instructions(inner):
            if _is_loop(instruction):
                raise AssertionError(
                    f"Exercise {label}: {name} uses a Python loop (a for, a while or a "
                    f"comprehension, line {instruction.positions.lineno - code.co_firstlineno + 1}"
                    f" of the function); the exercise asks for none: {hint}")


class _CountingArray(np.ndarray):
    """An array that counts how often it is indexed (x[...] on it or its views)."""

    counter: list[int]

    def __array_finalize__(self, obj: Any) -> None:
        self.counter = getattr(obj, "counter", [0])

    def __getitem__(self, key: Any) -> Any:
        self.counter[0] += 1
        return super().__getitem__(key)


def check_indexing_at_most(label: str, fn: Callable[..., Any], x: np.ndarray,
                           *args: Any, limit: int, what: str) -> Any:
    """fn(x, *args), failing if fn indexes x (or a view of it) more than `limit` times:
    a loop over the output positions indexes it once per position, a loop over the
    F·F offsets of a filter once per offset. `what` says what the exercise allows.
    Returns fn's result (a stub still a stub fails as in `attempt`)."""
    counting = np.asarray(x).view(_CountingArray)
    counting.counter = [0]
    result = attempt(label, fn, counting, *args)
    if counting.counter[0] > limit:
        name = getattr(fn, "__qualname__", repr(fn))
        raise AssertionError(
            f"Exercise {label}: {name} indexed its input {counting.counter[0]} times, more "
            f"than {limit}; the exercise asks for {what}")
    return np.asarray(result)


@contextmanager
def forbidding(label: str, namespace: dict, *names: str) -> Iterator[None]:
    """Within the block, calling any of `names` fails naming the exercise (for exercises
    that say "without `name`", and for the build track, whose pieces must not be cnnlib's
    own). A plain name is the one in namespace (the notebook's globals); a dotted one
    ("cnnlib.core.im2col.extract_windows") is imported; a class (cnnlib.Linear) is refused
    when it is built. The function is replaced in namespace, in the module that defines it,
    in the packages above that module (cnnlib.nn, cnnlib) and in `cnnlib`, so that
    importing it again does not get round it (a file of the reader's must be imported
    inside the block for its own `from cnnlib... import` to be caught); cnnlib's other
    modules keep their own reference, so a library function the check itself needs still
    works. Everything is restored afterwards, whatever happens."""
    replaced: list[tuple[dict, str, Any]] = []
    for qualified in names:
        module_name, _, name = qualified.rpartition(".")
        original = namespace[name] if not module_name else \
            getattr(importlib.import_module(module_name), name)

        def refused(*args: Any, _name: str = name, **kwargs: Any) -> Any:
            raise AssertionError(f"Exercise {label}: the exercise asks you not to call "
                                 f"{_name}; build it yourself")

        defining = getattr(original, "__module__", None) or ""
        parents = [defining.rsplit(".", depth)[0] for depth in range(defining.count(".") + 1)]
        homes = [vars(module) for module in (sys.modules.get(key) for key in
                 dict.fromkeys([*parents, "cnnlib"])) if module is not None]
        for home in [namespace, *homes]:
            if home.get(name) is original:
                replaced.append((home, name, original))
                home[name] = refused
    try:
        yield
    finally:
        for home, name, original in reversed(replaced):
            home[name] = original


# ------------------------------------------------------------------ the build-it-yourself track

LEARNER_PACKAGE = "mycnn"

# cnnlib's own versions of the track's pieces: a check runs the reader's piece inside
# forbidding(label, globals(), *these), so that `return cnnlib.conv2d(...)` is not a piece.
CNNLIB_CONV_FORWARD = ("cnnlib.core.functional.conv2d", "cnnlib.core.functional.conv2d_forward",
                       "cnnlib.core.naive.conv2d_naive", "cnnlib.core.im2col.extract_windows",
                       "cnnlib.core.im2col.window_view")
CNNLIB_CONV_BACKWARD = ("cnnlib.core.functional.conv2d_backward",
                        "cnnlib.core.functional.conv2d_weight_grads",
                        "cnnlib.core.functional.conv2d_input_grad",
                        "cnnlib.core.functional.conv2d_input_grad_flipped",
                        "cnnlib.core.naive.conv2d_backward_naive",
                        "cnnlib.core.im2col.col2im", *CNNLIB_CONV_FORWARD)
CNNLIB_LOSS = ("cnnlib.core.losses.softmax_cross_entropy", "cnnlib.core.losses.log_softmax",
               "cnnlib.core.losses.softmax")
CNNLIB_LINEAR = ("cnnlib.nn.layers.Linear",)
CNNLIB_POOL = ("cnnlib.core.functional.max_pool2d", "cnnlib.core.functional.max_pool2d_forward",
               "cnnlib.core.functional.max_pool2d_backward", "cnnlib.core.functional.avg_pool2d",
               "cnnlib.core.functional.avg_pool2d_forward",
               "cnnlib.core.functional.avg_pool2d_backward", "cnnlib.core.functional.pool_windows",
               "cnnlib.core.naive.pool2d_naive", "cnnlib.core.naive.max_pool2d_backward_naive",
               "cnnlib.nn.layers.MaxPool2D", "cnnlib.nn.layers.AvgPool2D")
CNNLIB_RELU = ("cnnlib.nn.layers.ReLU", "cnnlib.core.functional.relu")
CNNLIB_SGD = ("cnnlib.nn.optim.SGD",)


def learner_piece(module: str, name: str | None = None, root: str | Path | None = None) -> Any:
    """The reader's function `name` from mycnn/<module>.py, read again from the file (the
    module itself if no name is given).

    The package is the mycnn/ folder beside the notebook (`root`, by default the working
    directory, which is the notebook's folder in Jupyter, in the book's build and under
    nbval). The module is reloaded, so a file edited since the last run counts; a mycnn
    imported from another folder (the full edition's, the student edition's) is dropped
    first. A missing file or function fails with what to do, never a bare ImportError.
    """
    folder = Path(root if root is not None else Path.cwd()).resolve()
    if not (folder / LEARNER_PACKAGE / f"{module}.py").is_file():
        raise AssertionError(
            f"there is no {LEARNER_PACKAGE}/{module}.py in {folder}: run the notebook from "
            f"its own folder (the chapters/ or exercises/ folder, which holds {LEARNER_PACKAGE}/)")
    loaded = sys.modules.get(LEARNER_PACKAGE)
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve().parent.parent \
            != folder:
        for key in [k for k in sys.modules if k == LEARNER_PACKAGE or
                    k.startswith(LEARNER_PACKAGE + ".")]:
            del sys.modules[key]
    if str(folder) in sys.path:
        sys.path.remove(str(folder))
    sys.path.insert(0, str(folder))  # first: another mycnn/ on the path must not win
    importlib.invalidate_caches()
    package = importlib.import_module(LEARNER_PACKAGE)
    mod = importlib.reload(importlib.import_module(f"{LEARNER_PACKAGE}.{module}"))
    if package.__file__ and Path(package.__file__).resolve().parent.parent != folder:
        raise AssertionError(f"{LEARNER_PACKAGE} was imported from {package.__file__}, "
                             f"not from {folder}: restart the kernel")
    if name is None:
        return mod
    fn = getattr(mod, name, None)
    if fn is None:
        raise AssertionError(f"{LEARNER_PACKAGE}/{module}.py has no function {name}: "
                             "keep the name it had")
    return fn


def _lines_run(label: str, fn: Callable[..., Any], args: tuple) -> tuple[Any, int]:
    """(fn(*args), the number of lines of the reader's code it ran): fn's own and those of
    any function it calls from the same file (a helper, or the loops of an earlier
    exercise); lines inside NumPy do not count."""
    code = getattr(fn, "__code__", None)
    ours = set(_code_objects(code)) if code is not None else set()
    filename = code.co_filename if code is not None else None
    count = [0]

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code not in ours and frame.f_code.co_filename != filename:
            return None
        if event == "line":
            count[0] += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = attempt(label, fn, *args)
    finally:
        sys.settrace(previous)
    return result, count[0]


def check_lines_at_most(label: str, fn: Callable[..., Any], *args: Any, limit: int,
                        what: str, larger: tuple | None = None) -> Any:
    """fn(*args), failing if more than `limit` lines of the reader's code run (see
    _lines_run): a generous bound, far above what a loop over the F·F offsets runs however
    it names its temporaries; the size test below is what tells a loop over positions
    from one over offsets. With `larger` (the same call on an
    input twice as tall and twice as wide), fn also runs on that, and fails if it runs
    more lines there: a loop over the output rows or columns alone grows with the image
    however it is written (a comprehension, one line or ten), a loop over the offsets does
    not. Returns fn's result on args."""
    result, count = _lines_run(label, fn, args)
    name = getattr(fn, "__qualname__", repr(fn))
    if count > limit:
        raise AssertionError(
            f"Exercise {label}: {name} ran {count} lines of Python for one call, more "
            f"than {limit}; the exercise asks for {what}")
    if larger is not None:
        _, count_larger = _lines_run(label, fn, larger)
        if count_larger > count:
            raise AssertionError(
                f"Exercise {label}: {name} ran {count} lines of Python on one input and "
                f"{count_larger} on an input twice as tall and wide: it loops over output "
                f"rows, columns or positions, and the exercise asks for {what}")
    return result


def check_gradients(label: str, what: str, got: tuple, expected: tuple,
                    names: tuple[str, ...], *, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    """A tuple of gradients, each compared with check_close under its name (dx, dw, db)."""
    got = tuple(got) if isinstance(got, (tuple, list)) else (got,)
    if len(got) != len(expected):
        raise AssertionError(f"Exercise {label}: {what} returned {len(got)} values, expected "
                             f"{len(expected)}: {', '.join(names)}")
    for g, e, n in zip(got, expected, names, strict=True):
        check_close(label, f"{n} of {what}", g, e, rtol=rtol, atol=atol)


FULL_EDITION = Path(__file__).resolve().parents[2] / "chapters"  # the book's own mycnn/


def reference_train_epochs(model: Any, x: np.ndarray, y: np.ndarray, *, epochs: int,
                           batch_size: int, lr: float, momentum: float,
                           seed: int = 0) -> list[float]:
    """The training loop that Exercise 10.7's check holds the reader's to, step for step:
    the reference solution of 10.7 itself, read from the full edition's
    chapters/mycnn/train.py (one copy of the loop, not two), under a name of its own so
    that the reader's mycnn is not touched. x: (N, H, W, C), y: (N,); `model` is a mycnn
    Network (forward, loss, backward, step). Returns the mean loss of each epoch."""
    path = FULL_EDITION / LEARNER_PACKAGE / "train.py"
    spec = importlib.util.spec_from_file_location("_book_reference_train", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise AssertionError(f"the book's reference loop {path} is missing: the check needs "
                             "the repository's chapters/ folder")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.train_epochs(model, x, y, epochs=epochs, batch_size=batch_size, lr=lr,
                               momentum=momentum, seed=seed)
