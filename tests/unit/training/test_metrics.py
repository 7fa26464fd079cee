"""Test-time augmentation: the views (image, shifted copies, mirror images), the averaged
logits against a loop over the views, and the flip-only scores unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from training_helpers import tiny_model, tiny_problem

from cnnlib.training.augment import translate
from cnnlib.training.metrics import evaluate_model, predict_logits, tta_views


def scoring_model():
    """The tiny network with a random classifier (it starts at zero: all logits 0)."""
    model = tiny_model()
    head = model.layers[-1].params["weight"]
    head[...] = np.random.default_rng(0).normal(size=head.shape)
    return model


@pytest.mark.parametrize(("flip", "shift", "count"), [(False, 0, 1), (True, 0, 2),
                                                      (False, 2, 3), (True, 2, 6)])
def test_number_of_views(flip, shift, count):
    x, _ = tiny_problem(4)
    views = tta_views(x, flip, shift)
    assert len(views) == count and all(v.shape == x.shape for v in views)


def test_views_are_the_image_its_diagonal_shifts_and_their_mirrors():
    x, _ = tiny_problem(4)
    views = tta_views(x, flip=True, shift=2)
    expected = [x, translate(x, -2, -2), translate(x, 2, 2)]
    expected += [v[:, :, ::-1] for v in expected]
    for got, want in zip(views, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_shifted_logits_are_the_mean_over_the_views_in_any_batch_size():
    model, (x, _) = scoring_model(), tiny_problem(10)
    model.eval()
    by_hand = np.mean([model.forward(v) for v in tta_views(x, True, 2)], axis=0)
    assert not np.allclose(by_hand, model.forward(x), atol=1e-3)  # the views do differ
    model.train()
    for batch_size in (3, 10):
        got = predict_logits(model, x, batch_size=batch_size, flip=True, shift=2)
        np.testing.assert_allclose(got, by_hand, rtol=1e-5, atol=1e-6)
    assert model.training  # mode restored


def test_without_shift_the_scores_are_the_old_flip_average():
    model, (x, y) = scoring_model(), tiny_problem(10)
    model.eval()
    old = (model.forward(x) + model.forward(x[:, :, ::-1])) / 2
    np.testing.assert_allclose(predict_logits(model, x, flip=True), old, rtol=1e-6)
    shifted = evaluate_model(model, x, y, flip=True, shift=1)
    assert not np.allclose(shifted["logits"], old)


def test_bad_shift_raises():
    model, (x, y) = tiny_model(), tiny_problem(4)
    with pytest.raises(ValueError, match="shift = -1"):
        evaluate_model(model, x, y, shift=-1)
    with pytest.raises(ValueError, match="dy = -8"):
        predict_logits(model, x, shift=8)
