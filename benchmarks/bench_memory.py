"""Peak memory of training steps: cnnlib against PyTorch, each in a fresh process, for the
reference network and the fast recipe's network (batch 64).

A child process (children/memory_child.py) builds the network and a batch, then resets
the kernel's high-water mark of its resident memory (/proc/self/clear_refs) and runs a
few training steps. The reported number is peak RSS during the steps minus RSS before
them: the memory the steps need (activations kept for backward, gradients, momentum,
temporaries), without the libraries' code. For cnnlib, tracemalloc's peak of NumPy's
allocations during one step (after the first, once momentum buffers exist) is reported
too.

Run alone: python benchmarks/bench_memory.py
"""

from __future__ import annotations

import argparse

from harness import (
    TORCH_MISSING,
    cell,
    child_result,
    current_load,
    load_line,
    optional_torch,
    ratio,
    table,
)


def run(contenders: tuple[str, ...] = ("cnnlib", "PyTorch"),
        networks: tuple[str, ...] = ("reference", "fast")) -> list[dict]:
    """Each contender and network in its own fresh child process (PyTorch only where
    installed): the reference network and the fast recipe's network."""
    return [child_result("memory_child.py", [name, "--network", network])
            for network in networks for name in contenders
            if name != "PyTorch" or optional_torch() is not None]


def step_memory_table(results: list[dict]) -> str:
    """Markdown: step MB, peak RSS and NumPy's traced peak of each contender and network,
    × PyTorch's step MB on the same network."""
    torch_mb = {m["network"]: m["step MB"] for m in results if m["contender"] == "PyTorch"}
    return table(["network", "contender", "step MB", "peak RSS MB",
                  "NumPy peak (tracemalloc) MB", "step MB × PyTorch"],
                 [[m["network"], m["contender"], cell(m["step MB"], 0), cell(m["peak MB"], 0),
                   cell(m.get("numpy peak MB (tracemalloc)"), 0),
                   ratio(m["step MB"], torch_mb.get(m["network"]))]
                  for m in results])


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    start = current_load()
    results = run()
    print("\n\n".join(["# Peak memory of a training step", load_line(start),
                       step_memory_table(results)]))
    if optional_torch() is None:
        print(TORCH_MISSING)


if __name__ == "__main__":
    main()
