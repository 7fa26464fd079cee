"""cnnlib.book.conv_explorer: the drawing, the pure callback state, and the ipywidgets explorer,
all driven headlessly (ipywidgets works without a front end)."""

import base64
import html

import ipywidgets as widgets
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cnnlib.book.conv_explorer import (
    ConvExplorer,
    conv_explorer,
    draw_conv_geometry,
    explorer_state,
)
from cnnlib.core.shapes import conv_output_size

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def shown_png(explorer: ConvExplorer) -> bytes:
    (out,) = explorer.output.outputs
    return base64.b64decode(out["data"]["image/png"])


# --------------------------------------------------------------------------- drawing


def test_draw_conv_geometry_titles_the_figure_with_the_formula():
    fig = draw_conv_geometry(7, 3, 2, 1, k=2)
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_title().startswith("W\u2082 = (7 \u2212 3 + 2\u00b71)/2 + 1 = 4")


def test_draw_conv_geometry_notes_the_output_depth_k():
    fig = draw_conv_geometry(5, 3, 2, 1, k=2)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("output 3\u00d73\u00d72" in t and "K = 2" in t for t in texts), texts


def test_draw_conv_geometry_highlights_the_requested_step():
    fig = draw_conv_geometry(7, 3, 2, 1, step=5)
    assert "position 6 of 16" in fig.axes[0].get_title()


def test_draw_conv_geometry_rejects_a_step_past_the_last_position():
    with pytest.raises(ValueError, match="step = 16 must be None or from 0 to 15"):
        draw_conv_geometry(7, 3, 2, 1, step=16)


@pytest.mark.parametrize("args", [(6, 3, 2, 0), (2, 5, 1, 1), (0, 3, 1, 0), ("7", 3, 1, 0)])
def test_draw_conv_geometry_of_invalid_settings_shows_the_reason_instead_of_raising(args):
    fig = draw_conv_geometry(*args)
    ax = fig.axes[0]
    words = " ".join([ax.get_title(), ax.get_xlabel(), *(t.get_text() for t in ax.texts)])
    words = " ".join(words.split())  # undo the line wrapping
    assert "not divisible" in words or "larger than" in words or "must be" in words, words


def test_draw_conv_geometry_draws_into_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert draw_conv_geometry(5, 3, 1, 0, ax=ax) is fig
    assert ax.get_title().startswith("W\u2082")


def test_draw_conv_geometry_labels_its_axes():
    ax = draw_conv_geometry(5, 3, 1, 1).axes[0]
    assert ax.get_xlabel() and ax.get_ylabel()


# --------------------------------------------------------------------------- explorer_state


def test_explorer_state_of_the_source_article_example():
    st = explorer_state(5, 3, 2, 1, 2)
    assert st["ok"] and st["output_shape"] == (3, 3, 2)
    assert st["n_positions"] == 9 and st["step_max"] == 9
    assert "3 \u00d7 3 \u00d7 2" in st["label_html"]
    assert st["draw_step"] is None and st["window"] is None


def test_explorer_state_step_picks_a_window_and_its_output_unit():
    st = explorer_state(7, 3, 2, 1, 1, step=6)  # 0-based position 5: row 1, column 1
    assert st["draw_step"] == 5
    assert st["window"] == [2, 2] and st["output_cell"] == [1, 1]
    assert "position 6 of 16" in st["label_html"]


def test_explorer_state_clamps_a_step_past_the_end():
    st = explorer_state(5, 3, 2, 1, 1, step=99)
    assert st["step"] == 9 and st["draw_step"] == 8


def test_explorer_state_of_invalid_settings_carries_the_reason():
    st = explorer_state(6, 3, 2, 0, 1, step=3)
    assert not st["ok"]
    assert "not divisible by stride S = 2" in st["error"]
    assert st["error"].split(":")[0] in st["label_html"]
    assert st["step_max"] == 0 and st["output_shape"] is None


def test_explorer_state_escapes_html_in_the_label():
    st = explorer_state("<b>", 3, 1, 0)
    assert "<b>" not in st["label_html"].replace("<b>W", "")
    assert "&lt;b&gt;" in st["label_html"]


# --------------------------------------------------------------------------- the widget


def test_conv_explorer_is_a_widget_with_the_five_sliders_and_a_step_slider():
    ex = conv_explorer()
    assert isinstance(ex, widgets.VBox)
    assert {n: (s.min, s.max) for n, s in ex.sliders.items()} == {
        "w": (1, 16), "f": (1, 7), "s": (1, 4), "p": (0, 3), "k": (1, 4)}
    assert isinstance(ex.step, widgets.IntSlider)
    assert ex.label in ex.children and ex.output in ex.children


def test_conv_explorer_starts_with_a_picture_and_the_formula():
    ex = conv_explorer(7, 3, 2, 1, 2)
    assert "= 4" in ex.label.value and "4 \u00d7 4 \u00d7 2" in ex.label.value
    assert shown_png(ex).startswith(PNG_MAGIC)
    assert ex.step.max == 16


def test_moving_a_slider_updates_the_label_and_the_picture():
    ex = conv_explorer(7, 3, 2, 1, 2)
    before, renders = shown_png(ex), ex.renders
    ex.sliders["s"].value = 3  # (7 - 3 + 2)/3 + 1 = 3
    assert "= 3" in ex.label.value and "3 \u00d7 3 \u00d7 2" in ex.label.value
    assert ex.renders == renders + 1  # the observe callback ran, once
    assert shown_png(ex) != before
    assert ex.step.max == 9


def test_changing_k_changes_only_the_depth():
    ex = conv_explorer(7, 3, 2, 1, 2)
    ex.sliders["k"].value = 4
    assert "4 \u00d7 4 \u00d7 4" in ex.label.value
    assert ex.state["output_shape"] == (4, 4, 4)


def test_an_invalid_combination_shows_its_reason_in_label_and_output():
    ex = conv_explorer(7, 3, 2, 1, 2)
    ex.sliders["p"].value = 0  # (7 - 3 + 0) = 4 divisible by 2: still fine
    assert ex.state["ok"]
    ex.sliders["w"].value = 6  # (6 - 3 + 0) = 3, not divisible by 2
    assert not ex.state["ok"]
    assert "not divisible by stride S = 2" in ex.label.value
    (out,) = ex.output.outputs
    assert "not divisible by stride S = 2" in out["data"]["text/plain"]
    assert ex.step.disabled and ex.step.max == 0


def test_a_filter_larger_than_the_padded_input_is_explained():
    ex = conv_explorer(3, 3, 1, 0, 1)
    ex.sliders["f"].value = 5
    assert "larger than the padded input" in ex.label.value


def test_step_slider_highlights_a_position_and_is_clamped_when_the_grid_shrinks():
    ex = conv_explorer(7, 3, 1, 1, 1)  # 7x7 = 49 positions
    ex.step.value = 40
    assert "position 40 of 49" in ex.label.value
    renders = ex.renders
    ex.sliders["s"].value = 2  # 4x4 = 16 positions: step is clamped, one redraw
    assert ex.step.max == 16 and ex.step.value == 16
    assert "position 16 of 16" in ex.label.value
    assert ex.renders == renders + 1


def test_recovering_from_an_invalid_combination_re_enables_the_step_slider():
    ex = conv_explorer(6, 3, 2, 0, 1)
    assert ex.step.disabled
    ex.sliders["w"].value = 7
    assert not ex.step.disabled and ex.step.max == 9
    assert shown_png(ex).startswith(PNG_MAGIC)


def test_explorer_state_says_when_a_floored_size_leaves_only_padding_over():
    st = explorer_state(8, 3, 2, 1, 2)
    assert st["ok"] and st["output_shape"] == (4, 4, 2)
    assert "floored" in st["label_html"] and "no real pixel" in st["label_html"]
    assert "floored" not in explorer_state(7, 3, 2, 1, 2)["label_html"]
    fig = draw_conv_geometry(8, 3, 2, 1, 2)
    assert "left over, only zero padding" in fig.axes[0].get_xlabel()


def test_draw_conv_geometry_position_counts_from_1_like_the_slider():
    by_position = draw_conv_geometry(7, 3, 2, 1, k=2, position=6)
    by_step = draw_conv_geometry(7, 3, 2, 1, k=2, step=5)
    assert by_position.axes[0].get_title() == by_step.axes[0].get_title()
    assert "position 6 of 16" in by_position.axes[0].get_title()
    with pytest.raises(ValueError, match="position = 0 must be an integer >= 1"):
        draw_conv_geometry(7, 3, 2, 1, position=0)
    with pytest.raises(ValueError, match="not both"):
        draw_conv_geometry(7, 3, 2, 1, step=1, position=2)


# ------------------------------------------------------------------ dilation (issue 26 §5)


def test_explorer_state_with_dilation_shows_the_dilated_formula_and_taps():
    st = explorer_state(7, 3, 2, 1, 2, step=5, d=2)
    assert st["ok"] and st["output_shape"] == (3, 3, 2) and st["step_max"] == 9
    assert st["formula"] == "W\u2082 = (7 + 2\u00b71 \u2212 2\u00b7(3 \u2212 1) \u2212 1)/2 + 1 = 3"
    assert "taps are 2 pixels apart" in st["label_html"] and "= 5 pixels" in st["label_html"]
    assert "padded rows 2\u20136 (every 2nd), columns 2\u20136 (every 2nd)" in st["label_html"]
    assert explorer_state(7, 3, 2, 1, 2, step=5, d=1) == explorer_state(7, 3, 2, 1, 2, step=5)


def test_explorer_state_refuses_a_dilated_setting_with_the_library_reason():
    with pytest.raises(ValueError) as err:
        conv_output_size(8, 3, 2, 0, dilation=2)
    st = explorer_state(8, 3, 2, 0, 1, d=2)
    assert not st["ok"] and st["error"] == str(err.value) and st["step_max"] == 0
    assert html.escape(str(err.value)) in st["label_html"]


def test_draw_conv_geometry_marks_the_taps_of_a_dilated_filter():
    def taps(fig):  # the small squares in the highlight color
        return [p for p in fig.axes[0].patches
                if isinstance(p, Rectangle) and p.get_width() == 0.5]

    fig = draw_conv_geometry(7, 3, 2, 1, 2, step=4, dilation=2)  # centre position: (2, 2)
    corners = sorted((p.get_y() - 0.25, p.get_x() - 0.25) for p in taps(fig))
    assert corners == [(r, c) for r in (2, 4, 6) for c in (2, 4, 6)]
    assert "d = 2" in fig.axes[0].get_title()
    assert fig.axes[0].get_title().startswith("W\u2082 = (7 + 2\u00b71 \u2212 2\u00b7(3")
    assert not taps(draw_conv_geometry(7, 3, 2, 1, 2, step=4))  # dense: no tap marks


def test_draw_conv_geometry_explains_a_refused_dilated_setting():
    fig = draw_conv_geometry(8, 3, 2, 0, dilation=2)
    assert "d(F - 1)" in fig.axes[0].get_xlabel().replace("\n", " ")
    hang = [p for p in fig.axes[0].patches if p.get_linestyle() == "--"]
    assert len(hang) == 1 and hang[0].get_width() == 5, "the next step spans d(F - 1) + 1"


def test_widget_has_a_dilation_slider_that_redraws():
    ex = conv_explorer(7, 3, 2, 1, 2)
    assert (ex.dilation.min, ex.dilation.max, ex.dilation.value) == (1, 3, 1)
    assert ex.values()["d"] == 1 and "d" not in ex.sliders
    before, renders = shown_png(ex), ex.renders
    ex.dilation.value = 2
    assert "2\u00b7(3 \u2212 1)" in ex.label.value and ex.step.max == 9
    assert ex.renders == renders + 1 and shown_png(ex) != before
    ex.sliders["p"].value = 0  # (7 + 0 - 4 - 1) = 2, S = 2: still whole
    assert ex.state["ok"] and ex.step.max == 4
    ex.sliders["w"].value = 8  # 3/2 with a real pixel left over: refused
    assert not ex.state["ok"] and ex.step.disabled and "d = 2" in ex.state["error"]
    ex.dilation.value = 1  # back to a dense filter: (8 - 3)/2 refused too, the dense message
    with pytest.raises(ValueError) as err:
        conv_output_size(8, 3, 2, 0)
    assert ex.state["error"] == str(err.value)
