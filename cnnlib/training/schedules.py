"""Learning-rate schedules: the step size as a function of the training step.

A schedule is a callable `lr(step) -> float` for step = 0, 1, …, total_steps − 1,
evaluated before every optimizer step. Three are provided:

* `constant`: lr = lr_max at every step (for experiments and tests).
* `cosine`: lr = lr_max · ½(1 + cos(π t)), t = step / total_steps: large steps first,
  then ever smaller ones that let the weights settle into a minimum.
* `one_cycle` (Smith & Topin 2017): a linear warm-up from lr_max/div to lr_max over the
  first `warmup` fraction of training, then a cosine decay to lr_max/final_div. The
  warm-up keeps the first, badly scaled steps from throwing the weights far away.

Book: chapter 10 ("The recipe").
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..checks import positive_int, positive_number

Schedule = Callable[[int], float]


def _check(total_steps: int, max_lr: float) -> None:
    positive_int("total_steps", total_steps)
    positive_number("max_lr", max_lr)


def _check_step(step: int, total_steps: int) -> None:
    if not 0 <= step < total_steps:
        raise ValueError(f"step = {step} lies outside the schedule's 0 .. {total_steps - 1}")


def constant(max_lr: float, total_steps: int) -> Schedule:
    """lr = max_lr at every step."""
    _check(total_steps, max_lr)

    def lr(step: int) -> float:
        _check_step(step, total_steps)
        return float(max_lr)

    return lr


def cosine(max_lr: float, total_steps: int, min_lr: float = 0.0) -> Schedule:
    """lr(step) = min_lr + (max_lr − min_lr) · ½(1 + cos(π · step / total_steps))."""
    _check(total_steps, max_lr)
    if not 0 <= min_lr <= max_lr:
        raise ValueError(f"min_lr = {min_lr} must lie in [0, max_lr = {max_lr}]")

    def lr(step: int) -> float:
        _check_step(step, total_steps)
        return min_lr + (max_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * step / total_steps))

    return lr


def one_cycle(max_lr: float, total_steps: int, warmup: float = 0.25, div: float = 25.0,
              final_div: float = 1e4) -> Schedule:
    """Linear warm-up max_lr/div -> max_lr over warmup·total_steps, then cosine to max_lr/final_div.

    warmup: fraction of the steps spent warming up, in [0, 1). The peak max_lr is reached
    at step round(warmup·total_steps); the last step uses ~max_lr/final_div.
    """
    _check(total_steps, max_lr)
    if not 0 <= warmup < 1:
        raise ValueError(f"warmup = {warmup} must be a fraction in [0, 1)")
    if not (div >= 1 and final_div >= 1):
        raise ValueError(f"div = {div} and final_div = {final_div} must be >= 1")
    peak = round(warmup * total_steps)
    start, end = max_lr / div, max_lr / final_div

    def lr(step: int) -> float:
        _check_step(step, total_steps)
        if step < peak:
            return start + (max_lr - start) * step / peak
        decay_steps = max(total_steps - 1 - peak, 1)
        t = (step - peak) / decay_steps
        return end + (max_lr - end) * 0.5 * (1 + math.cos(math.pi * t))

    return lr


SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "one_cycle": one_cycle, "cosine": cosine, "constant": constant,
}


def make_schedule(name: str, max_lr: float, total_steps: int) -> Schedule:
    """A schedule by name ("one_cycle", "cosine" or "constant") with default settings."""
    if name not in SCHEDULES:
        raise ValueError(f"schedule = {name!r} must be one of {sorted(SCHEDULES)}")
    return SCHEDULES[name](max_lr, total_steps)
