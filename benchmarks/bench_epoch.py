"""End to end: seconds per epoch of the book's default recipe, cnnlib against a PyTorch twin.

    python benchmarks/bench_epoch.py [--epochs 2] [--rounds 3] [--threads 2] [--limit N]
                                     [--before DIR] [--winograd] [--out FILE]

What a reader waits for is a whole epoch: augmentation, forward, loss, backward,
optimizer step and data handling, not one layer. Both contenders train the reference
network of chapter 10 on the book's CIFAR-10 subset with the default recipe
(`cnnlib.training.TrainConfig`): batch 64, pad-4 random crops and flips, batch norm,
dropout 0.5, label smoothing 0.1, SGD with Nesterov momentum 0.9 and weight decay 5e-4 on
conv and dense weights, the one-cycle schedule.

- cnnlib: `cnnlib.training.Trainer`, exactly as chapter 10 and `python -m cnnlib.train`.
- PyTorch: the same layers (`contenders.torch_reference_network`), the same augmentation
  (`cnnlib.training.augment`, on the uint8 batch, so both pay the same for it), the same learning
  rate at every step (`cnnlib.training.schedules`), `torch.nn.functional.cross_entropy` with label
  smoothing, `torch.optim.SGD` with parameter groups for weight decay.

- cnnlib, Winograd on (with --winograd): this checkout with CNNLIB_WINOGRAD=1, so the
  3×3 layers run Winograd's F(2×2, 3×3) whatever the thread count.
- cnnlib before (with --before DIR): the same as cnnlib, from another checkout of this
  repository (e.g. `git worktree add /tmp/before dd5f477`, the flat tree before the
  folders), for before/after numbers taken side by side in one run.

Each contender runs in a process of its own (children/epoch_child.py; in one process,
each library's idle threads slow the other), they take turns, round after round, and the
median over rounds is reported, with the load average, the peak memory of each process,
and where cnnlib's epoch goes (a separate, instrumented run:
children/epoch_profile_child.py).

Smallest run (a smoke test): --epochs 1 --rounds 1 --limit 64 --out /tmp/epoch.md
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from harness import (
    RESULTS,
    cell,
    child_result,
    current_load,
    load_line,
    machine_block,
    machine_info,
    ratio,
    results_in_turns,
    table,
    write_report,
)

# The engine's Winograd path, switched on by the environment whatever the thread count.
WINOGRAD_NAME = "cnnlib, Winograd on (CNNLIB_WINOGRAD=1)"


def contenders(before: Path | None, winograd: bool) -> dict[str, dict]:
    """{name: how child_result runs its epochs}: which library, checkout and Winograd setting."""
    named = {"cnnlib before": {"checkout": before.resolve()}} if before is not None else {}
    named["cnnlib"] = {}
    if winograd:
        named[WINOGRAD_NAME] = {"winograd": True}
    named["PyTorch"] = {}
    return named


def epoch_table(results: dict[str, list[dict]]) -> str:
    """Markdown: seconds per epoch of each contender (median and every run), ms per step,
    × PyTorch and peak memory."""
    runs = {name: [s for r in rs for s in r["seconds"]] for name, rs in results.items()}
    median = {name: statistics.median(v) for name, v in runs.items()}
    return table(["contender", "s per epoch (median)", "all runs", "ms per step", "× PyTorch",
                  "peak memory MB"],
                 [[name, cell(median[name]), ", ".join(f"{v:.1f}" for v in runs[name]),
                   cell(1e3 * median[name] / results[name][0]["steps"], 0),
                   ratio(median[name], median["PyTorch"]),
                   cell(max(r["peak_mb"] for r in results[name]), 0)] for name in runs])


def profile_table(profile: dict) -> str:
    """Markdown: the instrumented epoch's parts, the largest first, with their shares."""
    return table(["part", "s", "share"],
                 [[part, cell(sec, 2), f"{100 * sec / profile['total']:.0f} %"]
                  for part, sec in sorted(profile["parts"].items(), key=lambda kv: -kv[1])])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=2, help="epochs per run (the first warms up)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=5170, help="training images (default: all)")
    p.add_argument("--before", type=Path, default=None,
                   help="another checkout of this repository, timed as 'cnnlib before'")
    p.add_argument("--winograd", action="store_true",
                   help="also time this checkout with CNNLIB_WINOGRAD=1")
    p.add_argument("--out", type=Path, default=RESULTS / "epoch.md")
    args = p.parse_args()
    start = current_load()
    machine = machine_info()
    epochs = ["--epochs", args.epochs, "--limit", args.limit]
    children = {name: {"program": "epoch_child.py", "threads": args.threads,
                       "args": ["pytorch" if name == "PyTorch" else "cnnlib", *epochs], **how}
                for name, how in contenders(args.before, args.winograd).items()}
    results = results_in_turns(children, args.rounds,
                               describe=lambda r: f"{r['seconds'][-1]:.1f} s per epoch")
    profile = child_result("epoch_profile_child.py", ["--limit", args.limit],
                           threads=args.threads)
    counted = "the first epoch of each run is a warm-up and not counted" if args.epochs > 1 \
        else "one epoch per run, no warm-up"
    write_report("\n".join([
        "# One epoch of the default recipe: cnnlib against its PyTorch twin", "",
        f"{args.limit:,} training images (the book subset), batch 64, {args.threads} threads "
        f"each, each contender in its own process, in turns; {args.rounds} rounds of "
        f"{args.epochs} epochs ({counted}). {load_line(start)}", "",
        epoch_table(results), "",
        "Where cnnlib's epoch goes (the default engine, one instrumented epoch, wall "
        "clock; the instrumentation adds a little time of its own):", "",
        profile_table(profile), "", machine_block(machine)]) + "\n", args.out)


if __name__ == "__main__":
    main()
