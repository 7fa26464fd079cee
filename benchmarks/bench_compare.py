"""Before/after: the same workloads timed with two checkouts of cnnlib, in turn.

    python benchmarks/bench_compare.py BEFORE_DIR AFTER_DIR [--rounds 5] [--repeats 5]

Each DIR is a checkout of this repository (e.g. `git worktree add /tmp/before <commit>`).
Every measurement runs in a fresh process (children/compare_child.py) whose `import
cnnlib` finds that checkout first, and the two checkouts take turns, round after round,
so a change in the load of a shared machine hits both alike. Reported: the median over
rounds (each the median of --repeats runs), and the ratio after / before (below 1 is
faster).

Workloads (float32, batch 64, the reference network of chapter 10):
- a training step (forward, softmax cross-entropy, backward, SGD with momentum) with one
  thread, in CPU time: the number least disturbed by other processes;
- the same step with two threads, in wall-clock time;
- forward + backward of the three large convolutions (1.2 GFLOP each per forward pass),
  with one thread, in CPU time.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from harness import cell, current_load, load_line, ratio, results_in_turns, table

# clock of compare_child.py -> (threads, how the table names it)
CLOCKS = {"cpu": (1, "1 thread, CPU"), "wall": (2, "2 threads, wall")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=5, help="timed runs per workload and child")
    args = p.parse_args()
    start = current_load()
    sides = {"before": args.before.resolve(), "after": args.after.resolve()}
    children = {f"{side}, {clock}": {"program": "compare_child.py", "threads": threads,
                                     "args": [clock, "--repeats", args.repeats],
                                     "checkout": checkout}
                for clock, (threads, _) in CLOCKS.items() for side, checkout in sides.items()}
    results = results_in_turns(children, args.rounds,
                               describe=lambda r: f"training step {r['step']:.0f} ms")
    median: dict[tuple[str, str], float] = {}  # (side, workload label) -> ms
    for clock, (_, how) in CLOCKS.items():
        for side in sides:
            rounds = results[f"{side}, {clock}"]
            for workload in rounds[0]:
                median[side, f"{workload} ({how})"] = statistics.median(r[workload]
                                                                        for r in rounds)
    labels = [label for side, label in median if side == "before"]
    print("\n\n".join([
        "# Before/after: the same workloads with two checkouts of cnnlib",
        f"Before: {sides['before']}; after: {sides['after']}. Median of {args.rounds} "
        f"rounds, each the median of {args.repeats} runs. {load_line(start)}",
        table(["workload", "before ms", "after ms", "after / before"],
              [[label, cell(median["before", label]), cell(median["after", label]),
                ratio(median["after", label], median["before", label])] for label in labels])]))


if __name__ == "__main__":
    main()
