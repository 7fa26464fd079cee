"""Score a saved model on CIFAR-10's test_batch: `python -m cnnlib.evaluate --model M --data DIR`.

Scores every image of DIR's test_batch (`--subset book`: the book's first 500). Prints
the accuracy of every class, then, as its last line, one JSON object:
{"accuracy": 0.812, "n": 500}, n being the number of test images scored. Exit status 2
if the model or the data cannot be read.
Book: chapter 10 (the command line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..nn.serialization import load_model_with_metadata
from ..training.data import ENV_VAR, SUBSETS, load_cifar10, load_cifar10_label_names
from ..training.metrics import confusion_matrix, evaluate_model, per_class_accuracy
from .preflight import check_readable_file


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cnnlib.evaluate",
                                description="Test-set accuracy of a model saved by cnnlib.train.")
    p.add_argument("--model", required=True, help="model file written by python -m cnnlib.train")
    p.add_argument("--data", default=os.environ.get(ENV_VAR) or None,
                   help=f"folder holding cifar-10-batches-py/ (default: ${ENV_VAR})")
    p.add_argument("--subset", choices=SUBSETS, default="full",
                   help="which test images of DIR: 'full' all of test_batch (default), "
                        "'book' the book's first 500")
    p.add_argument("--batch-size", type=int, default=500, help="images per forward pass")
    p.add_argument("--no-flip", action="store_true",
                   help="score each image alone, even if the model was trained to average "
                        "it with its mirror image (test_flip) and shifted copies "
                        "(test_shift)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.batch_size < 1:
            raise ValueError(f"--batch-size {args.batch_size} must be at least 1")
        model, metadata = load_model_with_metadata(check_readable_file(args.model, "--model"))
        _, _, x_test, y_test = load_cifar10(args.data, subset=args.subset)
        names = load_cifar10_label_names(args.data)
        config = metadata.get("config", {})
        flip = bool(config.get("test_flip", False)) and not args.no_flip
        shift = 0 if args.no_flip else int(config.get("test_shift", 0))
        result = evaluate_model(model, x_test, y_test, batch_size=args.batch_size, flip=flip,
                                shift=shift)
    except (ValueError, FileNotFoundError, ConnectionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    k = max(len(names), int(y_test.max()) + 1)
    matrix = confusion_matrix(y_test, result["predictions"], k)
    width = max(len(name) for name in names)
    print(f"{'class':<{width}}  accuracy  correct/total")
    for k, (acc, row) in enumerate(zip(per_class_accuracy(matrix), matrix, strict=True)):
        name = names[k] if k < len(names) else f"class {k}"
        print(f"{name:<{width}}  {acc:8.1%}  {int(row[k]):>7}/{int(row.sum())}")
    print(f"{'all':<{width}}  {result['accuracy']:8.1%}  "
          f"{int(matrix.trace()):>7}/{result['n']}   (cross-entropy {result['loss']:.3f})")
    if flip or shift:
        single = evaluate_model(model, x_test, y_test, batch_size=args.batch_size)
        views = ("its mirror image" if not shift else
                 f"its mirror image and copies shifted by ±{shift} pixels")
        print(f"predictions average each image with {views} (test_flip"
              f"{', test_shift' if shift else ''}); each image alone: "
              f"{single['accuracy']:.1%} (--no-flip)")
    print(json.dumps({"accuracy": result["accuracy"], "n": result["n"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
