"""Training checkpoints: a model file plus what it takes to continue training exactly.

A checkpoint is a `.npz` model file (`cnnlib.nn.serialization`, loadable by `load_model`)
with two more kinds of entries: the optimizer's state (`optim/<name>`: the momentum of
every parameter) and the trainer's state as JSON (`trainer`: epoch, step, history,
random-number states, a fingerprint of the training data). It is written atomically, so
a crash or Ctrl-C while writing never leaves half a file. Book: chapter 10.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import numpy as np

from ..nn.layers import Sequential
from ..nn.serialization import atomic_savez, model_arrays, model_from_arrays, read_npz


def write_checkpoint(path: str | os.PathLike[str], model: Sequential,
                     optimizer_state: dict[str, np.ndarray], trainer_state: dict) -> Path:
    """model + optimizer state + trainer state (JSON-able) -> `path`, atomically."""
    arrays = model_arrays(model, {"checkpoint": True, "epoch": trainer_state.get("epoch")})
    arrays.update({f"optim/{k}": v for k, v in optimizer_state.items()})
    arrays["trainer"] = np.array(json.dumps(trainer_state))
    return atomic_savez(path, arrays)


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[Sequential, dict[str, np.ndarray], dict]:
    """(model in training mode, optimizer state, trainer state) from a checkpoint file.

    Raises FileNotFoundError for a missing file and ValueError for a model file without
    trainer state or an unreadable one.
    """
    path = Path(path)
    arrays = read_npz(path, "checkpoint")
    if "trainer" not in arrays:
        raise ValueError(f"{path} is a model file, not a training checkpoint: it has no "
                         "'trainer' state to resume from")
    try:
        state = json.loads(str(arrays["trainer"]))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: the trainer state is unreadable ({err!r})") from err
    if not isinstance(state, dict):
        raise ValueError(f"{path}: the trainer state is {type(state).__name__}, not an object")
    model, _ = model_from_arrays(arrays, path)
    optimizer_state = {k[len("optim/"):]: v for k, v in arrays.items() if k.startswith("optim/")}
    return model.train(), optimizer_state, state


def data_fingerprint(images: np.ndarray, labels: np.ndarray) -> str:
    """A short checksum of a training set, so a checkpoint cannot resume on other data."""
    crc = zlib.crc32(np.ascontiguousarray(labels).tobytes())
    crc = zlib.crc32(np.ascontiguousarray(images[:: max(1, len(images) // 64)]).tobytes(), crc)
    return f"{len(images)}:{crc:08x}"
