"""The command-line tools: `python -m cnnlib.train` and `python -m cnnlib.evaluate`.

- `train`: trains the book's reference network on a folder's training batches;
- `evaluate`: scores a saved model on a folder's test batch (last line: JSON);
- `preflight`: the checks both run before any slow work (files readable, writable).

Book: chapter 10.
"""
