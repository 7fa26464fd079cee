"""Peak memory of training steps: cnnlib against PyTorch, each in a fresh process.

A child process builds the network and a batch, then resets the kernel's high-water
mark of its resident memory (/proc/self/clear_refs) and runs a few training steps. The
reported number is peak RSS during the steps minus RSS before them: the memory the
steps need (activations kept for backward, gradients, momentum, temporaries), without
the libraries' code. For cnnlib, tracemalloc's peak of NumPy's allocations during one
step (after the first, once momentum buffers exist) is reported too.

Run alone: python benchmarks/bench_memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS = 3


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def measure(contender: str) -> dict:
    """Runs in the child: {"baseline MB", "peak MB", "step MB", ...} for one contender."""
    import gc

    from bench_step import batch
    from common import set_threads
    from contenders import cnnlib_network, cnnlib_training_step
    set_threads()
    images, labels = batch()
    if contender == "cnnlib":
        model = cnnlib_network(seed=0)
        step = cnnlib_training_step(model)
        run = lambda: step(images, labels)  # noqa: E731
    else:
        import numpy as np
        import torch
        from contenders import torch_reference_network, torch_training_step
        net = torch_reference_network()
        tstep = torch_training_step(net)
        images_t = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
        labels_t = torch.from_numpy(labels)
        run = lambda: tstep(images_t, labels_t)  # noqa: E731
    gc.collect()
    baseline = _status_kb("VmRSS")
    reset = True
    try:
        Path("/proc/self/clear_refs").write_text("5")  # high-water mark := current RSS
    except OSError:
        reset = False
    for _ in range(STEPS):
        run()
    peak = _status_kb("VmHWM")
    result = {"contender": contender, "baseline MB": baseline / 1024, "peak MB": peak / 1024,
              "step MB": (peak - baseline) / 1024, "high-water mark reset": reset}
    if contender == "cnnlib":
        tracemalloc.start()
        run()
        result["numpy peak MB (tracemalloc)"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result


def run(contenders: tuple[str, ...] = ("cnnlib", "PyTorch")) -> list[dict]:
    """Each contender in its own fresh child process."""
    from common import torch
    results = []
    for name in contenders:
        if name == "PyTorch" and torch is None:
            continue
        out = subprocess.run([sys.executable, str(Path(__file__)), "--child", name],
                             capture_output=True, text=True, check=True, cwd=HERE)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2])))
    else:
        for r in run():
            print(r)
