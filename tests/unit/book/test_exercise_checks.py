"""cnnlib.book.exercises: the checks that enforce what an exercise forbids."""

import numpy as np
import pytest

import cnnlib
from cnnlib.book.exercises import check_indexing_at_most, check_no_python_loops, forbidding
from cnnlib.core import im2col


def vectorized(x):
    return x.transpose(0, 3, 1, 2).reshape(len(x), -1)


def with_for(x):
    return np.stack([row for row in x])


def with_while(x):
    i = 0
    while i < 3:
        i += 1
    return x


def with_generator(x):
    return sum(v for v in x)


def with_nested_loop(x):
    def helper(y):
        for _ in range(2):
            y = y + 1
        return y
    return helper(x)


def test_no_loops_passes_vectorized_code():
    check_no_python_loops("9.9", vectorized, "hint")


@pytest.mark.parametrize("fn", [with_for, with_while, with_generator, with_nested_loop])
def test_no_loops_finds_every_kind_of_loop(fn):
    with pytest.raises(AssertionError, match=r"^Exercise 9\.9: .*uses a Python loop.*hint"):
        check_no_python_loops("9.9", fn, "hint")


def test_no_loops_refuses_what_is_not_a_function():
    with pytest.raises(AssertionError, match="defined with def"):
        check_no_python_loops("9.9", np.sum, "hint")


def per_position(x):
    return np.array([x[:, i].sum() for i in range(x.shape[1])])


def test_indexing_counts_a_loop_over_positions_and_returns_the_result():
    x = np.arange(2 * 30.0).reshape(2, 30)
    got = check_indexing_at_most("9.9", lambda a: a[:, ::2] + a[:, 1::2], x, limit=2,
                                 what="two slices")
    np.testing.assert_array_equal(got, x[:, ::2] + x[:, 1::2])
    assert type(got) is np.ndarray
    with pytest.raises(AssertionError, match="indexed its input 30 times, more than 2"):
        check_indexing_at_most("9.9", per_position, x, limit=2, what="two slices")


def test_forbidding_blocks_every_route_and_restores_them():
    namespace = {"extract_windows": im2col.extract_windows}
    original = im2col.extract_windows
    with pytest.raises(ValueError), forbidding("9.9", namespace, "extract_windows"):
        for call in (namespace["extract_windows"], im2col.extract_windows):
            with pytest.raises(AssertionError, match="Exercise 9.9: .*not to call"):
                call(np.zeros((1, 4, 4, 1)), 2, 1)
        if getattr(cnnlib, "extract_windows", None) is not None:
            with pytest.raises(AssertionError):
                cnnlib.extract_windows(np.zeros((1, 4, 4, 1)), 2, 1)
        raise ValueError("leaving the block by an exception")
    assert namespace["extract_windows"] is original is im2col.extract_windows


def test_attempt_names_the_exercise_for_a_stub_and_for_an_error_in_the_readers_code():
    from cnnlib.book.exercises import attempt

    def stub(x):
        raise NotImplementedError

    def broken(x):
        return np.ones((2, 3)) @ np.ones((2, 3))

    assert attempt("9.9", lambda x: x + 1, 1) == 2
    with pytest.raises(AssertionError, match=r"^Exercise 9\.9: implement .*stub first"):
        attempt("9.9", stub, 1)
    with pytest.raises(AssertionError, match=r"^Exercise 9\.9: .*broken raised ValueError: "
                       r"matmul") as info:
        attempt("9.9", broken, 1)
    assert isinstance(info.value.__cause__, ValueError)  # the reader's line stays visible
