"""cnnlib: a small, fast, vectorized NumPy CNN library, built chapter by chapter.

Arrays are channels-last: images and activations (N, H, W, C); conv weights (K, F, F, C).

The modules, each one idea (the chapter that builds it in brackets):

- core arithmetic: `shapes` (output sizes, ch. 4), `im2col` (windows, ch. 3),
  `functional` (convolution, pooling, activations as textbook functions, ch. 3, 5-8),
  `engine` (runs those functions on all cores, cache-sized chunks; appendix),
  `checks` (argument checks shared by all);
- layers: `layers` (`Layer` and every layer: Conv2D, pools, activations, Flatten,
  Linear, Dropout, Sequential; ch. 2, 5-12), `normalization` (Standardize, batch norm,
  ch. 10), `init` (random initial weights, ch. 6 and 8), `losses` (softmax cross-entropy,
  ch. 2 and 9), `optim` (SGD, ch. 2 and 9), `gradcheck` (numerical gradients, ch. 2 and 7);
- training and files: `data` (CIFAR-10, ch. 1), `augment`, `schedules`, `models`,
  `metrics`, `training`, `checkpoint`, `serialization` (ch. 10); the command-line tools
  `train` and `evaluate` (with `cli_checks`);
- teaching aids, used by the chapters' figures and widgets: `naive` (loop versions),
  `kernels`, `geometry`, `explorer`, `explorer_html`, `receptive_field`, `summary`, `viz`.
"""

# `interop` imports torch only inside its functions: `import cnnlib` never needs torch.
from . import interop
from .data import CIFAR10_CLASSES, download_cifar10, load_cifar10, load_cifar10_label_names
from .gradcheck import gradcheck, numerical_gradient, relative_error
from .layers import (
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
from .losses import softmax, softmax_cross_entropy
from .models import reference_network
from .normalization import BatchNorm, BatchNorm1D, BatchNorm2D, Standardize
from .optim import SGD
from .residual import ResidualBlock, residual_network
from .serialization import load_model, save_model
from .shapes import conv_output_size, pool_output_size
from .splits import validation_split

__all__ = [
    "CIFAR10_CLASSES", "download_cifar10", "load_cifar10", "load_cifar10_label_names",
    "gradcheck", "numerical_gradient", "relative_error",
    "AvgPool2D", "Conv2D", "Dropout", "Flatten", "GlobalAvgPool2D", "Layer", "Linear",
    "MaxPool2D", "ReLU", "Sequential", "Sigmoid", "Tanh",
    "softmax", "softmax_cross_entropy", "reference_network",
    "BatchNorm", "BatchNorm1D", "BatchNorm2D", "Standardize", "SGD",
    "load_model", "save_model", "conv_output_size", "pool_output_size",
    "ResidualBlock", "interop", "residual_network", "validation_split",
]
