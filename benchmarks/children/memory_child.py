"""The memory a few training steps need, for cnnlib or PyTorch, in a fresh process.

    harness.child_result("memory_child.py", [CONTENDER, "--network", NETWORK])

CONTENDER: cnnlib | PyTorch; NETWORK: reference (default) | fast (contenders.NETWORKS).

Builds the network and a batch, resets the kernel's high-water mark of resident memory
(/proc/self/clear_refs) and runs STEPS training steps; for cnnlib, also tracemalloc's
peak of NumPy's allocations during one more step. Only the contender's own library is
imported.

Prints {"contender", "network", "baseline MB", "peak MB", "step MB" (peak − baseline),
"high-water mark reset", and for cnnlib "numpy peak MB (tracemalloc)"};
bench_memory.run runs it.
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc
from pathlib import Path

import contenders as C
from harness import send_result

STEPS = 3


def status_kb(field: str) -> int:
    """A field of /proc/self/status (VmRSS: resident now, VmHWM: its high-water mark), kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def training_steps(contender: str, network: str = "reference"):
    """A function that runs one training step of the contender's copy of the network."""
    images, labels = C.training_batch()
    model = C.NETWORKS[network](seed=0)
    if contender == "cnnlib":
        step = C.cnnlib_training_step(model)
        return lambda: step(images, labels)
    import torch
    tstep = C.torch_training_step(C.torch_reference_network(like=model))
    images_t, labels_t = torch.from_numpy(C.nchw(images)), torch.from_numpy(labels)
    return lambda: tstep(images_t, labels_t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("contender", choices=("cnnlib", "PyTorch"))
    p.add_argument("--network", choices=sorted(C.NETWORKS), default="reference")
    args = p.parse_args()
    contender = args.contender
    run = training_steps(contender, args.network)
    gc.collect()
    baseline = status_kb("VmRSS")
    reset = True
    try:
        Path("/proc/self/clear_refs").write_text("5")  # high-water mark := current RSS
    except OSError:
        reset = False
    for _ in range(STEPS):
        run()
    peak = status_kb("VmHWM")
    result = {"contender": contender, "network": args.network, "baseline MB": baseline / 1024,
              "peak MB": peak / 1024, "step MB": (peak - baseline) / 1024,
              "high-water mark reset": reset}
    if contender == "cnnlib":
        tracemalloc.start()
        run()
        result["numpy peak MB (tracemalloc)"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    send_result(result)


if __name__ == "__main__":
    main()
