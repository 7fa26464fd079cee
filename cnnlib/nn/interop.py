"""Converting networks between cnnlib and PyTorch, with the same outputs both ways.

`to_torch(model)` builds a `torch.nn.Module` whose forward pass computes what the cnnlib
model computes, and `from_torch(module)` builds a `cnnlib.Sequential` from such a module.
The layouts differ, and the conversion takes care of it:

* images: cnnlib (N, H, W, C), PyTorch (N, C, H, W). The converted module takes
  (N, C, H, W) input like every PyTorch model: pass `images.transpose(0, 3, 1, 2)`.
* conv weights: cnnlib (K, F, F, C), PyTorch (K, C, F, F).
* linear weights: cnnlib (in, out) with y = x W + b, PyTorch (out, in) with y = x Wᵀ + b.
* flatten: cnnlib flattens each image in (H, W, C) order. The PyTorch twin of `Flatten`
  (`FlattenChannelsLast`) permutes to (N, H, W, C) first, so the next linear layer keeps
  its weights row for row. A plain `torch.nn.Flatten` ((C, H, W) order) coming from
  PyTorch is handled by permuting the rows of the linear layer that follows it.

Batch-norm running statistics travel with the weights; so do parameter gradients, where
they exist (`from_torch` copies each `.grad` into the layer's `grads`). The training or
evaluation mode is carried too.

PyTorch is optional: this module imports it only inside its functions, so
`import cnnlib` works without it.

Book: chapter 12, "Exact conversion to PyTorch".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import layers as L
from .normalization import BatchNorm1D, BatchNorm2D, Standardize
from .residual import ResidualBlock

INSTALL_HINT = ("cnnlib.interop needs PyTorch, which cnnlib does not install. Install the "
                "CPU wheel with: pip install torch==2.13.0 "
                "--index-url https://download.pytorch.org/whl/cpu")


def _torch() -> Any:
    """The torch module, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err
    return torch


@functools.cache
def torch_modules() -> dict[str, type]:
    """PyTorch modules for the cnnlib layers PyTorch has no exact twin of.

    Defined on first use (they subclass torch.nn.Module, so they need torch).
    """
    torch = _torch()
    nn = torch.nn

    class StandardizeNCHW(nn.Module):
        """y = (x − mean) / std per channel of x (N, C, H, W); integer pixels become float32."""

        def __init__(self, mean: np.ndarray, std: np.ndarray):
            super().__init__()
            self.register_buffer("mean", torch.tensor(np.asarray(mean, np.float32)))
            self.register_buffer("std", torch.tensor(np.asarray(std, np.float32)))

        def forward(self, x: Any) -> Any:
            if not torch.is_floating_point(x):
                x = x.float()
            shape = (1, -1) + (1,) * (x.dim() - 2)
            # cnnlib's arithmetic exactly: x·(1/σ) − μ·(1/σ) with 1/σ rounded to float32,
            # even after .double(), so float64 comparisons see no difference here.
            inv_std = (1.0 / self.std.float()).to(x.dtype).view(shape)
            return x * inv_std - self.mean.to(x.dtype).view(shape) * inv_std

    class FlattenChannelsLast(nn.Module):
        """(N, C, H, W) -> (N, H·W·C) in cnnlib's (H, W, C) order; 2-D input passes through."""

        def forward(self, x: Any) -> Any:
            if x.dim() == 4:
                x = x.permute(0, 2, 3, 1)
            return x.reshape(x.shape[0], -1)

    class GlobalAvgPool(nn.Module):
        """(N, C, H, W) -> (N, C): the mean of every channel over all positions."""

        def forward(self, x: Any) -> Any:
            return x.mean(dim=(2, 3))

    class BasicBlock(nn.Module):
        """y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), as cnnlib's ResidualBlock."""

        def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(out_channels)
            self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(out_channels)
            self.shortcut = nn.Identity()
            if stride != 1 or in_channels != out_channels:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 1, stride, 0, bias=False),
                    nn.BatchNorm2d(out_channels))

        def forward(self, x: Any) -> Any:
            h = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(h)) + self.shortcut(x))

    return {"StandardizeNCHW": StandardizeNCHW, "FlattenChannelsLast": FlattenChannelsLast,
            "GlobalAvgPool": GlobalAvgPool, "BasicBlock": BasicBlock}


# ------------------------------------------------------------------------ to PyTorch


def _tensor(array: np.ndarray) -> Any:
    return _torch().tensor(np.ascontiguousarray(array))


def _conv_to_torch(layer: L.Conv2D, bias: bool = True) -> Any:
    nn = _torch().nn
    conv = nn.Conv2d(**layer.config(), bias=bias)
    w = layer.params["weight"]
    conv.weight = nn.Parameter(_tensor(w.transpose(0, 3, 1, 2)))  # (K,F,F,C) -> (K,C,F,F)
    if bias:
        conv.bias = nn.Parameter(_tensor(layer.params["bias"]))
    return conv


def _linear_to_torch(layer: L.Linear) -> Any:
    nn = _torch().nn
    linear = nn.Linear(**layer.config())
    linear.weight = nn.Parameter(_tensor(layer.params["weight"].T))  # (in,out) -> (out,in)
    linear.bias = nn.Parameter(_tensor(layer.params["bias"]))
    return linear


def _batchnorm_to_torch(layer: BatchNorm1D | BatchNorm2D) -> Any:
    torch = _torch()
    cls = torch.nn.BatchNorm2d if isinstance(layer, BatchNorm2D) else torch.nn.BatchNorm1d
    bn = cls(**layer.config())  # num_features, eps, momentum: the same meaning in both
    bn.weight = torch.nn.Parameter(_tensor(layer.params["weight"]))
    bn.bias = torch.nn.Parameter(_tensor(layer.params["bias"]))
    bn.running_mean.copy_(_tensor(layer.buffers["running_mean"]))
    bn.running_var.copy_(_tensor(layer.buffers["running_var"]))
    return bn.train(layer.training)


def _block_to_torch(layer: ResidualBlock) -> Any:
    nn = _torch().nn
    block = torch_modules()["BasicBlock"](**layer.config())
    block.conv1 = _conv_to_torch(layer.conv1, bias=False)
    block.bn1 = _batchnorm_to_torch(layer.bn1)
    block.conv2 = _conv_to_torch(layer.conv2, bias=False)
    block.bn2 = _batchnorm_to_torch(layer.bn2)
    if layer.projection:
        block.shortcut = nn.Sequential(_conv_to_torch(layer.shortcut, bias=False),
                                       _batchnorm_to_torch(layer.shortcut_bn))
    return block.train(layer.training)


@functools.cache
def _converters() -> dict[type, Callable[[Any], Any]]:
    """cnnlib layer type -> a function making its PyTorch twin. The twins are built from
    each layer's config() (the same arguments, under PyTorch's names) and its arrays."""
    nn, mods = _torch().nn, torch_modules()

    def plain(cls: type) -> Callable[[Any], Any]:
        # Layers whose config() is exactly the PyTorch constructor's keywords.
        return lambda layer: cls(**layer.config()).train(layer.training)

    return {
        L.Sequential: lambda layer: nn.Sequential(*map(_layer_to_torch, layer.layers)),
        L.Conv2D: _conv_to_torch, L.Linear: _linear_to_torch,
        BatchNorm1D: _batchnorm_to_torch, BatchNorm2D: _batchnorm_to_torch,
        ResidualBlock: _block_to_torch,
        Standardize: lambda layer: mods["StandardizeNCHW"](layer.buffers["mean"],
                                                           layer.buffers["std"]),
        L.MaxPool2D: plain(nn.MaxPool2d), L.AvgPool2D: plain(nn.AvgPool2d),
        L.Dropout: plain(nn.Dropout), L.ReLU: plain(nn.ReLU), L.Tanh: plain(nn.Tanh),
        L.Sigmoid: plain(nn.Sigmoid), L.Flatten: plain(mods["FlattenChannelsLast"]),
        L.GlobalAvgPool2D: plain(mods["GlobalAvgPool"]),
    }


def _layer_to_torch(layer: object) -> Any:
    converters = _converters()
    convert = converters.get(type(layer))
    if convert is None:
        raise ValueError(f"to_torch cannot convert a layer of type {type(layer).__name__} "
                         f"({layer!r}); it converts "
                         f"{sorted(cls.__name__ for cls in converters)}")
    return convert(layer)


def to_torch(model: object) -> Any:
    """A `torch.nn.Module` that computes what `model` (a cnnlib layer or Sequential) does.

    The module takes (N, C, H, W) images where `model` takes (N, H, W, C), and returns
    the same values in PyTorch's layout. Parameters are copied (float dtypes kept), batch-
    norm running statistics too; the module is in the training mode of `model`.
    Raises ImportError (with the install command) without torch, ValueError for a layer
    type that has no PyTorch twin.
    """
    module = _layer_to_torch(model)
    training = getattr(model, "training", True)
    if isinstance(model, L.Sequential):
        module.train(training)
        # Layers with a mode of their own (dropout, batch norm) keep it.
        for layer, twin in zip(model.layers, module, strict=True):
            twin.train(layer.training)
    return module


# ---------------------------------------------------------------------- from PyTorch


def _array(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def _grad(t: Any) -> np.ndarray | None:
    return None if t.grad is None else t.grad.detach().cpu().numpy().copy()


def _conv_from_torch(conv: Any) -> L.Conv2D:
    k = conv.kernel_size
    rules = {"square kernel": k[0] == k[1], "equal strides": conv.stride[0] == conv.stride[1],
             "numeric, equal padding": not isinstance(conv.padding, str)
             and conv.padding[0] == conv.padding[1],
             "dilation 1": tuple(conv.dilation) == (1, 1), "groups = 1": conv.groups == 1,
             "zero padding": conv.padding_mode == "zeros"}
    broken = [rule for rule, ok in rules.items() if not ok]
    if broken:
        raise ValueError(f"cannot convert {conv}: cnnlib's Conv2D needs {', '.join(broken)}")
    w = _array(conv.weight).transpose(0, 2, 3, 1)  # (K, C, F, F) -> (K, F, F, C)
    layer = L.Conv2D(conv.in_channels, conv.out_channels, k[0], conv.stride[0], conv.padding[0],
                   dtype=w.dtype)
    layer.params["weight"] = np.ascontiguousarray(w)
    if conv.bias is not None:
        layer.params["bias"] = _array(conv.bias)
    grads = {"weight": _grad(conv.weight),
             "bias": None if conv.bias is None else _grad(conv.bias)}
    if grads["weight"] is not None:
        layer.grads["weight"] = np.ascontiguousarray(grads["weight"].transpose(0, 2, 3, 1))
    if grads["bias"] is not None:
        layer.grads["bias"] = grads["bias"]
    return layer


def _batchnorm_from_torch(bn: Any) -> BatchNorm1D | BatchNorm2D:
    nn = _torch().nn
    if not bn.affine or not bn.track_running_stats or bn.momentum is None:
        raise ValueError(f"cannot convert {bn}: cnnlib's batch norm needs affine=True, "
                         f"track_running_stats=True and a numeric momentum")
    cls = BatchNorm2D if isinstance(bn, nn.BatchNorm2d) else BatchNorm1D
    layer = cls(bn.num_features, eps=bn.eps, momentum=bn.momentum,
                dtype=bn.weight.detach().numpy().dtype)
    for name in ("weight", "bias"):
        layer.params[name] = _array(getattr(bn, name))
        grad = _grad(getattr(bn, name))
        layer.grads[name] = np.zeros_like(layer.params[name]) if grad is None else grad
    layer.buffers["running_mean"] = _array(bn.running_mean).astype(np.float32)
    layer.buffers["running_var"] = _array(bn.running_var).astype(np.float32)
    return layer.train(bn.training)


def _pool_from_torch(pool: Any) -> L.MaxPool2D | L.AvgPool2D:
    nn = _torch().nn

    def single(value: Any) -> int | None:
        values = value if isinstance(value, tuple | list) else (value, value)
        return int(values[0]) if values[0] == values[1] else None

    f, s, p = single(pool.kernel_size), single(pool.stride), single(pool.padding)
    ok = f is not None and s is not None and p == 0 and not pool.ceil_mode
    if isinstance(pool, nn.MaxPool2d):
        ok = ok and single(pool.dilation) == 1
    if not ok:
        raise ValueError(f"cannot convert {pool}: cnnlib's pooling needs a square window, equal "
                         "strides, padding 0, ceil_mode=False (and dilation 1)")
    return (L.MaxPool2D if isinstance(pool, nn.MaxPool2d) else L.AvgPool2D)(f, s)


def _linear_from_torch(linear: Any, channels: int | None) -> L.Linear:
    """channels: set when a plain torch Flatten of C-channel maps came just before."""
    w = _array(linear.weight).T  # (out, in) -> (in, out)
    g = _grad(linear.weight)
    g = None if g is None else g.T
    if channels is not None:
        # Row c·HW + p of PyTorch's (C, H, W) order is row p·C + c in cnnlib's (H, W, C).
        if linear.in_features % channels:
            raise ValueError(f"{linear}: in_features = {linear.in_features} is not a multiple "
                             f"of the {channels} channels flattened before it")
        hw = linear.in_features // channels
        order = np.arange(linear.in_features).reshape(channels, hw).T.reshape(-1)
        w = w[order]
        g = None if g is None else g[order]
    layer = L.Linear(linear.in_features, linear.out_features, dtype=w.dtype)
    layer.params["weight"] = np.ascontiguousarray(w)
    layer.params["bias"] = (_array(linear.bias) if linear.bias is not None
                            else np.zeros(linear.out_features, w.dtype))
    if g is not None:
        layer.grads["weight"] = np.ascontiguousarray(g)
    if linear.bias is not None and linear.bias.grad is not None:
        layer.grads["bias"] = _grad(linear.bias)
    return layer


def _block_from_torch(block: Any) -> ResidualBlock:
    conv1 = block.conv1
    layer = ResidualBlock(conv1.in_channels, conv1.out_channels, conv1.stride[0],
                          dtype=conv1.weight.detach().numpy().dtype)
    parts = [("conv1", block.conv1), ("bn1", block.bn1), ("conv2", block.conv2),
             ("bn2", block.bn2)]
    if layer.projection:
        parts += [("shortcut", block.shortcut[0]), ("shortcut_bn", block.shortcut[1])]
    for name, module in parts:
        convert = _conv_from_torch if name in ("conv1", "conv2", "shortcut") else \
            _batchnorm_from_torch
        setattr(layer, name, convert(module))
    return layer.train(block.training)


def _from_torch_list(modules: list[Any]) -> list[object]:
    """Convert a flat list of modules, tracking the channel count for plain Flatten."""
    nn = _torch().nn
    mods = torch_modules()
    layers: list[object] = []
    channels = None  # channels of the last 4-D activation seen
    flattened = None  # channels flattened by a plain torch Flatten, until a Linear uses them
    for module in modules:
        if isinstance(module, nn.Sequential):
            layers += _from_torch_list(list(module))
            continue
        if isinstance(module, nn.Conv2d):
            layers.append(_conv_from_torch(module))
            channels = module.out_channels
        elif isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d):
            layers.append(_batchnorm_from_torch(module))
        elif isinstance(module, nn.Linear):
            layers.append(_linear_from_torch(module, flattened))
            flattened = None
        elif isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
            layers.append(_pool_from_torch(module))
        elif isinstance(module, nn.Dropout):
            layers.append(L.Dropout(module.p).train(module.training))
        elif isinstance(module, mods["BasicBlock"]):
            layers.append(_block_from_torch(module))
            channels = layers[-1].out_channels
        elif isinstance(module, mods["StandardizeNCHW"]):
            layers.append(Standardize(_array(module.mean), _array(module.std)))
        elif isinstance(module, mods["FlattenChannelsLast"]):
            layers.append(L.Flatten())
        elif isinstance(module, nn.Flatten):
            if module.start_dim != 1 or module.end_dim != -1:
                raise ValueError(f"cannot convert {module}: only start_dim=1, end_dim=-1")
            layers.append(L.Flatten())
            flattened, channels = channels, None
        elif isinstance(module, mods["GlobalAvgPool"]):
            layers.append(L.GlobalAvgPool2D())
            channels = None
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            size = module.output_size
            if size not in (1, (1, 1)):
                raise ValueError(f"cannot convert {module}: only output_size 1 (global "
                                 "average pooling)")
            # (N, C, 1, 1) in PyTorch, (N, C) in cnnlib: a Flatten after it changes nothing.
            layers.append(L.GlobalAvgPool2D())
            channels = None
        elif isinstance(module, nn.ReLU | nn.Tanh | nn.Sigmoid):
            cls = {nn.ReLU: L.ReLU, nn.Tanh: L.Tanh, nn.Sigmoid: L.Sigmoid}[type(module)]
            layers.append(cls())
        elif isinstance(module, nn.Identity):
            continue
        else:
            raise ValueError(f"from_torch cannot convert a module of type "
                             f"{type(module).__name__} ({module}); it converts Sequential, "
                             "Conv2d, Linear, BatchNorm1d/2d, MaxPool2d, AvgPool2d, "
                             "AdaptiveAvgPool2d(1), Flatten, Dropout, ReLU, Tanh, Sigmoid, "
                             "Identity and the modules of cnnlib.interop.torch_modules()")
    return layers


def from_torch(module: Any) -> L.Sequential:
    """A `cnnlib.Sequential` that computes what `module` computes, channels-last.

    `module`: a torch.nn.Sequential (nested ones are flattened) or a single supported
    module. The result takes (N, H, W, C) where the module takes (N, C, H, W). Weights,
    batch-norm running statistics, parameter gradients (where `.grad` is set) and the
    training mode are carried over. Raises ValueError for modules cnnlib cannot express.
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise ValueError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    model = L.Sequential(*_from_torch_list([module]))
    model.training = module.training
    return model
