"""The build track's last exercise (10.8) keeps its promise: the network assembled from
the reference pieces of chapters/mycnn/, trained as its RECIPE says on the book's 4,670
training images, classifies at least 45 % of its 500 validation images (the gate, as in
the exercise: the book never decides on the test images) and at least 50 % of the book's
500 test images (issue 26's promise; chance: 10 %).

It trains for real, minutes on two cores; the time is printed, never asserted.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest
from conftest import REPO_ROOT

import cnnlib
from cnnlib.book.exercises import learner_piece
from cnnlib.nn.normalization import channel_stats

CHAPTERS = REPO_ROOT / "chapters"
VALIDATION_GATE = 0.45  # measured: 54.6 % (Exercise 10.8 itself fails a reader below 40 %)


def data_folder() -> str:
    folder = os.environ.get("CNNLIB_DATA") or str(REPO_ROOT.parent / "shared/data/cifar10")
    if not os.path.isdir(folder):
        pytest.skip("no CIFAR-10 folder (set CNNLIB_DATA)")
    return folder


def test_the_reference_pieces_pass_validation_and_reach_half_the_test_images(capsys) -> None:
    small_cnn = learner_piece("network", "small_cnn", root=CHAPTERS)
    train_epochs = learner_piece("train", "train_epochs", root=CHAPTERS)
    recipe = learner_piece("train", "RECIPE", root=CHAPTERS)
    x_train, y_train, x_test, y_test = cnnlib.load_cifar10(data_folder(), subset="book")
    # As the exercise does: 500 validation images split off, statistics of the rest.
    x_fit, y_fit, x_val, y_val = cnnlib.validation_split(x_train, y_train, size=500, seed=0)
    mean, std = channel_stats(x_fit)
    x_fit, x_val, x_test = (((x - mean) / std).astype(np.float32) for x in (x_fit, x_val, x_test))
    if recipe["mirror"]:
        x_fit, y_fit = np.concatenate([x_fit, x_fit[:, :, ::-1]]), np.concatenate([y_fit, y_fit])
    net = small_cnn(recipe["widths"], seed=0)
    start = time.perf_counter()
    for epoch in range(recipe["epochs"]):
        lr = recipe["lr"] * (1 - epoch / recipe["epochs"])
        (loss,) = train_epochs(net, x_fit, y_fit, epochs=1, batch_size=recipe["batch_size"],
                               lr=lr, momentum=recipe["momentum"], seed=epoch)
        assert np.isfinite(loss), f"epoch {epoch + 1}: the loss is {loss}"
    seconds = time.perf_counter() - start
    val_accuracy = float(np.mean(net.predict(x_val) == y_val))
    accuracy = float(np.mean(net.predict(x_test) == y_test))
    with capsys.disabled():
        print(f"\nbuild track network: {val_accuracy:.1%} of {len(y_val)} validation images, "
              f"{accuracy:.1%} of {len(y_test)} test images after {recipe['epochs']} epochs, "
              f"{seconds:.0f} s of training (wall), {time.process_time():.0f} CPU-s in all, "
              f"load {os.getloadavg()[0]:.1f}")
    assert val_accuracy >= VALIDATION_GATE, (
        f"{val_accuracy:.1%} of the validation images, want at least {VALIDATION_GATE:.0%}")
    assert accuracy >= 0.50, f"{accuracy:.1%} of the test images, want at least 50 %"
    # The module that trained (learner_piece would reload it, emptying FALLEN_BACK).
    fallen_back = sys.modules[small_cnn.__module__].FALLEN_BACK
    assert not fallen_back, f"pieces that fell back to cnnlib: {fallen_back}"
