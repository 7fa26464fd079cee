"""Softmax cross-entropy: values, gradient, stability, and the errors it raises."""

import numpy as np
import pytest

from cnnlib import numerical_gradient, relative_error, softmax, softmax_cross_entropy


def test_uniform_logits_give_log_k():
    loss, _ = softmax_cross_entropy(np.zeros((4, 10)), np.arange(4))
    assert loss == pytest.approx(np.log(10))


def test_gradient_is_softmax_minus_onehot_over_n():
    logits = np.random.default_rng(0).standard_normal((5, 3))
    labels = np.array([0, 1, 2, 1, 0])
    _, dlogits = softmax_cross_entropy(logits, labels)
    onehot = np.eye(3)[labels]
    np.testing.assert_allclose(dlogits, (softmax(logits) - onehot) / 5)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_gradient_matches_central_differences(smoothing):
    logits = np.random.default_rng(1).standard_normal((6, 4))
    labels = np.array([3, 0, 1, 2, 2, 1])
    _, analytic = softmax_cross_entropy(logits, labels, smoothing)
    numeric = numerical_gradient(lambda: softmax_cross_entropy(logits, labels, smoothing)[0], logits)
    err = relative_error(analytic, numeric)
    assert err < 1e-7, f"relative error {err:.2e}"


def test_huge_logits_stay_finite():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1e4, 1e4, 0.0]], dtype=np.float32)
    # Underflow of tiny probabilities to 0 is harmless; overflow or NaN would not be.
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dlogits = softmax_cross_entropy(logits, np.array([0, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(dlogits))
    assert loss == pytest.approx(1e4, rel=1e-6)  # the second row is wrong by 2·10⁴/2


def test_softmax_rows_sum_to_one():
    p = softmax(np.random.default_rng(2).standard_normal((7, 10)) * 30)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("logits", "labels", "message"),
    [
        (np.zeros((2, 3)), np.array([0, 3]), r"label 3 is out of range: labels must lie in \[0, J\) = \[0, 3\)"),
        (np.zeros((2, 3)), np.array([-1, 0]), r"label -1 is out of range"),
        (np.zeros((2, 3)), np.array([0, 1, 2]), r"labels must have shape \(N,\) = \(2,\), got \(3,\)"),
        (np.zeros((2, 3)), np.array([0.0, 1.0]), r"labels must be integers"),
        (np.zeros(3), np.array([0]), r"logits must be a 2-D array \(N, J\)"),
        (np.array([[0.0, np.nan]]), np.array([0]), r"logits contain NaN or infinity"),
    ],
)
def test_bad_inputs_raise_clear_errors(logits, labels, message):
    with pytest.raises(ValueError, match=message):
        softmax_cross_entropy(logits, labels)


def test_bad_label_smoothing_raises():
    with pytest.raises(ValueError, match=r"label_smoothing = 1.0 must be a number in \[0, 1\)"):
        softmax_cross_entropy(np.zeros((1, 2)), np.array([0]), label_smoothing=1.0)
