"""cnnlib.nn.explain: input gradients against central differences (float64), Grad-CAM
against its formula and against CAM, occlusion against a loop, FGSM's bound and
direction, receptive-field crops against the network itself, bad input, and that every
function hands the model back in its own mode with its parameter gradients untouched."""

import numpy as np
import pytest

from cnnlib.book.receptive_field import layer_geometry, receptive_field_steps
from cnnlib.core.losses import softmax, softmax_cross_entropy
from cnnlib.nn.explain import (
    _resize_matrix,
    class_score_gradient,
    fgsm,
    field_patch,
    grad_cam,
    occlusion_map,
    saliency_map,
    top_activations,
    unit_field,
)
from cnnlib.nn.layers import (
    Conv2D,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
)
from cnnlib.nn.normalization import BatchNorm2D, Standardize
from cnnlib.nn.residual import ResidualBlock

H, W, C, CLASSES = 8, 6, 2, 3  # not square, so rows and columns cannot be swapped


def tiny_network(seed=0):
    """Every layer kind of the reference network, in float64, batch norm with made-up
    running statistics (so it is not the identity): 8×6×2 -> 3 scores."""
    rng = np.random.default_rng(seed)
    bn = BatchNorm2D(4, dtype=np.float64)
    bn.params["weight"][:] = rng.uniform(0.5, 1.5, 4)
    bn.params["bias"][:] = rng.normal(0, 0.3, 4)
    bn.buffers["running_mean"][:] = rng.normal(0, 0.3, 4)
    bn.buffers["running_var"][:] = rng.uniform(0.5, 2.0, 4)
    model = Sequential(Standardize([100.0, 120.0], [50.0, 60.0]),
                       Conv2D(C, 4, 3, padding=1, seed=rng, dtype=np.float64), bn, ReLU(),
                       MaxPool2D(2, 2), Conv2D(4, 5, 3, padding=1, seed=rng, dtype=np.float64),
                       ReLU(), Flatten(), Linear(4 * 3 * 5, 7, seed=rng, dtype=np.float64),
                       ReLU(), Dropout(0.5, seed=1), Linear(7, CLASSES, seed=rng, dtype=np.float64))
    return model.eval()


def pixels(n=3, seed=1):
    return np.random.default_rng(seed).uniform(20, 235, (n, H, W, C))


def central_difference(f, x, h=1e-4):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


def test_class_score_gradient_matches_central_differences():
    model, x, classes = tiny_network(), pixels(), np.array([2, 0, 1])
    got = class_score_gradient(model, x, classes)
    assert got.shape == x.shape and got.dtype == np.float64
    for n in range(len(x)):
        def score(image, n=n):
            return model.forward(image[None])[0, classes[n]]
        want = central_difference(score, x[n].copy())
        assert np.abs(want).max() > 1e-3  # the check has something to compare
        np.testing.assert_allclose(got[n], want, rtol=1e-5, atol=1e-8)


def test_the_gradient_runs_in_evaluation_mode_even_for_a_model_left_training():
    model, x = tiny_network(), pixels()
    want = class_score_gradient(model, x, [0, 1, 2])
    model.train()  # dropout would zero half the path, batch norm would use batch statistics
    np.testing.assert_array_equal(class_score_gradient(model, x, [0, 1, 2]), want)


def _state(model):
    """Every layer's mode and a copy of every parameter gradient, to compare before/after."""
    modes = [layer.training for layer in [model, *model.layers]]
    return modes, {name: g.copy() for name, g in model.grads.items()}


EXPLAINERS = {
    "class_score_gradient": lambda m, x: class_score_gradient(m, x, [0, 1, 2]),
    "saliency_map": lambda m, x: saliency_map(m, x, [0, 1, 2]),
    "grad_cam": lambda m, x: grad_cam(m, x, [0, 1, 2], 3),
    "occlusion_map": lambda m, x: occlusion_map(m, x, [0, 1, 2], patch=3, stride=2),
    "fgsm": lambda m, x: fgsm(m, x, [0, 1, 2], 2),
    "top_activations": lambda m, x: top_activations(m, x, 3, 0, k=2),
    "grad_cam, refused after its forward pass": lambda m, x: grad_cam(m, x, [0, 1, 2], 8),
}


@pytest.mark.parametrize("name", EXPLAINERS)
@pytest.mark.parametrize("mode", ["training", "evaluation", "mixed"])
def test_explaining_leaves_the_modes_and_the_parameter_gradients_as_they_were(name, mode):
    model, x = tiny_network(), pixels()
    model.train(mode != "evaluation")
    if mode == "mixed":
        model.layers[2].eval()  # one batch norm frozen by hand while the rest trains
    rng = np.random.default_rng(5)
    model.forward(x)
    model.backward(rng.normal(size=(len(x), CLASSES)))  # a training step's gradients
    before_modes, before_grads = _state(model)
    assert any(np.abs(g).max() > 0 for g in before_grads.values())
    try:
        EXPLAINERS[name](model, x)
    except ValueError as err:  # the refused call must leave the model alone all the same
        assert "refused" in name and "feature maps" in str(err)
    after_modes, after_grads = _state(model)
    assert after_modes == before_modes
    assert after_grads.keys() == before_grads.keys()
    for key, grad in before_grads.items():
        np.testing.assert_array_equal(after_grads[key], grad, err_msg=key)


def test_a_block_inside_the_model_gets_its_modes_back_too():
    rng = np.random.default_rng(2)
    block = ResidualBlock(C, 4, stride=2, seed=rng, dtype=np.float64)
    model = Sequential(block, GlobalAvgPool2D(), Linear(4, CLASSES, seed=rng, dtype=np.float64))
    model.train()
    class_score_gradient(model, pixels(), [0, 1, 2])
    assert model.training and block.training and block.bn1.training and block.shortcut_bn.training
    model.eval()
    fgsm(model, pixels(), [0, 1, 2], 1)
    assert not (model.training or block.training or block.bn2.training)


def test_saliency_is_the_largest_absolute_gradient_over_channels():
    model, x = tiny_network(), pixels()
    grad = class_score_gradient(model, x, [1, 1, 0])
    sal = saliency_map(model, x, [1, 1, 0])
    assert sal.shape == (3, H, W)
    np.testing.assert_array_equal(sal, np.maximum(np.abs(grad[..., 0]), np.abs(grad[..., 1])))


def test_grad_cam_follows_its_formula_with_gradients_from_central_differences():
    model, x, classes, layer = tiny_network(), pixels(2), np.array([1, 2]), 6
    cam = grad_cam(model, x, classes, layer, upsample=False)
    maps = x
    for part in model.layers[:layer + 1]:
        maps = part.forward(maps)
    rest = Sequential(*model.layers[layer + 1:])
    for n in range(2):
        def score(a, n=n):
            return rest.forward(a[None])[0, classes[n]]
        alpha = central_difference(score, maps[n].copy()).mean(axis=(0, 1))
        want = np.maximum((maps[n] * alpha).sum(axis=2), 0)
        assert want.max() > 0
        np.testing.assert_allclose(cam[n], want, rtol=1e-5, atol=1e-9)


def test_grad_cam_after_global_average_pooling_is_class_activation_mapping():
    # With GAP and one dense layer, α_k = w[k, c]/(h·w): Grad-CAM is CAM (Zhou et al.
    # 2016) divided by the number of positions.
    rng = np.random.default_rng(3)
    conv = Conv2D(C, 4, 3, padding=1, seed=rng, dtype=np.float64)
    dense = Linear(4, CLASSES, seed=rng, dtype=np.float64)
    model = Sequential(conv, ReLU(), GlobalAvgPool2D(), dense)
    x = rng.normal(size=(2, H, W, C))
    maps = ReLU().forward(conv.forward(x))
    cam = grad_cam(model, x, [0, 2], 1, upsample=False)
    for n, c in enumerate([0, 2]):
        want = np.maximum(maps[n] @ dense.params["weight"][:, c], 0) / (H * W)
        np.testing.assert_allclose(cam[n], want, rtol=1e-12)


def test_grad_cam_scales_up_to_the_image_size_and_keeps_a_constant_map_constant():
    model, x = tiny_network(), pixels(2)
    cam = grad_cam(model, x, [0, 1], 6)
    small = grad_cam(model, x, [0, 1], 6, upsample=False)
    assert cam.shape == (2, H, W) and small.shape == (2, H // 2, W // 2)
    assert np.all(cam >= 0) and cam.max() > 0
    # Linear interpolation: every value lies between the smallest and largest coarse value.
    assert cam.min() >= small.min() - 1e-12 and cam.max() <= small.max() + 1e-12
    m = _resize_matrix(3, 8)
    np.testing.assert_allclose(m.sum(axis=1), 1)  # constants stay constant
    np.testing.assert_allclose(m @ np.arange(3.0), np.clip((np.arange(8) + 0.5) * 3 / 8 - 0.5,
                                                           0, 2))  # a ramp stays a ramp


def occlusion_by_loops(model, x, classes, patch, stride, fill):
    p = softmax(model.forward(x))
    rows, cols = (x.shape[1] - patch) // stride + 1, (x.shape[2] - patch) // stride + 1
    drops = np.zeros((len(x), rows, cols))
    for n in range(len(x)):
        for i in range(rows):
            for j in range(cols):
                covered = x[n:n + 1].copy()
                covered[:, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
                drops[n, i, j] = p[n, classes[n]] - softmax(model.forward(covered))[0, classes[n]]
    return drops


@pytest.mark.parametrize(("patch", "stride", "batch"), [(3, 2, 256), (2, 3, 4), (4, 1, 5)])
def test_occlusion_matches_a_loop(patch, stride, batch):
    model, x, classes = tiny_network(), pixels(2), [2, 0]
    got = occlusion_map(model, x, classes, patch=patch, stride=stride, fill=110.0, batch=batch)
    want = occlusion_by_loops(model, x, classes, patch, stride, 110.0)
    assert got.shape == want.shape == (2, (H - patch) // stride + 1, (W - patch) // stride + 1)
    assert np.abs(want).max() > 1e-6
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_fgsm_moves_every_pixel_by_epsilon_against_the_loss_and_stays_valid():
    model, x, labels = tiny_network(), pixels(), np.array([0, 1, 2])
    x[0, 0, 0, 0], x[1, 2, 3, 1] = 0.0, 255.0  # at the ends of the range: clipped
    adv = fgsm(model, x, labels, 3.0)
    assert adv.shape == x.shape and adv.min() >= 0 and adv.max() <= 255
    assert np.abs(adv - x).max() <= 3.0 + 1e-12
    # The sign of the loss gradient, from central differences of the loss itself.
    def loss(images):
        return softmax_cross_entropy(model.forward(images), labels)[0]
    sign = np.sign(central_difference(loss, x.copy()))
    want = np.clip(x + 3.0 * sign, 0, 255)
    assert np.mean(adv == want) > 0.99  # a gradient within rounding of 0 may differ
    assert loss(adv) > loss(x)
    # Small steps raise the loss at the rate |∇L|·1 (first order): ε·Σ|g|.
    small = fgsm(model, x, labels, 1e-4)
    g = central_difference(loss, x.copy())
    assert np.isclose(loss(small) - loss(x), 1e-4 * np.abs(g).sum(), rtol=1e-2)


def test_fgsm_with_zero_epsilon_changes_nothing():
    model, x = tiny_network(), pixels()
    np.testing.assert_array_equal(fgsm(model, x, [0, 0, 0], 0), x)


def test_unit_field_agrees_with_the_books_receptive_field_and_with_the_gradient():
    model = tiny_network()
    for layer in range(len(model.layers) - 5):  # up to the second ReLU
        steps = receptive_field_steps(layer_geometry(Sequential(*model.layers[:layer + 1])))
        want = (steps[-1]["size"], steps[-1]["jump"], steps[-1]["start"]) if steps else (1, 1, 0)
        assert unit_field(model, layer) == want
    assert unit_field(model, 6) == (8, 2, -3)  # 3, then +1 (pool), then +2·2 (3×3 at jump 2)
    # The gradient of unit (1, 2) of layer 5 reaches exactly the pixels field_patch cuts out.
    size, jump, start = unit_field(model, 5)
    x = pixels(1)
    part = Sequential(*model.layers[:6])
    out = part.forward(x)
    dout = np.zeros_like(out)
    dout[0, 1, 2, 3] = 1
    reached = np.any(part.backward(dout)[0] != 0, axis=-1)
    top, left = start + 1 * jump, start + 2 * jump
    inside = np.zeros((H, W), bool)
    inside[max(top, 0):top + size, max(left, 0):left + size] = True
    assert reached.any() and not np.any(reached & ~inside)


def test_field_patch_cuts_the_field_and_fills_the_padding():
    image = np.arange(H * W * C, dtype=np.uint8).reshape(H, W, C)
    patch = field_patch(image, 1, 2, (5, 2, -2), fill=7)
    assert patch.shape == (5, 5, C) and patch.dtype == np.uint8
    np.testing.assert_array_equal(patch[:, :4], image[0:5, 2:6])
    assert np.all(patch[:, 4:] == 7)  # column 6 and beyond lie outside the 6-wide image
    top_left = field_patch(image, 0, 0, (5, 2, -2), fill=7)
    np.testing.assert_array_equal(top_left[2:, 2:], image[0:3, 0:3])
    assert np.all(top_left[:2] == 7) and np.all(top_left[:, :2] == 7)


def test_top_activations_match_a_brute_force_search():
    model, x = tiny_network(), pixels(40, seed=5)
    index, rows, cols, values = top_activations(model, x, 3, 2, k=6, batch=7)
    maps = x
    for part in model.layers[:4]:
        maps = part.forward(maps)
    channel = maps[..., 2]
    peaks = channel.reshape(40, -1).max(axis=1)
    assert list(index) == list(np.argsort(-peaks)[:6])
    np.testing.assert_array_equal(values, peaks[index])
    np.testing.assert_array_equal(channel[index, rows, cols], values)
    assert np.all(np.diff(values) <= 0) and len(set(index)) == 6


@pytest.mark.parametrize(("call", "message"), [
    (lambda m, x: class_score_gradient(m, x[0], [0]), "4-D array"),
    (lambda m, x: class_score_gradient(m, x[:0], []), "at least one image"),
    (lambda m, x: class_score_gradient(m, x, [0, 1]), "3 integers in \\[0, 3\\)"),
    (lambda m, x: saliency_map(m, x, [0, 1, 3]), "3 integers in \\[0, 3\\)"),
    (lambda m, x: saliency_map(m, x, [0.0, 1.0, 2.0]), "integers"),
    (lambda m, x: grad_cam(m, x, [0, 1, 2], 11), "layer = 11"),
    (lambda m, x: grad_cam(m, x, [0, 1, 2], -1), "layer = -1"),
    (lambda m, x: grad_cam(m, x, [0, 1, 2], 8), "feature maps"),
    (lambda m, x: grad_cam(m.layers[1], x, [0, 1, 2], 0), "Sequential"),
    (lambda m, x: occlusion_map(m, x, [0, 1, 2], patch=0), "patch = 0"),
    (lambda m, x: occlusion_map(m, x, [0, 1, 2], patch=7), "must fit"),
    (lambda m, x: occlusion_map(m, x, [0, 1, 2], stride=1.5), "stride = 1.5"),
    (lambda m, x: occlusion_map(m, x, [0, 1, 2], patch=3, fill="gray"), "fill = 'gray'"),
    (lambda m, x: fgsm(m, x, [0, 1, 2], -1), "epsilon ≥ 0"),
    (lambda m, x: fgsm(m, x, [0, 1, 2], float("nan")), "epsilon = nan"),
    (lambda m, x: fgsm(m, x * 2, [0, 1, 2], 1), "must lie in \\[low, high\\]"),
    (lambda m, x: fgsm(m, x, [0, 1, 2], 1, low=1, high=1), "low < high"),
    (lambda m, x: fgsm(m, x, [0, 1, 5], 1), "labels must be 3 integers"),
    (lambda m, x: unit_field(m, 8), "does not keep positions"),
    (lambda m, x: unit_field(m, 12), "layer = 12"),
    (lambda m, x: field_patch(x, 0, 0, (3, 1, 0)), "one \\(H, W, C\\) image"),
    (lambda m, x: field_patch(x[0], 9, 0, (3, 1, 0)), "outside the 8×6 image"),
    (lambda m, x: field_patch(x[0], -1, 0, (3, 1, 0)), "row = -1"),
    (lambda m, x: top_activations(m, x, 3, 4, k=2), "channel = 4"),
    (lambda m, x: top_activations(m, x, 3, 0, k=4), "k = 4"),
    (lambda m, x: top_activations(m, x, 3, 0, k=0), "k = 0"),
])
def test_bad_input_raises_a_value_error_that_names_it(call, message):
    with pytest.raises(ValueError, match=message):
        call(tiny_network(), pixels())
