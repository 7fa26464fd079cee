"""Weight averaging: the exponential moving average against a loop written from its
definition, batch-norm statistics averaged with the weights, the raw weights restored
after scoring, the training itself untouched, and checkpoints that carry the average."""

from __future__ import annotations

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

from cnnlib.training import TrainConfig, Trainer
from cnnlib.training.averaging import WeightAverage, averaged_arrays
from cnnlib.training.checkpoint import read_checkpoint, write_checkpoint
from cnnlib.training.metrics import evaluate_model


def nudge(model, rng) -> None:
    """What an optimizer step does to the arrays the average follows: change them in place."""
    for value in averaged_arrays(model).values():
        value += rng.normal(size=value.shape).astype(value.dtype)


def test_follows_every_parameter_and_batchnorm_buffer_but_not_the_fixed_standardization():
    keys = set(WeightAverage(tiny_model()).average)
    assert "param/1.weight" in keys and "param/2.weight" in keys  # conv, BN scale
    assert {"buffer/2.running_mean", "buffer/2.running_var"} <= keys
    # Standardize's mean/std are float buffers too; averaging a constant changes nothing
    assert "buffer/0.mean" in keys


def test_average_equals_the_recursion_written_out():
    model, rng = tiny_model(), np.random.default_rng(0)
    average = WeightAverage(model, decay=0.9)
    expected = {k: v.astype(np.float64) for k, v in averaged_arrays(model).items()}
    for t in range(1, 41):
        nudge(model, rng)
        d = min(0.9, (1 + t) / (10 + t))  # warm-up: early updates mostly copy
        for key, value in averaged_arrays(model).items():
            expected[key] = d * expected[key] + (1 - d) * value
        average.update(model)
    for key, value in expected.items():
        np.testing.assert_allclose(average.average[key], value, rtol=1e-5, atol=1e-5,
                                   err_msg=key)


def test_rate_warms_up_then_stays_at_the_decay():
    average = WeightAverage(tiny_model(), decay=0.99)
    assert average.rate(1) == pytest.approx(2 / 11)
    assert average.rate(100) == pytest.approx(101 / 110)
    assert average.rate(10_000) == 0.99
    assert WeightAverage(tiny_model(), decay=0.0).rate(50) == 0.0  # d = 0: the last weights


def test_applied_scores_the_average_and_restores_the_same_arrays():
    model, rng = tiny_model(), np.random.default_rng(1)
    average = WeightAverage(model, decay=0.5)
    for _ in range(30):
        nudge(model, rng)
        average.update(model)
    raw = {k: v.copy() for k, v in averaged_arrays(model).items()}
    ids = {k: id(v) for k, v in averaged_arrays(model).items()}
    with average.applied(model) as inside:
        assert inside is model
        for key, value in averaged_arrays(model).items():
            np.testing.assert_array_equal(value, average.average[key])
            assert not np.array_equal(value, raw[key]) or key.startswith("buffer/0.")
    with pytest.raises(RuntimeError), average.applied(model):
        raise RuntimeError("a failure while scoring")
    for key, value in averaged_arrays(model).items():
        np.testing.assert_array_equal(value, raw[key])
        assert id(value) == ids[key]  # the optimizer keeps updating the same arrays


def test_refuses_bad_decay_and_another_network():
    with pytest.raises(ValueError, match="decay = 1"):
        WeightAverage(tiny_model(), decay=1)
    average = WeightAverage(tiny_model())
    other = Trainer(tiny_model(), *tiny_problem(), TrainConfig()).model
    other.layers[1].params["weight"] = other.layers[1].params["weight"][:2]
    with pytest.raises(ValueError, match="another network"):
        average.update(other)


def test_state_dict_round_trips():
    model, rng = tiny_model(), np.random.default_rng(2)
    average = WeightAverage(model, decay=0.9)
    for _ in range(5):
        nudge(model, rng)
        average.update(model)
    copy = WeightAverage(tiny_model(seed=7), decay=0.9)
    copy.load_state_dict(average.state_dict())
    assert copy.updates == 5
    assert_same_weights(copy.average, average.average)
    with pytest.raises(ValueError, match="not the same network"):
        copy.load_state_dict({"updates": np.array(1)})


def test_averaging_leaves_the_training_untouched_and_is_what_gets_scored():
    plain, averaged = tiny_trainer(epochs=2), tiny_trainer(epochs=2, ema_decay=0.9)
    plain.fit(progress=False)
    averaged.fit(progress=False)
    assert_same_weights(weights(plain), weights(averaged))  # same raw weights
    x, y = tiny_problem()
    with averaged.average.applied(averaged.model):
        by_hand = evaluate_model(averaged.model, x[:10], y[:10], flip=True)
    assert averaged.history.test_loss[-1] == pytest.approx(by_hand["loss"])
    assert averaged.history.test_loss[-1] != pytest.approx(plain.history.test_loss[-1])
    assert averaged.evaluate(x[:10], y[:10])["loss"] == pytest.approx(by_hand["loss"])


def test_average_beats_the_last_iterate_of_noisy_sgd():
    # SGD at a constant step on a noisy quadratic ends in a cloud around the minimum; the
    # average of the recent iterates sits nearer its center (Polyak and Juditsky 1992).
    rng = np.random.default_rng(0)
    model = tiny_model()
    target = {k: v.copy() for k, v in averaged_arrays(model).items()}
    average = WeightAverage(model, decay=0.95)
    for _ in range(300):
        for key, value in averaged_arrays(model).items():
            grad = value - target[key] + rng.normal(size=value.shape)
            value -= (0.2 * grad).astype(value.dtype)
        average.update(model)
    last = sum(np.sum((v - target[k]) ** 2) for k, v in averaged_arrays(model).items())
    mean = sum(np.sum((average.average[k] - target[k]) ** 2) for k in target)
    assert mean < last / 4


def test_a_resumed_run_with_averaging_equals_an_uninterrupted_one(tmp_path):
    x, y = tiny_problem()
    whole = tiny_trainer(epochs=2, ema_decay=0.8)
    whole.fit(progress=False)
    first = tiny_trainer(epochs=2, ema_decay=0.8)
    ckpt = tmp_path / "c.npz"
    with pytest.raises(KeyboardInterrupt):
        first.fit(checkpoint=ckpt, progress=False, on_step=interrupt_at(4))
    resumed = Trainer.from_checkpoint(ckpt, x, y, x_test=x[:10], y_test=y[:10])
    assert resumed.average.updates == 4
    resumed.fit(progress=False)
    assert_same_weights(weights(resumed), weights(whole))
    assert_same_weights(resumed.average.average, whole.average.average)
    assert resumed.history.test_loss == whole.history.test_loss


def test_a_checkpoint_whose_average_is_missing_is_refused(tmp_path):
    x, y = tiny_problem()
    trainer = tiny_trainer(epochs=1, ema_decay=0.8)
    trainer.fit(checkpoint=tmp_path / "c.npz", progress=False)
    model, optimizer_state, state = read_checkpoint(tmp_path / "c.npz")
    without = {k: v for k, v in optimizer_state.items() if not k.startswith("ema/")}
    write_checkpoint(tmp_path / "d.npz", model, without, state)
    with pytest.raises(ValueError, match="ema_decay = 0.8 but the checkpoint holds no"):
        Trainer.from_checkpoint(tmp_path / "d.npz", x, y, x_test=x[:10], y_test=y[:10])
