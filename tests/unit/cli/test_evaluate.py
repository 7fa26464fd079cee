"""`python -m cnnlib.evaluate` and the metrics behind it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from training_helpers import NAMES, write_cifar_folder

from cnnlib.cli import evaluate as evaluate_cli
from cnnlib.nn.models import reference_network
from cnnlib.nn.normalization import channel_stats
from cnnlib.nn.serialization import save_model
from cnnlib.training.data import load_cifar10
from cnnlib.training.metrics import (
    confusion_matrix,
    evaluate_model,
    per_class_accuracy,
    predict_logits,
)


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    return write_cifar_folder(tmp_path_factory.mktemp("data"), n_train=(4, 3, 3, 3, 3), n_test=30)


@pytest.fixture(scope="module")
def model_file(cifar_dir, tmp_path_factory):
    x_train = load_cifar10(cifar_dir)[0]
    model = reference_network(0, widths=(4, 8), hidden=8, mean=channel_stats(x_train)[0],
                              std=channel_stats(x_train)[1])
    path = tmp_path_factory.mktemp("model") / "m.npz"
    save_model(path, model, {"class_names": NAMES})
    return path


def model_with_random_head(cifar_dir, seed: int):
    """A tiny reference network whose head is random (a zero head would predict one class
    for every view, and no test-time view could change the score)."""
    x_train = load_cifar10(cifar_dir)[0]
    mean, std = channel_stats(x_train)
    model = reference_network(seed, widths=(4, 8), hidden=8, mean=mean, std=std)
    model.layers[-1].params["weight"][:] = np.random.default_rng(seed).normal(size=(8, 10))
    return model


def test_last_line_is_json_accuracy_and_n(cifar_dir, model_file, capsys):
    assert evaluate_cli.main(["--model", str(model_file), "--data", str(cifar_dir)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert set(result) == {"accuracy", "n"} and result["n"] == 30
    _, _, x_test, y_test = load_cifar10(cifar_dir)
    from cnnlib.nn.serialization import load_model
    expected = evaluate_model(load_model(model_file), x_test, y_test)["accuracy"]
    assert result["accuracy"] == pytest.approx(expected)


def test_prints_per_class_accuracy_with_names_from_batches_meta(cifar_dir, model_file, capsys):
    evaluate_cli.main(["--model", str(model_file), "--data", str(cifar_dir)])
    out = capsys.readouterr().out
    for name in NAMES:  # the folder's own names, not the official ones
        assert any(line.startswith(name + " ") for line in out.splitlines()), name
    assert "all" in out


@pytest.mark.parametrize(("content", "match"), [
    (None, "does not exist"),
    (b"garbage", "truncated or corrupt"),
])
def test_bad_model_file_exits_2_with_a_message(cifar_dir, tmp_path, capsys, content, match):
    path = tmp_path / "m.npz"
    if content is not None:
        path.write_bytes(content)
    assert evaluate_cli.main(["--model", str(path), "--data", str(cifar_dir)]) == 2
    assert match in capsys.readouterr().err


def test_model_for_other_images_exits_2(cifar_dir, tmp_path, capsys):
    path = tmp_path / "m.npz"
    save_model(path, reference_network(0, widths=(4,), hidden=8, image_size=8))
    assert evaluate_cli.main(["--model", str(path), "--data", str(cifar_dir)]) == 2
    assert "Linear expects" in capsys.readouterr().err


def test_follows_the_models_test_flip_unless_told_not_to(cifar_dir, tmp_path, capsys):
    model = model_with_random_head(cifar_dir, 1)
    path = tmp_path / "m.npz"
    save_model(path, model, {"config": {"test_flip": True}})
    _, _, x_test, y_test = load_cifar10(cifar_dir)
    flipped = evaluate_model(model, x_test, y_test, flip=True)["accuracy"]
    alone = evaluate_model(model, x_test, y_test)["accuracy"]

    assert evaluate_cli.main(["--model", str(path), "--data", str(cifar_dir)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1])["accuracy"] == pytest.approx(flipped)
    assert f"each image alone: {alone:.1%}" in out[-2]

    assert evaluate_cli.main(["--model", str(path), "--data", str(cifar_dir), "--no-flip"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1])["accuracy"] == pytest.approx(alone)


def test_follows_the_models_test_shift_too(cifar_dir, tmp_path, capsys):
    model = model_with_random_head(cifar_dir, 2)
    path = tmp_path / "m.npz"
    save_model(path, model, {"config": {"test_flip": True, "test_shift": 2}})
    _, _, x_test, y_test = load_cifar10(cifar_dir)
    views = evaluate_model(model, x_test, y_test, flip=True, shift=2)
    flip_only = evaluate_model(model, x_test, y_test, flip=True)
    assert not np.allclose(views["logits"], flip_only["logits"])  # the shifts count

    assert evaluate_cli.main(["--model", str(path), "--data", str(cifar_dir)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1])["accuracy"] == pytest.approx(views["accuracy"])
    assert "shifted by ±2 pixels" in out[-2] and "test_shift" in out[-2]
    assert f"(cross-entropy {views['loss']:.3f})" in out[-3]


def test_python_dash_m_entry_point(cifar_dir, model_file):
    proc = subprocess.run([sys.executable, "-m", "cnnlib.evaluate", "--model", str(model_file),
                           "--data", str(cifar_dir)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["n"] == 30


# ------------------------------------------------------------------------------ metrics


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    m = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_allclose(per_class_accuracy(m), [0.5, 1.0, 2 / 3])


def test_per_class_accuracy_of_an_absent_class_is_nan():
    acc = per_class_accuracy(confusion_matrix(np.array([0]), np.array([0]), 2))
    assert acc[0] == 1.0 and np.isnan(acc[1])


def test_confusion_matrix_rejects_out_of_range_labels():
    with pytest.raises(ValueError, match=r"must lie in \[0, 3\)"):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), 3)


def test_flip_averages_the_logits_of_image_and_mirror_image(model_file):
    from cnnlib.nn.serialization import load_model
    model = load_model(model_file)
    model.layers[-1].params["weight"][:] = np.random.default_rng(0).normal(size=(8, 10))
    images = np.random.default_rng(1).integers(0, 256, (7, 32, 32, 3), dtype=np.uint8)
    expected = (model.forward(images) + model.forward(images[:, :, ::-1])) / 2
    np.testing.assert_allclose(predict_logits(model, images, batch_size=3, flip=True),
                               expected, rtol=1e-5, atol=1e-6)


def test_book_subset_on_a_folder_too_small_exits_2(cifar_dir, model_file, capsys):
    code = evaluate_cli.main(["--model", str(model_file), "--data", str(cifar_dir),
                              "--subset", "book"])
    err = capsys.readouterr().err
    assert code == 2 and "the book's subset takes its first" in err


def test_missing_model_fails_before_reading_data(tmp_path, capsys, monkeypatch):
    def must_not_load(*args, **kwargs):
        raise AssertionError("data were loaded before the model file was checked")
    monkeypatch.setattr(evaluate_cli, "load_cifar10", must_not_load)
    code = evaluate_cli.main(["--model", str(tmp_path / "nope.npz"), "--data", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err == f"error: --model {tmp_path / 'nope.npz'} does not exist\n"
