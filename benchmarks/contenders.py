"""The contenders that are not in cnnlib itself: loop backward passes and PyTorch twins.

- `conv2d_backward_loops`, `max_pool_backward_loops`: the loop backward passes of
  `cnnlib.core.naive`, so the "loops" column of the layer table has a backward time too.
- `torch_reference_network`: the book's reference network (`cnnlib.nn.models`) in
  PyTorch, through `cnnlib.interop.to_torch`, so the two compute the same function.
- `training_step`: forward, loss, backward and an SGD-with-momentum update, for each.
"""

from __future__ import annotations

import numpy as np
from common import torch

import cnnlib
from cnnlib.core.naive import conv2d_backward_naive as conv2d_backward_loops  # noqa: F401
from cnnlib.core.naive import max_pool2d_backward_naive as max_pool_backward_loops  # noqa: F401
from cnnlib.nn.models import reference_network

# ----------------------------------------------------------------------------- networks


def cnnlib_network(seed: int = 0) -> cnnlib.Sequential:
    """The book's reference network, exactly as chapter 10 trains it."""
    return reference_network(seed)


def torch_reference_network(like: cnnlib.Sequential | None = None):
    """The book's reference network in PyTorch (it takes (N, C, H, W) images):
    `cnnlib.interop.to_torch` of `like`, or of a fresh reference network. It computes the
    same function with the same weights (tests/cross/test_interop.py holds them equal)."""
    return cnnlib.interop.to_torch(like if like is not None else reference_network(0))


def cnnlib_training_step(model: cnnlib.Sequential, lr: float = 0.01, momentum: float = 0.9):
    """A function that runs one SGD step on (images (N, H, W, C), labels) and returns the loss."""
    optimizer = cnnlib.SGD(model, lr=lr, momentum=momentum)

    def step(images: np.ndarray, labels: np.ndarray) -> float:
        loss, dlogits = cnnlib.softmax_cross_entropy(model.forward(images), labels)
        model.backward(dlogits)
        optimizer.step()
        return loss

    return step


def torch_training_step(net, lr: float = 0.01, momentum: float = 0.9):
    """The same step in PyTorch, on (images (N, C, H, W) tensor, labels tensor)."""
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)

    def step(images, labels) -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(images), labels)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    return step
