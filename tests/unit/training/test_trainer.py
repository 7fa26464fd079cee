"""The training loop: reproducibility, history, validation, and the clean stop when a run
diverges (a tiny network on 8×8 images, milliseconds per step)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from training_helpers import (
    assert_same_weights,
    poison_at,
    tiny_model,
    tiny_problem,
    tiny_trainer,
    weights,
)

from cnnlib.nn.serialization import load_model_with_metadata, read_npz
from cnnlib.training import History, TrainConfig, Trainer, TrainingDiverged
from cnnlib.training.metrics import evaluate_model

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
    from cnnlib.training.metrics import evaluate_model
    assert history.val_acc[-1] == evaluate_model(model, x[30:], y[30:], flip=True)["accuracy"]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"x_val": np.zeros((2, 8, 8, 3))}, "pass both x_val and y_val"),
    ({"x_val": np.zeros((2, 8, 8, 3)), "y_val": np.zeros(3, int)}, r"\(x_val/y_val\).*got 2 images and labels of shape \(3,\)"),
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


# ---------------------------------------------------------------------------- NaN stop


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




# ------------------------------------------------------- the fast recipe's options


def test_the_fast_recipe_options_are_off_by_default():
    c = TrainConfig()
    assert (c.ema_decay, c.test_shift, c.alternating_flip) == (0.0, 0, False)
    trainer = tiny_trainer()
    assert trainer.average is None and trainer.flips is None


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"ema_decay": 1.0}, "ema_decay"),
    ({"ema_decay": -0.1}, "ema_decay"),
    ({"test_shift": -2}, "test_shift"),
    ({"alternating_flip": True, "flip": False}, "alternating_flip = True needs flip"),
])
def test_config_rejects_bad_fast_recipe_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_alternating_flip_mirrors_each_image_in_every_other_epoch():
    trainer = tiny_trainer(epochs=3, crop_padding=0, alternating_flip=True)
    x, _ = tiny_problem()
    seen = []  # (epoch, batch the network was given)
    forward = trainer.model.forward

    def recording(batch):
        if trainer.model.training:
            seen.append((trainer.epoch, batch.copy()))
        return forward(batch)

    trainer.model.forward = recording
    trainer.fit(progress=False)
    mirrored = {}  # image index -> [was it mirrored in epoch 0, 1, 2]
    for epoch in range(3):
        order = trainer._permutation(epoch)
        batches = [b for e, b in seen if e == epoch]
        for k, batch in enumerate(batches):
            idx = order[k * 16:(k + 1) * 16]  # tiny_trainer's batch size
            for i, image in zip(idx, batch, strict=True):
                flipped = np.array_equal(image, x[i, :, ::-1])
                assert flipped or np.array_equal(image, x[i])
                mirrored.setdefault(int(i), []).append(flipped)
    for i, pattern in mirrored.items():
        assert pattern == [bool(trainer.flips[i]), not trainer.flips[i], bool(trainer.flips[i])]
    assert 0 < trainer.flips.sum() < len(trainer.flips)


def test_alternating_flip_needs_the_batch_indices():
    trainer = tiny_trainer(alternating_flip=True)
    x, y = tiny_problem()
    with pytest.raises(ValueError, match="indices"):
        trainer.train_step(x[:4], y[:4])


def test_test_shift_scores_with_the_shifted_views():
    trainer = tiny_trainer(epochs=1, test_shift=1)
    trainer.fit(progress=False)
    x, y = tiny_problem()
    expected = evaluate_model(trainer.model, x[:10], y[:10], flip=True, shift=1)
    assert trainer.history.test_loss[-1] == pytest.approx(expected["loss"])
