"""Learning-rate schedules: endpoints, shape, and argument checks."""

import math

import numpy as np
import pytest

from cnnlib.training.schedules import constant, cosine, make_schedule, one_cycle


def test_cosine_starts_at_max_and_decays_monotonically_towards_min():
    lr = cosine(0.1, 100, min_lr=0.001)
    values = np.array([lr(s) for s in range(100)])
    assert values[0] == pytest.approx(0.1)
    assert np.all(np.diff(values) < 0)
    assert values[50] == pytest.approx(0.001 + 0.099 * 0.5)
    assert values[-1] > 0.001


def test_one_cycle_warms_up_linearly_then_anneals():
    lr = one_cycle(0.5, 200, warmup=0.25, div=25, final_div=1e4)
    values = np.array([lr(s) for s in range(200)])
    peak = int(values.argmax())
    assert peak == 50 and values[peak] == pytest.approx(0.5)
    assert values[0] == pytest.approx(0.5 / 25)
    np.testing.assert_allclose(np.diff(values[:51]), (0.5 - 0.02) / 50)
    assert np.all(np.diff(values[50:]) < 0)
    assert values[-1] == pytest.approx(0.5 / 1e4)


def test_one_cycle_without_warmup_starts_at_the_peak():
    assert one_cycle(0.2, 10, warmup=0.0)(0) == pytest.approx(0.2)


def test_constant_schedule():
    assert {constant(0.3, 5)(s) for s in range(5)} == {0.3}


def test_make_schedule_by_name():
    assert make_schedule("cosine", 0.1, 10)(0) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="schedule = 'linear'"):
        make_schedule("linear", 0.1, 10)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: cosine(0.1, 0), "total_steps"),
    (lambda: cosine(-0.1, 10), "max_lr"),
    (lambda: cosine(math.inf, 10), "max_lr"),
    (lambda: cosine(0.1, 10, min_lr=0.2), "min_lr"),
    (lambda: one_cycle(0.1, 10, warmup=1.0), "warmup"),
    (lambda: one_cycle(0.1, 10, div=0.5), "div"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_steps_outside_the_schedule_raise():
    lr = one_cycle(0.1, 10)
    with pytest.raises(ValueError, match="step = 10"):
        lr(10)
