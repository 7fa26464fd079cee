"""Checks the command-line tools run before any slow work (loading data, training).

A wrong output folder or a missing model file should fail in a second with one clear
line, not as a traceback after an epoch of training.
Book: chapter 10 (the command line).
"""

from __future__ import annotations

import os
from pathlib import Path


def check_writable_file(path: str | os.PathLike[str], option: str) -> Path:
    """`path` as a Path, if a file can be written there; else ValueError naming `option`."""
    path = Path(path).expanduser()
    folder = path.parent
    if path.is_dir():
        raise ValueError(f"{option} {path} is a folder; the rule: a file name to write, "
                         f"e.g. {path / 'model.npz'}")
    if not folder.is_dir():
        raise ValueError(f"{option} {path}: the folder {folder} does not exist; "
                         "create it first (nothing was loaded or trained)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path}: the folder {folder} is not writable "
                         "(nothing was loaded or trained)")
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{option} {path} exists and is not writable")
    return path


def check_readable_file(path: str | os.PathLike[str], option: str) -> Path:
    """`path` as a Path, if it is a readable file; else FileNotFoundError naming `option`."""
    path = Path(path).expanduser()
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"{option} {path} {what}")
    if not os.access(path, os.R_OK):
        raise FileNotFoundError(f"{option} {path} is not readable")
    return path
