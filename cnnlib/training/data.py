"""CIFAR-10 from the official "python version" batch files, as NumPy arrays.

The folder `cifar-10-batches-py/` holds `data_batch_1` ... `data_batch_5`, `test_batch`
and `batches.meta`. Each batch is a pickle (protocol 2, written by Python 2) of a dict
with *bytes* keys: `b"labels"`, a list of n ints 0..9, and `b"data"`, a uint8 array of
shape (n, 3072) whose rows are 1024 red, then 1024 green, then 1024 blue values, each
plane a row-major 32 x 32 image. `load_cifar10` turns those rows into channels-last
images (n, 32, 32, 3), the layout the rest of cnnlib uses.

Where the data comes from, first match wins:
1. the `path` argument, 2. the environment variable `CNNLIB_DATA`, 3. a download of the
official archive (checksummed, with a progress bar) into a user cache.
Either folder may hold `cifar-10-batches-py/` or be that folder itself.

Which images: `subset="full"` is every image of the five official training batches and
of `test_batch` (50,000 + 10,000 in the official archive); `subset="book"` is the book's
named subset, the first 1,102 images of `data_batch_1`, the first 1,017 of each of
`data_batch_2` ... `_5` and the first 500 of `test_batch` (5,170 + 500). A folder that
already holds only those images gives the same arrays for both, so every reader trains
and scores on the same images whether they downloaded the archive or were handed the
book's copy. Both subsets need all six official files: a folder missing one (a half-
extracted archive) is an error, not a smaller data set.

Safety: `pickle` can run arbitrary code while loading, so this module unpickles only
the CIFAR-10 batch files, and through `_BatchUnpickler`, which refuses every global
except the few NumPy needs to rebuild an array. A tampered file then fails with a
ValueError instead of executing anything.
Book: chapter 1 ("CIFAR-10: tiny photos in ten classes").
"""

from __future__ import annotations

import codecs
import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
ENV_VAR = "CNNLIB_DATA"
BATCHES_DIR = "cifar-10-batches-py"
SUBSETS: tuple[str, ...] = ("full", "book")
# The book's subset: how many leading images of each official file it takes.
BOOK_SUBSET: dict[str, int] = {
    "data_batch_1": 1102,
    "data_batch_2": 1017,
    "data_batch_3": 1017,
    "data_batch_4": 1017,
    "data_batch_5": 1017,
    "test_batch": 500,
}
TRAIN_FILES: tuple[str, ...] = tuple(f"data_batch_{k}" for k in range(1, 6))
TEST_FILE = "test_batch"

_PIXELS = 32 * 32 * 3  # values in one row of b"data"
_ARCHIVE = "cifar-10-python.tar.gz"
_EXTRACTED = "cifar-10-python"  # folder in the cache that holds cifar-10-batches-py/


# --------------------------------------------------------------------------- unpickling

try:  # NumPy >= 2 moved the array internals to numpy._core
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core import multiarray as _multiarray

# Everything a CIFAR-10 batch may reference. Old pickles name numpy.core, new ones
# numpy._core; both map to the same objects, so NumPy 2 loads Python 2 files without
# going through its deprecated numpy.core shim. `_codecs.encode` is how Python 3
# writes bytes at protocol 2; it only turns a str into bytes.
_SAFE_GLOBALS = {
    (module, name): getattr(_multiarray, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
}
_SAFE_GLOBALS |= {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}

# What a truncated, corrupt or hostile pickle raises while loading.
_UNPICKLING_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    ImportError,
    IndexError,
    KeyError,
    UnicodeDecodeError,
    OverflowError,
)


class _BatchUnpickler(pickle.Unpickler):
    """An Unpickler that builds only dicts, lists, ints, bytes and NumPy arrays."""

    def find_class(self, module: str, name: str) -> object:
        try:
            return _SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load global {module}.{name}: a CIFAR-10 batch holds only "
                "dicts, lists, ints, bytes and NumPy arrays"
            ) from None


def _unpickle(file: Path) -> object:
    """Load one batch file; a broken pickle becomes a ValueError that names the file."""
    with open(file, "rb") as f:
        try:
            # encoding="bytes" keeps Python 2 str (keys, the raw pixel buffer) as bytes,
            # exactly as the official files expect to be read.
            return _BatchUnpickler(f, encoding="bytes").load()
        except _UNPICKLING_ERRORS as err:
            raise ValueError(
                f"{file} is truncated or corrupt: it is not a readable CIFAR-10 pickle "
                f"({type(err).__name__}: {err}). Fix: replace it with an intact copy of "
                "the official file, or delete the folder and let load_cifar10() "
                "download it again"
            ) from err


# --------------------------------------------------------------------- batch validation


_BATCH_RULE = "bytes keys b'data' (uint8, shape (n, 3072)) and b'labels' (n ints 0..9)"
_META_RULE = "bytes key b'label_names' (the ten class names)"


def _batch_dict(file: Path, obj: object, keys: tuple[bytes, ...], rule: str) -> dict:
    """Check that an unpickled CIFAR-10 file is a dict with the bytes keys `keys`."""
    if not isinstance(obj, dict):
        raise ValueError(
            f"{file} is not a CIFAR-10 file: it holds a {type(obj).__name__}; "
            f"the rule is a dict with {rule}"
        )
    missing = [k for k in keys if k not in obj]
    if missing:
        hint = ""
        if any(k.decode() in obj for k in missing):
            hint = " (the keys are str; the official format uses bytes keys)"
        elif b"fine_labels" in obj:
            hint = " (this looks like CIFAR-100, not CIFAR-10)"
        raise ValueError(
            f"{file} is not a CIFAR-10 file: missing key(s) "
            f"{', '.join(map(repr, missing))}; found {sorted(map(repr, obj))}{hint}. "
            f"The rule: a dict with {rule}"
        )
    return obj


def _as_array(file: Path, key: str, raw: object, rule: str) -> np.ndarray:
    """np.asarray, with ragged nested lists reported like any other bad shape."""
    try:
        return np.asarray(raw)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{file}: {key} is not a regular array ({err}); the rule is {rule}"
        ) from err


def _check_data(file: Path, raw: object) -> np.ndarray:
    """b"data" as uint8 (n, 3072); any integer array with values 0..255 is accepted."""
    data = _as_array(file, "b'data'", raw, f"an integer array of shape (n, {_PIXELS})")
    if data.ndim != 2 or data.shape[1] != _PIXELS or not np.issubdtype(data.dtype, np.integer):
        raise ValueError(
            f"{file}: b'data' has shape {data.shape} and dtype {data.dtype}; the rule is "
            f"an integer array of shape (n, {_PIXELS}): one row per image, "
            "1024 red, 1024 green, 1024 blue values"
        )
    # uint8 (the official dtype) cannot leave 0..255: skip two passes over the pixels
    if data.dtype != np.uint8 and data.size and (data.min() < 0 or data.max() > 255):
        raise ValueError(
            f"{file}: b'data' values span {data.min()}..{data.max()}; "
            "the rule is pixel values in 0..255"
        )
    return data.astype(np.uint8, copy=False)


def _check_labels(file: Path, raw: object, n_images: int) -> np.ndarray:
    """b"labels" as int64 (n,), one class id 0..9 per image."""
    labels = _as_array(file, "b'labels'", raw, "a flat list of integer class ids 0..9")
    if labels.size == 0:  # np.asarray([]) is float64; an empty list is still valid
        labels = labels.astype(np.int64)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{file}: b'labels' has shape {labels.shape} and dtype {labels.dtype}; "
            "the rule is a flat list of integer class ids 0..9"
        )
    if len(labels) != n_images:
        raise ValueError(
            f"{file}: {len(labels)} labels for {n_images} images in b'data'; "
            "the rule is exactly one label per image"
        )
    bad = np.flatnonzero((labels < 0) | (labels >= len(CIFAR10_CLASSES)))
    if bad.size:
        raise ValueError(
            f"{file}: label {labels[bad[0]]} at index {bad[0]} is out of range "
            f"({bad.size} bad labels in all); the rule is 0 <= label <= 9"
        )
    return labels.astype(np.int64, copy=False)


def _read_batch(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (rows uint8 (n, 3072), labels int64 (n,)), validated."""
    batch = _batch_dict(file, _unpickle(file), (b"data", b"labels"), _BATCH_RULE)
    data = _check_data(file, batch[b"data"])
    return data, _check_labels(file, batch[b"labels"], len(data))


def rows_to_images(rows: np.ndarray) -> np.ndarray:
    """CIFAR-10 rows (n, 3072) -> channels-last images (n, 32, 32, 3), C-contiguous.

    A row is three planes (R, G, B), each 32 x 32 row-major, so it reshapes to
    (3, 32, 32) = (channel, row, col); moving the channel axis last gives (row, col,
    channel). The copy makes the result contiguous, so later reshapes stay cheap.
    """
    return np.ascontiguousarray(rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def _load_split(files: list[Path], subset: str) -> tuple[np.ndarray, np.ndarray]:
    """Batch files -> (images uint8 (N, 32, 32, 3), labels int64 (N,)), in file order.

    With subset="book", each file gives only its leading BOOK_SUBSET[name] images.
    """
    batches = [_read_batch(f) for f in files]
    if subset == "book":
        batches = [_book_part(f, rows, labels) for f, (rows, labels) in zip(files, batches,
                                                                             strict=True)]
    rows = np.concatenate([rows for rows, _ in batches])
    labels = np.concatenate([labels for _, labels in batches])
    return rows_to_images(rows), labels


def _book_part(
    file: Path, rows: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The leading images of one file that belong to the book's subset."""
    n = BOOK_SUBSET[file.name]
    if len(rows) < n:
        raise ValueError(
            f"{file} holds {len(rows)} images, but the book's subset takes its first {n}: "
            "this folder is neither the official CIFAR-10 data set nor the book's copy of "
            "it. Fix: point at the official cifar-10-batches-py/ folder (or the book's "
            "copy), or load it with subset='full' to use whatever it holds"
        )
    return rows[:n], labels[:n]


# ------------------------------------------------------------------- finding the folder


def default_cache_dir() -> Path:
    """The user cache that downloads go to (e.g. ~/.cache/cnnlib on Linux)."""
    import pooch  # imported lazily: only the download path needs it

    return Path(pooch.os_cache("cnnlib"))


def _how_to_get_data() -> str:
    return (
        f"Fix: pass path= (or set {ENV_VAR}) to a folder that holds {BATCHES_DIR}/ or is "
        f"that folder, or pass path=None with {ENV_VAR} unset to download the official "
        f"archive (~163 MB) into {default_cache_dir()}"
    )


def _batches_dir(folder: Path, source: str) -> Path:
    """The cifar-10-batches-py folder at or inside `folder` (named `source` in errors)."""
    if not folder.exists():
        raise FileNotFoundError(
            f"CIFAR-10 folder {folder} (from {source}) does not exist. {_how_to_get_data()}"
        )
    if not folder.is_dir():
        raise FileNotFoundError(
            f"CIFAR-10 path {folder} (from {source}) is a file, not a folder; unpack the "
            f"archive first (tar xzf {_ARCHIVE}). {_how_to_get_data()}"
        )
    if (folder / BATCHES_DIR).is_dir():
        return folder / BATCHES_DIR
    if any((folder / name).exists() for name in (*TRAIN_FILES, TEST_FILE)):
        return folder
    raise FileNotFoundError(
        f"CIFAR-10 folder {folder} (from {source}) holds neither {BATCHES_DIR}/ nor "
        f"data_batch_* files. {_how_to_get_data()}"
    )


def _official_files(folder: Path) -> tuple[list[Path], Path]:
    """(data_batch_1 ... _5, test_batch) in `folder`; a missing one is an error naming it."""
    missing = [name for name in (*TRAIN_FILES, TEST_FILE) if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 folder {folder} lacks {', '.join(missing)}; it holds "
            f"{sorted(p.name for p in folder.iterdir())}. Every official file must be "
            "there: a folder missing one is a damaged copy (a half-extracted archive?), "
            f"not a smaller data set. {_how_to_get_data()}"
        )
    return [folder / name for name in TRAIN_FILES], folder / TEST_FILE


def _given_folder(path: str | os.PathLike[str] | None) -> Path | None:
    """The batches folder named by `path`, else by $CNNLIB_DATA; None if neither is set."""
    if path is not None:
        return _batches_dir(Path(path).expanduser(), f"path={str(path)!r}")
    env = os.environ.get(ENV_VAR, "")
    if env:  # an empty variable counts as unset
        return _batches_dir(Path(env).expanduser(), f"{ENV_VAR}={env!r}")
    return None


# ------------------------------------------------------------------------- downloading


def _announce_download(cache: Path, subset: str | None) -> None:
    """Tell the reader what is about to happen, before the first byte is fetched."""
    lines = [
        f"CIFAR-10 was not found (no path= and no {ENV_VAR}), so cnnlib downloads the "
        f"official archive once: {CIFAR10_URL} (about 163 MB) into {cache}.",
        f"It checks the MD5 ({CIFAR10_MD5}) before unpacking (about 178 MB) and keeps "
        "nothing if the check or the transfer fails. A progress bar follows.",
    ]
    if subset == "book":
        lines.append(
            "The book then uses its named subset of it, the same 5,170 training and 500 "
            "test images for every reader (subset='book')."
        )
    print("\n".join(lines), file=sys.stderr, flush=True)




def _extract_atomically(archive: str, action: str, pup: object) -> str:
    """pooch processor: Untar into a private temporary folder, then rename it into place.

    pooch's Untar skips extraction whenever its folder exists, so an extraction cut
    short (Ctrl-C, full disk) would be reused forever. Renaming only a finished folder
    means the final folder, when present, is complete; a private staging folder per
    call keeps two processes that download at once from mixing their files.
    """
    import pooch

    final = Path(archive).parent / _EXTRACTED
    if (final / BATCHES_DIR).is_dir():  # an earlier run (or another process) finished
        return str(final)
    staging = Path(tempfile.mkdtemp(prefix=f"{_EXTRACTED}.partial-", dir=final.parent))
    try:
        pooch.Untar(extract_dir=staging.name)(archive, "download", pup)
        if not (final / BATCHES_DIR).is_dir():  # else another process won the race
            shutil.rmtree(final, ignore_errors=True)
            staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # nothing left after a rename
    return str(final)


def download_cifar10(
    cache_dir: str | os.PathLike[str] | None = None, announce_subset: str | None = None
) -> Path:
    """Download and unpack the official archive once; return its cifar-10-batches-py/.

    The archive (~163 MB) goes to `cache_dir` (default: `default_cache_dir()`), is
    checked against its MD5, and is unpacked next to it. pooch streams into a temporary
    file and moves it into place only after the checksum passes, so a failed or
    interrupted download leaves no partial file behind. Later calls find the unpacked
    folder and touch neither the network nor the archive.
    """
    import pooch
    import requests

    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    batches = cache / _EXTRACTED / BATCHES_DIR
    if batches.is_dir():  # only a complete extraction is ever renamed to this name
        return batches
    _announce_download(cache, announce_subset)
    try:
        pooch.retrieve(
            CIFAR10_URL,
            known_hash=f"md5:{CIFAR10_MD5}",
            fname=_ARCHIVE,
            path=cache,
            processor=_extract_atomically,
            progressbar=True,
        )
    except ValueError as err:
        if "hash" not in str(err):
            raise
        raise ValueError(
            f"The CIFAR-10 archive downloaded from {CIFAR10_URL} failed its MD5 checksum "
            f"(expected {CIFAR10_MD5}); it was deleted and nothing was kept in {cache}. "
            "Fix: retry (the transfer may have been cut or altered by a proxy), or fetch "
            f"the archive yourself, check its MD5, unpack it and set {ENV_VAR} to the "
            f"folder. pooch: {err}"
        ) from err
    except requests.RequestException as err:
        raise ConnectionError(
            f"Could not download CIFAR-10 from {CIFAR10_URL} ({err}); nothing was kept "
            f"in {cache}. Fix: check the network and retry, or pass path= (or set "
            f"{ENV_VAR}) to a local copy of {BATCHES_DIR}/"
        ) from err
    if not batches.is_dir():
        raise FileNotFoundError(
            f"The archive in {cache} unpacked without a {BATCHES_DIR}/ folder; "
            f"Fix: delete {cache / _ARCHIVE} and {cache / _EXTRACTED} and retry"
        )
    return batches


# ---------------------------------------------------------------------- the public API


def _check_subset(subset: object) -> str:
    if subset not in SUBSETS:
        raise ValueError(
            f"subset={subset!r} is not a CIFAR-10 subset; the rule: one of "
            f"{', '.join(map(repr, SUBSETS))} ('book': the book's 5,170 + 500 images, "
            "'full': every image of the official files)"
        )
    return str(subset)


def load_cifar10(
    path: str | os.PathLike[str] | None = None,
    subset: str = "full",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load CIFAR-10 as (x_train, y_train, x_test, y_test).

    x_train: uint8 (N_train, 32, 32, 3), channels-last, C-contiguous
    y_train: int64 (N_train,), class ids 0..9 (names: `load_cifar10_label_names`)
    x_test:  uint8 (N_test, 32, 32, 3)
    y_test:  int64 (N_test,)

    `path` (else the environment variable CNNLIB_DATA) is a folder that holds
    `cifar-10-batches-py/` or is that folder. With neither, the official archive is
    downloaded into a user cache (see `download_cifar10`). The training set comes from
    `data_batch_1` ... `data_batch_5` in that order, the test set from `test_batch`.

    subset: "full" (default) takes every image of those files: 50,000 + 10,000 from the
    official archive. "book" takes the book's subset, the leading 1,102 / 1,017 / 1,017 /
    1,017 / 1,017 training images of the five batches and the first 500 test images
    (5,170 + 500); on a folder that holds exactly those images both give the same arrays.

    Raises FileNotFoundError when the folder or one of the six official files is
    missing, ValueError for an unknown subset, a file too small for the book's subset, or
    a file that is corrupt or breaks the format; every message names the file and the fix.
    """
    subset = _check_subset(subset)
    folder = _given_folder(path) or download_cifar10(announce_subset=subset)
    train_files, test_file = _official_files(folder)
    x_train, y_train = _load_split(train_files, subset)
    x_test, y_test = _load_split([test_file], subset)
    return x_train, y_train, x_test, y_test


def load_cifar10_label_names(path: str | os.PathLike[str] | None = None) -> list[str]:
    """The ten class names, index = label id: from batches.meta, else CIFAR10_CLASSES.

    The folder is found as in `load_cifar10`, except that nothing is downloaded: with
    no path, no CNNLIB_DATA and no cached copy, the official names are returned.
    """
    folder = _given_folder(path) or default_cache_dir() / _EXTRACTED / BATCHES_DIR
    meta = folder / "batches.meta"
    if not meta.is_file():
        return list(CIFAR10_CLASSES)
    names = _batch_dict(meta, _unpickle(meta), (b"label_names",), _META_RULE)[b"label_names"]
    if not isinstance(names, list | tuple) or len(names) != len(CIFAR10_CLASSES):
        raise ValueError(
            f"{meta}: b'label_names' is {names!r}; the rule is a list of "
            f"{len(CIFAR10_CLASSES)} names, one per label id 0..9"
        )
    if not all(isinstance(n, bytes | str) for n in names):
        raise ValueError(f"{meta}: b'label_names' must hold bytes or str names, got {names!r}")
    return [n.decode() if isinstance(n, bytes) else n for n in names]
