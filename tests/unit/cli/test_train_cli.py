"""`python -m cnnlib.train`: it trains and saves, resumes after Ctrl-C, stops on NaN, and
refuses bad arguments and data before any slow work (the reference network on a few dozen
synthetic 32×32 images in the official CIFAR-10 format, so nothing depends on the shared
data)."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from training_helpers import NAMES, interrupt_at, write_cifar_folder

from cnnlib.cli import train as train_cli
from cnnlib.nn.models import fast_network, reference_network
from cnnlib.nn.serialization import load_model_with_metadata
from cnnlib.training import Trainer, recipes
from cnnlib.training.data import load_cifar10


@pytest.fixture
def cifar_dir(tmp_path: Path) -> Path:
    return write_cifar_folder(tmp_path / "data")


@pytest.fixture
def narrow_network(monkeypatch):
    """The reference network's layout at 1/8 of its width: the command line runs as it
    does for real, in a fraction of the time (the entry-point test uses the full one)."""
    narrow = functools.partial(reference_network, widths=(4, 8, 16), hidden=16)
    monkeypatch.setattr(recipes, "reference_network", narrow)
    monkeypatch.setattr(recipes, "fast_network",
                        functools.partial(fast_network, widths=(4, 8, 16), directions=3))


# ----------------------------------------------------------------------- command line


def run_main(argv, capsys):
    code = train_cli.main([str(a) for a in argv] + ["--no-progress"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_trains_and_writes_a_loadable_model(cifar_dir, tmp_path, capsys, narrow_network):
    out = tmp_path / "model.npz"
    code, _, err = run_main(["--data", cifar_dir, "--epochs", 1, "--batch-size", 16,
                             "--out", out], capsys)
    assert code == 0, err
    model, meta = load_model_with_metadata(out)
    assert meta["class_names"] == NAMES and meta["train_images"] == 48
    assert meta["config"]["epochs"] == 1 and meta["config"]["test_flip"] is True
    assert (tmp_path / "model.ckpt.npz").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "model.ckpt.npz", "model.npz"]
    std = model.layers[0].buffers["std"]
    assert model.layers[0].buffers["mean"].shape == (3,) and np.all((std > 60) & (std < 90))


def test_cli_default_is_the_reference_network_as_the_contract_says(cifar_dir, tmp_path,
                                                                   capsys, narrow_network):
    # DESIGN.md: `python -m cnnlib.train --data DIR --out model.npz` "trains the book's
    # reference network"; programs outside this repository rely on it.
    out = tmp_path / "model.npz"
    code, _, err = run_main(["--data", cifar_dir, "--epochs", 1, "--batch-size", 16,
                             "--out", out], capsys)
    assert code == 0, err
    assert err.startswith("Training the reference network")
    model, meta = load_model_with_metadata(out)
    assert meta["recipe"] == "book50" and meta["config"]["ema_decay"] == 0
    assert [type(layer).__name__ for layer in model.layers] == [
        type(layer).__name__ for layer in recipes.reference_network(0).layers]


def test_cli_recipe_fast12_saves_the_weight_average(cifar_dir, tmp_path, capsys,
                                                    narrow_network):
    out = tmp_path / "model.npz"
    code, _, err = run_main(["--data", cifar_dir, "--recipe", "fast12", "--epochs", 2,
                             "--batch-size", 16, "--out", out], capsys)
    assert code == 0, err
    assert err.startswith("Training the fast network")
    model, meta = load_model_with_metadata(out)
    assert meta["recipe"] == "fast12"
    assert (meta["config"]["ema_decay"], meta["config"]["test_shift"],
            meta["config"]["alternating_flip"], meta["config"]["crop_padding"],
            meta["config"]["lr"]) == (0.99, 0, True, 2, 0.1)
    # The checkpoint holds the raw weights (training goes on from them) and the average;
    # the model file holds the average, which is what was scored.
    trainer = Trainer.from_checkpoint(tmp_path / "model.ckpt.npz",
                                      *load_cifar_training(cifar_dir))
    raw = trainer.model.params
    with trainer.scoring() as averaged:
        for key, value in model.params.items():
            np.testing.assert_array_equal(value, averaged.params[key])
    assert any(not np.array_equal(model.params[k], raw[k]) for k in raw)


def test_cli_recipe_fast_trains_the_fast_network_with_its_settings(cifar_dir, tmp_path,
                                                                   capsys, narrow_network):
    out = tmp_path / "model.npz"
    code, _, err = run_main(["--data", cifar_dir, "--recipe", "fast", "--epochs", 1,
                             "--batch-size", 16, "--out", out], capsys)
    assert code == 0, err
    assert err.startswith("Training the fast network")
    model, meta = load_model_with_metadata(out)
    assert meta["recipe"] == "fast" and meta["config"]["epochs"] == 1
    assert meta["config"]["label_smoothing"] == 0.2  # the recipe's, not book50's 0.1
    assert type(model.layers[-3]).__name__ == "MaxPool2D"  # the global pool of fast_network
    assert model.layers[1].params["weight"].shape == (6, 3, 3, 3)  # 2 × 3 whitening filters


def test_cli_ctrl_c_saves_and_resume_matches_uninterrupted(cifar_dir, tmp_path, capsys,
                                                           monkeypatch, narrow_network):
    common = ["--data", cifar_dir, "--epochs", 2, "--batch-size", 16, "--limit", 32]
    code, _, err = run_main(common + ["--out", tmp_path / "whole.npz"], capsys)
    assert code == 0, err

    original = Trainer.fit
    def fit_with_ctrl_c(self, *args, **kwargs):
        return original(self, *args, **kwargs, on_step=interrupt_at(3, "signal"))
    monkeypatch.setattr(Trainer, "fit", fit_with_ctrl_c)
    out = tmp_path / "part.npz"
    code, _, err = run_main(common + ["--out", out], capsys)
    assert code == 130
    assert "Interrupted at epoch 2, step 1 of 2" in err and "--resume" in err
    assert not out.exists()
    monkeypatch.setattr(Trainer, "fit", original)

    code, _, err = run_main(common + ["--out", out, "--resume", tmp_path / "part.ckpt.npz"],
                            capsys)
    assert code == 0, err
    assert "Resuming" in err
    whole, _ = load_model_with_metadata(tmp_path / "whole.npz")
    resumed, _ = load_model_with_metadata(out)
    for key, value in whole.params.items():
        np.testing.assert_array_equal(resumed.params[key], value, err_msg=key)


@pytest.mark.filterwarnings("error")  # diverging prints one message, no NumPy warnings
def test_cli_nan_stop_exits_nonzero_naming_the_step(cifar_dir, tmp_path, capsys, narrow_network):
    code, _, err = run_main(["--data", cifar_dir, "--epochs", 1, "--batch-size", 16,
                             "--lr", 1e30, "--schedule", "constant",
                             "--out", tmp_path / "m.npz"], capsys)
    assert code == 1
    assert "diverged" in err and "epoch 1, step" in err
    assert not (tmp_path / "m.npz").exists()


def test_cli_resume_refuses_a_changed_recipe(cifar_dir, tmp_path, capsys, narrow_network):
    args = ["--data", cifar_dir, "--epochs", 1, "--batch-size", 16, "--limit", 16]
    assert run_main(args + ["--out", tmp_path / "m.npz"], capsys)[0] == 0
    code, _, err = run_main(["--data", cifar_dir, "--epochs", 3, "--limit", 16, "--resume",
                             tmp_path / "m.ckpt.npz", "--out", tmp_path / "m2.npz"], capsys)
    assert code == 2 and "--epochs 3 differs from the checkpoint's 1" in err


@pytest.mark.parametrize(("extra", "match"), [
    (["--limit", "0"], "--limit 0 must be at least 1"),
    (["--limit", "49"], "--limit 49 must lie in 1..48"),
    (["--epochs", "0"], "epochs = 0"),
    (["--resume", "nope.npz"], "--resume nope.npz does not exist"),
    (["--subset", "book"], "data_batch_1 holds 12 images, but the book's subset takes its "
                           "first 1102"),
    (["--validation", "48"], "--validation 48: size = 48 must be less than the number of "
                             "images (48)"),
])
def test_cli_bad_arguments_exit_2_with_a_message(cifar_dir, tmp_path, capsys, extra, match):
    code, _, err = run_main(["--data", cifar_dir, "--out", tmp_path / "m.npz"] + extra, capsys)
    assert code == 2 and match in err
    assert len(err.strip().splitlines()) == 1, err  # one line, no traceback


@pytest.mark.parametrize(("extra", "match"), [
    (["--out", "{tmp}/missing/dir/m.npz"], "the folder {tmp}/missing/dir does not exist"),
    (["--out", "{tmp}"], "--out {tmp} is a folder"),
    (["--out", "{tmp}/m.npz", "--checkpoint", "{tmp}/nope/c.npz"],
     "--checkpoint {tmp}/nope/c.npz: the folder {tmp}/nope does not exist"),
    (["--epochs", "-3"], "epochs = -3"),
    (["--resume", "{tmp}"], "is a folder, not a file"),
    (["--validation", "-1"], "--validation -1 must be 0 (none) or a number of images"),
])
def test_cli_fails_before_loading_any_data(tmp_path, capsys, monkeypatch, extra, match):
    def must_not_load(*args, **kwargs):
        raise AssertionError("data were loaded before the arguments were checked")
    monkeypatch.setattr(train_cli, "load_cifar10", must_not_load)
    args = [a.format(tmp=tmp_path) for a in extra]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "m.npz")]
    code, _, err = run_main(["--data", tmp_path] + args, capsys)
    assert code == 2 and match.format(tmp=tmp_path) in err, err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_cli_refuses_a_folder_missing_a_batch(cifar_dir, tmp_path, capsys):
    (cifar_dir / "cifar-10-batches-py" / "data_batch_5").unlink()
    code, _, err = run_main(["--data", cifar_dir, "--out", tmp_path / "m.npz"], capsys)
    assert code == 2 and "lacks data_batch_5" in err


def load_cifar_training(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    x, y, _, _ = load_cifar10(folder)
    return x, y


def test_cli_uses_every_image_unless_told_otherwise(cifar_dir, tmp_path, capsys,
                                                     narrow_network):
    code, _, err = run_main(["--data", cifar_dir, "--epochs", 1, "--batch-size", 16,
                             "--out", tmp_path / "m.npz"], capsys)
    assert code == 0, err
    assert load_model_with_metadata(tmp_path / "m.npz")[1]["train_images"] == 48


def test_cli_holds_out_validation_images_and_reports_them(cifar_dir, tmp_path, capsys,
                                                         narrow_network):
    code, _, err = run_main(["--data", cifar_dir, "--epochs", 1, "--batch-size", 16,
                             "--validation", 4, "--out", tmp_path / "m.npz"], capsys)
    assert code == 0, err
    meta = load_model_with_metadata(tmp_path / "m.npz")[1]
    assert meta["train_images"] == 44 and meta["validation_images"] == 4
    assert 0 <= meta["history"]["val_acc"][0] <= 1 and meta["history"]["test_acc"] == [None]
    assert "validation accuracy" in err


def test_cli_missing_data_folder_exit_2(tmp_path, capsys):
    code, _, err = run_main(["--data", tmp_path / "nowhere", "--out", tmp_path / "m.npz"], capsys)
    assert code == 2 and "does not exist" in err


def test_python_dash_m_entry_point(cifar_dir, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "cnnlib.train", "--data", str(cifar_dir), "--epochs", "1",
         "--limit", "16", "--batch-size", "16", "--out", str(tmp_path / "m.npz")],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "epoch 1/1" in proc.stderr  # the tqdm progress bar
    assert "loss=" in proc.stderr and "acc=" in proc.stderr
    assert (tmp_path / "m.npz").exists()


def test_cli_write_failure_mid_run_is_one_clear_line(cifar_dir, tmp_path, capsys, monkeypatch,
                                                     narrow_network):
    def disk_full(self, path):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Trainer, "save_checkpoint", disk_full)
    code, _, err = run_main(["--data", cifar_dir, "--epochs", 1, "--batch-size", 16,
                             "--limit", 16, "--out", tmp_path / "m.npz"], capsys)
    assert code == 1 and "could not write the checkpoint" in err and "No space left" in err
    assert "Traceback" not in err
