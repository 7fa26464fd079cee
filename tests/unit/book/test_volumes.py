"""The 3-D volume pictures and the network drawing follow the model they are given, and
refuse bad input with a ValueError that names the value."""

import io

import matplotlib

matplotlib.use("Agg")  # headless: no display needed, set before anything draws

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnlib import (  # noqa: E402
    AvgPool2D,
    Conv2D,
    Flatten,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
)
from cnnlib.book import volumes  # noqa: E402
from cnnlib.nn.models import reference_network  # noqa: E402


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def renders(fig: Figure) -> bool:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    return buf.tell() > 0


def small(filters: int = 8, pool: int = 2) -> Sequential:
    return Sequential(Conv2D(3, filters, 3, padding=1, seed=0), ReLU(), MaxPool2D(pool, pool),
                      Flatten(), Linear((32 // pool) ** 2 * filters, 10, seed=1))


# --------------------------------------------------------------------------- draw_network


def test_network_shapes_follow_the_forward_pass():
    assert volumes.network_shapes(small(), (32, 32, 3)) == [
        (32, 32, 3), (32, 32, 8), (16, 16, 8), (2048,), (10,)]


def test_network_drawing_changes_when_a_layer_changes():
    before = texts(volumes.draw_network(small(8), (32, 32, 3)))
    after = texts(volumes.draw_network(small(16), (32, 32, 3)))
    assert any("32×32×8" in t for t in before) and not any("32×32×16" in t for t in before)
    assert any("32×32×16" in t for t in after) and not any("32×32×8\n" in t for t in after)
    pooled4 = texts(volumes.draw_network(small(8, pool=4), (32, 32, 3)))
    assert any("8×8×8" in t and "max pool 4×4" in t for t in pooled4)


def test_network_drawing_of_the_reference_network():
    model = reference_network(seed=0)
    fig = volumes.draw_network(model, (32, 32, 3))
    boxes = volumes.network_boxes(model, (32, 32, 3))
    assert [b["label"] for b in boxes].count("conv 3×3") == 6
    assert [b["shape"] for b in boxes][-4:] == [(4, 4, 128), (2048,), (256,), (10,)]
    # Shape-keeping layers are noted under the box they follow, not drawn.
    assert boxes[1]["extras"] == ["BatchNorm2D", "ReLU"]
    assert sum(len(ax.patches) for ax in fig.axes) == 3 * len(boxes)  # 3 faces per box
    assert "32×32×3 -> 10" in fig.axes[0].get_title()
    assert fig.axes[0].get_xlabel()
    assert renders(fig)


def test_network_drawing_names_strides_and_avg_pooling():
    model = Sequential(Conv2D(3, 4, 3, stride=2, seed=0), AvgPool2D(2, 2))
    labels = [b["label"] for b in volumes.network_boxes(model, (9, 9, 3))]
    assert labels == ["input", "conv 3×3, S=2", "avg pool 2×2"]


@pytest.mark.parametrize("model, shape, match", [
    (Conv2D(3, 4, 3), (8, 8, 3), "must be a cnnlib Sequential"),
    (small(), (32, 32), "rejects input shape"),
    (small(), (32, -1, 3), r"input_shape = \(32, -1, 3\)"),
    (Sequential(), (8, 8, 3), "no layers"),
])
def test_network_drawing_refuses_bad_input(model, shape, match):
    with pytest.raises(ValueError, match=match):
        volumes.draw_network(model, shape)


# --------------------------------------------------------------------------- volumes


def test_show_volume_counts_cubes_and_legends():
    fig = volumes.show_volume((3, 3, 4), depth_slice=1, depth_column=(1, 2))
    ax = fig.axes[0]
    assert len(ax.patches) == 3 * 3 * 3 * 4  # three faces per cube
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["depth slice 1: 3×3 neurons", "depth column at (row 1, col 2): 4 neurons"]
    assert "3×3×4" in ax.get_title()
    assert renders(fig)


@pytest.mark.parametrize("kwargs, match", [
    ({"shape": (3, 3)}, r"shape = \(3, 3\) must be three positive integers"),
    ({"shape": (3, 0, 2)}, "must be three positive integers"),
    ({"shape": (3, 40, 2)}, "longer than 16"),
    ({"shape": (3, 3, 4), "depth_slice": 4}, "depth_slice = 4 must be in 0..3"),
    ({"shape": (3, 3, 4), "depth_column": (3, 0)}, r"depth_column = \(3, 0\)"),
])
def test_show_volume_refuses_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        volumes.show_volume(**kwargs)


def test_receptive_field_follows_the_layer():
    fig = volumes.show_receptive_field(Conv2D(3, 2, 3, stride=2, padding=1), (5, 5, 3), (1, 1))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "output 3×3×2" in legend
    assert "receptive field 3×3×3 = 27 inputs" in legend
    assert "zero padding P = 1" in legend
    wide = volumes.show_receptive_field(Conv2D(2, 3, 2), (4, 4, 2), (2, 2))
    assert "output 3×3×3" in [t.get_text() for t in wide.axes[0].get_legend().get_texts()]


@pytest.mark.parametrize("layer, shape, neuron, match", [
    (MaxPool2D(), (4, 4, 3), (0, 0), "must be a cnnlib Conv2D"),
    (Conv2D(3, 2, 3), (5, 5, 3), (3, 0), r"neuron = \(3, 0\) must be .* 3×3 output"),
    (Conv2D(3, 2, 3), (5, 5, 2), (0, 0), "rejects input shape"),
    (Conv2D(3, 2, 3), (30, 30, 3), (0, 0), "too large"),
])
def test_receptive_field_refuses_bad_input(layer, shape, neuron, match):
    with pytest.raises(ValueError, match=match):
        volumes.show_receptive_field(layer, shape, neuron)


def test_filter_bank_draws_one_box_per_filter_and_one_slice_per_map():
    fig = volumes.show_filter_bank(Conv2D(3, 4, 3, padding=1), (32, 32, 3))
    words = texts(fig)
    assert [w for w in words if w.startswith("filter ")] == [f"filter {j}" for j in range(4)]
    assert "output 32×32×4\n(4 feature maps)" in words
    assert "K = 4 filters\neach 3×3×3" in words
    assert len(fig.axes[0].patches) == 3 * (1 + 4 + 4)
    with pytest.raises(ValueError, match="K = 9 filters"):
        volumes.show_filter_bank(Conv2D(3, 9, 3), (8, 8, 3))


def test_pooling_volume_keeps_depth():
    words = texts(volumes.show_pooling_volume((224, 224, 64), 2, 2))
    assert "D₂ = 64" in words and "W₂ = 112" in words and "H₂ = 112" in words
    words = texts(volumes.show_pooling_volume((55, 55, 96), 3, 2))
    assert "W₂ = 27" in words and "D₂ = 96" in words
    with pytest.raises(ValueError, match="not divisible"):
        volumes.show_pooling_volume((32, 32, 3), 3, 2)
    with pytest.raises(ValueError, match="kernel_size"):
        volumes.show_pooling_volume((32, 32, 3), 0, 2)


def test_figures_are_not_registered_with_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    volumes.draw_network(small(), (32, 32, 3))
    volumes.show_volume((2, 2, 2))
    assert plt.get_fignums() == before


@pytest.mark.parametrize("make", [
    lambda: volumes.show_volume((3, 3, 4)),
    lambda: volumes.show_receptive_field(Conv2D(3, 2, 3, stride=2, padding=1), (5, 5, 3)),
    lambda: volumes.show_filter_bank(Conv2D(3, 4, 3), (8, 8, 3)),
    lambda: volumes.show_pooling_volume(),
    lambda: volumes.draw_network(small(), (32, 32, 3)),
], ids=["volume", "receptive_field", "filter_bank", "pooling", "network"])
def test_every_volume_figure_has_a_title_and_a_reading_note(make):
    fig = make()
    (ax,) = fig.axes
    assert ax.get_title() and ax.get_xlabel()  # the note says what the box axes are
    assert renders(fig)
