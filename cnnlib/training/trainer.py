"""The training loop: mini-batch SGD over augmented images, with metrics and checkpoints.

`Trainer` is the one training loop of the book: the `python -m cnnlib.train` command
and chapter 10 both call it. One epoch visits every training image once, in a shuffled
order, in mini-batches; each step

1. augments the batch (random crop + flip, `cnnlib.training.augment`),
2. runs the model forward, scores it with label-smoothed softmax cross-entropy,
3. runs it backward and lets SGD (Nesterov momentum, weight decay) update the weights
   with the learning rate of the schedule at this step,
4. (with ema_decay > 0) folds the new weights into their moving average
   (`cnnlib.training.averaging`), which is what gets scored.

Everything random comes from the seed: the shuffling of epoch e from the seed and e,
the augmentation and dropout from Generators whose states travel in checkpoints, so a
run that is stopped and resumed ends with exactly the weights of an uninterrupted one.

A checkpoint (`cnnlib.training.checkpoint`) is written after every epoch and when Ctrl-C stops
training; `Trainer.from_checkpoint` continues from one. Scores come from `cnnlib.training.metrics`.
Book: chapter 10 ("The training loop").
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..checks import fraction, matching_labels, non_negative_int, positive_int, positive_number
from ..core.losses import softmax_cross_entropy
from ..nn.layers import Sequential
from ..nn.optim import SGD
from .augment import alternating_flip, augment, flip_pattern, random_crop
from .averaging import WeightAverage
from .checkpoint import data_fingerprint, read_checkpoint, write_checkpoint
from .metrics import cross_entropy, evaluate_model
from .schedules import SCHEDULES, make_schedule

# ----------------------------------------------------------------------- configuration


@dataclass
class TrainConfig:
    """The training recipe. The defaults are the book's ("book50"): 50 epochs on 4,670 of
    the book's images reach about 75 % validation accuracy (close to 80 % on the book's
    test images) in about a quarter of an hour on two CPU cores.

    lr is the peak learning rate of the schedule; weight decay applies to conv and dense
    weights only (not to biases or batch-norm scales). crop_padding and flip are the
    training augmentation; test_flip makes predictions average each image's logits with
    its mirror image's (models saved by `python -m cnnlib.train` record it, and
    `python -m cnnlib.evaluate` follows it).

    Three fast-training options, all off by default (so "book50" is unchanged):
    ema_decay > 0 keeps an exponential moving average of the weights and batch-norm
    statistics (`cnnlib.training.averaging.WeightAverage`, decay per step) and scores
    the average instead of the raw weights; test_shift = s > 0 adds to the scored views
    each image translated by (−s, −s) and (+s, +s) pixels with reflected borders
    (`cnnlib.training.metrics.predict_logits`); alternating_flip replaces the random flip
    by airbench's deterministic one: each image is mirrored in every other epoch,
    starting from a random half (`cnnlib.training.augment.alternating_flip`).
    """

    epochs: int = 50
    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    schedule: str = "one_cycle"
    crop_padding: int = 4
    flip: bool = True
    test_flip: bool = True
    seed: int = 0
    ema_decay: float = 0.0
    test_shift: int = 0
    alternating_flip: bool = False

    def __post_init__(self) -> None:
        self.epochs = positive_int("epochs", self.epochs)
        self.batch_size = positive_int("batch_size", self.batch_size)
        self.lr = positive_number("lr", self.lr)
        self.label_smoothing = fraction("label_smoothing", self.label_smoothing)
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule = {self.schedule!r} must be one of {sorted(SCHEDULES)}")
        self.seed = non_negative_int("seed", self.seed)
        self.crop_padding = non_negative_int("crop_padding", self.crop_padding)
        self.ema_decay = fraction("ema_decay", self.ema_decay)
        self.test_shift = non_negative_int("test_shift", self.test_shift)
        if self.alternating_flip and not self.flip:
            raise ValueError("alternating_flip = True needs flip = True: it is a way of "
                             "flipping, not flipping is flip = False")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown training settings {sorted(unknown)}")
        return cls(**d)


@dataclass
class History:
    """Per-epoch metrics: lists indexed by epoch − 1. Entries not measured are NaN.

    train_loss/train_acc are averaged over the epoch's augmented batches, in training mode
    (dropout on), as the weights change: a running picture, not a final score.
    val_loss/val_acc score the validation images after each epoch (the learning curves);
    test_loss/test_acc the test images, only when the trainer was asked to monitor them.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        # NaN is not JSON: store it as None.
        return {k: [None if isinstance(v, float) and math.isnan(v) else v for v in vals]
                for k, vals in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> History:
        h = cls(**{k: [math.nan if v is None else v for v in vals] for k, vals in d.items()})
        # Files written before validation existed have no val_* lists: nothing was measured.
        for name in ("val_loss", "val_acc"):
            if name not in d:
                setattr(h, name, [math.nan] * len(h.epoch))
        return h


@dataclass
class EpochTotals:
    """Running sums over the steps of the current epoch (they become its History entry)."""

    loss_sum: float = 0.0  # Σ loss·batch size, so loss_sum / seen is the mean loss
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0  # time spent in SGD steps, not in scoring

    def add(self, loss: float, correct: int, n: int, seconds: float) -> None:
        self.loss_sum += loss * n
        self.correct += correct
        self.seen += n
        self.seconds += seconds

    def to_list(self) -> list[float]:
        return [self.loss_sum, self.correct, self.seen, self.seconds]

    @classmethod
    def from_list(cls, values: list[float]) -> EpochTotals:
        loss_sum, correct, seen, seconds = values
        return cls(float(loss_sum), int(correct), int(seen), float(seconds))


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the weights are unusable from this step on."""

    def __init__(self, message: str, epoch: int, step: int):
        super().__init__(message)
        self.epoch, self.step = epoch, step


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training between two steps; `checkpoint` holds the state (or None)."""

    def __init__(self, message: str, checkpoint: Path | None, epoch: int, step: int):
        super().__init__(message)
        self.checkpoint, self.epoch, self.step = checkpoint, epoch, step


_EMA = "ema/"  # prefix of the weight average's arrays among the optimizer's in checkpoints


def _no_decay(name: str, param: np.ndarray) -> bool:
    """Batch-norm scales are 1-D "weight"s: decaying them would only fight normalization."""
    return param.ndim < 2


# ----------------------------------------------------------------------------- trainer


class Trainer:
    """Trains `model` on (x_train, y_train) with `config`; scores validation images per epoch.

    x_train: images (N, H, W, C) as the model takes them (uint8 for the reference
    network, which standardizes its input); y_train: int labels (N,).
    x_val/y_val, if given (e.g. from `cnnlib.training.splits.validation_split`), are scored after
    every epoch for the learning curves: the images to make decisions by.
    x_test/y_test, if given, are also scored after every epoch, for monitoring only
    (`python -m cnnlib.train --monitor-test`); nothing in training looks at either.
    """

    def __init__(self, model: Sequential, x_train: np.ndarray, y_train: np.ndarray,
                 config: TrainConfig | None = None, *, x_val: np.ndarray | None = None,
                 y_val: np.ndarray | None = None, x_test: np.ndarray | None = None,
                 y_test: np.ndarray | None = None):
        self.config = config if config is not None else TrainConfig()
        y_train = matching_labels(x_train, y_train, "x_train/y_train")
        for name, images, labels in (("val", x_val, y_val), ("test", x_test, y_test)):
            if (images is None) != (labels is None):
                raise ValueError(f"pass both x_{name} and y_{name}, or neither")
            if images is not None:
                matching_labels(images, labels, f"x_{name}/y_{name}")
        self.model, self.x_train, self.y_train = model, x_train, y_train
        self.x_val, self.y_val = x_val, y_val
        self.x_test, self.y_test = x_test, y_test
        c = self.config
        self.optimizer = SGD(model, lr=c.lr, momentum=c.momentum, nesterov=c.nesterov,
                             weight_decay=c.weight_decay, no_decay=_no_decay)
        self.steps_per_epoch = math.ceil(len(y_train) / c.batch_size)
        self.total_steps = c.epochs * self.steps_per_epoch
        self.schedule = make_schedule(c.schedule, c.lr, self.total_steps)
        self.epoch = 0  # completed epochs
        self.step = 0  # completed steps of the current epoch
        self.history = History()
        self.aug_rng = np.random.default_rng([c.seed, 2])
        # Which images are mirrored in even epochs; a function of the seed only, so a
        # resumed run flips exactly as an uninterrupted one.
        self.flips = (flip_pattern(len(y_train), seed=np.random.default_rng([c.seed, 3]))
                      if c.alternating_flip else None)
        self.average = WeightAverage(model, c.ema_decay) if c.ema_decay > 0 else None
        self.totals = EpochTotals()  # of the epoch in progress
        self._stop_requested = False
        self._in_step = False

    # -------------------------------------------------------------------- one step
    def _permutation(self, epoch: int) -> np.ndarray:
        """The visiting order of epoch `epoch` (0-based): a function of seed and epoch only."""
        return np.random.default_rng([self.config.seed, 1, epoch]).permutation(len(self.y_train))

    @property
    def global_step(self) -> int:
        return self.epoch * self.steps_per_epoch + self.step

    def train_step(self, images: np.ndarray, labels: np.ndarray,
                   indices: np.ndarray | None = None) -> tuple[float, int]:
        """One SGD step on a batch: returns (mean cross-entropy, number correct).

        indices: the batch's positions in x_train, needed by alternating_flip (each
        image has its own flip pattern).
        """
        c = self.config
        lr = self.schedule(self.global_step)
        if self.flips is not None:
            if indices is None:
                raise ValueError("alternating_flip needs the batch's indices into x_train")
            batch = alternating_flip(random_crop(images, c.crop_padding, seed=self.aug_rng),
                                     self.flips[indices], self.epoch)
        elif c.crop_padding or c.flip:
            batch = augment(images, c.crop_padding, c.flip, seed=self.aug_rng)
        else:
            batch = images
        # A diverging run overflows somewhere inside the network before the loss turns
        # inf/NaN. That is caught just below and reported in one clear message, so NumPy's
        # own overflow warnings would only be noise in the reader's terminal.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            logits = self.model.forward(batch)
            if not np.all(np.isfinite(logits)):
                self._diverged(math.nan, lr)
            _, dlogits = softmax_cross_entropy(logits, labels, c.label_smoothing)
            # the smoothed loss drives the gradient; the plain one is what gets reported
            loss = cross_entropy(logits, labels)
            if not math.isfinite(loss):
                self._diverged(loss, lr)
            self.model.backward_params(dlogits)  # no gradient for the images themselves
            self.optimizer.lr = lr
            self.optimizer.step()
        if self.average is not None:
            self.average.update(self.model)
        return loss, int((logits.argmax(axis=1) == labels).sum())

    def _diverged(self, loss: float, lr: float) -> None:
        e, s = self.epoch + 1, self.step + 1
        kept = (f"the last good checkpoint (after epoch {self.epoch}) was kept"
                if self.epoch else "no epoch had finished, so there is no good checkpoint")
        raise TrainingDiverged(
            f"training diverged: the loss became {loss} at epoch {e}, step {s} of "
            f"{self.steps_per_epoch} (learning rate {lr:.4g}); the weights are unusable and "
            f"were not saved; {kept}. Fix: lower the learning rate (--lr, now "
            f"{self.config.lr:g}) and train again.", e, s)

    # ------------------------------------------------------------------- the loop
    def fit(self, checkpoint: str | os.PathLike[str] | None = None, progress: bool = True,
            verbose: bool = False,
            on_step: Callable[[Trainer], None] | None = None) -> History:
        """Train until config.epochs epochs are done (resuming where this trainer stands).

        checkpoint: path written atomically after every epoch and on Ctrl-C.
        progress: a tqdm bar per epoch (loss, accuracy, learning rate) on stderr.
        verbose: one printed line per epoch (for notebooks, where bars clutter the page).
        on_step: called after every completed step (tests use it to interrupt).
        Raises TrainingInterrupted on Ctrl-C (after saving), TrainingDiverged on NaN/inf.
        """
        checkpoint = Path(checkpoint) if checkpoint is not None else None
        with _StopOnSigint(self):
            try:
                while self.epoch < self.config.epochs:
                    self.run_epoch(progress, verbose, on_step)
                    if checkpoint is not None:
                        self.save_checkpoint(checkpoint)
                    if self._stop_requested and self.epoch < self.config.epochs:
                        raise KeyboardInterrupt
            except KeyboardInterrupt as err:
                if isinstance(err, TrainingInterrupted) or self._in_step:
                    # Torn step (a second Ctrl-C): the weights are half-updated, save nothing.
                    raise
                saved = None
                if checkpoint is not None:
                    saved = self.save_checkpoint(checkpoint)
                where = f"epoch {self.epoch + 1}, step {self.step} of {self.steps_per_epoch}"
                msg = (f"Interrupted at {where}; checkpoint saved to {saved}; continue with "
                       f"--resume {saved}" if saved else f"Interrupted at {where} (no checkpoint)")
                raise TrainingInterrupted(msg, saved, self.epoch + 1, self.step) from None
        return self.history

    def run_epoch(self, progress: bool = False, verbose: bool = False,
                  on_step: Callable[[Trainer], None] | None = None) -> float:
        """Finish the current epoch (from self.step on) and close it; returns its seconds.

        Closing it appends one row to self.history (scored on the validation and test
        images when the trainer has them) and moves to the next epoch. fit() calls this
        once per epoch; benchmarks call it to time one epoch exactly as fit() runs it.
        """
        self._run_steps(progress, on_step)
        seconds = self.totals.seconds
        self._end_epoch(verbose)
        return seconds

    def _run_steps(self, progress: bool, on_step: Callable[[Trainer], None] | None) -> None:
        bs, order = self.config.batch_size, self._permutation(self.epoch)
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=self.steps_per_epoch, initial=self.step, file=sys.stderr,
                       desc=f"epoch {self.epoch + 1}/{self.config.epochs}", unit="batch",
                       leave=True, dynamic_ncols=True)
        try:
            while self.step < self.steps_per_epoch:
                idx = order[self.step * bs:(self.step + 1) * bs]
                t0 = time.perf_counter()
                self._in_step = True
                loss, correct = self.train_step(self.x_train[idx], self.y_train[idx], idx)
                self.step += 1
                t = self.totals
                t.add(loss, correct, len(idx), time.perf_counter() - t0)
                self._in_step = False
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{t.loss_sum / t.seen:.3f}",
                                    acc=f"{t.correct / t.seen:.3f}",
                                    lr=f"{self.optimizer.lr:.3g}", refresh=False)
                if on_step is not None:
                    on_step(self)
                if self._stop_requested:
                    raise KeyboardInterrupt
        finally:
            if bar is not None:
                bar.close()

    def _end_epoch(self, verbose: bool) -> None:
        t, h = self.totals, self.history
        seconds = t.seconds
        h.epoch.append(self.epoch + 1)
        h.train_loss.append(t.loss_sum / t.seen)
        h.train_acc.append(t.correct / t.seen)
        h.lr.append(float(self.optimizer.lr))
        h.seconds.append(seconds)
        scores = ""
        for name, images, labels in (("val", self.x_val, self.y_val),
                                     ("test", self.x_test, self.y_test)):
            loss = acc = math.nan
            if images is not None:
                result = self.evaluate(images, labels)
                loss, acc = result["loss"], result["accuracy"]
                scores += f" | {name} loss {loss:.3f} acc {acc:.3f}"
            getattr(h, f"{name}_loss").append(loss)
            getattr(h, f"{name}_acc").append(acc)
        self.epoch += 1
        self.step = 0
        self.totals = EpochTotals()
        if verbose:
            print(f"epoch {self.epoch:>3}/{self.config.epochs}: train loss {h.train_loss[-1]:.3f} "
                  f"acc {h.train_acc[-1]:.3f}{scores} ({seconds:.1f} s)", flush=True)

    # ------------------------------------------------------------------- scoring
    @contextlib.contextmanager
    def scoring(self) -> Iterator[Sequential]:
        """`with trainer.scoring() as model:` the model as it is scored: holding the
        averaged weights when ema_decay > 0 (the raw ones come back after the block),
        else the model itself."""
        if self.average is None:
            yield self.model
        else:
            with self.average.applied(self.model) as model:
                yield model

    def evaluate(self, images: np.ndarray, labels: np.ndarray) -> dict:
        """`evaluate_model` of the scored model (averaged weights with ema_decay > 0) with
        the config's test-time augmentation (test_flip, test_shift)."""
        with self.scoring() as model:
            return evaluate_model(model, images, labels, flip=self.config.test_flip,
                                  shift=self.config.test_shift)

    # --------------------------------------------------------------- checkpoints
    def state(self) -> dict:
        """The trainer's own state as JSON-able data (model and momentum are arrays)."""
        layer_rngs = {str(i): state for i, layer in enumerate(self.model.layers)
                      if (state := layer.random_state()) is not None}
        return {"config": self.config.to_dict(), "epoch": self.epoch, "step": self.step,
                "sums": self.totals.to_list(), "history": self.history.to_dict(),
                "aug_rng": self.aug_rng.bit_generator.state, "layer_rngs": layer_rngs,
                "data": data_fingerprint(self.x_train, self.y_train),
                "has_test": self.x_test is not None,
                "validation": (None if self.y_val is None
                               else data_fingerprint(self.x_val, self.y_val))}

    def save_checkpoint(self, path: str | os.PathLike[str]) -> Path:
        """Model + momentum + trainer state -> `path`, atomically. Loadable by `load_model`."""
        optimizer_state = self.optimizer.state_dict()
        if self.average is not None:
            # checkpoint.py stores any dict of arrays as the optimizer's state; the average
            # travels there under "ema/" keys (split off again by from_checkpoint).
            optimizer_state = {**optimizer_state, **{
                f"{_EMA}{k}": v for k, v in self.average.state_dict().items()}}
        return write_checkpoint(path, self.model, optimizer_state, self.state())

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], x_train: np.ndarray,
                        y_train: np.ndarray, *, x_val: np.ndarray | None = None,
                        y_val: np.ndarray | None = None, x_test: np.ndarray | None = None,
                        y_test: np.ndarray | None = None) -> Trainer:
        """A trainer that continues exactly where the checkpoint at `path` stopped.

        The training data must be the same as when the checkpoint was written
        (checked by a fingerprint), or ValueError says so.
        """
        model, optimizer_state, state = read_checkpoint(path)
        try:
            config = TrainConfig.from_dict(state["config"])
            trainer = cls(model, x_train, y_train, config, x_val=x_val, y_val=y_val,
                          x_test=x_test, y_test=y_test)
            if state["data"] != data_fingerprint(x_train, y_train):
                raise ValueError(
                    f"{path} was written while training on other data (fingerprint "
                    f"{state['data']}, this data {data_fingerprint(x_train, y_train)}: "
                    f"{len(y_train)} images); resume with the same --data and --subset")
            given = None if y_val is None else data_fingerprint(x_val, y_val)
            if state.get("validation") != given:
                raise ValueError(
                    f"{path} was written with other validation images (fingerprint "
                    f"{state.get('validation')}, now {given}); resume with the same "
                    "--validation")
            averaged = {k[len(_EMA):]: v for k, v in optimizer_state.items()
                        if k.startswith(_EMA)}
            if (trainer.average is None) != (not averaged):
                raise ValueError(f"{path}: ema_decay = {config.ema_decay} but the checkpoint "
                                 f"holds {'a' if averaged else 'no'} weight average")
            if trainer.average is not None:
                trainer.average.load_state_dict(averaged)
            trainer.optimizer.load_state_dict(
                {k: v for k, v in optimizer_state.items() if not k.startswith(_EMA)})
            trainer.epoch, trainer.step = int(state["epoch"]), int(state["step"])
            trainer.totals = EpochTotals.from_list(state["sums"])
            trainer.history = History.from_dict(state["history"])
            trainer.aug_rng.bit_generator.state = state["aug_rng"]
            for i, rng_state in state["layer_rngs"].items():
                model.layers[int(i)].set_random_state(rng_state)
        except (KeyError, TypeError) as err:
            raise ValueError(f"{path}: the trainer state is unreadable ({err!r})") from err
        return trainer


class _StopOnSigint:
    """While training, Ctrl-C (SIGINT) asks the loop to stop after the current step.

    The loop then saves a consistent checkpoint and raises TrainingInterrupted. A second
    Ctrl-C raises KeyboardInterrupt at once (the default behavior is restored after the
    first). Outside the main thread signals cannot be caught, and nothing changes.
    """

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.previous = None

    def _handler(self, signum: int, frame: object) -> None:
        self.trainer._stop_requested = True
        signal.signal(signal.SIGINT, self.previous)
        print("\nCtrl-C: stopping after this step and saving a checkpoint "
              "(press Ctrl-C again to quit at once)", file=sys.stderr, flush=True)

    def __enter__(self) -> _StopOnSigint:
        self.trainer._stop_requested = False
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        self.trainer._stop_requested = False
