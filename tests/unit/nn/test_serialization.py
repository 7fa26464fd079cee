"""Model files: round trip, atomic writes, and clear errors for bad files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import cnnlib
import cnnlib.nn.serialization as ser
from cnnlib import AvgPool2D, Conv2D, Linear, Sequential, Tanh
from cnnlib.nn.layers import GlobalAvgPool2D
from cnnlib.nn.models import reference_network
from cnnlib.nn.serialization import (
    layer_config,
    layer_from_config,
    load_model,
    load_model_with_metadata,
    model_arrays,
    save_model,
)


def small_model(seed=0):
    return reference_network(seed, widths=(4, 8), hidden=8, mean=(120, 110, 100),
                             std=(60, 61, 62), image_size=8)


def trained_looking(model):
    """Give batch-norm running statistics non-default values, as training would."""
    rng = np.random.default_rng(1)
    for layer in model.layers:
        for name, buf in getattr(layer, "buffers", {}).items():
            if name.startswith("running"):
                buf[:] = rng.uniform(0.5, 2.0, buf.shape)
    return model


def images(n=5):
    return np.random.default_rng(2).integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)


def write_npz(path: Path, arrays: dict) -> Path:
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def test_round_trip_keeps_architecture_weights_buffers_and_predictions(tmp_path):
    model = trained_looking(small_model()).eval()
    save_model(tmp_path / "m.npz", model, {"class_names": ["a", "b"]})
    back, meta = load_model_with_metadata(tmp_path / "m.npz")
    assert repr(back) == repr(model)
    assert meta == {"class_names": ["a", "b"]}
    assert back.training is False
    np.testing.assert_array_equal(back.forward(images()), model.forward(images()))
    for key, value in model_arrays(model).items():
        if key.startswith(("param/", "buffer/")):
            i, name = key.split("/")[1].split(".")
            store = "params" if key.startswith("param/") else "buffers"
            loaded = getattr(back.layers[int(i)], store)[name]
            assert loaded.dtype == np.float32
            np.testing.assert_array_equal(loaded, value, err_msg=key)


@pytest.mark.parametrize("layer", [
    Conv2D(3, 4, 3, stride=2, padding=1, seed=0), AvgPool2D(3, 2), Tanh(), Linear(5, 2, seed=0),
    GlobalAvgPool2D(),
])
def test_every_layer_type_describes_and_rebuilds_itself(layer):
    config = layer_config(layer)
    json.dumps(config)  # JSON-able
    assert repr(layer_from_config(config)) == repr(layer)


def test_a_layer_with_arguments_but_no_config_is_refused_naming_the_fix(tmp_path):
    class Scale(cnnlib.Layer):
        def __init__(self, factor):
            self.factor = factor

        def forward(self, x):
            return x * self.factor

        def backward(self, d):
            return d * self.factor

    with pytest.raises(ValueError, match="cannot save a layer of type Scale: .*give it a config"):
        save_model(tmp_path / "m.npz", Sequential(Scale(2.0)))


def test_a_new_layer_with_config_is_saved_and_loaded_with_no_table_to_edit(tmp_path):
    class Shift(cnnlib.Layer):
        def __init__(self, amount: float):
            self.amount = amount

        def config(self):
            return {"amount": self.amount}

        def forward(self, x):
            return x + self.amount

        def backward(self, d):
            return d

    class Negate(cnnlib.Layer):  # no constructor arguments: no config() needed
        def forward(self, x):
            return -x

        def backward(self, d):
            return -d

    save_model(tmp_path / "m.npz", Sequential(Shift(1.5), Negate()))
    back = load_model(tmp_path / "m.npz")
    assert [type(layer).__name__ for layer in back.layers] == ["Shift", "Negate"]
    assert back.layers[0].amount == 1.5
    np.testing.assert_array_equal(back.forward(np.ones((1, 2, 2, 1))), -2.5)
    # ... and its repr shows config()'s arguments, with no extra_repr written.
    assert repr(back.layers[0]) == "Shift(amount=1.5)" and repr(back.layers[1]) == "Negate()"


def test_random_state_hook_round_trips_dropout_and_is_none_elsewhere():
    drop = cnnlib.Dropout(0.5, seed=3)
    state = drop.random_state()
    first = drop.forward(np.ones((4, 8)))
    drop.set_random_state(state)
    np.testing.assert_array_equal(drop.forward(np.ones((4, 8))), first)
    assert Tanh().random_state() is None and Linear(2, 3, seed=0).random_state() is None
    with pytest.raises(ValueError, match="Tanh draws no random numbers"):
        Tanh().set_random_state(state)


def test_buffers_are_declared_by_every_layer():
    assert Tanh().buffers == {} and Linear(2, 3, seed=0).buffers == {}


def test_the_file_holds_no_pickled_objects(tmp_path):
    save_model(tmp_path / "m.npz", small_model())
    with np.load(tmp_path / "m.npz", allow_pickle=False) as f:
        assert all(f[k].dtype != object for k in f.files)
        assert f["architecture"].dtype.kind == "U"


def test_name_is_used_as_given_without_npz_suffix(tmp_path):
    save_model(tmp_path / "model", small_model())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    load_model(tmp_path / "model")


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save_model(path, small_model(0))
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"half a file")
        raise KeyboardInterrupt  # Ctrl-C in the middle of writing

    monkeypatch.setattr(ser.np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        save_model(path, small_model(1))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_writing_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_model(tmp_path / "no" / "m.npz", small_model())


# --------------------------------------------------------------------------- bad files


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "absent.npz")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.0])
def test_truncated_file_is_a_clear_value_error(tmp_path, keep):
    path = tmp_path / "m.npz"
    save_model(path, small_model())
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_model(path)


def test_random_bytes_are_a_clear_value_error(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_model(path)


def test_corrupted_array_inside_the_zip_is_a_clear_value_error(tmp_path):
    path = tmp_path / "m.npz"
    save_model(path, small_model())
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["param/1.weight.npy"] = members["param/1.weight.npy"][:40]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_model(path)


def test_pickled_object_arrays_are_refused(tmp_path):
    arrays = model_arrays(small_model())
    arrays["metadata"] = np.array([{"evil": 1}], dtype=object)
    write_npz(tmp_path / "m.npz", arrays)
    with pytest.raises(ValueError, match="truncated or corrupt|pickle"):
        load_model(tmp_path / "m.npz")


def test_npz_that_is_not_a_model(tmp_path):
    write_npz(tmp_path / "m.npz", {"x": np.zeros(3)})
    with pytest.raises(ValueError, match="not a cnnlib model file: it has no 'format'"):
        load_model(tmp_path / "m.npz")


def mutate(tmp_path, change) -> Path:
    arrays = model_arrays(small_model())
    change(arrays)
    return write_npz(tmp_path / "m.npz", arrays)


@pytest.mark.parametrize(("change", "match"), [
    (lambda a: a.update({"param/1.weight": np.zeros((4, 5, 5, 3), np.float32)}),
     r"param/1.weight has shape \(4, 5, 5, 3\), but layer 1 .* needs \(4, 3, 3, 3\)"),
    (lambda a: a.pop("buffer/2.running_var"), "buffer/2.running_var is missing"),
    (lambda a: a.update({"param/99.weight": np.zeros(2, np.float32)}), "belong to no layer"),
    (lambda a: a.update({"param/1.bias": np.zeros(4, np.int64)}), "floating point"),
    (lambda a: a.update({"param/1.bias": np.full(4, np.nan, np.float32)}), "NaN"),
    (lambda a: a.update({"format": np.array("other-format")}), "format 'other-format'"),
    (lambda a: a.update({"architecture": np.array(['{"type": "Conv9D"}'])}),
     "layer 0: .*no known layer type"),
    (lambda a: a.update({"architecture": np.array(['{"type": "Linear", "in_features": 3}'])}),
     "does not fit Linear: TypeError: .*'out_features'"),
    (lambda a: a.update({"architecture": np.array(["not json"])}), "not valid JSON"),
    (lambda a: a.update({"metadata": np.array("[1, 2]")}), "must be a JSON object"),
])
def test_mismatched_or_malformed_contents_name_the_problem(tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        load_model(mutate(tmp_path, change))
