"""The training chapters' run length from CNNLIB_EPOCHS / CNNLIB_TRAIN_SUBSET, and the
model file name that records it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnlib.book.book_runs import TrainingLength, trained_model_path, training_length


def test_without_the_variables_the_full_recipe_runs(monkeypatch):
    monkeypatch.delenv("CNNLIB_EPOCHS", raising=False)
    monkeypatch.delenv("CNNLIB_TRAIN_SUBSET", raising=False)
    assert training_length(50, 4670) == TrainingLength(50, 4670, full=True)


def test_the_variables_shorten_the_run(monkeypatch):
    monkeypatch.setenv("CNNLIB_EPOCHS", "1")
    monkeypatch.setenv("CNNLIB_TRAIN_SUBSET", " 1000 ")
    assert training_length(50, 4670) == TrainingLength(1, 1000, full=False)


def test_setting_them_to_the_full_values_is_the_full_run(monkeypatch):
    monkeypatch.setenv("CNNLIB_EPOCHS", "50")
    monkeypatch.setenv("CNNLIB_TRAIN_SUBSET", "4670")
    assert training_length(50, 4670).full


@pytest.mark.parametrize(("var", "value", "match"), [
    ("CNNLIB_EPOCHS", "0", "CNNLIB_EPOCHS=0 must be a whole number, 1 or more"),
    ("CNNLIB_EPOCHS", "two", "CNNLIB_EPOCHS='two' must be a whole number"),
    ("CNNLIB_TRAIN_SUBSET", "4671", r"CNNLIB_TRAIN_SUBSET=4671 must be a whole number in 1\.\.4670"),
    ("CNNLIB_TRAIN_SUBSET", "1.5", "CNNLIB_TRAIN_SUBSET='1.5' must be a whole number"),
])
def test_bad_values_are_named(monkeypatch, var, value, match):
    monkeypatch.delenv("CNNLIB_EPOCHS", raising=False)
    monkeypatch.delenv("CNNLIB_TRAIN_SUBSET", raising=False)
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError, match=match):
        training_length(50, 4670)


def test_the_model_name_records_the_length():
    short, full = TrainingLength(1, 1000, False), TrainingLength(50, 4670, True)
    assert trained_model_path(short) == Path("_models/reference-1epochs-1000images.npz")
    assert trained_model_path(full, Path("/tmp/m")) == Path("/tmp/m/reference-50epochs-4670images.npz")
