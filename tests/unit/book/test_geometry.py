"""cnnlib.book.geometry (where a filter lands) and cnnlib.book.receptive_field (what a unit sees)."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlib import AvgPool2D, Conv2D, MaxPool2D, ReLU, Sequential, conv_output_size
from cnnlib.book.geometry import (
    EXPLORER_RANGES,
    ConvGeometry,
    conv_formula,
    conv_geometry,
    describe_conv,
    explorer_settings,
)
from cnnlib.book.receptive_field import (
    input_gradient_support,
    layer_geometry,
    receptive_field,
    receptive_field_steps,
    receptive_field_window,
    support_box,
)

# Settings conv_output_size refuses, one per rule.
INVALID = [
    (6, 3, 2, 0),  # (W - F + 2P) = 3 not divisible by S = 2
    (9, 3, 4, 0),  # the message quoted in DESIGN.md: (W - F + 2P) = 6, S = 4
    (8, 3, 4, 1),  # S > F, but more real pixels left over than the stride skips
    (2, 5, 1, 1),  # F > W + 2P
    (0, 1, 1, 0),  # W not positive
    (5, 0, 1, 0),  # F not positive
    (5, 3, 0, 0),  # S not positive
    (5, 3, 1, -1),  # P negative
    (5.5, 3, 1, 0),  # W not an integer
    ("5", 3, 1, 0),
]


def valid_settings():
    """(w, f, s, p) that fit: pick f, p, s and a whole number of steps, derive w."""
    return st.tuples(st.integers(1, 9), st.integers(1, 5), st.integers(0, 4),
                     st.integers(0, 12)).map(
        lambda t: (t[0] + t[1] * t[3] - 2 * t[2] if t[0] + t[1] * t[3] - 2 * t[2] >= 1
                   else None, t[0], t[1], t[2])
    ).filter(lambda t: t[0] is not None)


# --------------------------------------------------------------------------- conv_geometry


def test_conv_geometry_of_the_source_article_example_has_depth_k():
    g = conv_geometry(5, 3, 2, 1, k=2)
    assert (g.padded_size, g.output_size, g.starts) == (7, 3, (0, 2, 4))
    assert g.output_shape == (3, 3, 2)  # depth K = 2, not the input depth 3
    assert g.n_positions == 9


def test_conv_formula_is_filled_in_with_the_numbers():
    assert conv_geometry(7, 3, 2, 1).formula == "W\u2082 = (7 \u2212 3 + 2\u00b71)/2 + 1 = 4"


def test_conv_formula_shows_a_fraction_when_the_stride_does_not_divide():
    assert conv_formula(6, 3, 2, 0) == "W\u2082 = (6 \u2212 3 + 2\u00b70)/2 + 1 = 3/2 + 1, not a whole number"


def test_conv_formula_shows_the_negative_span_of_a_too_large_filter():
    assert "= \u22121/1 + 1" in conv_formula(2, 5, 1, 1)


@pytest.mark.parametrize("args", INVALID)
def test_conv_geometry_raises_the_same_error_as_conv_output_size(args):
    with pytest.raises(ValueError) as expected:
        conv_output_size(*args)
    with pytest.raises(ValueError) as got:
        conv_geometry(*args)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_conv_geometry_rejects_a_bad_number_of_filters(k):
    with pytest.raises(ValueError, match="number of filters K"):
        conv_geometry(5, 3, 1, 0, k)


@given(valid_settings())
def test_conv_geometry_agrees_with_conv_output_size(settings):
    w, f, s, p = settings
    g = conv_geometry(w, f, s, p)
    assert g.output_size == conv_output_size(w, f, s, p) == len(g.starts)


@given(valid_settings())
def test_last_filter_position_ends_exactly_at_the_padded_edge(settings):
    g = conv_geometry(*settings)
    assert g.starts[0] == 0
    assert g.starts[-1] + g.f == g.padded_size, g


@given(valid_settings())
def test_filter_positions_are_one_stride_apart(settings):
    g = conv_geometry(*settings)
    assert all(b - a == g.s for a, b in zip(g.starts, g.starts[1:], strict=False))


def test_window_walks_the_positions_row_by_row():
    g = conv_geometry(7, 3, 2, 1)  # starts 0, 2, 4, 6; 4x4 positions
    assert g.window(0) == (0, 0)
    assert g.window(3) == (0, 6)
    assert g.window(4) == (2, 0)
    assert g.window(15) == (6, 6)


@pytest.mark.parametrize("step", [-1, 16, 2.0, True])
def test_window_rejects_a_step_outside_the_positions(step):
    with pytest.raises(ValueError, match=r"step = .* must be an integer from 0 to 15"):
        conv_geometry(7, 3, 2, 1).window(step)


def test_is_padding_marks_only_the_border_cells():
    g = conv_geometry(3, 3, 1, 2)
    assert [g.is_padding(i) for i in range(g.padded_size)] == [True, True, False, False, False,
                                                               True, True]


def test_coverage_counts_overlapping_windows():
    assert conv_geometry(5, 3, 1, 0).coverage() == (1, 2, 3, 2, 1)


def test_coverage_shows_cells_a_large_stride_skips():
    assert conv_geometry(8, 2, 3, 0).coverage() == (1, 1, 0, 1, 1, 0, 1, 1)


@given(valid_settings())
def test_coverage_adds_up_to_f_cells_per_position(settings):
    g = conv_geometry(*settings)
    assert sum(g.coverage()) == g.f * g.output_size


# --------------------------------------------------------------------------- describe_conv


def test_describe_conv_of_valid_settings_is_json_and_has_the_positions():
    d = describe_conv(5, 3, 2, 1, 2)
    assert json.loads(json.dumps(d)) == d
    assert d["ok"] is True and d["error"] is None
    assert d["output_size"] == 3 and d["output_shape"] == [3, 3, 2]
    assert d["starts"] == [0, 2, 4]
    assert d["formula"].endswith("= 3")


@pytest.mark.parametrize("args", INVALID)
def test_describe_conv_of_invalid_settings_carries_the_library_message(args):
    with pytest.raises(ValueError) as expected:
        conv_output_size(*args)
    d = describe_conv(*args)
    assert json.loads(json.dumps(d)) == d
    assert d["ok"] is False
    assert d["error"] == str(expected.value)
    assert "output_size" not in d


def test_describe_conv_reports_where_a_flooring_framework_would_stop():
    d = describe_conv(6, 3, 2, 0)  # span 3: windows at 0 and 2 fit, one column is left over
    assert d["fitting_starts"] == [0, 2]
    assert d["leftover"] == 1
    assert d["formula"].endswith("3/2 + 1, not a whole number")


def test_describe_conv_of_a_too_large_filter_has_no_fitting_position():
    d = describe_conv(2, 5, 1, 1)
    assert d["fitting_starts"] == [] and d["leftover"] is None
    assert d["padded_size"] == 4


def test_describe_conv_of_non_numbers_is_still_json():
    d = describe_conv(None, [3], 1, 0)
    json.dumps(d)
    assert d["ok"] is False and d["formula"] is None
    assert d["f"] == "[3]"


def test_explorer_settings_cover_every_slider_setting_and_agree_with_the_rule():
    table = {f"{w},{f},{s},{p}": describe_conv(w, f, s, p, 1)
             for w, f, s, p in explorer_settings()}
    (w0, w1), (f0, f1), (s0, s1), (p0, p1) = (EXPLORER_RANGES[n] for n in "wfsp")
    assert len(table) == (w1 - w0 + 1) * (f1 - f0 + 1) * (s1 - s0 + 1) * (p1 - p0 + 1) == 1792
    for key, entry in table.items():
        w, f, s, p = map(int, key.split(","))
        try:
            expected = conv_output_size(w, f, s, p)
        except ValueError:
            expected = None
        assert entry.get("output_size") == expected, key
    json.dumps(table)


def test_conv_geometry_is_frozen():
    g = conv_geometry(5, 3, 1, 0)
    assert isinstance(g, ConvGeometry)
    with pytest.raises(AttributeError):
        g.w = 6


# --------------------------------------------------------------------------- receptive field

CONV3_CONV3_POOL2_TWICE = [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)]


def test_receptive_field_of_conv3_conv3_pool2_twice():
    assert receptive_field(CONV3_CONV3_POOL2_TWICE) == [3, 5, 6, 10, 14, 16]


def test_receptive_field_jump_is_the_product_of_strides():
    steps = receptive_field_steps(CONV3_CONV3_POOL2_TWICE)
    assert [s["jump"] for s in steps] == [1, 1, 2, 2, 2, 4]


def test_receptive_field_of_no_layers_is_empty_and_a_unit_sees_itself():
    assert receptive_field([]) == []
    assert receptive_field_window([], 4) == (4, 5)


def test_receptive_field_window_with_padding_starts_in_the_padding():
    # Two "same" 3x3 convs: unit 0 sees input columns -2 ... 2.
    assert receptive_field_window([(3, 1, 1), (3, 1, 1)], 0) == (-2, 3)


@pytest.mark.parametrize("layer", [(0, 1), (3, 0), (3, 1, -1), (3,), (3, 1, 0, 0), (2.0, 1)])
def test_receptive_field_rejects_bad_layers(layer):
    with pytest.raises(ValueError, match="layer 0"):
        receptive_field([layer])


def _ones_model(pool):
    """conv3-conv3-pool2-conv3-conv3-pool2 with all-positive weights: no gradient cancels."""
    layers = [Conv2D(1, 1, 3, dtype=np.float64), Conv2D(1, 1, 3, dtype=np.float64), pool(2, 2),
              Conv2D(1, 1, 3, dtype=np.float64), Conv2D(1, 1, 3, dtype=np.float64), pool(2, 2)]
    for layer in layers:
        if layer.params:
            layer.params["weight"][...] = 1.0
    return Sequential(*layers)


@pytest.mark.parametrize("unit", [(0, 0), (2, 3), (4, 4)])
def test_gradient_support_with_average_pooling_is_exactly_the_receptive_field(unit):
    model = _ones_model(AvgPool2D)
    mask = input_gradient_support(model, (32, 32, 1), (*unit, 0))
    rows = receptive_field_window(layer_geometry(model), unit[0])
    cols = receptive_field_window(layer_geometry(model), unit[1])
    expected = np.zeros((32, 32), bool)
    expected[rows[0]:rows[1], cols[0]:cols[1]] = True
    np.testing.assert_array_equal(mask, expected)


def test_gradient_support_with_max_pooling_stays_inside_the_receptive_field():
    model = _ones_model(MaxPool2D)
    mask = input_gradient_support(model, (32, 32, 1), (2, 2, 0), seed=3)
    top, bottom, left, right = support_box(mask)
    assert 8 <= top and bottom <= 24 and 8 <= left and right <= 24
    assert mask.sum() < 16 * 16  # max pooling passes gradient to the winners only


def test_gradient_support_with_padding_is_clipped_to_the_image():
    model = Sequential(Conv2D(1, 1, 3, padding=1, dtype=np.float64), ReLU(),
                       Conv2D(1, 1, 3, padding=1, dtype=np.float64))
    for layer in (model[0], model[2]):
        layer.params["weight"][...] = 1.0
    mask = input_gradient_support(model, (8, 8, 1), (0, 0, 0), x=np.ones((1, 8, 8, 1)))
    assert support_box(mask) == (0, 3, 0, 3)  # window -2 ... 2, of which 0 ... 2 is real
    assert receptive_field_window(layer_geometry(model), 0) == (-2, 3)


def test_layer_geometry_skips_elementwise_layers():
    model = Sequential(Conv2D(3, 4, 5, stride=1, padding=2), ReLU(), MaxPool2D(3, 2))
    assert layer_geometry(model) == [(5, 1, 2), (3, 2, 0)]


def test_input_gradient_support_rejects_a_unit_outside_the_output():
    with pytest.raises(ValueError, match=r"unit = \(5, 0, 0\) is outside the output"):
        input_gradient_support(MaxPool2D(2, 2), (8, 8, 1), (5, 0, 0))


def test_support_box_of_an_empty_mask_raises():
    with pytest.raises(ValueError, match="no True cell"):
        support_box(np.zeros((3, 3), bool))


@pytest.mark.parametrize(("args", "leftover", "real"), [
    ((32, 3, 2, 1), 1, 0),  # only padding left over: the ResNet downsampling layer
    ((8, 1, 2, 0), 1, 1),  # a real column left over, in the gap the stride skips anyway
    ((7, 3, 2, 1), 0, 0),  # exact
])
def test_conv_geometry_reports_what_a_floored_size_leaves_over(args, leftover, real):
    g = conv_geometry(*args)
    assert (g.leftover, g.leftover_real) == (leftover, real)
    d = describe_conv(*args)
    assert d["ok"] and (d["leftover"], d["leftover_real"]) == (leftover, real)
    assert g.starts[-1] + g.f + g.leftover == g.padded_size


def test_floored_formula_shows_the_floor():
    assert conv_formula(32, 3, 2, 1) == "W₂ = ⌊(32 − 3 + 2·1)/2⌋ + 1 = ⌊31/2⌋ + 1 = 16"
    assert conv_formula(10, 3, 2, 0) == "W₂ = (10 − 3 + 2·0)/2 + 1 = 7/2 + 1, not a whole number"


# ------------------------------------------------------------------ dilation (issue 26 §5)


@pytest.mark.parametrize("w, f, s, p, d, formula", [
    (7, 3, 2, 1, 2, "W₂ = (7 + 2·1 − 2·(3 − 1) − 1)/2 + 1 = 3"),
    (9, 3, 2, 1, 2, "W₂ = (9 + 2·1 − 2·(3 − 1) − 1)/2 + 1 = 4"),
    (8, 3, 2, 1, 2, "W₂ = ⌊(8 + 2·1 − 2·(3 − 1) − 1)/2⌋ + 1 = ⌊5/2⌋ + 1 = 3"),
    (8, 3, 2, 0, 2, "W₂ = (8 + 2·0 − 2·(3 − 1) − 1)/2 + 1 = 3/2 + 1, not a whole number"),
    (4, 3, 1, 0, 3, "W₂ = (4 + 2·0 − 3·(3 − 1) − 1)/1 + 1 = −3/1 + 1: "
     "the filter is wider than the padded input"),
])
def test_conv_formula_writes_the_dilated_form_with_the_numbers(w, f, s, p, d, formula):
    assert conv_formula(w, f, s, p, d) == formula
    assert describe_conv(w, f, s, p, dilation=d)["formula"] == formula


def test_conv_formula_at_dilation_1_is_the_dense_formula():
    for w, f, s, p in explorer_settings():
        assert conv_formula(w, f, s, p, 1) == conv_formula(w, f, s, p)


def test_dilated_geometry_spans_d_f_minus_1_plus_1_and_reads_only_its_taps():
    g = conv_geometry(7, 3, 2, 1, dilation=2)  # padded 9, span 5: starts 0, 2, 4
    assert (g.dilation, g.span, g.output_size, g.starts) == (2, 5, 3, (0, 2, 4))
    assert g.taps(2) == (2, 4, 6)
    # Odd padded indices fall between taps at every position: never read.
    assert g.coverage() == (1, 0, 2, 0, 3, 0, 2, 0, 1)
    assert g.leftover == 0 and g.to_dict()["span"] == 5
    floored = conv_geometry(8, 3, 2, 1, dilation=2)  # 5/2: the last padded cell is spare
    assert (floored.output_size, floored.leftover, floored.leftover_real) == (3, 1, 0)


def test_dilation_1_geometry_is_the_dense_geometry():
    for w, f, s, p in [(7, 3, 2, 1), (8, 3, 2, 1), (9, 2, 3, 0)]:
        dense, explicit = conv_geometry(w, f, s, p), conv_geometry(w, f, s, p, dilation=1)
        assert dense == explicit and dense.span == f
        assert dense.taps(dense.starts[-1]) == tuple(range(dense.starts[-1], dense.starts[-1] + f))


@pytest.mark.parametrize("w, f, s, p, d", [(8, 3, 2, 0, 2), (4, 3, 1, 0, 3), (6, 2, 4, 0, 3)])
def test_describe_conv_refuses_dilated_settings_with_the_library_message(w, f, s, p, d):
    with pytest.raises(ValueError) as err:
        conv_output_size(w, f, s, p, dilation=d)
    info = describe_conv(w, f, s, p, dilation=d)
    assert not info["ok"] and info["error"] == str(err.value)
    assert info["span"] == d * (f - 1) + 1 and info["dilation"] == d
    span = w + 2 * p - d * (f - 1) - 1
    assert info["fitting_starts"] == ([i * s for i in range(span // s + 1)] if span >= 0 else [])
    json.dumps(info)


def test_describe_conv_with_a_bad_dilation_names_it_and_never_raises():
    info = describe_conv(7, 3, 1, 0, dilation=0)
    assert not info["ok"] and "dilation d" in info["error"] and info["formula"] is None


@pytest.mark.parametrize("d", [2, 3])
def test_every_dilated_slider_setting_agrees_with_conv_output_size(d):
    for w, f, s, p in explorer_settings():
        try:
            expected = conv_output_size(w, f, s, p, dilation=d)
        except ValueError as err:
            info = describe_conv(w, f, s, p, dilation=d)
            assert not info["ok"] and info["error"] == str(err), (w, f, s, p, d)
            continue
        info = describe_conv(w, f, s, p, dilation=d)
        assert info["ok"] and info["output_size"] == expected, (w, f, s, p, d)
        assert info["formula"].endswith(f"= {expected}"), info["formula"]
