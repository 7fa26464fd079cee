"""The animations show cnnlib's own numbers, frame by frame, and their HTML is
self-contained (no outside URL) and light; bad input raises a ValueError naming it."""

import os
import re

import numpy as np
import pytest

from cnnlib import Conv2D, MaxPool2D
from cnnlib.book import animations, kernels
from cnnlib.core.functional import conv2d

RNG = np.random.default_rng(0)
PATCH = RNG.integers(0, 256, (7, 7)).astype(np.float64)
X_INTS = RNG.integers(0, 3, (5, 5, 3))
W_INTS = RNG.integers(-1, 2, (2, 3, 3, 3))
B_INTS = np.array([1, 0])


def test_sliding_filter_frames_hold_conv2d_values_in_reading_order():
    k = kernels.laplacian(dtype=np.float64)
    anim = animations.sliding_filter_animation(PATCH, k)
    expected = conv2d(PATCH[None, :, :, None], k[None, :, :, None])[0, :, :, 0]
    assert len(anim) == 25
    assert [(d["row"], d["col"]) for d in anim.data] == [divmod(i, 5) for i in range(25)]
    np.testing.assert_allclose([d["value"] for d in anim.data], expected.ravel())
    # The caption writes out the nine products and the result.
    first = anim.frames[0][1]
    assert first.startswith("y[0, 0] = ") and first.count("·") == 9
    # Frame i shows i + 1 output numbers in the output grid.
    last_svg = anim.frames[-1][0]
    assert last_svg.count("<text") == 25


def test_sliding_filter_with_photo_embeds_a_small_png():
    img = RNG.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    anim = animations.sliding_filter_animation(PATCH, np.ones((3, 3)), image=img,
                                               patch_origin=(3, 4))
    assert "data:image/png;base64," in anim.base
    assert len(anim.base) < 30_000  # a 32×32 PNG of noise is ~4 kB as base64


def test_worked_example_sums_per_channel_plus_bias_give_the_output():
    anim = animations.worked_example_animation(X_INTS, W_INTS, B_INTS, stride=2, padding=1)
    y = conv2d(X_INTS[None].astype(float), W_INTS.astype(float), B_INTS.astype(float),
               stride=2, padding=1)[0]
    assert y.shape == (3, 3, 2) and len(anim) == 18
    xp = np.pad(X_INTS, ((1, 1), (1, 1), (0, 0)))
    for d in anim.data:
        r, c, k = d["row"], d["col"], d["k"]
        window = xp[2 * r:2 * r + 3, 2 * c:2 * c + 3]
        assert d["channel_sums"] == [float(np.sum(window[..., ch] * W_INTS[k, ..., ch]))
                                     for ch in range(3)]
        assert d["value"] == y[r, c, k] == sum(d["channel_sums"]) + d["bias"]
    # Filter 0 fills map 0 first, then filter 1 fills map 1.
    assert [d["k"] for d in anim.data] == [0] * 9 + [1] * 9
    assert "bias" in anim.frames[0][1]


@pytest.mark.parametrize("args, match", [
    ((np.zeros((5, 5)), W_INTS, B_INTS), r"must be \(H, W, C\)"),
    ((np.zeros((5, 5, 4)), np.zeros((2, 3, 3, 4)), B_INTS), "C = 4"),
    ((X_INTS, np.zeros((3, 3, 3, 3)), np.zeros(3)), "K = 3"),
])
def test_worked_example_refuses_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        animations.worked_example_animation(*args)


@pytest.mark.parametrize("f, s, size", [(2, 2, 4), (3, 2, 5)])
def test_max_pool_frames_hold_the_layers_maxima(f, s, size):
    x = RNG.permutation(size * size).reshape(size, size).astype(float)
    anim = animations.max_pool_animation(x, f, s)
    y = MaxPool2D(f, s).forward(x[None, :, :, None])[0, :, :, 0]
    assert [d["value"] for d in anim.data] == list(y.ravel())
    for d in anim.data:
        assert x[d["argmax"]] == d["value"]  # the circled cell holds the maximum
    assert ("overlapping" in anim.title) == (f > s)


def test_max_pool_refuses_a_window_that_does_not_fit():
    with pytest.raises(ValueError, match="not divisible"):
        animations.max_pool_animation(np.zeros((4, 4)), 3, 2)
    with pytest.raises(ValueError, match=r"x must be a 2-D array"):
        animations.max_pool_animation(np.zeros((4, 4, 2)))


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (1, 1)])
def test_backprop_shares_add_up_to_the_layers_backward_pass(stride, padding):
    x = RNG.integers(0, 5, (5, 5))
    w = RNG.integers(-1, 2, (3, 3))
    layer = Conv2D(1, 1, 3, stride=stride, padding=padding, dtype=np.float64)
    layer.params["weight"][...] = w[None, :, :, None]
    h2 = layer.forward(x[None, :, :, None].astype(float)).shape[1]
    dout = RNG.integers(-2, 3, (h2, h2))
    anim = animations.conv_backprop_animation(x, w, dout, stride=stride, padding=padding)
    full = layer.backward(dout[None, :, :, None].astype(float))[0, :, :, 0]
    np.testing.assert_allclose(anim.data[-1]["total"], full)
    # Each share is the output gradient times the filter, on that output's window.
    d = anim.data[0]
    assert np.count_nonzero(d["share"]) <= 9
    with pytest.raises(ValueError, match=r"dout must have the output's shape"):
        animations.conv_backprop_animation(x, w, np.zeros((h2 + 1, h2)), stride=stride,
                                           padding=padding)


def test_html_is_self_contained_and_light():
    anims = [animations.sliding_filter_animation(PATCH, np.ones((3, 3))),
             animations.worked_example_animation(X_INTS, W_INTS, B_INTS)]
    page = animations.animations_page(anims)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert page.count('class="cnnp"') == 2
    assert page.count("cnnlibPlayer(document.getElementById") == 2
    assert len(page.encode()) < 400_000
    fragment = anims[0].html(element_id="slide")
    assert 'id="slide"' in fragment and 'data-cnnp-frames="25"' in fragment
    assert "</script>" not in fragment.split('data-cnnp="frames">')[1].split("</script>")[0]
    with pytest.raises(ValueError, match="element_id"):
        anims[0].html(element_id="1 bad")
    with pytest.raises(ValueError, match="no frames"):
        animations.Animation("empty", 10, 10, "", []).html()


def test_sliding_filter_refuses_bad_shapes():
    with pytest.raises(ValueError, match=r"patch must be a 2-D array"):
        animations.sliding_filter_animation(np.zeros((12, 12)), np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"kernel must be a square"):
        animations.sliding_filter_animation(PATCH, np.ones((3, 2)))


@pytest.mark.skipif(not os.environ.get("CNNLIB_DATA"), reason="needs CNNLIB_DATA (CIFAR-10)")
def test_command_line_writes_the_books_animations(tmp_path, capsys):
    out = tmp_path / "anims.html"
    assert animations.main([str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count('class="cnnp"') == 5
    assert out.stat().st_size < 600_000
    assert "wrote" in capsys.readouterr().out


def test_worked_example_sums_carry_their_products_as_tooltips():
    anim = animations.worked_example_animation(X_INTS, W_INTS, B_INTS)
    svg = anim.frames[0][0]
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    assert len(titles) == 3  # one per channel
    for title, s in zip(titles, anim.data[0]["channel_sums"], strict=True):
        assert title.count("·") == 9
        assert title.endswith(f"= {s:.0f}".replace("-", "\u2212"))
