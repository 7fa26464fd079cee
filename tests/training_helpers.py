"""What the trainer, checkpoint and command-line tests share: a tiny learnable problem,
a tiny network, CIFAR-10 folders of random images in the official format, and callbacks
that interrupt or poison a run at a given step."""

from __future__ import annotations

import os
import pickle
import signal
from pathlib import Path

import numpy as np

from cnnlib.nn.models import reference_network
from cnnlib.training import TrainConfig, Trainer

NAMES = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar_folder(root: Path, n_train=(12, 9, 9, 9, 9), n_test=20, seed=0) -> Path:
    """A cifar-10-batches-py/ folder of random images, in the official file format."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)

    def write(name, n):
        batch = {b"batch_label": name.encode(), b"labels": rng.integers(0, 10, n).tolist(),
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))

    for k, n in enumerate(n_train, start=1):
        write(f"data_batch_{k}", n)
    write("test_batch", n_test)
    meta = {b"label_names": [name.encode() for name in NAMES], b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return root


def tiny_problem(n=40, seed=0):
    """8×8 images whose label is the brightest channel: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    y = rng.integers(0, 3, n)
    x[np.arange(n), :, :, y] = np.maximum(x[np.arange(n), :, :, y], 200)
    return x, y


def tiny_model(seed=0):
    """The reference network's layout at 8×8 pixels, 4 channels, 3 classes."""
    return reference_network(seed, widths=(4,), hidden=8, num_classes=3, image_size=8,
                             mean=(127.5,) * 3, std=(74.0,) * 3)


def tiny_trainer(epochs=3, seed=0, lr=0.05, **kw) -> Trainer:
    x, y = tiny_problem()
    model = tiny_model(seed)
    config = TrainConfig(epochs=epochs, batch_size=16, lr=lr, seed=seed, **kw)
    return Trainer(model, x, y, config, x_test=x[:10], y_test=y[:10])


def weights(trainer: Trainer) -> dict[str, np.ndarray]:
    out = {k: v.copy() for k, v in trainer.model.params.items()}
    for i, layer in enumerate(trainer.model.layers):
        out.update({f"{i}.{k}": v.copy() for k, v in layer.buffers.items()})
    return out


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def interrupt_at(global_step: int, how: str = "raise"):
    """on_step callback: Ctrl-C once `global_step` steps are done (raised, or a real SIGINT)."""
    def on_step(trainer: Trainer) -> None:
        if trainer.global_step == global_step:
            if how == "signal":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise KeyboardInterrupt
    return on_step


def poison_at(global_step: int):
    def on_step(trainer: Trainer) -> None:
        if trainer.global_step == global_step:
            trainer.model.params["1.weight"][...] = np.nan  # what an exploding step leaves
    return on_step
