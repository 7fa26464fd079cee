"""What every benchmark shares: the settings, interleaved timing, and the machine's description.

All contenders of one table are timed in the same process, one after the other inside
every repeat (and in a rotating order), so a burst of load from another process hits
them all alike. The number reported is the median of the repeats, after warm-up.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

BATCH = 64
THREADS = 2
DTYPE = np.float32
RESULTS = Path(__file__).resolve().parent / "results"

# (H = W, C, K) of the reference network's six 3×3 convolutions (stride 1, padding 1)
# and (H = W, C) of its three 2×2 max pools.
CONV_LAYERS = [(32, 3, 32), (32, 32, 32), (16, 32, 64), (16, 64, 64), (8, 64, 128), (8, 128, 128)]
POOL_LAYERS = [(32, 32), (16, 64), (8, 128)]

try:
    import torch
except ImportError:  # the benchmarks still run; PyTorch's columns say why they are empty
    torch = None
TORCH_MISSING = "PyTorch not installed (pip install torch==2.13.0): its columns are skipped"


def set_threads(n: int = THREADS) -> None:
    """Two threads for everyone: NumPy's BLAS, cnnlib's workers and PyTorch."""
    os.environ["CNNLIB_NUM_THREADS"] = str(n)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n, user_api="blas")
    except ImportError:
        pass
    if torch is not None:
        torch.set_num_threads(n)


Timed = tuple[Callable[[], object] | None, Callable[[], object]]  # (untimed setup, timed run)


def time_interleaved(contenders: dict[str, Timed], repeats: int = 7, warmup: int = 2,
                     clock: Callable[[], float] = time.perf_counter) -> dict[str, list[float]]:
    """Seconds per run of every contender: {name: [repeat times]}.

    Each repeat runs every contender once, in an order that rotates from repeat to repeat.
    `setup` (run just before, not timed) prepares state that `run` consumes, such as a
    fresh forward pass before a timed backward pass.
    """
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(warmup + repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            setup, run = contenders[name]
            if setup is not None:
                setup()
            start = clock()
            run()
            elapsed = clock() - start
            if r >= warmup:
                times[name].append(elapsed)
    return times


def median_ms(seconds: list[float]) -> float:
    return 1e3 * statistics.median(seconds)


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def cpu_model() -> str:
    """Model name, family/model numbers and the widest vector units, from /proc/cpuinfo."""
    try:
        fields = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    flags = fields.get("flags", "").split()
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return (f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')}, model "
            f"{fields.get('model', '?')}, {vector}, L2 {fields.get('cache size', '?')} per core)")


def blas_description() -> list[str]:
    """Which BLAS NumPy calls, with its kernel ("architecture") and thread count."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return [f"{blas.get('name')} {blas.get('version')} (threadpoolctl not installed: "
                "kernel and threads unknown)"]
    return [f"{i['internal_api']} {i['version']}, kernel {i.get('architecture')}, "
            f"{i['num_threads']} threads ({i['user_api']}, {Path(i['filepath']).name})"
            for i in threadpool_info() if i["user_api"] == "blas"]


def machine_info() -> dict[str, str]:
    """The facts a reader needs to compare these numbers with their own machine's."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": f"{cores} usable ({os.cpu_count()} logical)",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": "; ".join(blas_description()),
        "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE": " / ".join(
            os.environ.get(v, "unset") for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")),
        "torch": (f"{torch.__version__}, {torch.get_num_threads()} threads, "
                  f"oneDNN {'on' if torch.backends.mkldnn.is_available() else 'off'}")
                 if torch is not None else "not installed",
        "threads": f"{THREADS} (BLAS, cnnlib workers, torch.set_num_threads)",
        "batch, dtype": f"{BATCH}, float32",
        "load average at start": load_average(),
    }
    return info


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
