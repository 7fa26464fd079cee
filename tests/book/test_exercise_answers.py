"""The checks of the answer-a-number and counting exercises (2.2, 2.3, 4.1, 4.3) accept
every right answer (rounded as a person would, or in an equivalent form) and reject the
wrong answers learners really write, naming the exercise.

Each case runs the chapter's exercise setup, sets the answer variables, then runs the
exercise's check cell, as the reader's notebook does.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import REPO_ROOT
from test_exercises import exercise_section, failure_of, run_cell

CHAPTERS = {"1": "01_pixels.ipynb", "2": "02_how_networks_learn.ipynb",
            "3": "03_convolution.ipynb", "4": "04_output_dimensions.ipynb",
            "5": "05_pooling.ipynb", "6": "06_parameter_sharing.ipynb", "7": "07_convolution_backward.ipynb",
            "9": "09_fully_connected.ipynb"}

# The graph of Exercise 2.2 at x = 0.5, w = 3, b = 1: dL/dz = σ(z) − 1 with z = 2.5.
DL_DZ = 1 / (1 + math.exp(-2.5)) - 1



def positions_loop(w, f, s, p):
    count, left = 0, 0
    while left + f <= w + 2 * p:
        count, left = count + 1, left + s
    return count


def positions_loop_off_by_one(w, f, s, p):
    count, left = 0, 0
    while left + f < w + 2 * p:  # the last window that ends at the edge is not counted
        count, left = count + 1, left + s
    return count




def rows_by_a_loop(images):  # right values, but the exercise asks for no Python loop
    return np.stack([image.transpose(2, 0, 1).reshape(-1) for image in images])


def rows_without_the_transpose(images):
    return images.reshape(len(images), 3072)


def rows_with_the_wrong_transpose(images):
    return images.transpose(0, 3, 2, 1).reshape(len(images), 3072)  # columns before rows


def dilated_by_positions(x, weight, dilation):  # right values, one window at a time
    n, h, w, _ = x.shape
    k, f, d = weight.shape[0], weight.shape[1], dilation
    out = np.zeros((n, h - d * (f - 1), w - d * (f - 1), k))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            taps = x[:, i:i + d * (f - 1) + 1:d, j:j + d * (f - 1) + 1:d, :]
            out[:, i, j, :] = np.einsum("nabc,kabc->nk", taps, weight)
    return out


def dilated_without_the_gaps(x, weight, dilation):
    from cnnlib.core.functional import conv2d
    return conv2d(x, weight)  # dilation ignored: the taps are next to each other


def windows_by_positions(x, f):  # right values, one window at a time
    n, h, w, c = x.shape
    return np.stack([x[:, i:i + f, j:j + f, :].reshape(n, -1)
                     for i in range(h - f + 1) for j in range(w - f + 1)], axis=1
                    ).reshape(-1, f * f * c)


def windows_by_the_library(x, f):
    from cnnlib.core.im2col import extract_windows
    return extract_windows(x, f, 1).reshape(-1, f * f * x.shape[-1])


def windows_with_offsets_swapped(x, f):
    n, h, w, c = x.shape
    h2, w2 = h - f + 1, w - f + 1
    cols = np.empty((n, h2, w2, f, f, c), dtype=x.dtype)
    for a in range(f):
        for b in range(f):
            cols[:, :, :, b, a, :] = x[:, a:a + h2, b:b + w2, :]  # (b, a): a missing transpose
    return cols.reshape(n * h2 * w2, f * f * c)


def weight_grad_by_windows(x, dout, f):  # the page's way: refused, the exercise forbids it
    from cnnlib.core.im2col import extract_windows
    k = dout.shape[-1]
    windows = extract_windows(x, f, 1).reshape(-1, f * f * x.shape[-1])
    return (windows.T @ dout.reshape(-1, k)).T.reshape(k, f, f, x.shape[-1])


def weight_grad_not_transposed_back(x, dout, f):
    from cnnlib.core.functional import conv2d
    return conv2d(x.transpose(3, 1, 2, 0), dout.transpose(3, 1, 2, 0))  # (C, F, F, K)


def weight_grad_rows_and_columns_swapped(x, dout, f):
    from cnnlib.core.functional import conv2d
    return conv2d(x.transpose(3, 2, 1, 0), dout.transpose(3, 1, 2, 0)).transpose(3, 1, 2, 0)


def weight_grad_first_image_only(x, dout, f):
    from cnnlib.core.functional import conv2d
    one = conv2d(x[:1].transpose(3, 1, 2, 0), dout[:1].transpose(3, 1, 2, 0))
    return one.transpose(3, 1, 2, 0)  # forgets the sum over the batch


def linear_backward_cnnlib_layout(x, w, dout):  # copied from cnnlib.Linear: W is (D, M) there
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def linear_backward_db_not_summed(x, w, dout):
    return dout @ w, dout.T @ x, dout.mean(axis=0)  # the mean, not the sum, over the batch


def linear_backward_dx_transposed(x, w, dout):
    return (w.T @ dout.T).T * 0 + dout @ w[::-1], dout.T @ x, dout.sum(axis=0)


def max_pool_backward(x, dout, f, s, *, overwrite=False, last_max=False, stride=True):
    """Exercise 5.3's loops, with one of the mistakes learners make switched on."""
    dx = np.zeros_like(x)
    n_img, h2, w2, n_ch = dout.shape
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(h2):
                for j in range(w2):
                    r, q = (i * s, j * s) if stride else (i, j)
                    window = x[n, r:r + f, q:q + f, c]
                    flat = window.ravel()
                    k = len(flat) - 1 - np.argmax(flat[::-1]) if last_max else np.argmax(flat)
                    a, b = np.unravel_index(k, window.shape)
                    if overwrite:
                        dx[n, r + a, q + b, c] = dout[n, i, j, c]
                    else:
                        dx[n, r + a, q + b, c] += dout[n, i, j, c]
    return dx


def min_pool_with(forward_sign=-1, backward_sign=1):
    from cnnlib import Layer, MaxPool2D

    class MinPool2D(Layer):
        def __init__(self, kernel_size=2, stride=2):
            self._max = MaxPool2D(kernel_size, stride)

        def forward(self, x):
            return forward_sign * self._max.forward(-forward_sign * x)

        def backward(self, dout):
            return backward_sign * self._max.backward(dout)

    return MinPool2D


CASES = [
    # (exercise, answers, right?, why); the exercise's stub and solution are run first, so
    # an entry replaces only the names it gives.
    ("5.1", {}, True, "the solution"),
    ("5.1", {"avg_answer": [[10, 8], [9, 7]]}, False, "sums instead of means"),
    ("5.1", {"max_answer": [[4, 6], [5, 3]]}, False, "windows read column by column"),
    ("5.2", {}, True, "the solution"),
    ("5.2", {"shape_3x3": (16, 14, 14, 64)}, False, "3x3 windows counted as (31 - 3)/2"),
    ("5.2", {"shape_3x3": (16, 16, 16, 64)}, False, "the 2x2 answer copied"),
    ("5.2", {"shape_2x2": (16, 16, 16, 1)}, False, "depth lost"),
    ("5.3", {}, True, "the solution"),
    ("5.3", {"max_pool_backward_loops": lambda x, d, f, s: max_pool_backward(
        x, d, f, s, overwrite=True)}, False, "= instead of += where windows overlap"),
    ("5.3", {"max_pool_backward_loops": lambda x, d, f, s: max_pool_backward(
        x, d, f, s, last_max=True)}, False, "the last maximum takes a tie"),
    ("5.3", {"max_pool_backward_loops": lambda x, d, f, s: max_pool_backward(
        x, d, f, s, stride=False)}, False, "the stride forgotten"),
    ("5.4", {}, True, "the solution"),
    ("5.4", {"MinPool2D": min_pool_with(backward_sign=-1)}, False, "a sign in backward"),
    ("5.4", {"MinPool2D": min_pool_with(forward_sign=1)}, False, "max, not min"),
    ("5.5", {"answer": 10}, True, "ten pixels"),
    ("5.5", {"answer": 8}, False, "stops at the first conv's output"),
    ("5.5", {"answer": 12}, False, "adds 3 + 2 + 3 + 2 + 2"),
    ("6.1", {"conv_params": 608, "local_params": 119_168, "dense_params": 4_522_112}, True,
     "the counts"),
    ("6.1", {"conv_params": 600, "local_params": 117_600, "dense_params": 4_520_544}, False,
     "biases forgotten"),
    ("6.1", {"conv_params": 608, "local_params": 27 * 27 * 8 * 76,
             "dense_params": 31 * 31 * 3 * 27 * 27 * 8 + 27 * 27 * 8}, False,
     "stride ignored (27×27 outputs)"),
    ("6.1", {"conv_params": 608, "local_params": 8 * 76 * 196, "dense_params": 4_520_544},
     False, "dense biases forgotten"),
    ("7.2", {}, True, "the solution"),
    ("7.2", {"conv_weight_grad": weight_grad_by_windows}, False, "extract_windows"),
    ("7.2", {"conv_weight_grad": weight_grad_not_transposed_back}, False,
     "not transposed back"),
    ("7.2", {"conv_weight_grad": weight_grad_rows_and_columns_swapped}, False,
     "rows and columns swapped"),
    ("7.2", {"conv_weight_grad": weight_grad_first_image_only}, False, "no sum over the batch"),
    ("9.2", {"in_features": 288, "n_params": 2890}, True, "the counts"),
    ("9.2", {"in_features": 288, "n_params": 2880}, False, "biases forgotten"),
    ("9.2", {"in_features": 250, "n_params": 2510}, False, "the page's 5×5×10"),
    ("9.2", {"in_features": 16, "n_params": 170}, False, "only the channels"),
    ("9.3", {}, True, "the solution"),
    ("9.3", {"linear_backward": linear_backward_cnnlib_layout}, False, "copied from the page"),
    ("9.3", {"linear_backward": linear_backward_db_not_summed}, False, "mean instead of sum"),
    ("9.3", {"linear_backward": linear_backward_dx_transposed}, False, "rows of W reversed"),
    ("9.3", {"linear_backward": lambda x, w, dout: (dout @ w, dout.T @ x)}, False, "no db"),
    ("1.2", {}, True, "the solution"),
    ("1.2", {"images_to_rows": lambda images: np.moveaxis(images, -1, 1).reshape(
        len(images), -1)}, True, "moveaxis"),
    ("1.2", {"images_to_rows": rows_by_a_loop}, False, "a Python loop"),
    ("1.2", {"images_to_rows": rows_without_the_transpose}, False, "no transpose"),
    ("1.2", {"images_to_rows": rows_with_the_wrong_transpose}, False, "rows and columns swapped"),
    ("3.4", {}, True, "the solution"),
    ("3.4", {"dilated_conv2d": dilated_by_positions}, False, "a loop over positions"),
    ("3.4", {"dilated_conv2d": dilated_without_the_gaps}, False, "dilation ignored"),
    ("3.5", {}, True, "the solution"),
    ("3.5", {"window_matrix": windows_by_positions}, False, "a loop over positions"),
    ("3.5", {"window_matrix": windows_by_the_library}, False, "calls extract_windows"),
    ("3.5", {"window_matrix": windows_with_offsets_swapped}, False, "offsets swapped"),
    ("4.1", {"answer": [55, 28, 4, 16, 64]}, True, "floored"),
    ("4.1", {"answer": [55.0, 28.0, 4.0, 16.0, 64.0]}, True, "the right sizes as floats"),
    ("4.1", {"answer": [55.0, 28.0, 4.0, 16.5, 64.0]}, False, "plain division, no floor"),
    ("4.1", {"answer": [55, 28, 4, 17, 64]}, False, "rounded up or to nearest"),
    ("4.1", {"answer": [54, 27, 3, 15, 63]}, False, "forgets the + 1"),
    ("4.1", {"answer": [55, 24, 3, 15, 64]}, False, "forgets the padding"),
    ("4.3", {"count_positions": positions_loop}, True, "a loop"),
    ("4.3", {"count_positions": lambda w, f, s, p: (w - f + 2 * p) // s + 1}, True,
     "the floor formula"),
    ("4.3", {"count_positions": lambda w, f, s, p: (w - f + 2 * p) / s + 1}, False,
     "plain division"),
    ("4.3", {"count_positions": positions_loop_off_by_one}, False, "< instead of <="),
    ("4.3", {"count_positions": lambda w, f, s, p: positions_loop(w, f, s, 0)}, False,
     "forgets the padding"),
    ("2.2", {"dL_dw": DL_DZ * 0.5, "dL_db": DL_DZ}, True, "the chain rule"),
    ("2.2", {"dL_dw": round(DL_DZ * 0.5, 7), "dL_db": round(DL_DZ, 7)}, True, "rounded"),
    ("2.2", {"dL_dw": DL_DZ / 0.5, "dL_db": DL_DZ}, False, "divides by x"),
    ("2.2", {"dL_dw": DL_DZ, "dL_db": DL_DZ}, False, "forgets the factor x"),
    ("2.2", {"dL_dw": DL_DZ * 3, "dL_db": DL_DZ}, False, "multiplies by w instead of x"),
    ("2.2", {"dL_dw": -DL_DZ * 0.5, "dL_db": -DL_DZ}, False, "sign of the loss's slope"),
    ("2.3", {"lr_max": 1 / 3}, True, "exact"),
    ("2.3", {"lr_max": 0.33}, True, "rounded to two digits"),
    ("2.3", {"lr_max": 0.333}, True, "rounded to three digits"),
    ("2.3", {"lr_max": 1 / 6}, False, "the one-step rate, not the largest"),
    ("2.3", {"lr_max": 2 / 3}, False, "|1 − 6η| < 2"),
    ("2.3", {"lr_max": 0.3}, False, "too cautious"),
    ("2.3", {"lr_max": 1.0}, False, "unit step"),
]


@pytest.mark.parametrize(("label", "answers", "right", "why"), CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_check_tells_right_from_wrong(label, answers, right, why, monkeypatch):
    chapter = REPO_ROOT / "chapters" / CHAPTERS[label.split(".")[0]]
    monkeypatch.chdir(chapter.parent)
    section = exercise_section(chapter)
    namespace: dict = {"__name__": "__exercises__"}
    for cell in section.setup:
        if cell["cell_type"] == "code":
            run_cell(cell, namespace, "setup")
    (exercise,) = [e for e in section.exercises if e.label == label]
    for cell in exercise.of("exercise-stub") + exercise.of("exercise-solution"):
        run_cell(cell, namespace, f"stub and solution {label}")  # stubs define the inputs
    namespace.update(answers)
    err = failure_of(exercise.of("exercise-check")[0], namespace, f"check {label}")
    if right:
        assert err is None, f"{why}: a right answer fails: {err}"
    else:
        assert err is not None, f"{why}: a wrong answer passes"
        assert str(err).startswith(f"Exercise {label}: "), err
