"""The chunked, multi-threaded paths of cnnlib.functional give the same numbers as one chunk.

Small test batches fit in one chunk, so the other tests never split a batch; here
CHUNK_BYTES is shrunk until every image is a chunk of its own, and the worker threads
(when threadpoolctl is installed) run them in parallel.
"""

import threading

import numpy as np
import pytest

from cnnlib import functional as F


@pytest.fixture
def one_image_per_chunk(monkeypatch):
    monkeypatch.setattr(F, "CHUNK_BYTES", 1)


def conv_case(stride, padding, dtype=np.float64):
    rng = np.random.default_rng(stride * 10 + padding)
    x = rng.standard_normal((5, 9, 9, 3)).astype(dtype)
    weight = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)
    return x, weight, bias


@pytest.mark.parametrize(("stride", "padding"), [(1, 1), (1, 0), (2, 1), (3, 0)])
def test_chunked_conv_matches_one_chunk(stride, padding, one_image_per_chunk, monkeypatch):
    x, weight, bias = conv_case(stride, padding)
    y, cache = F.conv2d_forward(x, weight, bias, stride, padding)
    dout = np.random.default_rng(1).standard_normal(y.shape)
    grads = F.conv2d_backward(dout, cache)
    monkeypatch.setattr(F, "CHUNK_BYTES", 2**40)  # the whole batch as one chunk...
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "1")  # ...on one thread
    assert len(F.batch_chunks(5, 10**6)) == 1
    y1, cache1 = F.conv2d_forward(x, weight, bias, stride, padding)
    np.testing.assert_allclose(y, y1, rtol=1e-12, atol=1e-12)
    for name, a, b in zip(["dx", "dweight", "dbias"], grads, F.conv2d_backward(dout, cache1),
                          strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)


def test_batch_chunks_cover_the_batch_once(monkeypatch):
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "1")
    chunks = F.batch_chunks(10, F.CHUNK_BYTES // 3)
    assert [(c.start, c.stop) for c in chunks] == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert F.batch_chunks(4, 10 * F.CHUNK_BYTES) == [slice(0, 1), slice(1, 2), slice(2, 3),
                                                     slice(3, 4)]


def test_batch_chunks_give_every_worker_a_chunk(monkeypatch):
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "4")
    assert len(F.batch_chunks(8, 1)) == 4 or not F._blas_libraries()


def test_for_each_chunk_keeps_order():
    chunks = [slice(i, i + 1) for i in range(20)]
    assert F.for_each_chunk(lambda c: c.start * 2, chunks) == [2 * i for i in range(20)]


def test_blas_is_single_threaded_while_workers_run_and_restored_without_them(monkeypatch):
    libs = F._blas_libraries()
    if not libs:
        pytest.skip("threadpoolctl not installed: cnnlib leaves the BLAS threads alone")
    original = list(F._state["blas_threads"])
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "2")
    F.for_each_chunk(lambda c: None, [slice(0, 1), slice(1, 2)])
    assert [lib.num_threads for lib in libs] == [1] * len(libs)
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "1")
    F.for_each_chunk(lambda c: None, [slice(0, 1), slice(1, 2)])
    assert [lib.num_threads for lib in libs] == original


def test_for_each_chunk_propagates_errors():
    def fail_on_three(chunk):
        if chunk.start == 3:
            raise ValueError("chunk 3 is bad")
        return chunk.start

    with pytest.raises(ValueError, match="chunk 3 is bad"):
        F.for_each_chunk(fail_on_three, [slice(i, i + 1) for i in range(6)])


def test_bad_thread_count_is_refused(monkeypatch):
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "two")
    if not F._blas_libraries():
        pytest.skip("threadpoolctl not installed: the setting is not read")
    with pytest.raises(ValueError, match=r"CNNLIB_NUM_THREADS = 'two' must be a positive"):
        F.for_each_chunk(lambda c: None, [slice(0, 1)])


def test_nested_for_each_chunk_runs_inside_the_worker():
    def outer(chunk):
        return sum(F.for_each_chunk(lambda c: c.start, [slice(0, 1), slice(1, 2)]))
    assert F.for_each_chunk(outer, [slice(i, i + 1) for i in range(4)]) == [1] * 4


def test_conv_from_several_caller_threads_agrees(one_image_per_chunk):
    x, weight, bias = conv_case(1, 1, np.float32)
    expected = F.conv2d(x, weight, bias, 1, 1)
    results = [None] * 4

    def run(i):
        results[i] = F.conv2d(x, weight, bias, 1, 1)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_allclose(r, expected, rtol=1e-6)


@pytest.mark.parametrize(("f", "s"), [(2, 2), (3, 2), (2, 3)])
def test_max_pool_backward_routes_each_gradient_to_the_first_maximum(f, s):
    rng = np.random.default_rng(f * 10 + s)
    h = 2 * s + f
    x = rng.integers(0, 3, (2, h, h, 3)).astype(np.float64)  # many ties
    y, cache = F.max_pool2d_forward(x, f, s)
    dout = rng.standard_normal(y.shape)
    dx = F.max_pool2d_backward(dout, cache)
    expected = np.zeros_like(x)
    for r in range(y.shape[1]):
        for c in range(y.shape[2]):
            win = x[:, r * s : r * s + f, c * s : c * s + f, :].reshape(2, f * f, 3)
            first = win.argmax(axis=1)  # (N, C): first maximum in reading order
            for n in range(2):
                for ch in range(3):
                    i, j = divmod(first[n, ch], f)
                    expected[n, r * s + i, c * s + j, ch] += dout[n, r, c, ch]
    np.testing.assert_allclose(dx, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_input_grad_tap_by_tap_matches_the_flipped_convolution(padding):
    """Few input channels (F·F·C < K, as for RGB images) take the tap-by-tap col2im path."""
    rng = np.random.default_rng(padding)
    weight = rng.standard_normal((16, 3, 3, 1))  # F·F·C = 9 < K = 16
    h2 = 6 + 2 * padding - 2
    dout = rng.standard_normal((2, h2, h2, 16))
    dx = F.conv2d_input_grad(dout, weight, (2, 6, 6, 1), stride=1, padding=padding)
    flipped = weight[:, ::-1, ::-1, :].transpose(3, 1, 2, 0)
    expected = F.conv2d(dout, flipped, None, stride=1, padding=2 - padding)
    np.testing.assert_allclose(dx, expected, rtol=1e-12, atol=1e-12)
