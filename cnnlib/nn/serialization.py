"""Saving and loading models as .npz files: architecture, weights and buffers, no pickle.

A model file is a NumPy .npz archive (a zip of .npy arrays) holding

* `format`: the string "cnnlib-model-1";
* `architecture`: one JSON string per layer, e.g. '{"type": "Conv2D", "in_channels": 3, …}';
* `param/<i>.<name>`: layer i's trainable parameters (e.g. `param/1.weight`);
* `buffer/<i>.<name>`: layer i's fixed state: input normalization, batch-norm running
  statistics;
* `metadata`: a JSON string (class names, how the model was trained, …).

Everything is an array of numbers or strings, so loading never unpickles (and can never
run code). Checkpoints add arrays under other prefixes (`optim/`, `trainer`); a model
loader ignores those. Files are written atomically: into a temporary file in the same
folder, which then replaces the target in one rename, so a crash or Ctrl-C leaves either
the old file or the new one, never half a file.
Book: chapter 10 ("Saving the model").
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import normalization, residual  # noqa: F401  (their layers register by name)
from .layer import Layer
from .layers import Sequential

FORMAT = "cnnlib-model-1"

def layer_config(layer: Layer) -> dict:
    """The JSON-able description of a layer: {"type": name, **layer.config()}."""
    name = type(layer).__name__
    try:
        config = layer.config()
    except NotImplementedError as err:
        raise ValueError(f"cannot save a layer of type {name}: {err}") from err
    if Layer.registry.get(name) is not type(layer):
        raise ValueError(f"cannot save a layer of type {name}: another layer class has the "
                         "same name, so a model file could not tell them apart")
    return {"type": name, **config}


def layer_from_config(config: dict) -> Layer:
    """Rebuild a layer (with fresh weights) from `layer_config`'s description."""
    if not isinstance(config, dict) or config.get("type") not in Layer.registry:
        raise ValueError(f"layer description {config!r} names no known layer type "
                         f"({sorted(Layer.registry)})")
    cls = Layer.registry[config["type"]]
    arguments = {key: value for key, value in config.items() if key != "type"}
    try:
        return cls.from_config(arguments)
    except (TypeError, KeyError) as err:  # a missing or unexpected argument
        raise ValueError(f"layer description {config!r} does not fit {cls.__name__}: "
                         f"{type(err).__name__}: {err}") from err


def model_arrays(model: Sequential, metadata: dict | None = None) -> dict[str, np.ndarray]:
    """Everything `load_model` needs, as a dict of arrays ready for np.savez."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "architecture": np.array([json.dumps(layer_config(layer)) for layer in model.layers]),
        "metadata": np.array(json.dumps(metadata or {})),
    }
    for i, layer in enumerate(model.layers):
        for kind in ("param", "buffer"):
            for name, value in getattr(layer, kind + "s").items():
                arrays[f"{kind}/{i}.{name}"] = np.asarray(value)
    return arrays


def atomic_savez(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> Path:
    """np.savez into a temporary file beside `path`, then os.replace it onto `path`.

    The name is used exactly as given (np.savez would append ".npz" to a bare name).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file readable by its owner only; give it the permissions
        # an ordinary new file gets (0666 minus the umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # Ctrl-C included: never leave the temporary file behind
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_model(path: str | os.PathLike[str], model: Sequential,
               metadata: dict | None = None) -> Path:
    """Write `model` (architecture, parameters, buffers) and `metadata` to `path`, atomically."""
    return atomic_savez(path, model_arrays(model, metadata))


def read_npz(path: str | os.PathLike[str], what: str = "model") -> dict[str, np.ndarray]:
    """Every array of an .npz file, loaded without pickle; clear errors for bad files."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} file {path} does not exist")
    if path.is_dir():
        raise ValueError(f"{what} file {path} is a folder, not an .npz file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as err:
        raise ValueError(f"{path} is not a readable cnnlib {what} file (truncated or corrupt "
                         f".npz archive): {type(err).__name__}: {err}") from err


def _json_string(arrays: dict[str, np.ndarray], key: str, path: Path) -> object:
    value = arrays[key]
    if value.dtype.kind != "U" or value.ndim != 0:
        raise ValueError(f"{path}: '{key}' must be a JSON string, got {value.dtype} {value.shape}")
    try:
        return json.loads(str(value))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: '{key}' is not valid JSON ({err})") from err


def model_from_arrays(arrays: dict[str, np.ndarray], path: Path) -> tuple[Sequential, dict]:
    """Rebuild (model, metadata) from `model_arrays`'s output; checks every key and shape."""
    for key in ("format", "architecture", "metadata"):
        if key not in arrays:
            raise ValueError(f"{path} is not a cnnlib model file: it has no '{key}' entry "
                             f"(it holds {sorted(arrays)[:8]})")
    if str(arrays["format"]) != FORMAT:
        raise ValueError(f"{path}: format {str(arrays['format'])!r} is not {FORMAT!r}")
    arch = arrays["architecture"]
    if arch.dtype.kind != "U" or arch.ndim != 1:
        raise ValueError(f"{path}: 'architecture' must be a 1-D array of JSON strings")
    layers = []
    for i, text in enumerate(arch):
        try:
            config = json.loads(str(text))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: layer {i}'s description is not valid JSON ({err})") from err
        try:
            layers.append(layer_from_config(config))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: layer {i}: {err}") from err
    model = Sequential(*layers)
    expected = set()
    for i, layer in enumerate(layers):
        for kind in ("param", "buffer"):
            store = getattr(layer, kind + "s")
            for name, current in store.items():
                key = f"{kind}/{i}.{name}"
                expected.add(key)
                if key not in arrays:
                    raise ValueError(f"{path}: {key} is missing; the architecture says layer {i} "
                                     f"({layer!r}) has a {kind} '{name}' of shape {current.shape}")
                value = arrays[key]
                if value.shape != current.shape:
                    raise ValueError(f"{path}: {key} has shape {value.shape}, but layer {i} "
                                     f"({layer!r}) needs {current.shape}")
                if value.dtype.kind != "f":
                    raise ValueError(f"{path}: {key} has dtype {value.dtype}; the rule is "
                                     "floating point")
                if not np.all(np.isfinite(value)):
                    raise ValueError(f"{path}: {key} contains NaN or infinity")
                store[name] = value.astype(current.dtype)
    stray = {k for k in arrays if k.startswith(("param/", "buffer/"))} - expected
    if stray:
        raise ValueError(f"{path}: arrays {sorted(stray)} belong to no layer of the architecture "
                         "(file and architecture do not match)")
    for layer in layers:
        if layer.params:
            layer.grads = {name: np.zeros_like(p) for name, p in layer.params.items()}
    metadata = _json_string(arrays, "metadata", path)
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: 'metadata' must be a JSON object, got {metadata!r}")
    return model, metadata


def load_model_with_metadata(path: str | os.PathLike[str]) -> tuple[Sequential, dict]:
    """(model in evaluation mode, metadata dict) from a file written by `save_model`.

    Raises FileNotFoundError if the file is missing, ValueError if it is truncated,
    corrupt, not a cnnlib model, or its arrays do not fit its architecture.
    """
    model, metadata = model_from_arrays(read_npz(path), Path(path))
    return model.eval(), metadata


def load_model(path: str | os.PathLike[str]) -> Sequential:
    """The model saved at `path` (by `save_model` or as a training checkpoint), in eval mode."""
    return load_model_with_metadata(path)[0]
