"""The plotting helpers draw what they promise (panels, titles, labels, colour bars),
headlessly, and refuse arrays of the wrong shape with a message that names the shape."""

import io

import matplotlib

matplotlib.use("Agg")  # headless: no display needed, set before anything draws

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnlib.book import kernels, viz  # noqa: E402
from cnnlib.core.functional import conv2d  # noqa: E402

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
NAMES = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def image_axes(fig: Figure) -> list:
    """Axes that show an image (colour bars and empty grid cells excluded)."""
    return [ax for ax in fig.axes if ax.images and ax.axison and ax.get_label() != "<colorbar>"]


def colorbar_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def renders(fig: Figure) -> bool:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.tell() > 0


# --------------------------------------------------------------------------- show_images


def test_show_images_draws_one_panel_per_image():
    fig = viz.show_images(RGB, ncols=3)
    assert isinstance(fig, Figure)
    assert len(image_axes(fig)) == 5
    assert len(fig.axes) == 6  # a 2×3 grid; the sixth cell is switched off
    assert renders(fig)


def test_show_images_names_labels_through_class_names():
    fig = viz.show_images(RGB, labels=[0, 3, 3, 9, 1], class_names=NAMES)
    assert [ax.get_title() for ax in image_axes(fig)] == ["plane", "cat", "cat", "truck", "car"]


def test_show_images_accepts_string_labels():
    fig = viz.show_images(RGB[:2], labels=["cat → dog", "ok"])
    assert [ax.get_title() for ax in image_axes(fig)] == ["cat → dog", "ok"]


def test_show_images_has_a_title_and_axis_labels():
    fig = viz.show_images(RGB, title="Five images")
    assert fig.get_suptitle() == "Five images"
    assert fig.get_supxlabel() == "width: 8 pixels per image"
    assert fig.get_supylabel() == "height: 8 pixels"


def test_show_images_default_title_counts_the_images():
    assert viz.show_images(RGB).get_suptitle() == "5 images"


@pytest.mark.parametrize("images", [
    RNG.integers(0, 256, (3, 8, 8), dtype=np.uint8),      # grayscale (N, H, W)
    RNG.integers(0, 256, (3, 8, 8, 1), dtype=np.uint8),   # grayscale (N, H, W, 1)
    RNG.random((3, 8, 8, 3)),                             # float in [0, 1]
    RNG.standard_normal((3, 8, 8, 3)),                    # standardized floats
], ids=["gray-NHW", "gray-NHW1", "float01", "standardized"])
def test_show_images_accepts_grayscale_and_float_images(images):
    fig = viz.show_images(images)
    assert len(image_axes(fig)) == 3
    assert renders(fig)


def test_grayscale_images_are_drawn_as_one_plane_with_a_gray_colormap():
    fig = viz.show_images(RNG.integers(0, 256, (2, 8, 8), dtype=np.uint8))
    im = image_axes(fig)[0].images[0]
    assert im.get_array().ndim == 2
    assert im.get_cmap().name == "gray"
    assert im.get_clim() == (0.0, 255.0)


def test_standardized_floats_are_stretched_into_0_1():
    shown, lo, hi = viz._display_range(np.array([[[-2.0], [0.0], [6.0]]]))
    np.testing.assert_allclose(shown.ravel(), [0.0, 0.25, 1.0])
    assert (lo, hi) == (0.0, 1.0)


@pytest.mark.parametrize("shape", [(8, 8), (2, 8, 8, 2), (2, 8, 8, 4), (1, 2, 8, 8, 3),
                                   (0, 8, 8, 3)])
def test_show_images_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match=r"images must have shape \(N, H, W\)") as err:
        viz.show_images(np.zeros(shape))
    assert str(shape).replace(" ", "") in str(err.value).replace(" ", "")


def test_show_images_rejects_labels_of_the_wrong_length():
    with pytest.raises(ValueError, match="labels has 2 entries but there are 5 images"):
        viz.show_images(RGB, labels=[1, 2])


def test_show_images_rejects_a_label_without_a_name():
    with pytest.raises(ValueError, match="label 12 has no name"):
        viz.show_images(RGB[:1], labels=[12], class_names=NAMES)


@pytest.mark.parametrize("ncols", [0, -2, 1.5])
def test_show_images_rejects_bad_ncols(ncols):
    with pytest.raises(ValueError, match="ncols"):
        viz.show_images(RGB, ncols=ncols)


# --------------------------------------------------------------------------- show_channels


def test_show_channels_draws_the_image_and_three_planes_with_colour_bars():
    fig = viz.show_channels(RGB[0])
    assert len(image_axes(fig)) == 4
    assert len(colorbar_axes(fig)) == 3
    titles = [ax.get_title() for ax in image_axes(fig)]
    assert titles[0].startswith("RGB image (8×8×3)")
    assert [t.split(":")[1].split()[0] for t in titles[1:]] == ["red", "green", "blue"]
    assert renders(fig)


def test_show_channels_labels_axes_and_units():
    fig = viz.show_channels(RGB[0], title="A frog")
    assert fig.get_suptitle() == "A frog"
    for ax in image_axes(fig):
        assert ax.get_xlabel() == "column (pixel)" and ax.get_ylabel() == "row (pixel)"
    assert all("0–255" in cb.get_ylabel() for cb in colorbar_axes(fig))


def test_show_channels_plane_shows_that_channel():
    fig = viz.show_channels(RGB[0])
    np.testing.assert_array_equal(image_axes(fig)[2].images[0].get_array(), RGB[0, :, :, 1])


def test_show_channels_uses_0_1_units_for_float_images():
    fig = viz.show_channels(RGB[0] / 255.0)
    assert all("0–1" in cb.get_ylabel() for cb in colorbar_axes(fig))


@pytest.mark.parametrize("shape", [(8, 8), (8, 8, 1), (1, 8, 8, 3), (8, 8, 4)])
def test_show_channels_rejects_non_rgb_shapes(shape):
    with pytest.raises(ValueError, match=r"image must have shape \(H, W, 3\)"):
        viz.show_channels(np.zeros(shape))


# --------------------------------------------------------------------------- feature maps

MAPS = RNG.standard_normal((6, 6, 5))


@pytest.mark.parametrize("maps", [MAPS, MAPS[None]], ids=["HWK", "1HWK"])
def test_show_feature_maps_draws_k_panels_with_colour_bars(maps):
    fig = viz.show_feature_maps(maps, ncols=3)
    assert len(image_axes(fig)) == 5
    assert len(colorbar_axes(fig)) == 5
    assert [ax.get_title() for ax in image_axes(fig)] == [f"map {j}" for j in range(5)]
    assert fig.get_suptitle() == "Feature maps"
    assert renders(fig)


def test_show_feature_maps_uses_names_and_title():
    fig = viz.show_feature_maps(MAPS, title="Five filters", names=list("abcde"))
    assert [ax.get_title() for ax in image_axes(fig)] == list("abcde")
    assert fig.get_suptitle() == "Five filters"
    assert fig.get_supxlabel() and fig.get_supylabel()


def test_show_feature_maps_draws_the_input_first():
    fig = viz.show_feature_maps(MAPS, images=RGB[0, :6, :6])
    assert [ax.get_title() for ax in image_axes(fig)][0] == "input"
    assert len(image_axes(fig)) == 6


def test_show_feature_maps_of_a_batch_draws_one_row_per_image():
    maps = RNG.standard_normal((3, 6, 6, 2))
    fig = viz.show_feature_maps(maps, images=RGB[:3, :6, :6])
    axes = image_axes(fig)
    assert len(axes) == 3 * 3
    assert [ax.get_title() for ax in axes[:3]] == ["input 0", "map 0", "map 1"]


def test_signed_maps_get_a_diverging_colormap_centred_on_zero():
    m = np.zeros((4, 4, 1))
    m[0, 0, 0], m[1, 1, 0] = -1.0, 3.0
    im = image_axes(viz.show_feature_maps(m))[0].images[0]
    assert im.get_cmap().name == "RdBu_r"
    assert im.get_clim() == (-3.0, 3.0)


def test_non_negative_maps_are_gray_over_their_range():
    im = image_axes(viz.show_feature_maps(np.arange(16.0).reshape(4, 4, 1)))[0].images[0]
    assert im.get_cmap().name == "gray"
    assert im.get_clim() == (0.0, 15.0)


def test_feature_maps_take_one_colormap_per_map():
    axes = image_axes(viz.show_feature_maps(MAPS[..., :2], cmap=["viridis", None]))
    assert [ax.images[0].get_cmap().name for ax in axes] == ["viridis", "RdBu_r"]


def test_shared_scale_gives_every_map_the_same_colour_limits():
    m = np.stack([np.linspace(-1, 1, 16), np.linspace(-4, 2, 16)], axis=-1).reshape(4, 4, 2)
    axes = image_axes(viz.show_feature_maps(m, share_scale=True))
    assert [ax.images[0].get_clim() for ax in axes] == [(-4.0, 4.0), (-4.0, 4.0)]
    axes = image_axes(viz.show_feature_maps(m))
    assert [ax.images[0].get_clim() for ax in axes] == [(-1.0, 1.0), (-4.0, 4.0)]


def test_a_constant_map_still_draws():
    assert renders(viz.show_feature_maps(np.ones((4, 4, 1))))


def test_colorbar_can_be_switched_off():
    assert not colorbar_axes(viz.show_feature_maps(MAPS, colorbar=False))


@pytest.mark.parametrize("shape", [(6,), (6, 6), (1, 1, 6, 6, 2), (0, 6, 6, 2)])
def test_show_feature_maps_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match=r"maps must have shape \(H, W, K\)"):
        viz.show_feature_maps(np.zeros(shape))


def test_show_feature_maps_rejects_names_of_the_wrong_length():
    with pytest.raises(ValueError, match="names has 2 entries but there are K = 5 maps"):
        viz.show_feature_maps(MAPS, names=["a", "b"])


def test_show_feature_maps_rejects_images_that_do_not_match_the_batch():
    with pytest.raises(ValueError, match="images has 2 entries but maps has N = 1"):
        viz.show_feature_maps(MAPS, images=RGB[:2])


def test_show_feature_maps_rejects_the_wrong_number_of_colormaps():
    with pytest.raises(ValueError, match="cmap"):
        viz.show_feature_maps(MAPS, cmap=["gray", None])


# --------------------------------------------------------------------------- number grids


def test_show_grid_writes_every_value_and_boxes_the_highlight():
    ax = viz.show_grid(np.arange(12).reshape(3, 4), title="grid", highlight=[(0, 1, 2, 2)])
    assert sorted(t.get_text() for t in ax.texts) == sorted(str(v) for v in range(12))
    assert len(ax.patches) == 1
    assert ax.get_title() == "grid"
    assert ax.get_xlabel() == "column" and ax.get_ylabel() == "row"


def test_show_grid_leaves_blank_cells_empty():
    blank = np.zeros((2, 2), dtype=bool)
    blank[1, 1] = True
    ax = viz.show_grid(np.array([[1, 2], [3, 4]]), blank=blank)
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2", "3"]


def test_show_grid_writes_strings_as_they_are():
    ax = viz.show_grid(np.array([["a0", "b0"]]))
    assert [t.get_text() for t in ax.texts] == ["a0", "b0"]


@pytest.mark.parametrize("values", [np.arange(3), np.zeros((2, 2, 2)), np.zeros((0, 3))])
def test_show_grid_rejects_non_2d_values(values):
    with pytest.raises(ValueError, match=r"2-D array \(H, W\)"):
        viz.show_grid(values)


def test_show_grid_rejects_a_mask_of_the_wrong_shape():
    with pytest.raises(ValueError, match="shade must have the shape of values"):
        viz.show_grid(np.zeros((2, 2)), shade=np.zeros((3, 3), dtype=bool))


GRID = np.array([[3, 0, 1, 2, 7], [1, 5, 8, 9, 3], [2, 7, 2, 5, 1], [0, 1, 3, 1, 7],
                 [4, 2, 1, 6, 2]])


def test_show_conv_step_titles_the_output_value_conv2d_computes():
    k = kernels.laplacian(dtype=np.float64)
    fig = viz.show_conv_step(GRID, k, 1, 2)
    expected = conv2d(GRID[None, :, :, None].astype(float), k[None, :, :, None])[0, 1, 2, 0]
    assert fig.get_suptitle().endswith(f"= {expected:g}")
    assert len(fig.axes) == 3
    assert all(ax.get_title() and ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    assert renders(fig)


def test_show_conv_step_fills_outputs_only_up_to_the_current_step():
    fig = viz.show_conv_step(GRID, kernels.laplacian(dtype=np.float64), 1, 0)
    out_ax = fig.axes[2]
    assert len(out_ax.texts) == 3 + 1  # first row of three, then (1, 0)


def test_show_conv_step_shades_the_zero_padding():
    fig = viz.show_conv_step(GRID, kernels.laplacian(), 0, 0, stride=2, padding=1)
    assert "padded P=1" in fig.axes[0].get_title()
    assert len(fig.axes[0].texts) == 7 * 7


@pytest.mark.parametrize("row, col", [(3, 0), (0, -1)])
def test_show_conv_step_rejects_an_output_pixel_outside_the_output(row, col):
    with pytest.raises(ValueError, match=r"outside the 3×3 output"):
        viz.show_conv_step(GRID, kernels.laplacian(), row, col)


def test_show_conv_step_rejects_a_non_square_kernel():
    with pytest.raises(ValueError, match=r"kernel square \(F, F\)"):
        viz.show_conv_step(GRID, np.ones((3, 2)), 0, 0)


def test_show_im2col_lays_windows_out_as_rows():
    fig = viz.show_im2col(h=4, w=4, f=3, k=2)
    ax_x, ax_cols, ax_w = fig.axes
    first_row = [t.get_text() for t in ax_cols.texts[:9]]
    assert first_row == ["0", "1", "2", "4", "5", "6", "8", "9", "10"]
    assert len(ax_w.texts) == 9 * 2
    assert "(4×9) windows @ (9×2) filters = (4×2) outputs" in fig.get_suptitle()
    assert renders(fig)


def test_show_im2col_rejects_a_geometry_that_does_not_fit():
    with pytest.raises(ValueError, match="not divisible by stride"):
        viz.show_im2col(h=4, w=4, f=3, stride=2)


@pytest.mark.parametrize("make", [
    lambda: viz.show_images(RNG.integers(0, 256, (32, 8, 8, 3), dtype=np.uint8), ncols=16),
    lambda: viz.show_feature_maps(RNG.standard_normal((3, 6, 6, 6)), images=RGB[:3, :6, :6]),
    lambda: viz.show_channels(RGB[0]),
], ids=["images", "feature-maps", "channels"])
def test_wide_grids_stay_about_a_page_wide(make):
    # Wider figures are shrunk on the page until their text is unreadable.
    assert make().get_size_inches()[0] <= 1.1 * viz._MAX_INCHES + 1e-9
