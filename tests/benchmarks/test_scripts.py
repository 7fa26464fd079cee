"""Every benchmark script, and through them every child program, runs once on its smallest
settings, and what it prints or writes reads back as the tables it promises.

Speed is never asserted (STYLE.md): only that each run finishes, that its tables have the
rows and columns they should, and that their cells are numbers or ratios. Results go to
tmp_path, never to benchmarks/results/.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys

import pytest
from harness import BENCHMARKS, CHILDREN, CONV_LAYERS, POOL_LAYERS, optional_torch
from optional import require_torch

REPO = BENCHMARKS.parent
MODULES = ("harness.py", "contenders.py", "dlfs_im2col.py")  # imported, never run
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name not in MODULES)
CHILD_PROGRAMS = sorted(p.name for p in CHILDREN.glob("*.py"))
NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?(×| %| GB/s)?$")


def cifar_env() -> dict[str, str]:
    """The environment with CNNLIB_DATA set (to the shared subset beside the repository, as
    the Makefile does, unless it is set already); skips where there is no data."""
    env = dict(os.environ)
    shared = REPO.parent / "shared" / "data" / "cifar10"
    if "CNNLIB_DATA" not in env and shared.is_dir():
        env["CNNLIB_DATA"] = str(shared)
    if "CNNLIB_DATA" not in env:
        pytest.skip("CNNLIB_DATA is not set: set it to the shared cifar10 folder")
    return env


def run(script: str, *args: object, env: dict[str, str] | None = None) -> str:
    """What `python benchmarks/<script> args` prints; fails the test if the script fails."""
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=1800)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


def tables(text: str) -> list[list[dict[str, str]]]:
    """Every Markdown table in text, each a list of rows {column header: cell}."""
    found, lines = [], text.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith("| ") and re.fullmatch(r"\|(---:?\|)+", lines[i + 1]):
            header = [c.strip() for c in line.strip("|").split("|")]
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(dict(zip(header, (c.strip() for c in row.strip("|").split("|")),
                                     strict=True)))
            found.append(rows)
    return found


def assert_numbers(rows: list[dict[str, str]], columns: list[str]) -> None:
    """Each of these columns holds a number, a ratio (1.45×), a share (12 %) or "—"."""
    for row in rows:
        for column in columns:
            assert row[column] == "—" or NUMBER.match(row[column]), (column, row)


def labels(rows: list[dict[str, str]]) -> list[str]:
    return [next(iter(row.values())) for row in rows]


# ----------------------------------------------------------------- every file at once


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_answers_help_without_running(script):
    assert "usage:" in run(script, "--help")


@pytest.mark.parametrize("child", CHILD_PROGRAMS)
def test_every_child_answers_help_and_is_run_by_a_benchmark(child):
    env = {**os.environ, "PYTHONPATH": str(BENCHMARKS)}
    proc = subprocess.run([sys.executable, str(CHILDREN / child), "--help"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0 and "usage:" in proc.stdout, proc.stderr
    users = [s for s in SCRIPTS if f'"{child}"' in (BENCHMARKS / s).read_text()]
    assert users, f"no benchmark runs children/{child}"


@pytest.mark.parametrize("path", sorted(BENCHMARKS.rglob("*.py")), ids=lambda p: p.name)
def test_no_python_program_lives_in_a_string(path):
    """Child programs are files that ruff reads, never code held in a string literal."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and node.value.count("\n") >= 2:
            try:
                code = ast.parse(node.value)
            except SyntaxError:
                continue  # prose
            statements = [n for n in ast.walk(code)
                          if isinstance(n, ast.Import | ast.ImportFrom | ast.FunctionDef)]
            assert not statements, f"{path.name}:{node.lineno} holds a program in a string"


# ------------------------------------------------------------------ each benchmark


def test_bench_epoch_times_every_contender_and_profiles_cnnlib(tmp_path):
    require_torch()
    out = tmp_path / "epoch.md"
    run("bench_epoch.py", "--epochs", 2, "--rounds", 2, "--limit", 64, "--winograd",
        "--before", REPO, "--out", out, env=cifar_env())
    epochs, parts = tables(out.read_text())
    assert labels(epochs) == ["cnnlib before", "cnnlib", "cnnlib, Winograd on (CNNLIB_WINOGRAD=1)",
                              "PyTorch"]
    assert_numbers(epochs, ["s per epoch (median)", "ms per step", "× PyTorch", "peak memory MB"])
    assert epochs[-1]["× PyTorch"] == "1.00×"
    assert all(len(row["all runs"].split(", ")) == 2 for row in epochs)  # a run per round
    assert {"Conv2D forward", "Conv2D backward", "augmentation", "loss", "optimizer step",
            "other (batching, Python)"} <= set(labels(parts))
    assert_numbers(parts, ["s", "share"])
    # The machine it ran on, with the BLAS kernel and what chose it (OPENBLAS_CORETYPE).
    machine = out.read_text().split("The machine:", 1)[1]
    assert "- cpu: " in machine and "kernel" in machine and "- OPENBLAS_CORETYPE" in machine


def test_bench_winograd_compares_both_paths_with_one_and_two_threads(tmp_path):
    out = tmp_path / "winograd.md"
    run("bench_winograd.py", "--repeats", 1, "--out", out)
    (rows,) = tables(out.read_text())
    assert len(rows) == sum(1 for _, c, _ in CONV_LAYERS if c >= 32)
    assert_numbers(rows, [c for c in rows[0] if c != "layer"])


def test_bench_compare_times_two_checkouts():
    (rows,) = tables(run("bench_compare.py", REPO, REPO, "--rounds", 1, "--repeats", 1))
    assert labels(rows) == ["step (1 thread, CPU)", "conv 32x32x32 (1 thread, CPU)",
                            "conv 16x16x64 (1 thread, CPU)", "conv 8x8x128 (1 thread, CPU)",
                            "step (2 threads, wall)"]
    assert_numbers(rows, ["before ms", "after ms", "after / before"])


def test_bench_memory_measures_each_contender_in_its_own_process():
    (rows,) = tables(run("bench_memory.py"))
    contenders = ["cnnlib"] + (["PyTorch"] if optional_torch() else [])
    assert labels(rows) == ["reference"] * len(contenders) + ["fast"] * len(contenders)
    assert [row["contender"] for row in rows] == contenders * 2
    assert_numbers(rows, ["step MB", "peak RSS MB", "NumPy peak (tracemalloc) MB"])


def test_bench_blas_measures_the_peak_and_a_coretype_child():
    peaks, cores = tables(run("bench_blas.py", "--quick"))
    assert len(peaks) == len(CONV_LAYERS) + 1
    assert_numbers(peaks, ["GFLOP/s"])
    assert labels(cores) == ["unset"] and cores[0]["kernel"]
    assert_numbers(cores, [c for c in cores[0] if "GFLOP/s" in c or c.endswith(" ms")])


def test_bench_layers_times_every_layer_and_the_one_thread_child():
    layers, one_thread = tables(run("bench_layers.py", "--quick"))
    assert len(layers) == 2 * (len(CONV_LAYERS) + len(POOL_LAYERS))
    assert_numbers(layers, ["loops*", "DLFS im2col", "cnnlib", "PyTorch", "DLFS / cnnlib"])
    assert len(one_thread) == len(CONV_LAYERS)
    assert_numbers(one_thread, ["cnnlib CPU ms", "DLFS CPU ms", "of peak", "DLFS / cnnlib"])


def test_bench_step_times_the_step_the_one_thread_child_and_the_profile():
    text = run("bench_step.py", "--quick", "--profile")
    step, one_thread, breakdown = tables(text)
    assert labels(step)[:2] == ["cnnlib", "cnnlib, chunks in turn"]
    assert_numbers(step, ["median ms", "min ms", "/ PyTorch"])
    assert labels(one_thread)[0] == "cnnlib"
    assert_numbers(one_thread, ["median CPU ms", "/ PyTorch"])
    assert labels(breakdown)[-1] == "loss + SGD update + Python"
    assert "cProfile of 5 cnnlib training steps" in text


def test_bench_limits_writes_its_report_and_numbers(tmp_path):
    require_torch()
    out = tmp_path / "limits.md"
    run("bench_limits.py", "--rounds", 1, "--limit", 64, "--repeats", 1, "--out", out,
        env=cifar_env())
    steps, products, memory = tables(out.read_text())
    assert labels(steps)[:2] == ["PyTorch, whole step (own process)",
                                 "cnnlib, whole step (own process)"]
    assert len(products) == len(CONV_LAYERS) + 1 and len(memory) == 3
    numbers = json.loads(out.with_suffix(".json").read_text())
    assert set(numbers["steps_ms"]) == {"cnnlib", "PyTorch"}


def test_compare_residual_trains_both_networks_and_rewrites_its_table(tmp_path):
    run("compare_residual.py", "--budget", 1, "--subset", 128, "--out-dir", tmp_path,
        env=cifar_env())
    md = tmp_path / "residual_vs_reference.md"
    networks, machine = tables(written := md.read_text())
    assert [row["network"].split(" (")[0] for row in networks] == ["reference network",
                                                                   "residual network"]
    assert "load average at start" in labels(machine)
    md.unlink()
    run("compare_residual.py", "--table-only", "--out-dir", tmp_path)
    assert md.read_text() == written  # the table comes from the .json alone


def test_run_all_writes_the_report_the_csv_and_the_profile(tmp_path):
    run("run_all.py", "--quick", "--out", tmp_path)
    report = tables((tmp_path / "benchmark.md").read_text())
    assert len(report) >= 9  # machine, targets, step ×2, layers, GFLOP/s ×3, memory, breakdown
    rows = (tmp_path / "benchmark.csv").read_text().splitlines()
    assert rows[0] == "section,item,phase,contender,value,unit,ratio_vs_pytorch" and len(rows) > 40
    assert "cProfile" in (tmp_path / "profile.txt").read_text()


def test_bench_recipes_trains_each_run_and_writes_both_tables(tmp_path):
    out = tmp_path / "recipes.md"
    run("bench_recipes.py", "--runs", "fast", "fast, random stem", "--seeds", 0, 1,
        "--epochs", 1, "--limit", 200, "--out", out, env=cifar_env())
    ablation, to_accuracy = tables(out.read_text())
    assert labels(ablation) == labels(to_accuracy) == ["fast", "fast, random stem"]
    assert all(row["seeds"] == "2" and " ± " in row["final validation %"] for row in ablation)
    raw = json.loads(out.with_suffix(".json").read_text())
    assert [r["seed"] for r in raw["runs"]["fast"]] == [0, 1]
    assert all(len(r["val_acc"]) == len(r["seconds"]) == 1 for r in raw["runs"]["fast"])
    # The report can be rewritten from the raw numbers alone, identically.
    before = out.read_text()
    run("bench_recipes.py", "--tables-only", "--out", out)
    assert out.read_text() == before


def test_bench_recipes_tricks_scores_one_training_run_four_ways(tmp_path):
    out = tmp_path / "tricks.md"
    run("bench_recipes.py", "--tricks", "tricks, random flip", "--epochs", 2, "--limit", 200,
        "--out", out, env=cifar_env())
    ablation, per_epoch, to_accuracy, test = tables(out.read_text())
    names = ["fast (as committed)", "fast + shift TTA", "fast + EMA", "fast + EMA + shift TTA"]
    assert labels(ablation) == labels(per_epoch) == labels(to_accuracy) == labels(test) == names
    assert all(row["training run"] == "tricks, random flip" for row in ablation)
    assert all(row["2"] and row["1"] for row in per_epoch)  # validation after each epoch
    raw = json.loads(out.with_suffix(".json").read_text())
    runs = [raw["runs"][name][0] for name in names]
    assert all(r["step_seconds"] == runs[0]["step_seconds"] for r in runs)  # one training
    assert all(len(r["val_acc"]) == len(r["seconds"]) == 2 and len(r["load_start"]) == 3
               for r in runs)
    before = out.read_text()
    run("bench_recipes.py", "--tables-only", "--out", out)
    assert out.read_text() == before


def test_bench_recipes_time_to_accuracy_trains_cnnlib_and_the_pytorch_twin(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "tta.md"
    run("bench_recipes.py", "--time-to-accuracy", "--epochs", 1, "--limit", 200,
        "--out", out, env=cifar_env())
    main, speeds = tables(out.read_text())
    assert labels(main) == ["cnnlib, book50", "PyTorch twin, book50", "cnnlib, fast12",
                            "PyTorch twin, fast12"]
    assert all(row["epochs"] == "1" for row in main)
    assert main[0]["SGD time ÷ PyTorch's"].endswith("×")  # cnnlib against its twin
    assert main[1]["SGD time ÷ PyTorch's"] == "1"
    assert [row["what"].split(",")[0] for row in speeds] == [
        "element-wise pass", "element-wise pass", "matrix product 4096×1024 @ 1024×1024 (GFLOP/s)"]
    raw = json.loads(out.with_suffix(".json").read_text())
    assert set(raw["runs"]) == set(labels(main)) and raw["speeds"]
    before = out.read_text()
    run("bench_recipes.py", "--tables-only", "--out", out)
    assert out.read_text() == before
