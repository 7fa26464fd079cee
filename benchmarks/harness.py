"""The benchmark harness: the shared settings, the one timing loop, the child processes,
the one table writer, and the machine's description.

- Timing: `time_interleaved` is the one timing loop. The contenders of a table run in one
  process, one after the other inside every repeat, in an order that rotates from repeat
  to repeat (`turns`), so a burst of load from another process hits them all alike; the
  number reported is the median of the repeats, after warm-up. `timed` wraps a method
  with a clock, for the profiles that say where a step's time goes.
- Child processes: `child_result` runs one program of benchmarks/children/ in a fresh
  process, with the thread count, the checkout of cnnlib and the Winograd setting it is
  given, and returns the one JSON line the program printed with `send_result`.
  `results_in_turns` runs several children round after round, in the same rotating turns.
- Tables: `table` writes every Markdown table, `cell` and `ratio` its number and ratio
  cells (ratios against a baseline measured in the same run), `load_line` the sentence
  that says how busy the machine was while they were measured.

The benchmarks are scripts (`python benchmarks/bench_layers.py`) that import each other by
file name: Python puts a script's own folder first on sys.path, so `import harness` needs
no set-up. A child gets benchmarks/ on its PYTHONPATH from `child_result`; the tests get it
from tests/benchmarks/conftest.py.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

BATCH = 64
THREADS = 2
DTYPE = np.float32
BENCHMARKS = Path(__file__).resolve().parent
CHILDREN = BENCHMARKS / "children"
RESULTS = BENCHMARKS / "results"

# (H = W, C, K) of the reference network's six 3×3 convolutions (stride 1, padding 1)
# and (H = W, C) of its three 2×2 max pools.
CONV_LAYERS = [(32, 3, 32), (32, 32, 32), (16, 32, 64), (16, 64, 64), (8, 64, 128), (8, 128, 128)]
POOL_LAYERS = [(32, 32), (16, 64), (8, 128)]

TORCH_MISSING = "PyTorch not installed (pip install torch==2.13.0): its columns are skipped"

# What a child process reads its thread count from: cnnlib's workers, OpenBLAS, PyTorch
# (OpenMP) and MKL all take it from the environment when they start.
THREAD_VARIABLES = ("CNNLIB_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                    "MKL_NUM_THREADS")

# A 1-minute load above this (on a machine of a few cores) means another process ran.
BUSY_LOAD = 0.5

# --------------------------------------------------------------------------- settings


def optional_torch():
    """The torch module, or None where PyTorch is not installed (its columns then say so).

    Imported when first asked for, never with this module: a child process that times
    cnnlib must not load PyTorch, whose memory and threads would count against cnnlib.
    """
    if importlib.util.find_spec("torch") is None:
        return None
    import torch
    return torch


def set_threads(n: int = THREADS) -> None:
    """n threads for everyone in this process: NumPy's BLAS, cnnlib's workers and PyTorch."""
    os.environ["CNNLIB_NUM_THREADS"] = str(n)
    from threadpoolctl import threadpool_limits
    threadpool_limits(n, user_api="blas")
    torch = optional_torch()
    if torch is not None:
        torch.set_num_threads(n)


# ------------------------------------------------------------------------ the timing loop

Timed = tuple[Callable[[], object] | None, Callable[[], object]]  # (untimed setup, timed run)


def turns(names: Sequence[str], rounds: int) -> Iterator[tuple[int, str]]:
    """(round, name) for every name in every round; the order rotates by one each round,
    so no contender always runs first, or always right after the same other one."""
    for r in range(rounds):
        shift = r % len(names)
        for name in [*names[shift:], *names[:shift]]:
            yield r, name


def time_interleaved(contenders: Mapping[str, Timed], repeats: int = 7, warmup: int = 2,
                     clock: Callable[[], float] = time.perf_counter) -> dict[str, list[float]]:
    """Seconds per run of every contender: {name: [repeat times]}.

    Each repeat runs every contender once, in the rotating order of `turns`. `setup`
    (run just before, not timed) prepares state that `run` consumes, such as a fresh
    forward pass before a timed backward pass. The first `warmup` repeats are not kept.
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for r, name in turns(list(contenders), warmup + repeats):
        setup, run = contenders[name]
        if setup is not None:
            setup()
        start = clock()
        run()
        elapsed = clock() - start
        if r >= warmup:
            times[name].append(elapsed)
    return times


def median_ms(seconds: Sequence[float]) -> float:
    return 1e3 * statistics.median(seconds)


def timed(fn: Callable, totals: dict, key: object) -> Callable:
    """fn, adding the wall-clock seconds of every call to totals[key]: the profiles wrap a
    network's public methods (a layer's forward, the optimizer's step) with it."""
    def run(*args, **kwargs):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        totals[key] += time.perf_counter() - start
        return out
    return run


# --------------------------------------------------------------------- child processes


def child_result(program: str, args: Sequence[object] = (), *, threads: int = THREADS,
                 checkout: Path | None = None, winograd: bool | None = None,
                 env: Mapping[str, str | None] | None = None, timeout: float = 3600) -> dict:
    """Run `python benchmarks/children/<program> args` in a fresh process; its result.

    program: a file name in benchmarks/children/ (or a path to a program elsewhere).
    threads: the child's thread count (THREAD_VARIABLES), for cnnlib, BLAS and PyTorch.
    checkout: another checkout of this repository; it goes first on the child's
        PYTHONPATH, so the child's `import cnnlib` finds it (`--before DIR`), and the
        result is refused unless it did. None: the cnnlib installed here.
    winograd: CNNLIB_WINOGRAD=1 (True) or =0 (False); None leaves the engine its choice.
    env: more variables for the child; a value of None removes one.
    The child prints its result as its last line (`send_result`); a child that fails
    raises RuntimeError with the end of its stderr.
    """
    inherited = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
    path = ([str(checkout)] if checkout is not None else []) + [str(BENCHMARKS), *inherited]
    child_env = {**os.environ, **{name: str(threads) for name in THREAD_VARIABLES},
                 "PYTHONPATH": os.pathsep.join(path),
                 "CNNLIB_WINOGRAD": "" if winograd is None else str(int(winograd))}
    for name, value in (env or {}).items():
        if value is None:
            child_env.pop(name, None)
        else:
            child_env[name] = value
    command = [sys.executable, str(CHILDREN / program), *map(str, args)]
    proc = subprocess.run(command, env=child_env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child {' '.join(command[1:])} failed (exit "
                           f"{proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    imported = result.pop("cnnlib", None)
    if checkout is not None and not (
            imported and Path(imported).resolve().is_relative_to(Path(checkout).resolve())):
        raise RuntimeError(f"the child process imported cnnlib from {imported}, "
                           f"not from {checkout}")
    return result


def send_result(result: Mapping[str, object]) -> None:
    """The child's side of `child_result`: print `result` as one JSON line, with the file
    of the cnnlib this process imported (None if none), which the parent checks."""
    cnnlib = sys.modules.get("cnnlib")
    print(json.dumps({**result, "cnnlib": getattr(cnnlib, "__file__", None)}), flush=True)


def results_in_turns(children: Mapping[str, Mapping[str, object]], rounds: int,
                     describe: Callable[[dict], str] | None = None) -> dict[str, list[dict]]:
    """{name: [its result in every round]} for children = {name: child_result's keyword
    arguments}: each runs once per round, in the rotating order of `turns`, so a change in
    the machine's load falls on all of them alike. describe(result) prints progress."""
    results: dict[str, list[dict]] = {name: [] for name in children}
    for r, name in turns(list(children), rounds):
        results[name].append(child_result(**children[name]))
        if describe is not None:
            progress(f"round {r + 1}/{rounds}, {name}: {describe(results[name][-1])}")
    return results


# ------------------------------------------------------------------------------ tables


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table: the first column (the labels) left-aligned, the others right-aligned.

    Cells are written as given; format numbers with `cell` and ratios with `ratio`.
    """
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def cell(value: float | None, digits: int = 1) -> str:
    """A number with thousands separators, or "—" where nothing was measured."""
    return "—" if _missing(value) else f"{value:,.{digits}f}"


def ratio(value: float | None, baseline: float | None, digits: int = 2) -> str:
    """value / baseline as "1.45×", or "—" where either was not measured."""
    if _missing(value) or _missing(baseline) or not baseline:
        return "—"
    return f"{value / baseline:.{digits}f}×"


def current_load() -> tuple[float, float, float] | None:
    """The 1, 5 and 15 minute load averages, or None where the system does not say."""
    try:
        return os.getloadavg()
    except OSError:
        return None


def load_text(load: tuple[float, float, float] | None) -> str:
    """The 1, 5 and 15 minute load averages as "0.13 / 0.03 / 0.01", or "unknown"."""
    return "unknown" if load is None else " / ".join(f"{v:.2f}" for v in load)


def load_average() -> str:
    """The load average now: "0.13 / 0.03 / 0.01 (1 / 5 / 15 min)"."""
    return f"{load_text(current_load())} (1 / 5 / 15 min)"


def load_line(start: tuple[float, float, float] | None) -> str:
    """The sentence every table carries: the load average at `start` and now, and a
    warning when another process was running when the benchmark started (by the end, the
    load counts the benchmark's own processes too)."""
    busy = start is not None and start[0] > BUSY_LOAD
    return (f"Load average (1 / 5 / 15 min) at start {load_text(start)}, at end "
            f"{load_text(current_load())}"
            + (": the machine was busy, so compare the ratios (measured in turns) rather "
               "than the times." if busy else " (quiet at the start)."))


def write_report(text: str, out: Path | None) -> None:
    """Print a report and, with out, write it there too."""
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)


# ------------------------------------------------------------------------ the machine


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
    torch = optional_torch()
    return {
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


def machine_block(info: Mapping[str, str]) -> str:
    """A report's closing block: `machine_info()`'s facts, one "- what: value" a line."""
    return "The machine:\n\n" + "\n".join(f"- {k}: {v}" for k, v in info.items())


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
