"""cnnlib.engine computes what the textbook functions of cnnlib.core.functional compute.

The engine cuts a batch into chunks and runs the textbook functions on them in worker
threads. Here CHUNK_BYTES is shrunk until every image is a chunk of its own, and the
results are compared with the textbook functions applied to the whole batch at once.
"""

import threading

import numpy as np
import pytest

from cnnlib import engine as E
from cnnlib.core import functional as F


@pytest.fixture
def one_image_per_chunk(monkeypatch):
    monkeypatch.setattr(E.workers, "CHUNK_BYTES", 1)


def conv_case(stride, padding, dtype=np.float64):
    rng = np.random.default_rng(stride * 10 + padding)
    x = rng.standard_normal((5, 9, 9, 3)).astype(dtype)
    weight = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)
    return x, weight, bias


@pytest.mark.parametrize(("stride", "padding"), [(1, 1), (1, 0), (1, 2), (2, 1), (3, 0)])
@pytest.mark.parametrize("threads", ["1", "2"])
def test_engine_conv_equals_the_textbook_functions(stride, padding, threads,
                                                    one_image_per_chunk, monkeypatch):
    monkeypatch.setenv("CNNLIB_NUM_THREADS", threads)
    x, weight, bias = conv_case(stride, padding)
    y, cache = E.conv2d_forward(x, weight, bias, stride, padding)
    y_book, cache_book = F.conv2d_forward(x, weight, bias, stride, padding)
    np.testing.assert_allclose(y, y_book, rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(1).standard_normal(y.shape)
    for name, a, b in zip(["dx", "dweight", "dbias"], E.conv2d_backward(dout, cache),
                          F.conv2d_backward(dout, cache_book), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("channels", [1, 8])
def test_flipped_filter_input_grad_equals_col2im(padding, channels):
    """Stride 1: the engine's flipped-filter convolution (used when F·F·C ≥ K) and col2im
    (used for thin inputs such as RGB images) give the textbook gradient."""
    rng = np.random.default_rng(padding)
    weight = rng.standard_normal((16, 3, 3, channels))
    h2 = 6 + 2 * padding - 2
    dout = rng.standard_normal((2, h2, h2, 16))
    x_shape = (2, 6, 6, channels)
    expected = F.conv2d_input_grad(dout, weight, x_shape, stride=1, padding=padding)
    np.testing.assert_allclose(F.conv2d_input_grad_flipped(dout, weight, padding), expected,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(E.conv2d_input_grad(dout, weight, x_shape, 1, padding), expected,
                               rtol=1e-12, atol=1e-12)


def test_worker_threads_keep_the_callers_floating_point_error_settings(monkeypatch):
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "2")
    seen = []

    def record(chunk):
        seen.append(np.geterr()["over"])
    with np.errstate(over="ignore"):
        E.for_each_chunk(record, [slice(0, 1), slice(1, 2)])
    with np.errstate(over="raise"):
        E.for_each_chunk(record, [slice(0, 1), slice(1, 2)])
    assert seen == ["ignore", "ignore", "raise", "raise"]


def test_batch_chunks_cover_the_batch_once(monkeypatch):
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "1")
    chunks = E.batch_chunks(10, E.CHUNK_BYTES // 3)
    assert [(c.start, c.stop) for c in chunks] == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert E.batch_chunks(4, 10 * E.CHUNK_BYTES) == [slice(0, 1), slice(1, 2), slice(2, 3),
                                                     slice(3, 4)]


def test_batch_chunks_give_every_worker_a_chunk(monkeypatch):
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "4")
    assert len(E.batch_chunks(8, 1)) == 4


def test_for_each_chunk_keeps_order():
    chunks = [slice(i, i + 1) for i in range(20)]
    assert E.for_each_chunk(lambda c: c.start * 2, chunks) == [2 * i for i in range(20)]


def test_blas_is_single_threaded_while_workers_run_and_restored_without_them(monkeypatch):
    libs = E.workers._blas_libraries()
    assert libs, "threadpoolctl found no BLAS library in NumPy"
    original = list(E.workers._state["blas_threads"])
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "2")
    E.for_each_chunk(lambda c: None, [slice(0, 1), slice(1, 2)])
    assert [lib.num_threads for lib in libs] == [1] * len(libs)
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "1")
    E.for_each_chunk(lambda c: None, [slice(0, 1), slice(1, 2)])
    assert [lib.num_threads for lib in libs] == original


def test_for_each_chunk_propagates_errors():
    def fail_on_three(chunk):
        if chunk.start == 3:
            raise ValueError("chunk 3 is bad")
        return chunk.start

    with pytest.raises(ValueError, match="chunk 3 is bad"):
        E.for_each_chunk(fail_on_three, [slice(i, i + 1) for i in range(6)])


def test_bad_thread_count_is_refused(monkeypatch):
    monkeypatch.setenv("CNNLIB_NUM_THREADS", "two")
    with pytest.raises(ValueError, match=r"CNNLIB_NUM_THREADS = 'two' must be a positive"):
        E.for_each_chunk(lambda c: None, [slice(0, 1)])


def test_nested_for_each_chunk_runs_inside_the_worker():
    def outer(chunk):
        return sum(E.for_each_chunk(lambda c: c.start, [slice(0, 1), slice(1, 2)]))
    assert E.for_each_chunk(outer, [slice(i, i + 1) for i in range(4)]) == [1] * 4


def test_conv_from_several_caller_threads_agrees(one_image_per_chunk):
    x, weight, bias = conv_case(1, 1, np.float32)
    expected = E.conv2d_forward(x, weight, bias, 1, 1)[0]
    results = [None] * 4

    def run(i):
        results[i] = E.conv2d_forward(x, weight, bias, 1, 1)[0]

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


@pytest.mark.parametrize("threads", ["1", "2"])
def test_per_channel_sums_and_affine_equal_numpy(threads, one_image_per_chunk, monkeypatch):
    monkeypatch.setenv("CNNLIB_NUM_THREADS", threads)
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((2, 3, 7, 4, 5)), rng.standard_normal((2, 3, 7, 4, 5))
    a, b, shift = rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal(5)
    np.testing.assert_allclose(E.channel_sum(x), x.sum(axis=(0, 1, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(E.channel_dot(x, y), (x * y).sum(axis=(0, 1, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(E.channel_affine([(x, a), (y, b)], shift), x * a + y * b + shift,
                               rtol=1e-12, atol=1e-12)
    assert len(E.batch_chunks(2 * 3 * 7 * 4, 5 * 8)) > 1  # really cut into chunks
