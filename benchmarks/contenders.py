"""The workloads and the contenders that are not in cnnlib itself: loop backward passes
and the PyTorch twin.

- `training_batch`: the batch every training-step benchmark times; `nchw`, the layout
  PyTorch and the DLFS-style layer take; `torch_images`, a float32 NCHW tensor of it.
- `conv2d_backward_loops`, `max_pool_backward_loops`: the loop backward passes of
  `cnnlib.core.naive`, so the "loops" column of the layer table has a backward time too.
- `cnnlib_network`, `cnnlib_fast_network` (`NETWORKS` by name): the reference network
  and the fast recipe's network.
- `torch_reference_network`: the book's reference network (`cnnlib.nn.models`) in
  PyTorch, through `cnnlib.interop.to_torch`, so the two compute the same function.
- `cnnlib_training_step`, `torch_training_step`: forward, loss, backward and an
  SGD-with-momentum update, for each; `torch_recipe_step`, PyTorch's twin of one step of
  cnnlib's Trainer under a recipe's TrainConfig (schedule, smoothing, weight-decay groups).

Importing this module does not import PyTorch (a child process that times cnnlib must not
load it); the PyTorch functions import it when called.
"""

from __future__ import annotations

import numpy as np
from harness import BATCH, DTYPE

import cnnlib
from cnnlib.core.naive import conv2d_backward_naive as conv2d_backward_loops  # noqa: F401
from cnnlib.core.naive import max_pool2d_backward_naive as max_pool_backward_loops  # noqa: F401
from cnnlib.nn.models import fast_network, reference_network

# ---------------------------------------------------------------------------- workloads


def training_batch(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """BATCH random float32 images (N, 32, 32, 3) and their labels (N,)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH, 32, 32, 3)).astype(DTYPE), rng.integers(0, 10, BATCH)


def nchw(a: np.ndarray) -> np.ndarray:
    """(N, H, W, C) -> (N, C, H, W), contiguous: the layout of PyTorch and of DLFS."""
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def torch_images(images: np.ndarray):
    """Images (N, H, W, C) of any dtype (uint8 from the data set, float32 after cnnlib's
    augmentation) as the float32 (N, C, H, W) tensor PyTorch's layers take."""
    import torch
    return torch.from_numpy(nchw(images.astype(np.float32, copy=False)))


# ----------------------------------------------------------------------------- networks


def cnnlib_network(seed: int = 0) -> cnnlib.Sequential:
    """The book's reference network, exactly as chapter 10 trains it."""
    return reference_network(seed)


def cnnlib_fast_network(seed: int = 0) -> cnnlib.Sequential:
    """The fast recipes' network ("fast", "fast16", "fast12"; its first layer random, not
    whitened: the same shapes and the same work per step)."""
    return fast_network(seed)


# The networks a step benchmark can take by name.
NETWORKS = {"reference": cnnlib_network, "fast": cnnlib_fast_network}


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
    import torch
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)

    def step(images, labels) -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(images), labels)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    return step


def torch_recipe_step(net, config, steps_per_epoch: int):
    """PyTorch's twin of one step of cnnlib's Trainer under `config` (a TrainConfig): the
    learning rate of the recipe's schedule at every step, label-smoothed cross-entropy,
    Nesterov SGD with weight decay on conv and dense weights only (as cnnlib's `_no_decay`).

    Returns step(images (N, H, W, C) NumPy, already augmented; labels (N,) tensor;
    global_step) -> None. The caller draws the batches and augments them with cnnlib's
    NumPy functions, so both engines see the same pixels.
    """
    import torch

    from cnnlib.training.schedules import make_schedule

    decay = [p for p in net.parameters() if p.ndim > 1]  # conv and dense weights
    no_decay = [p for p in net.parameters() if p.ndim <= 1]  # biases, batch-norm scales
    optimizer = torch.optim.SGD([{"params": decay, "weight_decay": config.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=config.lr, momentum=config.momentum,
                                nesterov=config.nesterov)
    schedule = make_schedule(config.schedule, config.lr, steps_per_epoch * config.epochs)

    def step(images: np.ndarray, labels, global_step: int) -> None:
        for group in optimizer.param_groups:
            group["lr"] = schedule(global_step)
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(torch_images(images)), labels,
                                                 label_smoothing=config.label_smoothing)
        loss.backward()
        optimizer.step()

    return step
