"""Tests for cnnlib.training.data: CIFAR-10 loading, its errors, and the download path.

Fake batches are written to tmp_path in the official format (pickle protocol 2, bytes
keys, Python 2 byte strings, numpy.core globals). No test touches the network: sockets
are blocked, and downloads are served by a patched pooch downloader from a local tar.gz.
The one test on real data runs when CNNLIB_DATA points at the shared subset.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import socket
import struct
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pooch
import pytest
import requests

import cnnlib.training.data as data
from cnnlib.training.data import (
    CIFAR10_CLASSES,
    CIFAR10_URL,
    load_cifar10,
    load_cifar10_label_names,
    rows_to_images,
)

# Captured before the autouse fixture below clears the variable for every test.
REAL_DATA = os.environ.get("CNNLIB_DATA", "")


# ------------------------------------------------------------------- writing fake files


class _Py2Pickler(pickle._Pickler):
    """Writes bytes and str as Python 2 byte strings (SHORT_BINSTRING/BINSTRING), like
    the official files; Python 3 at protocol 2 would write bytes as _codecs.encode calls
    and str (e.g. NumPy's dtype code "u1") as unicode."""

    def save_bytes(self, obj: bytes | str) -> None:
        raw = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[bytes] = save_bytes
    dispatch[str] = save_bytes


def _dumps(obj: object, style: str = "py2") -> bytes:
    """Pickle at protocol 2, as Python 2 ("py2", the official files) or Python 3 would."""
    if style == "py3":
        return pickle.dumps(obj, protocol=2)
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    # The official files name numpy.core (NumPy 1.x); GLOBAL is a text opcode.
    return buf.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def _write(file: Path, obj: object, style: str = "py2") -> Path:
    file.write_bytes(_dumps(obj, style))
    return file


def _batch(rows: np.ndarray, labels: list[int], name: bytes = b"batch") -> dict:
    """A batch dict exactly as the shared subset has it (no b"filenames")."""
    return {b"batch_label": name, b"labels": list(labels), b"data": rows}


def _random_split(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[int]]:
    rows = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    return rows, [int(v) for v in rng.integers(0, 10, size=n)]


def _make_cifar(
    root: Path, train_sizes: tuple[int, ...] = (3, 2, 1, 1, 2), n_test: int = 2,
    style: str = "py2",
) -> dict[str, np.ndarray]:
    """Write root/cifar-10-batches-py/ with fake batches; return the expected rows/labels."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(len(train_sizes) * 100 + n_test)
    train = [_random_split(rng, n) for n in train_sizes]
    for k, (rows, labels) in enumerate(train, start=1):
        _write(folder / f"data_batch_{k}", _batch(rows, labels), style)
    test_rows, test_labels = _random_split(rng, n_test)
    _write(folder / "test_batch", _batch(test_rows, test_labels), style)
    names = [n.upper().encode() for n in CIFAR10_CLASSES]  # not the fallback: proves a read
    _write(folder / "batches.meta", {b"label_names": names, b"num_vis": 3072}, style)
    return {
        "train_rows": np.concatenate([r for r, _ in train]),
        "train_labels": np.array([v for _, ls in train for v in ls], dtype=np.int64),
        "test_rows": test_rows,
        "test_labels": np.array(test_labels, dtype=np.int64),
    }


def _loop_images(rows: np.ndarray) -> np.ndarray:
    """The format's definition spelled out: value c*1024 + r*32 + col is pixel (r, col, c)."""
    out = np.zeros((len(rows), 32, 32, 3), dtype=np.uint8)
    for i in range(len(rows)):
        for c in range(3):
            for r in range(32):
                for col in range(32):
                    out[i, r, col, c] = rows[i, c * 1024 + r * 32 + col]
    return out


def _batches(tmp_path: Path) -> Path:
    _make_cifar(tmp_path)
    return tmp_path / "cifar-10-batches-py"


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No network, no CNNLIB_DATA, and a cache in tmp_path instead of the user's."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv("CNNLIB_DATA", raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setattr(data, "default_cache_dir", lambda: cache)
    return cache


# ------------------------------------------------------------------------ layout, dtype


def test_rows_to_images_puts_each_plane_value_at_row_col_channel() -> None:
    rows = np.zeros((2, 3072), dtype=np.uint8)
    rows[0, 0 * 1024 + 3 * 32 + 7] = 200  # red plane, row 3, column 7
    rows[0, 1 * 1024 + 30 * 32 + 1] = 100  # green plane, row 30, column 1
    rows[1, 2 * 1024 + 0 * 32 + 31] = 50  # blue plane, row 0, column 31 (second image)
    images = rows_to_images(rows)
    assert images.shape == (2, 32, 32, 3)
    assert images[0, 3, 7, 0] == 200
    assert images[0, 30, 1, 1] == 100
    assert images[1, 0, 31, 2] == 50
    assert np.count_nonzero(images) == 3
    assert images.flags.c_contiguous


def test_load_matches_plain_loop_reference(tmp_path: Path) -> None:
    expected = _make_cifar(tmp_path, train_sizes=(2, 1, 1, 1, 1), n_test=2)
    x_train, y_train, x_test, y_test = load_cifar10(tmp_path)
    np.testing.assert_array_equal(x_train, _loop_images(expected["train_rows"]))
    np.testing.assert_array_equal(x_test, _loop_images(expected["test_rows"]))
    np.testing.assert_array_equal(y_train, expected["train_labels"])
    np.testing.assert_array_equal(y_test, expected["test_labels"])


def test_load_returns_uint8_channels_last_images_and_int64_labels(tmp_path: Path) -> None:
    _make_cifar(tmp_path, train_sizes=(3, 2, 1, 1, 1), n_test=4)
    x_train, y_train, x_test, y_test = load_cifar10(tmp_path)
    assert (x_train.shape, x_train.dtype) == ((8, 32, 32, 3), np.uint8)
    assert (x_test.shape, x_test.dtype) == ((4, 32, 32, 3), np.uint8)
    assert (y_train.shape, y_train.dtype) == ((8,), np.int64)
    assert (y_test.shape, y_test.dtype) == ((4,), np.int64)
    assert x_train.flags.c_contiguous and x_test.flags.c_contiguous


@pytest.mark.parametrize("style", ["py2", "py3"])
def test_loads_python2_and_python3_pickles_without_warnings(tmp_path: Path, style: str) -> None:
    expected = _make_cifar(tmp_path, style=style)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. NumPy 2's numpy.core deprecation
        x_train, y_train, _, _ = load_cifar10(tmp_path)
    np.testing.assert_array_equal(x_train, rows_to_images(expected["train_rows"]))
    np.testing.assert_array_equal(y_train, expected["train_labels"])


def test_full_reads_the_five_train_batches_in_order_and_ignores_other_files(
    tmp_path: Path,
) -> None:
    folder = _batches(tmp_path)
    for k in (5, 3, 1, 4, 2):  # written out of order
        _write(folder / f"data_batch_{k}", _batch(np.full((1, 3072), k, np.uint8), [k]))
    _write(folder / "data_batch_6", _batch(np.full((1, 3072), 6, np.uint8), [6]))
    (folder / "data_batch_1.bak").write_bytes(b"ignored: not an official file name")
    x_train, y_train, _, _ = load_cifar10(tmp_path, subset="full")
    assert y_train.tolist() == [1, 2, 3, 4, 5]
    assert x_train[:, 0, 0, 0].tolist() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("missing", ["data_batch_1", "data_batch_5", "test_batch"])
@pytest.mark.parametrize("subset", ["full", "book"])
def test_a_missing_official_file_is_an_error_naming_it(
    tmp_path: Path, missing: str, subset: str
) -> None:
    (_batches(tmp_path) / missing).unlink()
    with pytest.raises(FileNotFoundError, match=rf"lacks {missing}; .*damaged copy"):
        load_cifar10(tmp_path, subset=subset)


# ------------------------------------------------------------------- the book's subset

# The shared copy's sizes; the fake official folder has more images after them.
_BOOK_SIZES = (1102, 1017, 1017, 1017, 1017)


def _official_folder_around_book_copy(root: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """A full-size-like official folder whose leading images are a 'book copy'.

    The book copy (root/book) has exactly the book's counts; the official folder
    (root/official) has the same images first, then different ones, in every file.
    """
    rng = np.random.default_rng(7)
    book = root / "book" / "cifar-10-batches-py"
    official = root / "official" / "cifar-10-batches-py"
    book.mkdir(parents=True)
    official.mkdir(parents=True)
    expected: dict[str, list] = {"train_rows": [], "train_labels": []}
    names = [*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]
    for name, n in zip(names, (*_BOOK_SIZES, 500), strict=True):
        rows, labels = _random_split(rng, n)
        extra_rows, extra_labels = _random_split(rng, 40)
        _write(book / name, _batch(rows, labels))
        _write(official / name, _batch(np.concatenate([rows, extra_rows]), labels + extra_labels))
        if name == "test_batch":
            expected["test_rows"], expected["test_labels"] = rows, np.array(labels)
        else:
            expected["train_rows"].append(rows)
            expected["train_labels"] += labels
    expected["train_rows"] = np.concatenate(expected["train_rows"])
    expected["train_labels"] = np.array(expected["train_labels"])
    return root, expected


@pytest.fixture(scope="module")
def book_and_official(tmp_path_factory: pytest.TempPathFactory):
    return _official_folder_around_book_copy(tmp_path_factory.mktemp("cifar"))


def test_book_subset_of_an_official_folder_is_exactly_the_book_images(book_and_official) -> None:
    root, expected = book_and_official
    x_train, y_train, x_test, y_test = load_cifar10(root / "official", subset="book")
    assert (len(x_train), len(x_test)) == (5170, 500)
    np.testing.assert_array_equal(x_train, rows_to_images(expected["train_rows"]))
    np.testing.assert_array_equal(y_train, expected["train_labels"])
    np.testing.assert_array_equal(x_test, rows_to_images(expected["test_rows"]))
    np.testing.assert_array_equal(y_test, expected["test_labels"])


@pytest.mark.parametrize("subset", ["book", "full"])
def test_both_subsets_are_the_identity_on_the_book_copy(book_and_official, subset: str) -> None:
    root, expected = book_and_official
    x_train, y_train, x_test, y_test = load_cifar10(root / "book", subset=subset)
    np.testing.assert_array_equal(x_train, rows_to_images(expected["train_rows"]))
    np.testing.assert_array_equal(y_test, expected["test_labels"])


def test_full_subset_of_an_official_folder_is_everything(book_and_official) -> None:
    root, expected = book_and_official
    x_train, y_train, x_test, y_test = load_cifar10(root / "official", subset="full")
    assert (len(x_train), len(x_test)) == (5170 + 5 * 40, 500 + 40)
    np.testing.assert_array_equal(x_train[:1102], rows_to_images(expected["train_rows"][:1102]))
    # the second batch starts after all 1102 + 40 images of the first
    np.testing.assert_array_equal(x_train[1142:1142 + 1017],
                                  rows_to_images(expected["train_rows"][1102:1102 + 1017]))


@pytest.mark.parametrize("bad", ["Book", "all", "", None, 500])
def test_unknown_subset_is_a_clear_error(tmp_path: Path, bad: object) -> None:
    _make_cifar(tmp_path)
    with pytest.raises(ValueError, match=rf"subset={bad!r} is not a CIFAR-10 subset.*'book'"):
        load_cifar10(tmp_path, subset=bad)  # type: ignore[arg-type]


def test_book_subset_of_a_folder_too_small_is_a_clear_error(tmp_path: Path) -> None:
    _make_cifar(tmp_path)  # 3 images in data_batch_1
    with pytest.raises(ValueError, match=r"data_batch_1 holds 3 images, but the book's subset "
                                         r"takes its first 1102"):
        load_cifar10(tmp_path, subset="book")


def test_accepts_integer_data_of_any_width_within_0_255(tmp_path: Path) -> None:
    folder = _batches(tmp_path)
    rows = np.arange(3072, dtype=np.int64).reshape(1, 3072) % 256
    _write(folder / "data_batch_1", _batch(rows, [4]))
    x_train, _, _, _ = load_cifar10(tmp_path)
    assert x_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train[0], rows_to_images(rows.astype(np.uint8))[0])


# ---------------------------------------------------------------------- finding the data


@pytest.mark.parametrize("form", ["parent folder", "batches folder", "str", "~"])
def test_accepts_parent_folder_or_batches_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    expected = _make_cifar(tmp_path)
    path: str | Path = {
        "parent folder": tmp_path,
        "batches folder": tmp_path / "cifar-10-batches-py",
        "str": str(tmp_path),
        "~": "~/cifar-10-batches-py",
    }[form]
    monkeypatch.setenv("HOME", str(tmp_path))
    _, y_train, _, y_test = load_cifar10(path)
    np.testing.assert_array_equal(y_train, expected["train_labels"])
    np.testing.assert_array_equal(y_test, expected["test_labels"])


@pytest.mark.parametrize("subfolder", ["", "cifar-10-batches-py"])
def test_reads_cnnlib_data_when_path_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, subfolder: str
) -> None:
    expected = _make_cifar(tmp_path)
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / subfolder))
    _, y_train, _, _ = load_cifar10()
    np.testing.assert_array_equal(y_train, expected["train_labels"])


def test_path_argument_wins_over_cnnlib_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _make_cifar(tmp_path / "good")
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "does-not-exist"))
    _, y_train, _, _ = load_cifar10(tmp_path / "good")
    np.testing.assert_array_equal(y_train, expected["train_labels"])


# ------------------------------------------------------------------ errors: files, folders


def test_missing_path_says_how_to_get_the_data(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=r"nowhere.*does not exist") as info:
        load_cifar10(missing)
    message = str(info.value)
    assert "path=" in message and "CNNLIB_DATA" in message and "path=None" in message
    assert "download" in message


def test_missing_cnnlib_data_folder_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "typo"))
    with pytest.raises(FileNotFoundError, match=r"typo.*from CNNLIB_DATA=.*does not exist"):
        load_cifar10()


def test_path_to_a_file_says_to_unpack_it(tmp_path: Path) -> None:
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"not unpacked")
    with pytest.raises(FileNotFoundError, match=r"is a file, not a folder.*tar xzf"):
        load_cifar10(archive)


def test_folder_without_batches_dir_or_batches(tmp_path: Path) -> None:
    (tmp_path / "unrelated.txt").write_text("hello")
    with pytest.raises(
        FileNotFoundError, match=r"holds neither cifar-10-batches-py/ nor data_batch_\* files"
    ):
        load_cifar10(tmp_path)


def test_batches_dir_without_any_data_batch(tmp_path: Path) -> None:
    folder = _batches(tmp_path)
    for file in folder.glob("data_batch_*"):
        file.unlink()
    with pytest.raises(FileNotFoundError, match=r"lacks data_batch_1, data_batch_2, data_batch_3, "
                                                r"data_batch_4, data_batch_5;"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize(
    "damage",
    ["empty", "truncated to half", "truncated by one byte", "garbage", "text"],
)
@pytest.mark.parametrize("victim", ["data_batch_2", "test_batch"])
def test_truncated_or_corrupt_pickle_names_the_file(
    tmp_path: Path, damage: str, victim: str
) -> None:
    file = _batches(tmp_path) / victim
    good = file.read_bytes()
    file.write_bytes(
        {
            "empty": b"",
            "truncated to half": good[: len(good) // 2],
            "truncated by one byte": good[:-1],
            "garbage": np.random.default_rng(0).bytes(500),
            "text": b"airplane,automobile\n1,2\n",
        }[damage]
    )
    with pytest.raises(ValueError, match=rf"{victim} is truncated or corrupt.*Fix:"):
        load_cifar10(tmp_path)


class _Hostile:
    """Unpickling this would create a file: what a tampered batch could do."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple:
        return (open, (str(self.target), "w"))


def test_refuses_pickles_that_call_anything_but_numpy(tmp_path: Path) -> None:
    folder = _batches(tmp_path)
    marker = tmp_path / "pwned"
    rows, labels = _random_split(np.random.default_rng(1), 1)
    (folder / "data_batch_1").write_bytes(
        pickle.dumps({b"labels": labels, b"data": rows, b"x": _Hostile(marker)}, protocol=2)
    )
    with pytest.raises(ValueError, match=r"data_batch_1 is truncated or corrupt.*refused"):
        load_cifar10(tmp_path)
    assert not marker.exists()


# ----------------------------------------------------------------- errors: batch contents


def _rewrite_train_batch(tmp_path: Path, obj: object, style: str = "py2") -> None:
    _write(_batches(tmp_path) / "data_batch_1", obj, style)


def _good_rows(n: int = 2) -> np.ndarray:
    return np.zeros((n, 3072), dtype=np.uint8)


def test_not_a_dict(tmp_path: Path) -> None:
    _rewrite_train_batch(tmp_path, [_good_rows(), [0, 1]])
    with pytest.raises(ValueError, match=r"data_batch_1 is not a CIFAR-10 file: it holds a list"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize(
    ("batch", "pattern"),
    [
        ({b"data": _good_rows()}, r"missing key\(s\) b'labels'"),
        ({b"labels": [0, 1]}, r"missing key\(s\) b'data'"),
        ({"data": _good_rows(), "labels": [0, 1]}, r"keys are str; .* uses bytes keys"),
        (
            {b"data": _good_rows(), b"fine_labels": [0, 1], b"coarse_labels": [0, 1]},
            r"looks like CIFAR-100",
        ),
    ],
    ids=["no labels", "no data", "str keys", "cifar-100"],
)
def test_wrong_keys(tmp_path: Path, batch: dict, pattern: str) -> None:
    # py3 style: the Python 2 writer would turn the str keys into bytes too
    _rewrite_train_batch(tmp_path, batch, style="py3")
    with pytest.raises(ValueError, match=rf"data_batch_1 is not a CIFAR-10 file: .*{pattern}"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize(
    "rows",
    [
        np.zeros((2, 3071), np.uint8),
        np.zeros((2, 3, 32, 32), np.uint8),
        np.zeros(3072, np.uint8),
        np.zeros((2, 3072), np.float32),
        [[b"not pixels"] * 3072] * 2,
    ],
    ids=["3071 columns", "4-D", "1-D", "float", "bytes"],
)
def test_wrong_data_shape_or_dtype(tmp_path: Path, rows: object) -> None:
    _rewrite_train_batch(tmp_path, _batch(rows, [0, 1]))
    with pytest.raises(ValueError, match=r"data_batch_1: b'data' has shape .* the rule is"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize("key", [b"data", b"labels"])
def test_ragged_data_or_labels(tmp_path: Path, key: bytes) -> None:
    batch = _batch(_good_rows(), [0, 1])
    batch[key] = [[1, 2], [3]]  # nested lists of unequal length
    _rewrite_train_batch(tmp_path, batch)
    with pytest.raises(ValueError, match=rf"data_batch_1: {key!r} is not a regular array"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize(("bad", "span"), [(256, "0..256"), (-1, "-1..0")])
def test_pixel_values_outside_0_255(tmp_path: Path, bad: int, span: str) -> None:
    rows = np.zeros((2, 3072), dtype=np.int16)
    rows[1, 5] = bad
    _rewrite_train_batch(tmp_path, _batch(rows, [0, 1]))
    with pytest.raises(
        ValueError, match=rf"values span {span}; the rule is pixel values in 0..255"
    ):
        load_cifar10(tmp_path)


@pytest.mark.parametrize(("labels", "bad"), [([0, 10], 10), ([-1, 3], -1), ([9, 255], 255)])
def test_labels_out_of_range(tmp_path: Path, labels: list[int], bad: int) -> None:
    _rewrite_train_batch(tmp_path, _batch(_good_rows(), labels))
    with pytest.raises(ValueError, match=rf"label {bad} at index \d is out of range.*0 <= label"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize("labels", [[0], [0, 1, 2]])
def test_label_count_differs_from_image_count(tmp_path: Path, labels: list[int]) -> None:
    _rewrite_train_batch(tmp_path, _batch(_good_rows(2), labels))
    with pytest.raises(
        ValueError, match=rf"{len(labels)} labels for 2 images.*exactly one label per image"
    ):
        load_cifar10(tmp_path)


@pytest.mark.parametrize("labels", [[0.5, 1.0], [[0], [1]], ["cat", "dog"]])
def test_labels_that_are_not_a_flat_list_of_ints(tmp_path: Path, labels: list) -> None:
    _rewrite_train_batch(tmp_path, _batch(_good_rows(), labels), style="py3")
    with pytest.raises(ValueError, match=r"b'labels' has shape .* flat list of integer"):
        load_cifar10(tmp_path)


def test_errors_in_test_batch_name_it(tmp_path: Path) -> None:
    _write(_batches(tmp_path) / "test_batch", _batch(_good_rows(), [0, 12]))
    with pytest.raises(ValueError, match=r"test_batch: label 12 at index 1 is out of range"):
        load_cifar10(tmp_path)


# -------------------------------------------------------------------------- label names


def test_label_names_come_from_batches_meta(tmp_path: Path) -> None:
    _make_cifar(tmp_path)
    assert load_cifar10_label_names(tmp_path) == [n.upper() for n in CIFAR10_CLASSES]


def test_label_names_fall_back_to_the_official_names(tmp_path: Path) -> None:
    (_batches(tmp_path) / "batches.meta").unlink()
    assert load_cifar10_label_names(tmp_path) == list(CIFAR10_CLASSES)


def test_label_names_without_any_data_do_not_download(
    monkeypatch: pytest.MonkeyPatch, cache: Path
) -> None:
    monkeypatch.setenv("CNNLIB_DATA", "")  # empty counts as unset
    monkeypatch.setattr(data, "download_cifar10", _must_not_be_called)
    assert load_cifar10_label_names() == list(CIFAR10_CLASSES)
    assert not cache.exists()


def _must_not_be_called(*args: object, **kwargs: object) -> None:
    raise AssertionError("download_cifar10 was called")


def test_label_names_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_cifar10_label_names(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("meta", "pattern"),
    [
        (b"\x80\x02}q", r"batches.meta is truncated or corrupt"),
        ({b"num_vis": 3072}, r"missing key\(s\) b'label_names'"),
        ({b"label_names": [b"cat", b"dog"]}, r"the rule is a list of 10 names"),
        ({b"label_names": list(range(10))}, r"must hold bytes or str names"),
    ],
    ids=["truncated", "no key", "two names", "ints"],
)
def test_label_names_bad_meta(tmp_path: Path, meta: object, pattern: str) -> None:
    file = _batches(tmp_path) / "batches.meta"
    if isinstance(meta, bytes):
        file.write_bytes(meta)
    else:
        _write(file, meta)
    with pytest.raises(ValueError, match=pattern):
        load_cifar10_label_names(tmp_path)


# --------------------------------------------------------------------------- downloading


class _FakeServer:
    """Stands in for pooch's HTTPDownloader: serves local bytes, never the network."""

    def __init__(self, payload: bytes, fail_after: int | None = None, error=None) -> None:
        self.payload, self.fail_after, self.error = payload, fail_after, error
        self.calls: list[tuple[str, bool]] = []
        self.written: list[Path] = []  # the files pooch asked us to write into

    def __call__(self, downloader, url, output_file, pooch_, check_only=False) -> None:
        self.calls.append((url, downloader.progressbar))
        self.written.append(Path(output_file))
        with open(output_file, "wb") as f:
            f.write(self.payload[: self.fail_after])
            f.flush()
            if self.error is not None:  # the connection drops after some bytes
                raise self.error


def _fake_archive(tmp_path: Path) -> tuple[bytes, dict[str, np.ndarray]]:
    """A tar.gz laid out like the official one: cifar-10-batches-py/ at its top."""
    src = tmp_path / "archive-src"
    expected = _make_cifar(src)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return buf.getvalue(), expected


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Install a fake server for the fake archive, with the archive's MD5 as the known one."""
    payload, expected = _fake_archive(tmp_path)
    monkeypatch.setattr(data, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())

    def install(server: _FakeServer) -> _FakeServer:
        monkeypatch.setattr(
            pooch.HTTPDownloader, "__call__", lambda self, *a, **k: server(self, *a, **k)
        )
        return server

    return payload, expected, install


def test_download_fetches_official_url_with_progress_bar_and_loads(served, cache) -> None:
    payload, expected, install = served
    server = install(_FakeServer(payload))
    x_train, y_train, x_test, y_test = load_cifar10()
    assert server.calls == [(CIFAR10_URL, True)]
    np.testing.assert_array_equal(x_train, rows_to_images(expected["train_rows"]))
    np.testing.assert_array_equal(y_test, expected["test_labels"])
    assert (cache / "cifar-10-python.tar.gz").is_file()
    assert (cache / "cifar-10-python" / "cifar-10-batches-py" / "test_batch").is_file()
    assert sorted(p.name for p in cache.iterdir()) == ["cifar-10-python", "cifar-10-python.tar.gz"]


def test_download_happens_once_then_cache_is_used(served, cache) -> None:
    payload, _, install = served
    server = install(_FakeServer(payload))
    load_cifar10()
    load_cifar10()
    assert len(server.calls) == 1
    # label names now come from the cached batches.meta, still without a download
    assert load_cifar10_label_names() == [n.upper() for n in CIFAR10_CLASSES]
    assert len(server.calls) == 1


def _assert_nothing_left(server: _FakeServer, cache: Path) -> None:
    """The bytes went to a temporary file inside the cache, and it is gone."""
    assert server.written and all(p.parent == cache.resolve() for p in server.written)
    assert cache.is_dir() and _files_under(cache) == []


def test_checksum_mismatch_is_clear_and_keeps_nothing(served, cache) -> None:
    payload, _, install = served
    server = install(_FakeServer(payload[:-10] + b"tampered!!"))
    with pytest.raises(
        ValueError,
        match=rf"failed its MD5 checksum \(expected {data.CIFAR10_MD5}\).*nothing was kept"
        r".*Fix: retry",
    ):
        load_cifar10()
    _assert_nothing_left(server, cache)


def test_interrupted_download_keeps_no_partial_file(served, cache) -> None:
    payload, _, install = served
    server = install(
        _FakeServer(payload, fail_after=len(payload) // 3, error=requests.ConnectionError("reset"))
    )
    with pytest.raises(ConnectionError, match=r"Could not download CIFAR-10.*nothing was kept"):
        load_cifar10()
    _assert_nothing_left(server, cache)


def test_ctrl_c_during_download_keeps_no_partial_file(served, cache) -> None:
    payload, _, install = served
    server = install(_FakeServer(payload, fail_after=100, error=KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        load_cifar10()
    _assert_nothing_left(server, cache)


def test_interrupted_extraction_is_redone_without_downloading_again(
    served, cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload, expected, install = served
    server = install(_FakeServer(payload))
    real_extract = pooch.Untar._extract_file

    def extract_then_crash(self, fname, extract_dir):
        real_extract(self, fname, extract_dir)
        raise KeyboardInterrupt

    monkeypatch.setattr(pooch.Untar, "_extract_file", extract_then_crash)
    with pytest.raises(KeyboardInterrupt):
        load_cifar10()
    # only a finished folder gets the final name, and the staging folder is gone
    assert [p.name for p in cache.iterdir()] == ["cifar-10-python.tar.gz"]
    monkeypatch.setattr(pooch.Untar, "_extract_file", real_extract)
    _, y_train, _, _ = load_cifar10()
    np.testing.assert_array_equal(y_train, expected["train_labels"])
    assert len(server.calls) == 1
    assert sorted(p.name for p in cache.iterdir()) == ["cifar-10-python", "cifar-10-python.tar.gz"]


def test_extraction_keeps_the_folder_another_process_finished_first(
    served, cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload, expected, install = served
    install(_FakeServer(payload))
    real_extract = pooch.Untar._extract_file

    def extract_while_another_process_wins(self, fname, extract_dir):
        real_extract(self, fname, extract_dir)
        real_extract(self, fname, str(cache / "cifar-10-python"))  # the winner's copy
        (cache / "cifar-10-python" / "winner").touch()

    monkeypatch.setattr(pooch.Untar, "_extract_file", extract_while_another_process_wins)
    _, y_train, _, _ = load_cifar10()
    np.testing.assert_array_equal(y_train, expected["train_labels"])
    assert (cache / "cifar-10-python" / "winner").exists()
    assert sorted(p.name for p in cache.iterdir()) == ["cifar-10-python", "cifar-10-python.tar.gz"]


def test_corrupt_cached_archive_is_downloaded_again(served, cache) -> None:
    payload, expected, install = served
    server = install(_FakeServer(payload))
    cache.mkdir()
    (cache / "cifar-10-python.tar.gz").write_bytes(payload[:1000])
    _, y_train, _, _ = load_cifar10()
    np.testing.assert_array_equal(y_train, expected["train_labels"])
    assert len(server.calls) == 1


# ---------------------------------------------------------------------------- real data


def test_real_shared_copy_is_the_book_subset() -> None:
    if not REAL_DATA:
        if os.environ.get("CI"):
            pytest.fail("CNNLIB_DATA is not set: CI must point it at the shared cifar10 folder")
        pytest.skip("CNNLIB_DATA is not set: set it to the shared cifar10 folder")
    x_train, y_train, x_test, y_test = load_cifar10(REAL_DATA, subset="book")
    for mine, full in zip((x_train, y_train, x_test, y_test),
                          load_cifar10(REAL_DATA, subset="full"), strict=True):
        np.testing.assert_array_equal(mine, full)  # the shared copy holds just the book's images
    assert (x_train.shape, x_train.dtype) == ((5170, 32, 32, 3), np.uint8)
    assert (x_test.shape, x_test.dtype) == ((500, 32, 32, 3), np.uint8)
    assert (y_train.shape, y_train.dtype) == ((5170,), np.int64)
    assert (y_test.shape, y_test.dtype) == ((500,), np.int64)
    assert set(y_train.tolist()) == set(y_test.tolist()) == set(range(10))
    assert x_train.flags.c_contiguous
    assert 80 < x_train.mean() < 180 and x_train.min() == 0 and x_train.max() == 255
    assert load_cifar10_label_names(REAL_DATA) == list(CIFAR10_CLASSES)


def test_first_download_says_what_it_will_do_before_fetching(served, cache, capsys) -> None:
    payload, _, install = served
    said_before_fetch: list[str] = []

    class Recording(_FakeServer):
        def __call__(self, *args, **kwargs) -> None:
            said_before_fetch.append(capsys.readouterr().err)
            super().__call__(*args, **kwargs)

    install(Recording(payload))
    load_cifar10()
    message = said_before_fetch[0]
    assert CIFAR10_URL in message and "163 MB" in message and str(cache) in message
    assert "MD5" in message and "progress bar" in message
    load_cifar10()  # cached now: silent
    assert capsys.readouterr().err == ""


def test_download_announcement_names_the_book_subset(cache, capsys) -> None:
    data._announce_download(cache, "book")
    assert "5,170 training and 500 test images" in capsys.readouterr().err
    data._announce_download(cache, "full")
    assert "5,170" not in capsys.readouterr().err
