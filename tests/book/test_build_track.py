"""The build track's last exercise (10.8) keeps its promise: the network assembled from
the reference pieces of chapters/mycnn/, trained as its RECIPE says on the book's 4,670
training images, classifies at least 50 % of the book's 500 test images (chance: 10 %).

It trains for real, a few minutes on two cores; the time is printed, never asserted.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from conftest import REPO_ROOT

import cnnlib
from cnnlib.book.exercises import learner_piece
from cnnlib.nn.normalization import channel_stats

CHAPTERS = REPO_ROOT / "chapters"


def data_folder() -> str:
    folder = os.environ.get("CNNLIB_DATA") or str(REPO_ROOT.parent / "shared/data/cifar10")
    if not os.path.isdir(folder):
        pytest.skip("no CIFAR-10 folder (set CNNLIB_DATA)")
    return folder


def test_the_reference_pieces_reach_half_the_test_images(capsys) -> None:
    small_cnn = learner_piece("network", "small_cnn", root=CHAPTERS)
    train_epochs = learner_piece("train", "train_epochs", root=CHAPTERS)
    recipe = learner_piece("train", "RECIPE", root=CHAPTERS)
    x_train, y_train, x_test, y_test = cnnlib.load_cifar10(data_folder(), subset="book")
    # As the exercise does: 500 validation images split off, statistics of the rest.
    x_fit, y_fit, _, _ = cnnlib.validation_split(x_train, y_train, size=500, seed=0)
    mean, std = channel_stats(x_fit)
    x_fit = ((x_fit - mean) / std).astype(np.float32)
    x_test = ((x_test - mean) / std).astype(np.float32)
    if recipe["mirror"]:
        x_fit, y_fit = np.concatenate([x_fit, x_fit[:, :, ::-1]]), np.concatenate([y_fit, y_fit])
    net = small_cnn(recipe["widths"], seed=0)
    start = time.perf_counter()
    for epoch in range(recipe["epochs"]):
        lr = recipe["lr"] * (1 - epoch / recipe["epochs"])
        (loss,) = train_epochs(net, x_fit, y_fit, epochs=1, batch_size=recipe["batch_size"],
                               lr=lr, momentum=recipe["momentum"], seed=epoch)
        assert np.isfinite(loss), f"epoch {epoch + 1}: the loss is {loss}"
    minutes = (time.perf_counter() - start) / 60
    accuracy = float(np.mean(net.predict(x_test) == y_test))
    with capsys.disabled():
        print(f"\nbuild track network: {accuracy:.1%} of {len(y_test)} test images after "
              f"{recipe['epochs']} epochs, {minutes:.1f} min of training")
    assert accuracy >= 0.50, f"{accuracy:.1%} of the test images, want at least 50 %"
    network = learner_piece("network", root=CHAPTERS)
    assert not network.FALLEN_BACK, f"pieces that fell back to cnnlib: {network.FALLEN_BACK}"
