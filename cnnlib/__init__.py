"""cnnlib: a small, fast, vectorized NumPy CNN library, built chapter by chapter.

Arrays are channels-last: images and activations (N, H, W, C); conv weights (K, F, F, C).
Classes are Keras-cased (`Conv2D`, `BatchNorm2D`); their arguments take PyTorch's names
(`in_channels`, `kernel_size`, `stride`, `padding`).

The folders are the architecture, read in this order:

- `core/`: the arithmetic the chapters derive, NumPy only (shapes, im2col, functional,
  losses, naive); chapters 2-9;
- `engine/`: how that arithmetic runs fast, never what it computes (chunks on all cores,
  Winograd); the appendix;
- `nn/`: `Layer` and every layer, initial weights, SGD and Adam, gradient checks, the models,
  model files, PyTorch conversion; chapters 2, 5-12;
- `training/`: CIFAR-10, augmentation, validation splits, schedules, metrics,
  checkpoints and the trainer; chapter 10;
- `cli/`: the command-line tools behind `python -m cnnlib.train` / `python -m cnnlib.evaluate`
  (`train.py` and `evaluate.py` here are their two-line entry points);
- `book/`: the book's figures, widgets, animations and exercise helpers, the only code
  that imports matplotlib or ipywidgets;
- `checks.py`: the argument checks and seeds every folder shares.

Book: every chapter; the README's "Layout" and STYLE.md describe the tree.
"""

import sys as _sys

from .core.losses import softmax, softmax_cross_entropy
from .core.shapes import conv_output_size, pool_output_size

# `interop` imports torch only inside its functions: `import cnnlib` never needs torch.
from .nn import interop
from .nn.gradcheck import gradcheck, numerical_gradient, relative_error
from .nn.layers import (
    AvgPool2D,
    Conv2D,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from .nn.models import reference_network
from .nn.normalization import BatchNorm, BatchNorm1D, BatchNorm2D, Standardize
from .nn.optim import SGD, Adam
from .nn.residual import ResidualBlock, residual_network
from .nn.serialization import load_model, save_model
from .training.data import CIFAR10_CLASSES, download_cifar10, load_cifar10, load_cifar10_label_names
from .training.splits import validation_split

__all__ = [
    "CIFAR10_CLASSES", "download_cifar10", "load_cifar10", "load_cifar10_label_names",
    "gradcheck", "numerical_gradient", "relative_error",
    "AvgPool2D", "Conv2D", "Dropout", "Flatten", "GlobalAvgPool2D", "Layer", "Linear",
    "MaxPool2D", "ReLU", "Sequential", "Sigmoid", "Tanh",
    "softmax", "softmax_cross_entropy", "reference_network",
    "BatchNorm", "BatchNorm1D", "BatchNorm2D", "Standardize", "SGD", "Adam",
    "load_model", "save_model", "conv_output_size", "pool_output_size",
    "ResidualBlock", "interop", "residual_network", "validation_split",
]

# `cnnlib.interop` is part of the contract (`from cnnlib.interop import to_torch`): it is
# the module `cnnlib.nn.interop`, registered under its public name too.
_sys.modules[f"{__name__}.interop"] = interop
