"""`Layer`: what every layer shares (params, grads, buffers, train/eval, calling, repr).

Book: chapter 2 (the first layer, Linear, is built on it); every later layer subclasses it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np

_NONE: MappingProxyType = MappingProxyType({})  # shared, read-only: "no parameters"


class Layer:
    """What every layer shares: forward(x) -> y, backward(dout) -> dx, and

    - `params`: trainable arrays by name ("weight", "bias"); `grads`: their gradients,
      same keys, filled in by `backward`. Empty for layers without parameters.
    - `training`: True while training; `train()` / `eval()` switch it (dropout and
      batch norm behave differently in the two modes; the other layers ignore it).
    - `buffers`: arrays the layer keeps that are not trained (batch norm's running
      statistics, Standardize's mean and std); saved with the model. Empty by default.
    - `config()`: the constructor arguments, as JSON types; a model file stores them and
      `from_config` rebuilds the layer. Give a new layer a `config()` and it can be saved
      and loaded (`cnnlib.save_model`, `cnnlib.load_model`), and its repr shows them.
    - `random_state()` / `set_random_state(state)`: the state of the layer's own random
      stream (dropout's masks), so a checkpoint resumes it exactly; None for the layers
      that draw nothing.
    - `layer(x)` is `layer.forward(x)`.
    """

    params: dict[str, np.ndarray] = _NONE
    grads: dict[str, np.ndarray] = _NONE
    buffers: dict[str, np.ndarray] = _NONE
    training: bool = True
    # Every layer class by name, so a model file can name its layers' types.
    registry: ClassVar[dict[str, type[Layer]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            Layer.registry[cls.__name__] = cls

    def config(self) -> dict:
        """The constructor arguments that rebuild this layer (weights aside), e.g.
        {"in_features": 5, "out_features": 2}. A layer whose class takes no arguments
        needs none: {}. One that takes arguments must say which, by overriding this."""
        if type(self).__init__ is object.__init__:
            return {}
        raise NotImplementedError(
            f"{type(self).__name__} takes constructor arguments but has no config(): give it "
            "a config() method that returns them (a dict of JSON types), and it can be saved")

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """A new layer (fresh weights) from `config()`'s arguments."""
        return cls(**config)

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define backward(dout)")

    def backward_params(self, dout: np.ndarray) -> None:
        """Only the parameter gradients (into `grads`), where the input's is not needed.

        Training needs no gradient for the images themselves, so the first layer with
        parameters can skip its input gradient. Here: a full `backward`; Conv2D and
        Linear skip the input gradient for real.
        """
        self.backward(dout)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def train(self, mode: bool = True) -> Layer:
        self.training = bool(mode)
        return self

    def eval(self) -> Layer:
        return self.train(False)

    def random_state(self) -> dict | None:
        """The state of this layer's random stream, as JSON types; None if it has none."""
        return None

    def set_random_state(self, state: dict) -> None:
        """Put back a state that random_state() returned."""
        raise ValueError(f"{type(self).__name__} draws no random numbers: it has no random "
                         "state to set")

    def extra_repr(self) -> str:
        """The arguments shown inside the layer's repr, e.g. "3, 8, kernel_size=3".

        By default config()'s arguments as keywords ("p=0.5"); nothing for a layer
        without a config(). Layers override it to show the main arguments positionally.
        """
        try:
            config = self.config()
        except NotImplementedError:
            return ""
        return ", ".join(f"{name}={value!r}" for name, value in config.items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"
