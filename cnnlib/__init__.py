"""cnnlib: a small, fast, vectorized NumPy CNN library, built chapter by chapter.

Arrays are channels-last: images and activations (N, H, W, C); conv weights (K, F, F, C).
"""

from .data import CIFAR10_CLASSES, download_cifar10, load_cifar10, load_cifar10_label_names
from .gradcheck import gradcheck, numerical_gradient, relative_error
from .layers import (
    AvgPool2D,
    Conv2D,
    Flatten,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from .losses import softmax, softmax_cross_entropy
from .models import reference_network
from .normalization import BatchNorm1D, BatchNorm2D, Standardize
from .optim import SGD
from .pooling_global import GlobalAvgPool2D
from .regularization import Dropout
from .serialization import load_model, save_model
from .shapes import conv_output_size, pool_output_size

__all__ = [
    "CIFAR10_CLASSES", "download_cifar10", "load_cifar10_label_names",
    "AvgPool2D", "Conv2D", "Flatten", "Linear", "MaxPool2D", "ReLU", "SGD", "Sequential",
    "Sigmoid", "Tanh", "conv_output_size", "gradcheck", "load_cifar10", "numerical_gradient",
    "pool_output_size", "relative_error", "softmax", "softmax_cross_entropy",
    "BatchNorm1D", "BatchNorm2D", "Dropout", "GlobalAvgPool2D", "Standardize", "load_model",
    "reference_network", "save_model",
]

# Residual blocks (closing chapter) and conversion to and from PyTorch. `interop` imports
# torch only inside its functions, so `import cnnlib` never needs torch.
from . import interop  # noqa: E402
from .residual import ResidualBlock, residual_network  # noqa: E402

__all__ += ["ResidualBlock", "interop", "residual_network"]
