"""benchmarks/harness.py: the turns, the timing loop, the child protocol and the tables."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import harness as H
import pytest

REPO = Path(__file__).resolve().parents[2]
ECHO_CHILD = str(Path(__file__).with_name("echo_child.py"))  # reports what it was started with


def test_turns_rotate_the_order_by_one_each_round():
    assert list(H.turns(["a", "b", "c"], 3)) == [
        (0, "a"), (0, "b"), (0, "c"), (1, "b"), (1, "c"), (1, "a"), (2, "c"), (2, "a"), (2, "b")]


def test_time_interleaved_times_only_the_run_and_drops_the_warmup():
    ticks = itertools.count()
    log = []

    def clock() -> float:
        return float(next(ticks))

    contenders = {"a": (lambda: log.append("setup a"), lambda: log.append("a")),
                  "b": (None, lambda: log.append("b"))}
    times = H.time_interleaved(contenders, repeats=2, warmup=1, clock=clock)
    assert log == ["setup a", "a", "b", "b", "setup a", "a", "setup a", "a", "b"]
    assert times == {"a": [1.0, 1.0], "b": [1.0, 1.0]}  # each run between two ticks


def test_table_cells_and_ratios():
    assert H.table(["layer", "ms", "× base"], [["conv", H.cell(1234.5), H.ratio(3.0, 2.0)],
                                              ["pool", H.cell(None), H.ratio(1.0, math.nan)]]) \
        == ("| layer | ms | × base |\n|---|---:|---:|\n| conv | 1,234.5 | 1.50× |\n"
            "| pool | — | — |")
    assert H.cell(2.345, 2) == "2.35" and H.ratio(1.0, 0.0) == "—" and H.ratio(9, 4, 1) == "2.2×"


def test_load_line_warns_only_when_the_machine_was_busy_at_the_start():
    assert H.load_line((0.1, 0.2, 0.3)).startswith(
        "Load average (1 / 5 / 15 min) at start 0.10 / 0.20 / 0.30, at end ")
    assert H.load_line((0.1, 0.2, 0.3)).endswith("(quiet at the start).")
    assert "the machine was busy" in H.load_line((1.5, 0.2, 0.3))
    assert "at start unknown" in H.load_line(None)


def test_child_result_sets_threads_winograd_path_and_environment(monkeypatch):
    monkeypatch.setenv("BENCH_GONE", "1")
    result = H.child_result(ECHO_CHILD, ["x", 2], threads=3, winograd=True,
                            env={"BENCH_TEST": "yes", "BENCH_GONE": None})
    assert result["args"] == ["x", "2"]
    assert result["path"][0] == str(H.BENCHMARKS)  # `import harness` works in every child
    assert result["env"] == {**{name: "3" for name in H.THREAD_VARIABLES},
                             "CNNLIB_WINOGRAD": "1", "BENCH_TEST": "yes", "BENCH_GONE": None}
    assert "cnnlib" not in result  # the file of the cnnlib imported is checked, then dropped
    assert H.child_result(ECHO_CHILD)["env"]["CNNLIB_WINOGRAD"] == ""  # engine's choice


def test_child_result_puts_the_checkout_first_and_checks_the_child_used_it(tmp_path):
    result = H.child_result(ECHO_CHILD, checkout=REPO)
    assert result["path"][:2] == [str(REPO), str(H.BENCHMARKS)]
    with pytest.raises(RuntimeError, match="imported cnnlib from .*, not from"):
        H.child_result(ECHO_CHILD, checkout=tmp_path)  # no cnnlib in there


def test_a_failing_child_raises_with_its_stderr():
    with pytest.raises(RuntimeError, match=r"echo_child.py fail failed \(exit 1\):\nno data here"):
        H.child_result(ECHO_CHILD, ["fail"])


def test_results_in_turns_runs_every_child_once_per_round():
    children = {name: {"program": ECHO_CHILD, "args": [name]} for name in ("p", "q")}
    results = H.results_in_turns(children, rounds=2)
    assert {name: [r["args"] for r in rs] for name, rs in results.items()} == {
        "p": [["p"], ["p"]], "q": [["q"], ["q"]]}
