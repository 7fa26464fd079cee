"""The training loop and `python -m cnnlib.train`: reproducibility, checkpoints, resume,
Ctrl-C, NaN stop, and the command line.

Loop tests use a tiny network on 8×8 images (milliseconds per step); command-line tests
use the real reference network on a few dozen synthetic 32×32 images written in the
official CIFAR-10 format to a temporary folder, so nothing depends on the shared data.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnlib import train as train_cli
from cnnlib.models import reference_network
from cnnlib.serialization import load_model_with_metadata, read_npz
from cnnlib.training import (
    History,
    TrainConfig,
    Trainer,
    TrainingDiverged,
    TrainingInterrupted,
)

NAMES = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


# ------------------------------------------------------------------------------ helpers


def write_cifar_folder(root: Path, n_train=(12, 9, 9, 9, 9), n_test=20, seed=0) -> Path:
    """A cifar-10-batches-py/ folder of random images, in the official file format."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)

    def write(name, n):
        batch = {b"batch_label": name.encode(), b"labels": rng.integers(0, 10, n).tolist(),
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))

    for k, n in enumerate(n_train, start=1):
        write(f"data_batch_{k}", n)
    write("test_batch", n_test)
    meta = {b"label_names": [name.encode() for name in NAMES], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return root


@pytest.fixture
def cifar_dir(tmp_path: Path) -> Path:
    return write_cifar_folder(tmp_path / "data")


@pytest.fixture
def narrow_network(monkeypatch):
    """The reference network's layout at 1/8 of its width: the command line runs as it
    does for real, in a fraction of the time (the entry-point test uses the full one)."""
    narrow = functools.partial(reference_network, widths=(4, 8, 16), hidden=16)
    monkeypatch.setattr(train_cli, "reference_network", narrow)


def tiny_problem(n=40, seed=0):
    """8×8 images whose label is the brightest channel: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    y = rng.integers(0, 3, n)
    x[np.arange(n), :, :, y] = np.maximum(x[np.arange(n), :, :, y], 200)
    return x, y


def tiny_model(seed=0):
    """The reference network's layout at 8×8 pixels, 4 channels, 3 classes."""
    return reference_network(seed, widths=(4,), hidden=8, num_classes=3, image_size=8,
                             mean=(127.5,) * 3, std=(74.0,) * 3)


def tiny_trainer(epochs=3, seed=0, lr=0.05, **kw) -> Trainer:
    x, y = tiny_problem()
    model = tiny_model(seed)
    config = TrainConfig(epochs=epochs, batch_size=16, lr=lr, seed=seed, **kw)
    return Trainer(model, x, y, config, x_test=x[:10], y_test=y[:10])


def weights(trainer: Trainer) -> dict[str, np.ndarray]:
    out = {k: v.copy() for k, v in trainer.model.params.items()}
    for i, layer in enumerate(trainer.model.layers):
        out.update({f"{i}.{k}": v.copy() for k, v in getattr(layer, "buffers", {}).items()})
    return out


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def interrupt_at(global_step: int, how: str = "raise"):
    """on_step callback: Ctrl-C once `global_step` steps are done (raised, or a real SIGINT)."""
    def on_step(trainer: Trainer) -> None:
        if trainer.global_step == global_step:
            if how == "signal":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise KeyboardInterrupt
    return on_step


# ---------------------------------------------------------------------- the loop itself


def test_training_reduces_the_loss_and_records_history():
    trainer = tiny_trainer(epochs=4)
    history = trainer.fit(progress=False)
    assert history.epoch == [1, 2, 3, 4]
    assert history.train_loss[-1] < history.train_loss[0]
    assert len(history.test_acc) == 4 and all(0 <= a <= 1 for a in history.test_acc)
    assert all(s > 0 for s in history.seconds)


def test_same_seed_gives_identical_weights():
    a, b = tiny_trainer(seed=3), tiny_trainer(seed=3)
    a.fit(progress=False)
    b.fit(progress=False)
    assert_same_weights(weights(a), weights(b))


def test_different_seeds_give_different_weights():
    a, b = tiny_trainer(seed=1), tiny_trainer(seed=2)
    a.fit(progress=False)
    b.fit(progress=False)
    assert not np.array_equal(a.model.params["1.weight"], b.model.params["1.weight"])


def test_verbose_prints_one_line_per_epoch(capsys):
    tiny_trainer(epochs=2).fit(progress=False, verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch   2/2: train loss")
    assert "| test loss" in lines[1] and len(lines[1]) < 80


def test_batchnorm_scales_are_not_weight_decayed():
    trainer = tiny_trainer()
    opt = trainer.optimizer
    assert opt.no_decay("2.weight", trainer.model.params["2.weight"])  # BN γ: 1-D
    assert not opt.no_decay("1.weight", trainer.model.params["1.weight"])  # conv: 4-D


def test_history_round_trips_through_json_with_nan():
    h = History(epoch=[1], train_loss=[0.5], train_acc=[0.9], test_loss=[float("nan")],
                test_acc=[float("nan")], lr=[0.1], seconds=[1.0])
    back = History.from_dict(json.loads(json.dumps(h.to_dict())))
    assert back.train_loss == [0.5] and np.isnan(back.test_loss[0])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"epochs": 0}, "epochs"),
    ({"batch_size": 1.5}, "batch_size"),
    ({"lr": -1.0}, "lr"),
    ({"label_smoothing": 1.0}, "label_smoothing"),
    ({"schedule": "step"}, "schedule"),
    ({"seed": -1}, "seed"),
])
def test_config_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_validation_images_are_scored_every_epoch_and_the_test_images_never():
    x, y = tiny_problem()
    model = tiny_model()
    trainer = Trainer(model, x[:30], y[:30], TrainConfig(epochs=2, batch_size=16),
                      x_val=x[30:], y_val=y[30:])
    history = trainer.fit(progress=False)
    assert len(history.val_acc) == 2 and all(0 <= a <= 1 for a in history.val_acc)
    assert all(np.isfinite(history.val_loss)) and all(np.isnan(history.test_acc))
    from cnnlib.metrics import evaluate_model
    assert history.val_acc[-1] == evaluate_model(model, x[30:], y[30:], flip=True)["accuracy"]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"x_val": np.zeros((2, 8, 8, 3))}, "pass both x_val and y_val"),
    ({"x_val": np.zeros((2, 8, 8, 3)), "y_val": np.zeros(3, int)}, "x_val has 2, y_val 3"),
    ({"y_test": np.zeros(3, int)}, "pass both x_test and y_test"),
])
def test_held_out_images_need_their_labels(kwargs, match):
    x, y = tiny_problem()
    model = tiny_model()
    with pytest.raises(ValueError, match=match):
        Trainer(model, x, y, TrainConfig(epochs=1), **kwargs)


def test_verbose_line_shows_the_validation_score(capsys):
    x, y = tiny_problem()
    model = tiny_model()
    Trainer(model, x[:30], y[:30], TrainConfig(epochs=1, batch_size=16),
            x_val=x[30:], y_val=y[30:]).fit(progress=False, verbose=True)
    line = capsys.readouterr().out
    assert "| val loss" in line and "test" not in line


def test_history_written_before_validation_existed_still_loads():
    old = {"epoch": [1, 2], "train_loss": [1.0, 0.5], "train_acc": [0.3, 0.6],
           "test_loss": [None, None], "test_acc": [None, None], "lr": [0.1, 0.1],
           "seconds": [1.0, 1.0]}
    h = History.from_dict(old)
    assert len(h.val_acc) == 2 and np.isnan(h.val_acc).all() and np.isnan(h.val_loss).all()


# ------------------------------------------------------------ checkpoints and resuming


def test_checkpoint_round_trip_restores_everything(tmp_path):
    trainer = tiny_trainer()
    with pytest.raises(TrainingInterrupted):
        trainer.fit(checkpoint=tmp_path / "c.npz", progress=False, on_step=interrupt_at(5))
    x, y = tiny_problem()
    back = Trainer.from_checkpoint(tmp_path / "c.npz", x, y)
    assert (back.epoch, back.step) == (trainer.epoch, trainer.step) == (1, 2)
    assert_same_weights(weights(back), weights(trainer))
    for key, v in trainer.optimizer.velocity.items():
        np.testing.assert_array_equal(back.optimizer.velocity[key], v)
    assert back.aug_rng.bit_generator.state == trainer.aug_rng.bit_generator.state
    dropout = trainer.model.layers[-2]
    assert back.model.layers[-2].rng.bit_generator.state == dropout.rng.bit_generator.state
    assert back.history.to_dict() == trainer.history.to_dict()
    assert back.config == trainer.config


@pytest.mark.parametrize(("stop_at", "how"), [
    (3, "raise"),    # the end of epoch 1 (3 steps per epoch): an epoch-boundary resume
    (4, "raise"),    # mid-epoch
    (7, "signal"),   # a real SIGINT, mid-epoch
])
def test_resumed_run_equals_an_uninterrupted_one(tmp_path, stop_at, how):
    whole = tiny_trainer()
    whole.fit(progress=False)
    ckpt = tmp_path / "ckpt.npz"
    first = tiny_trainer()
    with pytest.raises(TrainingInterrupted) as info:
        first.fit(checkpoint=ckpt, progress=False, on_step=interrupt_at(stop_at, how))
    assert info.value.checkpoint == ckpt
    x, y = tiny_problem()
    resumed = Trainer.from_checkpoint(ckpt, x, y, x_test=x[:10], y_test=y[:10])
    assert resumed.global_step == stop_at
    resumed.fit(progress=False)
    assert_same_weights(weights(resumed), weights(whole))
    assert resumed.history.to_dict() | {"seconds": []} == whole.history.to_dict() | {"seconds": []}


def test_sigint_handler_is_restored_after_training():
    before = signal.getsignal(signal.SIGINT)
    tiny_trainer(epochs=1).fit(progress=False)
    assert signal.getsignal(signal.SIGINT) is before


def test_checkpoint_written_every_epoch_atomically(tmp_path):
    ckpt = tmp_path / "ckpt.npz"
    seen = []
    trainer = tiny_trainer(epochs=2)
    trainer.fit(checkpoint=ckpt, progress=False,
                on_step=lambda t: seen.append(ckpt.exists()))
    assert seen[:3] == [False, False, False] and seen[3] is True
    assert json.loads(str(read_npz(ckpt)["trainer"]))["epoch"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz"]  # no temporary files


def test_resume_refuses_other_training_data(tmp_path):
    trainer = tiny_trainer(epochs=1)
    trainer.fit(checkpoint=tmp_path / "c.npz", progress=False)
    x, y = tiny_problem(seed=1)
    with pytest.raises(ValueError, match="other data"):
        Trainer.from_checkpoint(tmp_path / "c.npz", x, y)


def test_resume_refuses_other_validation_images(tmp_path):
    x, y = tiny_problem()
    model = tiny_model()
    Trainer(model, x[:30], y[:30], TrainConfig(epochs=1, batch_size=16),
            x_val=x[30:], y_val=y[30:]).fit(checkpoint=tmp_path / "c.npz", progress=False)
    with pytest.raises(ValueError, match="other validation images"):
        Trainer.from_checkpoint(tmp_path / "c.npz", x[:30], y[:30])
    same = Trainer.from_checkpoint(tmp_path / "c.npz", x[:30], y[:30], x_val=x[30:],
                                   y_val=y[30:])
    assert same.epoch == 1


def test_resume_from_a_plain_model_file_is_refused(tmp_path):
    from cnnlib.serialization import save_model
    save_model(tmp_path / "m.npz", tiny_trainer().model)
    x, y = tiny_problem()
    with pytest.raises(ValueError, match="not a training checkpoint"):
        Trainer.from_checkpoint(tmp_path / "m.npz", x, y)


# ---------------------------------------------------------------------------- NaN stop


def poison_at(global_step: int):
    def on_step(trainer: Trainer) -> None:
        if trainer.global_step == global_step:
            trainer.model.params["1.weight"][...] = np.nan  # what an exploding step leaves
    return on_step


@pytest.mark.filterwarnings("error")  # diverging prints one message, no NumPy warnings
def test_nan_loss_stops_with_epoch_and_step_and_keeps_last_good_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt.npz"
    trainer = tiny_trainer()
    with pytest.raises(TrainingDiverged) as info:
        trainer.fit(checkpoint=ckpt, progress=False, on_step=poison_at(4))
    message = str(info.value)
    assert "epoch 2, step 2 of 3" in message and "last good checkpoint" in message
    assert (info.value.epoch, info.value.step) == (2, 2)
    model, _ = load_model_with_metadata(ckpt)  # still the clean end of epoch 1
    assert all(np.isfinite(p).all() for p in model.params.values())
    assert json.loads(str(read_npz(ckpt)["trainer"]))["epoch"] == 1


@pytest.mark.filterwarnings("error")  # diverging prints one message, no NumPy warnings
def test_huge_learning_rate_diverges_cleanly():
    trainer = tiny_trainer(lr=1e30, schedule="constant", weight_decay=0.0)
    with pytest.raises(TrainingDiverged, match=r"epoch \d+, step \d+"):
        trainer.fit(progress=False)


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
