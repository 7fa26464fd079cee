"""Does Winograd pay here? im2col against Winograd F(2×2, 3×3) on the reference network's
3×3 layers, forward + backward at batch 64, with one thread and with two.

    python benchmarks/bench_winograd.py [--repeats 7] [--out FILE]
                                        # prints it, writes results/winograd_threads.md

Each thread count runs in a process of its own (children/winograd_child.py: the engine
reads its thread count once); inside it, the two paths alternate repeat by repeat
(`harness.time_interleaved`), so a burst of load falls on both. Reported: the median of
the repeats, in ms of wall clock, and Winograd's time as a ratio of im2col's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import (
    BATCH,
    RESULTS,
    cell,
    child_result,
    current_load,
    load_line,
    progress,
    ratio,
    table,
    write_report,
)

THREAD_COUNTS = (1, 2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7, help="timed repeats per path and layer")
    p.add_argument("--out", type=Path, default=RESULTS / "winograd_threads.md")
    args = p.parse_args()
    start = current_load()
    runs = {}
    for threads in THREAD_COUNTS:
        progress(f"{threads} thread(s), child process")
        runs[threads] = child_result("winograd_child.py", ["--repeats", args.repeats],
                                     threads=threads)
    header = ["layer"]
    for threads in THREAD_COUNTS:
        header += [f"{threads} thread{'s' if threads > 1 else ''}: im2col", "Winograd", "ratio"]
    rows = []
    for layer in runs[THREAD_COUNTS[0]]:
        row = [layer]
        for threads in THREAD_COUNTS:
            im2col, winograd = runs[threads][layer]
            row += [cell(im2col), cell(winograd), ratio(winograd, im2col)]
        rows.append(row)
    write_report("\n".join([
        "# Winograd F(2×2, 3×3) against im2col, per layer", "",
        f"Forward + backward of one 3×3 stride-1 convolution, batch {BATCH}, float32, ms of "
        f"wall clock (median of {args.repeats}; the two paths alternate). {load_line(start)}",
        "", table(header, rows)]) + "\n", args.out)


if __name__ == "__main__":
    main()
