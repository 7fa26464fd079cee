"""The build track's machinery: the student edition of mycnn/, `learner_piece`, and the
network's fallback to cnnlib for a piece the reader has not written yet."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT))

from cnnlib.book.exercises import (  # noqa: E402
    CNNLIB_CONV_FORWARD,
    check_lines_at_most,
    forbidding,
    learner_piece,
    reference_train_epochs,
)
from cnnlib.core.functional import conv2d  # noqa: E402
from tools.make_exercises import student_module, write_package  # noqa: E402

CHAPTERS = REPO_ROOT / "chapters"


def test_student_module_replaces_each_solution_with_a_named_stub() -> None:
    text = ("import numpy as np\n\n\ndef double(x):\n    \"\"\"Exercise 1.9.\"\"\"\n"
            "    # BEGIN SOLUTION (Exercise 1.9)\n    y = 2 * x\n    return y\n"
            "    # END SOLUTION\n\n\ndef helper(x):\n    return x\n")
    out = student_module(text, "twice.py")
    assert "2 * x" not in out and "BEGIN" not in out and "END SOLUTION" not in out
    assert ('    raise NotImplementedError("Exercise 1.9: write double in mycnn/twice.py")\n'
            in out)
    assert "def helper(x):\n    return x\n" in out  # code outside the blocks is kept
    namespace: dict = {}
    exec(compile(out, "twice.py", "exec"), namespace)  # noqa: S102 - our own text
    with pytest.raises(NotImplementedError, match="Exercise 1.9: write double"):
        namespace["double"](3)


@pytest.mark.parametrize("text", [
    "def f():\n    # BEGIN SOLUTION (Exercise 1.1)\n    return 1\n",  # never closed
    "def f():\n    return 1\n    # END SOLUTION\n",  # closed, never opened
    "# BEGIN SOLUTION (Exercise 1.1)\nx = 1\n# END SOLUTION\n",  # outside a function
])
def test_student_module_refuses_broken_markers(text: str) -> None:
    with pytest.raises(ValueError, match="broken.py"):
        student_module(text, "broken.py")


def test_every_mycnn_piece_is_an_exercise_and_the_student_edition_imports(tmp_path) -> None:
    written = write_package(tmp_path)
    names = sorted(p.name for p in written)
    assert names == sorted(p.name for p in (CHAPTERS / "mycnn").glob("*.py"))
    text = "".join(p.read_text() for p in written)
    assert "# BEGIN SOLUTION (" not in text and "# END SOLUTION\n" not in text
    for label in ("3.7", "3.8"):
        assert f'"Exercise {label}: write ' in text
    conv_naive = learner_piece("conv", "conv_forward_naive", root=tmp_path)
    with pytest.raises(NotImplementedError, match="Exercise 3.7"):
        conv_naive(np.zeros((1, 4, 4, 1)), np.zeros((1, 3, 3, 1)), np.zeros(1))
    # Back to the full edition: the reference solution, from the other folder.
    conv_naive = learner_piece("conv", "conv_forward_naive", root=CHAPTERS)
    assert Path(sys.modules["mycnn"].__file__).parent == CHAPTERS / "mycnn"
    assert conv_naive(np.ones((1, 4, 5, 1)), np.ones((1, 3, 3, 1)), np.zeros(1)).shape == (
        1, 2, 3, 1)


def test_learner_piece_sees_an_edited_file(tmp_path) -> None:
    write_package(tmp_path)
    relu = learner_piece("activations", "relu_forward", root=tmp_path)
    with pytest.raises(NotImplementedError):
        relu(np.ones(3))
    path = tmp_path / "mycnn" / "activations.py"
    path.write_text(path.read_text().replace(
        'raise NotImplementedError("Exercise 8.7: write relu_forward in mycnn/activations.py")',
        "return np.maximum(x, 0) * 1", 1))
    relu = learner_piece("activations", "relu_forward", root=tmp_path)
    assert np.array_equal(relu(np.array([-1.0, 2.0])), [0.0, 2.0])


def test_learner_piece_says_what_is_missing(tmp_path) -> None:
    with pytest.raises(AssertionError, match="no mycnn/conv.py"):
        learner_piece("conv", "conv_forward_naive", root=tmp_path)
    with pytest.raises(AssertionError, match="has no function nothing_here"):
        learner_piece("conv", "nothing_here", root=CHAPTERS)


def test_check_lines_at_most_tells_loops_over_positions_from_loops_over_offsets() -> None:
    x = np.arange(30 * 31, dtype=float).reshape(30, 31)

    def by_offsets(x):
        out = np.zeros((28, 29))
        for u in range(3):
            for v in range(3):
                out += x[u:u + 28, v:v + 29]
        return out

    def by_positions(x):
        return np.array([[x[i:i + 3, j:j + 3].sum() for j in range(29)] for i in range(28)])

    def by_a_helper(x):  # the loops hidden in another function of the same file
        return by_positions(x)

    got = check_lines_at_most("9.9", by_offsets, x, limit=40, what="no loop")
    with pytest.raises(AssertionError, match=r"^Exercise 9\.9: .*by_a_helper ran \d+ lines"):
        check_lines_at_most("9.9", by_a_helper, x, limit=40, what="no loop")
    assert np.allclose(got, by_positions(x))
    with pytest.raises(AssertionError, match=r"^Exercise 9\.9: .*by_positions ran \d+ lines"):
        check_lines_at_most("9.9", by_positions, x, limit=40, what="no loop")


def test_check_lines_at_most_refuses_a_loop_over_rows_however_short() -> None:
    def by_rows(x):  # one line per output row: under any limit on a small enough image
        return np.stack([x[i:i + 3].sum(axis=0) for i in range(len(x) - 2)])

    def by_offsets(x):
        return sum(x[u:len(x) - 2 + u] for u in range(3))

    small, large = np.ones((10, 4)), np.ones((20, 8))
    assert np.allclose(check_lines_at_most("9.9", by_offsets, small, limit=40, what="no loop",
                                           larger=(large,)), by_rows(small))
    check_lines_at_most("9.9", by_rows, small, limit=40, what="no loop")  # under the limit
    with pytest.raises(AssertionError, match=r"^Exercise 9\.9: .*by_rows ran \d+ lines of "
                                             r"Python on one input and \d+ on an input twice"):
        check_lines_at_most("9.9", by_rows, small, limit=40, what="no loop", larger=(large,))


def test_forbidding_refuses_cnnlib_own_piece_from_every_module_and_restores_it() -> None:
    import cnnlib.core.functional as functional
    import cnnlib.core.im2col as im2col

    namespace = {"conv2d": conv2d}
    x, w = np.ones((1, 4, 4, 1)), np.ones((1, 3, 3, 1))
    with forbidding("3.8", namespace, *CNNLIB_CONV_FORWARD):
        for call in (lambda: namespace["conv2d"](x, w), lambda: functional.conv2d(x, w),
                     lambda: im2col.extract_windows(x, 3, 1)):
            with pytest.raises(AssertionError, match=r"^Exercise 3\.8: .*not to call"):
                call()
        from cnnlib.core.functional import conv2d as imported_again
        with pytest.raises(AssertionError, match="conv2d"):
            imported_again(x, w)
    assert namespace["conv2d"] is conv2d and functional.conv2d is conv2d
    assert functional.conv2d(x, w).shape == (1, 2, 2, 1)


def test_reference_train_epochs_is_the_full_editions_solution() -> None:
    network = learner_piece("network", root=CHAPTERS)
    train_epochs = learner_piece("train", "train_epochs", root=CHAPTERS)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((7, 8, 8, 3)).astype(np.float32), rng.integers(0, 10, 7)
    nets = [network.small_cnn((2, 2, 2), image_size=8, seed=1) for _ in range(2)]
    settings = dict(epochs=2, batch_size=3, lr=0.1, momentum=0.9, seed=3)
    assert reference_train_epochs(nets[0], x, y, **settings) == train_epochs(nets[1], x, y,
                                                                             **settings)


def test_the_network_falls_back_to_cnnlib_once_per_missing_piece(tmp_path, capsys) -> None:
    write_package(tmp_path)
    small_cnn = learner_piece("network", "small_cnn", root=tmp_path)
    with pytest.raises(NotImplementedError, match="Exercise 10.8"):
        small_cnn()
    # Assemble a network from the layer objects: every piece is still a stub.
    network = sys.modules["mycnn.network"]
    rng = np.random.default_rng(0)
    model = network.Network([network.Conv(3, 4, 3, 2, 1, rng=rng), network.ReLU(),
                             network.MaxPool(2, 2), network.Flatten(),
                             network.Linear(2 * 2 * 4, 10, rng=rng)])
    x = rng.standard_normal((5, 8, 8, 3)).astype(np.float32)
    for _ in range(2):
        logits = model.forward(x)
        loss, dlogits = model.loss(logits, np.arange(5))
        model.backward(dlogits)
        model.step(0.1, 0.9)
    said = capsys.readouterr().out.splitlines()
    assert sorted(said) == sorted(f"{name}: not written yet, using cnnlib's" for name in (
        "conv_forward_im2col", "conv_backward", "relu_forward", "relu_backward",
        "max_pool_forward", "max_pool_backward", "linear_forward", "linear_backward",
        "softmax_cross_entropy", "sgd_momentum_step"))  # each once, though called twice
    conv = model.layers[0]
    assert np.allclose(conv.forward(x), conv2d(x, conv.params["w"], conv.params["b"], 2, 1),
                       atol=1e-5)


def test_the_network_does_not_hide_a_real_error(tmp_path) -> None:
    write_package(tmp_path)
    path = tmp_path / "mycnn" / "activations.py"
    path.write_text(path.read_text().replace(
        'raise NotImplementedError("Exercise 8.7: write relu_forward in mycnn/activations.py")',
        "return x.no_such_method()", 1))
    relu = learner_piece("network", "ReLU", root=tmp_path)
    with pytest.raises(AttributeError, match="no_such_method"):
        relu().forward(np.ones(3))


def test_an_unwritten_training_loop_falls_back_to_the_books(tmp_path, capsys) -> None:
    from cnnlib.book.exercises import reference_train_epochs

    write_package(tmp_path)
    network = learner_piece("network", root=tmp_path)
    train = learner_piece("train", root=tmp_path)
    rng = np.random.default_rng(3)
    model = network.Network([network.Flatten(), network.Linear(12, 10, rng=rng)])
    x, y = rng.standard_normal((7, 2, 2, 3)).astype(np.float32), rng.integers(0, 10, 7)
    losses = network.piece(train, "train_epochs", reference_train_epochs, model, x, y,
                           epochs=2, batch_size=3, lr=0.1, momentum=0.9, seed=0)
    assert len(losses) == 2 and losses[1] < losses[0]
    assert "train_epochs: not written yet, using cnnlib's" in capsys.readouterr().out
