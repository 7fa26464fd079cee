"""benchmarks/bench_limits.py: the arithmetic of its report (never its timings)."""

from __future__ import annotations

import bench_limits as L
import numpy as np
from harness import BATCH, CONV_LAYERS


def test_report_states_the_floor_and_what_is_left_for_the_rest():
    products = [{"layer": "a", "gflop": 1.0, "chunked_ms": 10.0, "whole_ms": 12.0, "best_ms": 10.0},
                {"layer": "b", "gflop": 2.0, "chunked_ms": 30.0, "whole_ms": 20.0, "best_ms": 20.0}]
    memory = {"element-wise pass (main memory)": {"1": 28.0, "2": 34.0},
              "matrix product (GFLOP/s)": {"1": 100.0, "2": 196.0}}
    text = L.report(memory, products, {"PyTorch": 100.0, "cnnlib": 150.0}, 2, (0.1, 0.2, 0.3))
    assert "| PyTorch, whole step (own process) | 100 | 1.00× |" in text
    assert "| cnnlib, whole step (own process) | 150 | 1.50× |" in text
    assert "| cnnlib, its convolutions' matrix products alone | 30 | 0.30× |" in text
    assert "| left for everything else, to tie with PyTorch | 70 |  |" in text
    assert "| what everything else takes in cnnlib today | 120 |  |" in text
    assert "| all six | 3.00 |  |  | 100 |" in text  # 3 GFLOP in 30 ms
    assert "| element-wise pass (main memory) | 28 GB/s | 34 GB/s | 1.21× |" in text
    assert "| matrix product (GFLOP/s) | 100 | 196 | 1.96× |" in text
    assert "Load average (1 / 5 / 15 min) at start 0.10 / 0.20 / 0.30, at end" in text


def test_layer_products_count_three_products_but_two_for_the_rgb_layer():
    rng = np.random.default_rng(0)
    h, c, k = CONV_LAYERS[-1]
    deep = L.layer_products(h, c, k, rng, repeats=1)
    assert deep["gflop"] == 3 * 2 * BATCH * h * h * 9 * c * k / 1e9
    assert deep["best_ms"] == min(deep["chunked_ms"], deep["whole_ms"]) > 0
    h, c, k = CONV_LAYERS[0]
    assert L.layer_products(h, c, k, rng, repeats=1)["gflop"] == 2 * 2 * BATCH * h * h * 9 * c * k / 1e9


def test_bandwidth_counts_bytes_read_and_written(monkeypatch):
    calls = []

    def one_second(fn, repeats):  # run the passes once, and say they took a second
        calls.append((fn(), repeats))
        return 1.0

    monkeypatch.setattr(L, "best_seconds", one_second)
    passes = 2**24 // 2**16  # small arrays are passed over many times per timing
    # each of 2 threads reads 64 KiB and writes 64 KiB per pass
    assert L.bandwidth(2**16, 2, repeats=3) == 2 * 2**16 * 2 * passes / 1e9
    assert [repeats for _, repeats in calls] == [3]
