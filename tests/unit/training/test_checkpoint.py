"""Checkpoints: a resumed run equals an uninterrupted one, Ctrl-C saves, and a checkpoint
of other data or a plain model file is refused."""

from __future__ import annotations

import json
import signal

import numpy as np
import pytest
from training_helpers import (
    assert_same_weights,
    interrupt_at,
    tiny_model,
    tiny_problem,
    tiny_trainer,
    weights,
)

from cnnlib.nn.serialization import read_npz
from cnnlib.training import TrainConfig, Trainer, TrainingInterrupted

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
    from cnnlib.nn.serialization import save_model
    save_model(tmp_path / "m.npz", tiny_trainer().model)
    x, y = tiny_problem()
    with pytest.raises(ValueError, match="not a training checkpoint"):
        Trainer.from_checkpoint(tmp_path / "m.npz", x, y)


