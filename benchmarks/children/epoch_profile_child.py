"""Where cnnlib's epoch goes: one instrumented epoch of the default recipe, in seconds per part.

    harness.child_result("epoch_profile_child.py", ["--limit", N], threads=...)

The epoch runs through `Trainer.run_epoch`, as `fit()` runs it, with clocks around public
methods only:
- every layer's forward and backward (backward_params only on the first layer with
  parameters: elsewhere it runs inside backward, Linear's included, and timing it too
  would count that time twice);
- the optimizer's step;
- `Trainer.train_step`, whose time before the network's forward pass is the augmentation
  (and the learning rate's lookup), and whose time between the end of the forward pass
  and the start of the backward pass is the loss (softmax cross-entropy, the reported
  cross-entropy and its finiteness check).
What no clock covers (batch indexing, the trainer's bookkeeping) is "other".

Prints {"total": seconds of the epoch, "parts": {part: seconds}}; bench_epoch.py runs it.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable

from harness import send_result, time_interleaved, timed

import cnnlib
from cnnlib.nn.models import reference_network
from cnnlib.nn.normalization import channel_stats
from cnnlib.training import TrainConfig, Trainer

totals: dict[str, float] = defaultdict(float)  # part -> seconds
stamps: dict[str, float] = {}  # the clock when the network's passes last started or ended


def stamped(fn: Callable, started: str, ended: str | None = None) -> Callable:
    """fn, noting the clock in stamps[started] when it is called (and stamps[ended] after)."""
    def run(*args, **kwargs):
        stamps[started] = time.perf_counter()
        out = fn(*args, **kwargs)
        if ended is not None:
            stamps[ended] = time.perf_counter()
        return out
    return run


def split_step(train_step: Callable) -> Callable:
    """train_step, adding its augmentation and loss time to totals (from the stamps)."""
    def run(*args, **kwargs):
        start = time.perf_counter()
        out = train_step(*args, **kwargs)
        totals["augmentation"] += stamps["forward started"] - start
        totals["loss"] += stamps["backward started"] - stamps["forward ended"]
        return out
    return run


def instrumented_trainer(limit: int) -> Trainer:
    """A Trainer of the reference network on the first `limit` book images, clocks in place."""
    x, y, _, _ = cnnlib.load_cifar10(subset="book")
    x, y = x[:limit], y[:limit]
    mean, std = channel_stats(x)
    model = reference_network(0, mean=mean, std=std)
    trainer = Trainer(model, x, y, TrainConfig(epochs=1))
    first = next(layer for layer in model.layers if layer.params)
    for layer in model.layers:
        kind = type(layer).__name__
        for phase in ("forward", "backward") + (("backward_params",) if layer is first else ()):
            setattr(layer, phase, timed(getattr(layer, phase), totals,
                                        f"{kind} {phase.split('_')[0]}"))
    model.forward = stamped(model.forward, "forward started", "forward ended")
    model.backward_params = stamped(model.backward_params, "backward started")
    trainer.train_step = split_step(trainer.train_step)
    trainer.optimizer.step = timed(trainer.optimizer.step, totals, "optimizer step")
    return trainer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=5170, help="training images")
    args = p.parse_args()
    trainer = instrumented_trainer(args.limit)
    total = time_interleaved({"epoch": (None, trainer.run_epoch)}, repeats=1,
                             warmup=0)["epoch"][0]
    totals["other (batching, Python)"] = max(0.0, total - sum(totals.values()))
    send_result({"total": total, "parts": totals})


if __name__ == "__main__":
    main()
