"""Chapter 10: data, augmentation, validation, schedules, scores, checkpoints, the trainer.

- `data`: CIFAR-10 loading, the book subset, the checked download (ch. 1);
- `augment`: random crops and flips (random or alternating), reflected shifts;
- `splits`: a class-balanced validation set carved from the training images;
- `schedules`: learning-rate schedules;
- `metrics`: accuracy, confusion matrices, predictions in batches (flip/shift views);
- `averaging`: a moving average of the weights, scored instead of them;
- `checkpoint`: resumable training state;
- `recipes`: recipes by name, a network and its `TrainConfig` ("book50", "fast",
  "fast16", "fast12");
- `trainer`: `Trainer` and `TrainConfig`, the training loop.

`cnnlib.training.Trainer` (and the other names below) is `cnnlib.training.trainer.Trainer`.

Book: chapter 10.
"""

from .metrics import evaluate_model
from .trainer import (
    EpochTotals,
    History,
    TrainConfig,
    Trainer,
    TrainingDiverged,
    TrainingInterrupted,
)

__all__ = [
    "EpochTotals", "History", "TrainConfig", "Trainer", "TrainingDiverged",
    "TrainingInterrupted", "evaluate_model",
]
