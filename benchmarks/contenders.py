"""The contenders that are not in cnnlib itself: loop backward passes and PyTorch twins.

- `conv2d_backward_loops`, `max_pool_backward_loops`: the loop backward passes of
  `cnnlib.core.naive`, so the "loops" column of the layer table has a backward time too.
- `torch_reference_network`: the book's reference network (`cnnlib.nn.models`) rebuilt
  layer for layer in PyTorch, optionally with cnnlib's weights copied in, so the two
  compute the same function.
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
    """The same architecture in PyTorch (NCHW); with `like`, its weights copied in.

    Standardize -> [Conv3×3(pad 1) -> BatchNorm -> ReLU] ×2 -> MaxPool 2×2, for widths
    32, 64, 128 -> Flatten -> Linear(2048, 256) -> ReLU -> Dropout(0.5) -> Linear(256, 10).
    cnnlib flattens channels-last (H, W, C) and PyTorch (C, H, W); the first Linear's
    rows are permuted to match, so both compute the same function.
    """
    nn = torch.nn

    class Standardize(nn.Module):
        def __init__(self, mean, std):
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
            self.register_buffer("inv_std", 1 / torch.tensor(std, dtype=torch.float32)
                                 .view(1, -1, 1, 1))

        def forward(self, x):
            return (x - self.mean) * self.inv_std

    layers: list = []
    mean, std = ((0.0,) * 3, (1.0,) * 3)
    if like is not None:
        mean, std = like.layers[0].buffers["mean"].tolist(), like.layers[0].buffers["std"].tolist()
    layers.append(Standardize(mean, std))
    channels = 3
    for width in (32, 64, 128):
        for c_in in (channels, width):
            layers += [nn.Conv2d(c_in, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        layers.append(nn.MaxPool2d(2))
        channels = width
    layers += [nn.Flatten(), nn.Linear(4 * 4 * 128, 256), nn.ReLU(), nn.Dropout(0.5),
               nn.Linear(256, 10)]
    net = nn.Sequential(*layers)
    if like is not None:
        _copy_weights(like, net)
    return net


def _copy_weights(src: cnnlib.Sequential, dst) -> None:
    ours = [layer for layer in src.layers if getattr(layer, "params", None)]
    theirs = [m for m in dst if any(True for _ in m.parameters(recurse=False))]
    if len(ours) != len(theirs):
        raise ValueError(f"{len(ours)} cnnlib layers with parameters, {len(theirs)} in PyTorch")
    first_linear = True
    with torch.no_grad():
        for a, b in zip(ours, theirs, strict=True):
            w, bias = a.params["weight"], a.params["bias"]
            if isinstance(b, torch.nn.Conv2d):
                w = w.transpose(0, 3, 1, 2)  # (K, F, F, C) -> (K, C, F, F)
            elif isinstance(b, torch.nn.Linear):
                w = w.T  # (in, out) -> (out, in)
                if first_linear:  # inputs flattened as (H, W, C) -> as (C, H, W)
                    out = w.shape[0]
                    w = w.reshape(out, 4, 4, 128).transpose(0, 3, 1, 2).reshape(out, -1)
                    first_linear = False
            b.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            b.bias.copy_(torch.from_numpy(np.ascontiguousarray(bias)))


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
