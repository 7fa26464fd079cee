"""The training loop.

Book: chapter 10 (Exercise 10.7).
"""

from __future__ import annotations

import numpy as np

# How Exercise 10.8 trains your network on the book's CIFAR-10 images: widths of the three
# stages, epochs over the training images (each also seen mirrored), batch size, and SGD's
# learning rate (falling in a straight line to zero) and momentum. With the reference
# pieces: 54.6 % of the 500 validation images and 56.8 % of the 500 test images after 12
# epochs, in three measured runs (same seeds) on a shared 2-core machine; training took 134
# CPU-seconds on one thread (299 s on the clock at load 11) in one, and on two threads
# 345 s on the clock at load 4 and 808 s at load 7 to 12. tests/book/test_build_track.py
# holds the reference pieces to 45 % on validation and 50 % on test; Exercise 10.8 passes
# at 40 % on validation.
RECIPE = {"widths": (16, 32, 64), "epochs": 12, "batch_size": 64, "lr": 0.02,
          "momentum": 0.9, "mirror": True}


def train_epochs(model, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int,
                 lr: float, momentum: float, seed: int = 0) -> list[float]:
    """Exercise 10.7: train `model` (a network.Network) on x (N, H, W, C), y (N,).

    rng = np.random.default_rng(seed), drawn once; every epoch visits the images in the
    order rng.permutation(N), in batches of batch_size (the last one may be smaller);
    each batch: forward, model.loss, backward, model.step(lr, momentum).
    Returns the mean loss over the images of each epoch (a list of `epochs` floats).
    """
    # BEGIN SOLUTION (Exercise 10.7)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss, dlogits = model.loss(model.forward(x[batch]), y[batch])
            model.backward(dlogits)
            model.step(lr, momentum)
            total += loss * len(batch)  # the last batch may be smaller: weigh by size
        losses.append(total / len(x))
    return losses
    # END SOLUTION
