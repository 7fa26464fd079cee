"""cnnlib.book.summary: parameter counts, per-layer output shapes, the text and HTML tables."""

import numpy as np
import pytest

from cnnlib import Conv2D, Flatten, Layer, Linear, MaxPool2D, ReLU, Sequential
from cnnlib.book.summary import (
    LayerRow,
    count_params,
    dense_equivalent_params,
    format_summary,
    summary,
    summary_table,
)


def small_cnn(dtype=np.float32):
    return Sequential(
        Conv2D(3, 8, 3, padding=1, seed=0, dtype=dtype),  # 3·3·3·8 + 8 = 224
        ReLU(),
        MaxPool2D(2, 2),
        Flatten(),
        Linear(16 * 16 * 8, 10, seed=0, dtype=dtype),  # 2048·10 + 10 = 20,490
    )


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (Conv2D(3, 8, 3), 3 * 3 * 3 * 8 + 8),
        (Conv2D(3, 1, 5), 5 * 5 * 3 + 1),  # the chapter's neuron: 75 weights + 1 bias
        (Linear(250, 10), 250 * 10 + 10),
        (ReLU(), 0),
        (MaxPool2D(), 0),
        (Flatten(), 0),
    ],
)
def test_count_params_of_single_layers(layer, expected):
    assert count_params(layer) == expected


def test_count_params_of_a_sequential_and_of_a_list_sum_the_layers():
    model = small_cnn()
    assert count_params(model) == 224 + 20_490
    assert count_params(model.layers) == 224 + 20_490


def test_summary_rows_of_a_small_cnn():
    rows = summary(small_cnn(), (32, 32, 3))
    assert [r.output_shape for r in rows] == [(32, 32, 8), (32, 32, 8), (16, 16, 8), (2048,), (10,)]
    assert [r.params for r in rows] == [224, 0, 0, 0, 20_490]
    assert [r.input_shape for r in rows][0] == (32, 32, 3)
    assert rows[1].name == "ReLU()" and rows[4].name == "Linear(2048, 10)"
    assert [r.index for r in rows] == [0, 1, 2, 3, 4]


def test_summary_forwards_in_the_models_dtype():
    seen = []

    class Spy(Layer):
        def forward(self, x):
            seen.append(x.dtype)
            return x

        def backward(self, dout):
            return dout

    for dtype in (np.float32, np.float64):
        seen.clear()
        summary(Sequential(Conv2D(1, 1, 1, dtype=dtype), Spy()), (4, 4, 1))
        assert seen == [np.dtype(dtype)]


def test_summary_handles_an_unknown_layer_by_running_it():
    class Doubler(Layer):  # no params, no repr of its own: summary knows nothing about it
        def forward(self, x):
            return np.concatenate([x, x], axis=-1)

        def backward(self, dout):
            return dout

    rows = summary(Sequential(Doubler(), Conv2D(2, 4, 3, seed=0)), (5, 5, 1))
    assert rows[0].output_shape == (5, 5, 2) and rows[0].params == 0
    assert rows[1].output_shape == (3, 3, 4) and rows[1].params == 3 * 3 * 2 * 4 + 4


def test_summary_of_a_single_layer():
    layer = Conv2D(3, 2, 3, stride=2, padding=1, seed=0)  # the source article's worked example
    assert summary(layer, (5, 5, 3)) == [LayerRow(0, repr(layer), (5, 5, 3), (3, 3, 2), 56)]


def test_summary_restores_training_mode_of_model_and_layers():
    class ModeLayer(Layer):
        def forward(self, x):
            self.seen = self.training
            return x

        def backward(self, dout):
            return dout

    layer = ModeLayer()
    model = Sequential(layer)
    summary(model, (2, 2, 1))
    assert layer.seen is False, "the pass should run in evaluation mode"
    assert layer.training is True and model.training is True


@pytest.mark.parametrize("bad", [(), (32, 0, 3), (32.0, 32, 3), (-1,), "abc"])
def test_summary_rejects_a_bad_input_shape(bad):
    with pytest.raises(ValueError, match="input_shape"):
        summary(small_cnn(), bad)


def test_summary_names_the_layer_that_rejects_the_shape():
    with pytest.raises(ValueError, match=r"layer 0 \(Conv2D.*\(32, 32, 1\)"):
        summary(small_cnn(), (32, 32, 1))


def test_format_summary_lists_every_layer_and_the_total():
    text = format_summary(summary(small_cnn(), (32, 32, 3)))
    assert "Conv2D(3, 8, kernel_size=3" in text and "Linear(2048, 10)" in text
    assert "32 × 32 × 8" in text and "20,490" in text
    assert text.splitlines()[-1] == "total parameters: 20,714"


def test_summary_table_renders_html_with_the_total():
    table = summary_table(small_cnn(), (32, 32, 3))
    page = table._repr_html_()
    assert page.startswith("<table") and page.endswith("</table>")
    assert page.count("<tr>") == 1 + 1 + 5 + 1  # head, input, 5 layers, total
    assert "<strong>20,714</strong>" in page
    assert table.total == 20_714
    assert str(table) == format_summary(table.rows)


def test_summary_table_escapes_html_in_layer_names():
    class Odd(Layer):
        def forward(self, x):
            return x

        def __repr__(self):
            return "<script>"

    assert "&lt;script&gt;" in summary_table(Odd(), (1,))._repr_html_()


def test_dense_equivalent_params_counts_every_input_output_pair_plus_biases():
    # 32×32×3 in, 32×32×8 out: 3072·8192 weights + 8192 biases.
    assert dense_equivalent_params((32, 32, 3), (32, 32, 8)) == 3072 * 8192 + 8192
    assert dense_equivalent_params((250,), (10,)) == count_params(Linear(250, 10))
