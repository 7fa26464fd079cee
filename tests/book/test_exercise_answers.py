"""The checks of the answer-a-number and counting exercises (2.2, 2.3, 4.1, 4.3) accept
every right answer (rounded as a person would, or in an equivalent form) and reject the
wrong answers learners really write, naming the exercise.

Each case runs the chapter's exercise setup, sets the answer variables, then runs the
exercise's check cell, as the reader's notebook does. For the build track's exercises
(2.6, 2.7, 3.7, 3.8, 5.7, 5.8, 7.5, 7.6, 8.7, 9.7, 10.7, 10.8), whose answers are functions in
the files of mycnn/, `pieces(...)` makes the check's `learner_piece` hand it the given
functions in place of the reference solutions of chapters/mycnn/.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import REPO_ROOT
from test_exercises import exercise_section, failure_of, run_cell

import cnnlib
from cnnlib.core.functional import conv2d

CHAPTERS = {"1": "01_pixels.ipynb", "2": "02_how_networks_learn.ipynb",
            "3": "03_convolution.ipynb", "4": "04_output_dimensions.ipynb",
            "5": "05_pooling.ipynb", "6": "06_parameter_sharing.ipynb", "7": "07_convolution_backward.ipynb",
            "8": "08_relu.ipynb", "9": "09_fully_connected.ipynb", "10": "10_cifar10.ipynb",
            "11": "11_inside_the_network.ipynb", "12": "12_beyond_one_cpu.ipynb",
            "A": "13_performance.ipynb"}

# The graph of Exercise 2.2 at x = 0.5, w = 3, b = 1: dL/dz = σ(z) − 1 with z = 2.5.
DL_DZ = 1 / (1 + math.exp(-2.5)) - 1



def positions_loop(w, f, s, p):
    count, left = 0, 0
    while left + f <= w + 2 * p:
        count, left = count + 1, left + s
    return count


def positions_loop_off_by_one(w, f, s, p):
    count, left = 0, 0
    while left + f < w + 2 * p:  # the last window that ends at the edge is not counted
        count, left = count + 1, left + s
    return count




def rows_by_a_loop(images):  # right values, but the exercise asks for no Python loop
    return np.stack([image.transpose(2, 0, 1).reshape(-1) for image in images])


def rows_without_the_transpose(images):
    return images.reshape(len(images), 3072)


def rows_with_the_wrong_transpose(images):
    return images.transpose(0, 3, 2, 1).reshape(len(images), 3072)  # columns before rows


def dilated_by_positions(x, weight, dilation):  # right values, one window at a time
    n, h, w, _ = x.shape
    k, f, d = weight.shape[0], weight.shape[1], dilation
    out = np.zeros((n, h - d * (f - 1), w - d * (f - 1), k))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            taps = x[:, i:i + d * (f - 1) + 1:d, j:j + d * (f - 1) + 1:d, :]
            out[:, i, j, :] = np.einsum("nabc,kabc->nk", taps, weight)
    return out


def dilated_by_taps(x, weight, dilation):  # right: one slice of x per tap, F·F of them
    n, h, w, _ = x.shape
    k, f, d = weight.shape[0], weight.shape[1], dilation
    h2, w2 = h - d * (f - 1), w - d * (f - 1)
    out = np.zeros((n, h2, w2, k))
    for a in range(f):
        for b in range(f):
            out += x[:, a * d:a * d + h2, b * d:b * d + w2, :] @ weight[:, a, b, :].T
    return out


def dilated_span_off_by_one(x, weight, dilation):
    k, f, _, c = weight.shape
    spread = np.zeros((k, dilation * f, dilation * f, c))
    spread[:, ::dilation, ::dilation, :] = weight
    return conv2d(x, spread)


def dilated_without_the_gaps(x, weight, dilation):
    from cnnlib.core.functional import conv2d
    return conv2d(x, weight)  # dilation ignored: the taps are next to each other


def windows_by_positions(x, f):  # right values, one window at a time
    n, h, w, c = x.shape
    return np.stack([x[:, i:i + f, j:j + f, :].reshape(n, -1)
                     for i in range(h - f + 1) for j in range(w - f + 1)], axis=1
                    ).reshape(-1, f * f * c)


def windows_by_the_library(x, f):
    from cnnlib.core.im2col import extract_windows
    return extract_windows(x, f, 1).reshape(-1, f * f * x.shape[-1])


def windows_with_offsets_swapped(x, f):
    n, h, w, c = x.shape
    h2, w2 = h - f + 1, w - f + 1
    cols = np.empty((n, h2, w2, f, f, c), dtype=x.dtype)
    for a in range(f):
        for b in range(f):
            cols[:, :, :, b, a, :] = x[:, a:a + h2, b:b + w2, :]  # (b, a): a missing transpose
    return cols.reshape(n * h2 * w2, f * f * c)


def weight_grad_by_windows(x, dout, f):  # the page's way: refused, the exercise forbids it
    from cnnlib.core.im2col import extract_windows
    k = dout.shape[-1]
    windows = extract_windows(x, f, 1).reshape(-1, f * f * x.shape[-1])
    return (windows.T @ dout.reshape(-1, k)).T.reshape(k, f, f, x.shape[-1])


def weight_grad_not_transposed_back(x, dout, f):
    from cnnlib.core.functional import conv2d
    return conv2d(x.transpose(3, 1, 2, 0), dout.transpose(3, 1, 2, 0))  # (C, F, F, K)


def weight_grad_rows_and_columns_swapped(x, dout, f):
    from cnnlib.core.functional import conv2d
    return conv2d(x.transpose(3, 2, 1, 0), dout.transpose(3, 1, 2, 0)).transpose(3, 1, 2, 0)


def weight_grad_first_image_only(x, dout, f):
    from cnnlib.core.functional import conv2d
    one = conv2d(x[:1].transpose(3, 1, 2, 0), dout[:1].transpose(3, 1, 2, 0))
    return one.transpose(3, 1, 2, 0)  # forgets the sum over the batch


def linear_backward_cnnlib_layout(x, w, dout):  # copied from cnnlib.Linear: W is (D, M) there
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def linear_backward_db_not_summed(x, w, dout):
    return dout @ w, dout.T @ x, dout.mean(axis=0)  # the mean, not the sum, over the batch


def linear_backward_dx_transposed(x, w, dout):
    return (w.T @ dout.T).T * 0 + dout @ w[::-1], dout.T @ x, dout.sum(axis=0)


def max_pool_backward(x, dout, f, s, *, overwrite=False, last_max=False, stride=True):
    """Exercise 5.3's loops, with one of the mistakes learners make switched on."""
    dx = np.zeros_like(x)
    n_img, h2, w2, n_ch = dout.shape
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(h2):
                for j in range(w2):
                    r, q = (i * s, j * s) if stride else (i, j)
                    window = x[n, r:r + f, q:q + f, c]
                    flat = window.ravel()
                    k = len(flat) - 1 - np.argmax(flat[::-1]) if last_max else np.argmax(flat)
                    a, b = np.unravel_index(k, window.shape)
                    if overwrite:
                        dx[n, r + a, q + b, c] = dout[n, i, j, c]
                    else:
                        dx[n, r + a, q + b, c] += dout[n, i, j, c]
    return dx


def min_pool_with(forward_sign=-1, backward_sign=1, negate_input=True, pass_stride=True):
    from cnnlib import Layer, MaxPool2D

    class MinPool2D(Layer):
        def __init__(self, kernel_size=2, stride=2):
            self._max = MaxPool2D(kernel_size, stride if pass_stride else kernel_size)

        def forward(self, x):
            inner = -forward_sign * x if negate_input else x
            return forward_sign * self._max.forward(inner)

        def backward(self, dout):
            return backward_sign * self._max.backward(dout)

    return MinPool2D


def confusion_loop(labels, predictions, num_classes, assign=False, rates=False):
    matrix = np.zeros((num_classes, num_classes))
    for t, p in zip(labels, predictions, strict=True):
        if assign:
            matrix[t, p] = 1
        else:
            matrix[t, p] += 1
    return matrix / matrix.sum(axis=1, keepdims=True) if rates else matrix


def confusion_fancy_index(labels, predictions, num_classes=10):
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    matrix[labels, predictions] += 1  # buffered: a repeated (t, p) pair adds 1 once
    return matrix


def crops_with(shift_high=None, same_shift=False, one_draw=False):
    def random_crop_loops(images, padding, rng):
        n, h, w, _ = images.shape
        padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        out = np.empty_like(images)
        high = 2 * padding + 1 if shift_high is None else shift_high(padding)
        top, left = rng.integers(0, high, size=2)
        for i in range(n):
            if one_draw:
                top = left = rng.integers(0, high)
            elif not same_shift:
                top, left = rng.integers(0, high, size=2)
            out[i] = padded[i, top:top + h, left:left + w]
        return out
    return random_crop_loops


def leaky_with(backward_slope=True, fixed_alpha=None, swapped=False, grad_is_output=False,
               maximum=False):
    from cnnlib import Layer

    class LeakyReLU(Layer):
        def __init__(self, alpha=0.01):
            self.alpha = alpha if fixed_alpha is None else fixed_alpha

        def forward(self, x):
            a = self.alpha
            self._slope = np.where(x > 0, a, 1.0) if swapped else np.where(x > 0, 1.0, a)
            self._out = np.maximum(a * x, x) if maximum else x * self._slope
            return self._out

        def backward(self, dout):
            if grad_is_output:  # the forward's output where its slope belongs
                return dout * self._out
            return dout * self._slope if backward_slope else dout

    return LeakyReLU


def naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def clipped_sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(x, -500, 500)))


def batchnorm_with(ddof=0, axis=(0, 1, 2), eps=1e-5, sqrt=True):
    def batchnorm_forward(x, gamma, beta, eps_=1e-5):
        mean = x.mean(axis=axis, keepdims=axis == 0)
        var = x.var(axis=axis, ddof=ddof, keepdims=axis == 0)
        scale = np.sqrt(var + eps) if sqrt else var + eps
        return gamma * (x - mean) / scale + beta
    return batchnorm_forward


def one_sided_grad(f, x, eps):
    grad = np.zeros_like(x, dtype=np.float64)
    base = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - base) / eps
        x[i] = old
    return grad


def central_not_restored(f, x, eps):
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        grad[i] = (plus - f(x)) / (2 * eps)  # x[i] is left at old - eps
    return grad


def sobel_in(channel, vertical=True):
    from cnnlib.book import kernels
    w = np.zeros((1, 3, 3, 3))
    sobel = kernels.sobel_x(dtype=np.float64)
    w[0, :, :, channel] = sobel if vertical else sobel.T
    return w


def central_on_copies(f, x, eps=1e-6):  # right: x itself is never touched
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        plus, minus = x.astype(np.float64), x.astype(np.float64)
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (f(plus) - f(minus)) / (2 * eps)
    return grad


def blue_sobel():
    from cnnlib.book import kernels
    w = np.zeros((1, 3, 3, 3))
    w[0, :, :, 2] = kernels.sobel_x(dtype=np.float64)
    return w


def local_layer_with(shared=False, no_batch_sum=False, bias_per_filter=False,
                     rows_columns_swapped=False, dx_from_windows=False):
    from cnnlib import Layer
    from cnnlib.core.im2col import col2im, extract_windows
    spec = "nhwabc,whkabc->nhwk" if rows_columns_swapped else "nhwabc,hwkabc->nhwk"

    class LocallyConnected2D(Layer):
        def __init__(self, in_channels, out_channels, kernel_size, in_size, seed=0):
            f, c, k = kernel_size, in_channels, out_channels
            s2 = in_size - f + 1
            rng = np.random.default_rng(seed)
            self.f = f
            shape = (k, f, f, c) if shared else (s2, s2, k, f, f, c)
            self.params = {"weight": rng.standard_normal(shape) * 0.3,
                           "bias": np.zeros((k,) if bias_per_filter else (s2, s2, k))}
            self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}

        def forward(self, x):
            self._x = x
            self._windows = extract_windows(x, self.f, 1)
            return np.einsum(spec, self._windows, self.params["weight"]) + self.params["bias"]

        def backward(self, dout):
            d = dout[:1] if no_batch_sum else dout
            self.grads["weight"] = np.einsum("nhwk,nhwabc->hwkabc", d, self._windows[:len(d)])
            self.grads["bias"] = d.sum(axis=0)
            dwin = np.einsum("nhwk,hwkabc->nhwabc", dout, self.params["weight"])
            if dx_from_windows:
                dx = np.zeros_like(self._x)
                dx[:, :self.f, :self.f, :] = dwin[:, 0, 0]
                return dx
            return col2im(dwin, self._x.shape, 1)

    return LocallyConnected2D


def ce_with(shift=True, mean_grad=True, sum_loss=False):
    def my_softmax_cross_entropy(logits, labels):
        n = len(logits)
        z = logits - logits.max(axis=1, keepdims=True) if shift else logits
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        picked = -log_p[np.arange(n), labels]
        loss = picked.sum() if sum_loss else picked.mean()
        d = np.exp(log_p)
        d[np.arange(n), labels] -= 1
        return float(loss), d / n if mean_grad else d
    return my_softmax_cross_entropy


def momentum_step_with(in_place=True, keep_velocity=True, momentum_used=True,
                       rebind_in_dict=False):
    def sgd_momentum_step(params, grads, velocity, lr, momentum):
        for name, w in params.items():
            v = (momentum * velocity.get(name, 0.0) if momentum_used else 0.0) + grads[name]
            if keep_velocity:
                velocity[name] = v
            if rebind_in_dict:
                params[name] = params[name] - lr * v  # the dict's entry, not the layer's array
            elif in_place:
                w -= lr * v
            else:
                w = w - lr * v  # rebinds the name: the layer keeps its old weights
    return sgd_momentum_step


def momentum_step_other_convention(params, grads, velocity, lr, momentum):
    for name, w in params.items():  # v = m·v − lr·g, w += v: the same steps at a fixed lr
        v = momentum * velocity.get(name, 0.0) - lr * grads[name]
        velocity[name] = v
        w += v


def momentum_step_by_cnnlib(params, grads, velocity, lr, momentum):
    """Exercise 9.7 handed to cnnlib.SGD: a holder with the dicts the optimizer reads."""
    holder = SimpleNamespace(params=params, grads=grads)
    velocity.setdefault("sgd", cnnlib.SGD(holder, lr=lr, momentum=momentum)).step()


def same_padding_without_the_check(f):
    return f // 2  # 4 -> 2: no padding keeps an even filter's size, and it does not say so


def coverage_with(keep_padding=False, overwrite=False, stride_used=True, count_padding=True,
                  width=lambda f: f):
    def coverage(w, f, s_, p):
        from cnnlib import conv_output_size
        padded = np.zeros((w + 2 * p, w + 2 * p), dtype=int)
        n = conv_output_size(w, f, s_, p if count_padding else 0)
        s, fw = (s_ if stride_used else 1), width(f)
        for i in range(n):
            for j in range(n):
                if overwrite:
                    padded[i * s:i * s + fw, j * s:j * s + fw] = 1
                else:
                    padded[i * s:i * s + fw, j * s:j * s + fw] += 1
        return padded if keep_padding else padded[p:p + w, p:p + w]
    return coverage


def field_without_jump(layers):
    size, sizes = 1, []
    for f, _ in layers:
        size += f - 1  # the stride of the layers below ignored
        sizes.append(size)
    return sizes


def field_by_cumprod(layers):  # right: r = 1 + Σ (F_l − 1)·(product of the strides below)
    f, s = np.array(layers).T
    jumps = np.concatenate([[1], np.cumprod(s)[:-1]])
    return (1 + np.cumsum((f - 1) * jumps)).tolist()


def field_jump_by_filter(layers):
    size, jump, sizes = 1, 1, []
    for f, _ in layers:
        size += (f - 1) * jump
        jump *= f
        sizes.append(size)
    return sizes


def field_jump_first(layers):
    size, jump, sizes = 1, 1, []
    for f, s in layers:
        jump *= s  # updated before it is used: this layer's own stride counted too early
        size += (f - 1) * jump
        sizes.append(size)
    return sizes


def window_view_with(inner_stride, swap_inner=False, plus_one=True, channels_first=False):
    def my_window_view(x, f, s):
        n, h, w, c = x.shape
        one = 1 if plus_one else 0
        h2, w2 = (h - f) // s + one, (w - f) // s + one
        sn, sh, sw, sc = x.strides
        k = s if inner_stride else 1
        rows, cols = (k * sw, k * sh) if swap_inner else (k * sh, k * sw)
        if channels_first:
            return np.lib.stride_tricks.as_strided(
                x, shape=(n, h2, w2, c, f, f), strides=(sn, s * sh, s * sw, sc, rows, cols),
                writeable=False)
        return np.lib.stride_tricks.as_strided(
            x, shape=(n, h2, w2, f, f, c), strides=(sn, s * sh, s * sw, rows, cols, sc),
            writeable=False)
    return my_window_view


def chunked_with(pad=True, drop_rest=False, weights_transposed=True):
    """Exercise A.4's chunked convolution, with one mistake learners make switched on."""
    def conv2d_chunked(x, weight, bias, padding, chunk):
        from cnnlib.core.im2col import extract_windows
        n, h, w, c = x.shape
        k, f = weight.shape[0], weight.shape[1]
        h2, w2 = h - f + 2 * padding + 1, w - f + 2 * padding + 1
        out = np.zeros((n, h2, w2, k))
        w_mat = weight.reshape(k, -1).T if weights_transposed else weight.reshape(-1, k)
        p = padding if pad else 0
        starts = range(0, n // chunk * chunk, chunk) if drop_rest else range(0, n, chunk)
        for start in starts:
            part = np.pad(x[start:start + chunk], ((0, 0), (p, p), (p, p), (0, 0)))
            cols = extract_windows(part, f, 1).reshape(-1, f * f * c)
            out[start:start + chunk] = (cols @ w_mat + bias).reshape(-1, h2, w2, k)
        return out
    return conv2d_chunked


def unit_with(ns, pad_first=False, relu=True, shift=True):
    """Exercise 11.4's unit, from the notebook's net, with one mistake switched on."""
    net = ns["net"]

    def first_block_unit(image, row, col, k):
        conv, bn = net.layers[1], net.layers[2]
        if pad_first:  # zeros added to the raw pixels, then standardized: not zeros any more
            raw = np.pad(image.astype(np.float64), ((1, 1), (1, 1), (0, 0)))
            padded = net.layers[0].forward(raw[None])[0].astype(np.float64)
        else:
            x = net.layers[0].forward(image[None])[0].astype(np.float64)
            padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
        z = np.sum(padded[row:row + 3, col:col + 3, :] * conv.params["weight"][k])
        z += conv.params["bias"][k]
        mu, var = bn.buffers["running_mean"][k], bn.buffers["running_var"][k]
        z = bn.params["weight"][k] * (z - mu) / np.sqrt(var + bn.eps)
        z += bn.params["bias"][k] if shift else 0.0
        return max(0.0, float(z)) if relu else float(z)

    return {"first_block_unit": first_block_unit}


# ------------------------------------------------------------ the build track (mycnn/)


def pieces(**functions):
    """Answers for a build-track check: learner_piece hands it these functions in place of
    the ones in chapters/mycnn/ (the reference solutions), as if the reader wrote them."""
    def answers(ns):
        real = ns["learner_piece"]

        def learner_piece(module, name=None, root=None):
            return functions[name] if name in functions else real(module, name, root)
        return {"learner_piece": learner_piece}
    return answers


def conv_loops_with(stride_used=True, pad=True, bias=True, swap_hw=False):
    """Exercise 3.7's loops, with one of the mistakes learners make switched on."""
    def conv_forward_naive(x, w, b, stride=1, padding=0):
        n, h, wid, _ = x.shape
        k, f = w.shape[0], w.shape[1]
        if swap_hw:
            h, wid = wid, h
        h2, w2 = (h + 2 * padding - f) // stride + 1, (wid + 2 * padding - f) // stride + 1
        xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0))) if pad else x
        s = stride if stride_used else 1
        out = np.zeros((n, h2, w2, k))
        for img in range(n):
            for kk in range(k):
                for i in range(h2):
                    for j in range(w2):
                        win = xp[img, i * s:i * s + f, j * s:j * s + f, :]
                        if win.shape != w[kk].shape:  # ran off the unpadded edge
                            win = np.pad(win, ((0, f - win.shape[0]), (0, f - win.shape[1]),
                                               (0, 0)))
                        out[img, i, j, kk] = np.sum(win * w[kk]) + (b[kk] if bias else 0)
        return out
    return conv_forward_naive


def conv_im2col_with(offsets_swapped=False, weights_by_channel=False, stride_used=True):
    """Exercise 3.8 with one of the mistakes learners make switched on."""
    def conv_forward_im2col(x, w, b, stride=1, padding=0):
        n, h, wid, c = x.shape
        k, f = w.shape[0], w.shape[1]
        h2, w2 = (h + 2 * padding - f) // stride + 1, (wid + 2 * padding - f) // stride + 1
        s = stride if stride_used else 1
        xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        cols = np.empty((n, h2, w2, f, f, c))
        for u in range(f):
            for v in range(f):
                a, bb = (v, u) if offsets_swapped else (u, v)
                cols[:, :, :, a, bb, :] = xp[:, u:u + s * h2:s, v:v + s * w2:s, :][:, :h2, :w2]
        wm = (w.transpose(0, 3, 1, 2) if weights_by_channel else w).reshape(k, -1)
        return (cols.reshape(-1, f * f * c) @ wm.T + b).reshape(n, h2, w2, k)
    return conv_forward_im2col


def conv_im2col_named(x, w, b, stride=1, padding=0):
    """Exercise 3.8 as a reviewer wrote it, right: one offset at a time with every slice
    named, and a loop over the channels too (more lines than the solution, the same on
    a larger image)."""
    n, h, wid, c = x.shape
    k, f = w.shape[0], w.shape[1]
    h2 = (h + 2 * padding - f) // stride + 1
    w2 = (wid + 2 * padding - f) // stride + 1
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    cols = np.empty((n, h2, w2, f, f, c))
    for u in range(f):
        for v in range(f):
            row_stop = u + stride * h2
            col_stop = v + stride * w2
            rows = slice(u, row_stop, stride)
            columns = slice(v, col_stop, stride)
            for channel in range(c):
                window = xp[:, rows, columns, channel]
                cols[:, :, :, u, v, channel] = window
    weights = w.reshape(k, -1)
    flat = cols.reshape(-1, f * f * c)
    out = flat @ weights.T + b
    return out.reshape(n, h2, w2, k)


def conv_backward_named(dout, x, w, stride=1, padding=0):
    """Exercise 7.6 as a reviewer wrote it, right: every offset's slices named, dx sent
    back one channel at a time."""
    n, h, wid, c = x.shape
    k, f = w.shape[0], w.shape[1]
    h2, w2 = dout.shape[1], dout.shape[2]
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    cols = np.empty((n, h2, w2, f, f, c))
    for u in range(f):
        for v in range(f):
            rows = slice(u, u + stride * h2, stride)
            columns = slice(v, v + stride * w2, stride)
            patch = xp[:, rows, columns, :]
            cols[:, :, :, u, v, :] = patch
    dout_rows = dout.reshape(-1, k)
    flat = cols.reshape(-1, f * f * c)
    dw = (dout_rows.T @ flat).reshape(w.shape)
    db = dout_rows.sum(axis=0)
    dcols = (dout_rows @ w.reshape(k, -1)).reshape(n, h2, w2, f, f, c)
    dxp = np.zeros(xp.shape)
    for u in range(f):
        for v in range(f):
            rows = slice(u, u + stride * h2, stride)
            columns = slice(v, v + stride * w2, stride)
            for channel in range(c):
                share = dcols[:, :, :, u, v, channel]
                dxp[:, rows, columns, channel] += share
    return dxp[:, padding:padding + h, padding:padding + wid, :], dw, db


def conv_by_rows(x, w, b, stride=1, padding=0):
    """Exercise 3.8 with a loop over the output rows alone, in a comprehension: each row's
    windows at once (sliding_window_view), but one matrix product per row."""
    n, h, wid, c = x.shape
    k, f = w.shape[0], w.shape[1]
    h2, w2 = (h + 2 * padding - f) // stride + 1, (wid + 2 * padding - f) // stride + 1
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    view = np.lib.stride_tricks.sliding_window_view
    return np.stack([(view(xp[:, i * stride:i * stride + f], (f, f), axis=(1, 2))[:, 0, ::stride][:, :w2].transpose(0, 1, 3, 4, 2).reshape(n, w2, -1) @ w.reshape(k, -1).T + b) for i in range(h2)], axis=1)  # noqa: E501 (one line on purpose: formatting must not decide)


def conv_backward_dw_by_rows(dout, x, w, stride=1, padding=0):
    """Exercise 7.6 with dw summed over the output rows in a generator (dx and db as the
    solution computes them): a loop over rows, one line long."""
    from cnnlib.book.exercises import learner_piece
    dx, _, db = learner_piece("conv", "conv_backward", root=REPO_ROOT / "chapters")(
        dout, x, w, stride, padding)
    f, w2 = w.shape[1], dout.shape[2]
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    view = np.lib.stride_tricks.sliding_window_view
    dw = sum(np.einsum("njk,njcuv->kuvc", dout[:, i], view(xp[:, i * stride:i * stride + f], (f, f), axis=(1, 2))[:, 0, ::stride][:, :w2]) for i in range(dout.shape[1]))  # noqa: E501
    return dx, dw, db


def cnnlib_conv2d(x, w, b, stride=1, padding=0):
    """cnnlib's convolution handed in as the reader's piece (imported where it is called,
    as a reader's file would at its top: the check imports that file inside forbidding)."""
    from cnnlib.core.functional import conv2d as library_conv2d
    return library_conv2d(x, w, b, stride=stride, padding=padding)


def cnnlib_conv_backward(dout, x, w, stride=1, padding=0):
    """cnnlib's convolution backward handed in as the reader's piece."""
    return cnnlib.core.functional.conv2d_backward(dout, (x, w, stride, padding))


def pool_loops_with(kind="max", stride_used=True, overwrite=False, route="first",
                    divide=True):
    """Exercises 5.7 and 5.8 written with loops, with one mistake learners make switched
    on: route "every" (the whole window gets the gradient), "ties" (every tied maximum),
    "last" (the last maximum wins a tie)."""
    def positions(x, size, stride):
        s = stride if stride_used else 1
        h2, w2 = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
        for i in range(h2):
            for j in range(w2):
                yield i, j, (slice(i * s, i * s + size), slice(j * s, j * s + size))

    def forward(x, size=2, stride=2):
        h2, w2 = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
        out = np.zeros((x.shape[0], h2, w2, x.shape[3]))
        for i, j, (rows, cols) in positions(x, size, stride):
            win = x[:, rows, cols, :]
            out[:, i, j, :] = win.max(axis=(1, 2)) if kind == "max" else (
                win.mean(axis=(1, 2)) if divide else win.sum(axis=(1, 2)))
        return out

    def backward(dout, x, size=2, stride=2):
        dx = np.zeros(x.shape)
        for i, j, (rows, cols) in positions(x, size, stride):
            win = x[:, rows, cols, :]
            g = dout[:, i, j, :][:, None, None, :]
            if kind == "avg":
                share = g / (size * size) if divide else g * np.ones_like(win)
            elif route == "every":
                share = g * np.ones_like(win)
            else:
                flat = win.reshape(len(x), -1, x.shape[3])
                if route == "ties":
                    mask = flat == flat.max(axis=1, keepdims=True)
                else:
                    pick = (flat.argmax(axis=1) if route == "first" else
                            flat.shape[1] - 1 - flat[:, ::-1].argmax(axis=1))
                    mask = np.arange(flat.shape[1])[None, :, None] == pick[:, None, :]
                share = g * mask.reshape(win.shape)
            if overwrite:
                dx[:, rows, cols, :] = share * np.ones_like(win)
            else:
                dx[:, rows, cols, :] += share
        return dx
    return forward, backward


def max_pool_by_offsets_with(route="first", overwrite=False, stride_used=True):
    """Exercise 5.7 written one window offset at a time (as the network needs), with one
    mistake learners make switched on (route as in pool_loops_with)."""
    def slabs(x, size, stride, h2, w2):
        s = stride if stride_used else 1
        for u in range(size):
            for v in range(size):
                yield u, v, (slice(u, u + s * h2, s), slice(v, v + s * w2, s))

    def forward(x, size=2, stride=2):
        h2, w2 = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
        wins = np.stack([x[:, r, c, :][:, :h2, :w2] for _, _, (r, c) in
                         slabs(x, size, stride, h2, w2)], axis=3)  # (N, H2, W2, F·F, C)
        return wins.max(axis=3)

    def backward(dout, x, size=2, stride=2):
        _, h2, w2, _ = dout.shape
        wins = np.stack([x[:, r, c, :][:, :h2, :w2] for _, _, (r, c) in
                         slabs(x, size, stride, h2, w2)], axis=3)
        if route == "ties":
            mask = wins == wins.max(axis=3, keepdims=True)
        else:
            pick = (wins.argmax(axis=3) if route == "first" else
                    size * size - 1 - wins[:, :, :, ::-1].argmax(axis=3))
            mask = np.arange(size * size)[None, None, None, :, None] == pick[:, :, :, None]
        dx = np.zeros(x.shape)
        for u, v, (r, c) in slabs(x, size, stride, h2, w2):
            share = dout * mask[:, :, :, u * size + v]
            if overwrite:
                dx[:, r, c, :] = share
            else:
                dx[:, r, c, :] += share
        return dx
    return pieces(max_pool_forward=forward, max_pool_backward=backward)


def max_pool_by_cnnlib():
    """Exercise 5.7 handed to cnnlib's pooling (its loops, which take any geometry),
    imported where it is called, as a reader's file would at its top."""
    def forward(x, size=2, stride=2):
        from cnnlib.core.naive import pool2d_naive
        return pool2d_naive(x, size, stride, np.max)

    def backward(dout, x, size=2, stride=2):
        from cnnlib.core.naive import max_pool2d_backward_naive
        return max_pool2d_backward_naive(x, dout, size, stride)
    return pieces(max_pool_forward=forward, max_pool_backward=backward)


def avg_pool_by_cnnlib():
    """Exercise 5.8 handed to cnnlib's AvgPool2D."""
    def forward(x, size=2, stride=2):
        return cnnlib.AvgPool2D(size, stride).forward(x)

    def backward(dout, x, size=2, stride=2):
        layer = cnnlib.AvgPool2D(size, stride)
        layer.forward(x)
        return layer.backward(dout)
    return pieces(avg_pool_forward=forward, avg_pool_backward=backward)


def relu_forward_in_place(x):
    x[x < 0] = 0  # the layer's input is changed: the backward pass then sees no negatives
    return x


def linear_by_cnnlib():
    """Exercise 2.6 handed to cnnlib.Linear, with the reader's weights copied in."""
    def layer_with(w, b):
        layer = cnnlib.Linear(w.shape[0], w.shape[1], dtype=np.float64)
        layer.params["weight"][...], layer.params["bias"][...] = w, b
        return layer

    def backward(dout, x, w):
        layer = layer_with(w, np.zeros(w.shape[1]))
        layer.forward(x)
        dx = layer.backward(dout)
        return dx, layer.grads["weight"], layer.grads["bias"]
    return pieces(linear_forward=lambda x, w, b: layer_with(w, b).forward(x),
                  linear_backward=backward)


def max_pieces(**mistake):
    forward, backward = pool_loops_with("max", **mistake)
    return pieces(max_pool_forward=forward, max_pool_backward=backward)


def avg_pieces(**mistake):
    forward, backward = pool_loops_with("avg", **mistake)
    return pieces(avg_pool_forward=forward, avg_pool_backward=backward)


def conv_backward_loops_with(db_first_image=False, crop=True, stride_used=True,
                             overwrite_dw=False, overwrite_dx=False):
    """Exercise 7.5's loops, with one of the mistakes learners make switched on."""
    def conv_backward_naive(dout, x, w, stride=1, padding=0):
        n_img, h, wid, _ = x.shape
        k_filters, f = w.shape[0], w.shape[1]
        s = stride if stride_used else 1
        xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        dxp, dw = np.zeros(xp.shape), np.zeros(w.shape)
        for n in range(n_img):
            for i in range(dout.shape[1]):
                for j in range(dout.shape[2]):
                    rows, cols = slice(i * s, i * s + f), slice(j * s, j * s + f)
                    for k in range(k_filters):
                        if overwrite_dw:
                            dw[k] = dout[n, i, j, k] * xp[n, rows, cols, :]
                        else:
                            dw[k] += dout[n, i, j, k] * xp[n, rows, cols, :]
                        if overwrite_dx:
                            dxp[n, rows, cols, :] = dout[n, i, j, k] * w[k]
                        else:
                            dxp[n, rows, cols, :] += dout[n, i, j, k] * w[k]
        db = dout[0].sum(axis=(0, 1)) if db_first_image else dout.sum(axis=(0, 1, 2))
        dx = dxp[:, padding:padding + h, padding:padding + wid, :] if crop else dxp
        return dx, dw, db
    return conv_backward_naive


def conv_backward_vectorized_with(flip=True, db_mean=False, dw_order=False):
    """Exercise 7.6 with one of the mistakes learners make switched on: the window matrix
    built one offset at a time, dx scattered back the same way; flip=False sends each
    window's gradient back through the filters turned by 180° (the full-convolution
    formula with the flip forgotten)."""
    def conv_backward(dout, x, w, stride=1, padding=0):
        n, h, wid, c = x.shape
        k, f = w.shape[0], w.shape[1]
        h2, w2 = dout.shape[1], dout.shape[2]
        xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        cols = np.empty((n, h2, w2, f, f, c))
        for u in range(f):
            for v in range(f):
                cols[:, :, :, u, v, :] = xp[:, u:u + stride * h2:stride, v:v + stride * w2:stride]
        rows = dout.reshape(-1, k)
        dw = (rows.T @ cols.reshape(-1, f * f * c)).reshape(w.shape)
        if dw_order:  # reshaped in (K, C, F, F) order, then read as (K, F, F, C)
            dw = dw.reshape(k, f * f, c).transpose(0, 2, 1).reshape(w.shape)
        db = rows.mean(axis=0) if db_mean else rows.sum(axis=0)
        filters = w if flip else w[:, ::-1, ::-1, :]
        dcols = (rows @ filters.reshape(k, -1)).reshape(n, h2, w2, f, f, c)
        dxp = np.zeros(xp.shape)
        for u in range(f):
            for v in range(f):
                dxp[:, u:u + stride * h2:stride, v:v + stride * w2:stride] += dcols[:, :, :, u, v]
        return dxp[:, padding:padding + h, padding:padding + wid], dw, db
    return conv_backward


def conv_backward_by_windows(dout, x, w, stride=1, padding=0):
    """Exercise 7.6 with cnnlib's window matrix and col2im doing the work."""
    from cnnlib.core.im2col import col2im, extract_windows, pad_hw
    k, f, c = w.shape[0], w.shape[1], w.shape[3]
    cols = extract_windows(pad_hw(x, padding), f, stride)
    rows = dout.reshape(-1, k)
    dw = (rows.T @ cols.reshape(-1, f * f * c)).reshape(w.shape)
    dcols = (rows @ w.reshape(k, -1)).reshape(cols.shape)
    shape = (x.shape[0], x.shape[1] + 2 * padding, x.shape[2] + 2 * padding, c)
    dxp = col2im(dcols, shape, stride)
    return dxp[:, padding:padding + x.shape[1], padding:padding + x.shape[2]], dw, rows.sum(0)


def my_ce_with(shift=True, divide=True, mean_loss=True, one_hot=True, log=np.log):
    """Exercise 2.7 with one of the mistakes learners make switched on."""
    def softmax_cross_entropy(logits, labels):
        n = len(logits)
        z = logits - logits.max(axis=1, keepdims=True) if shift else logits
        with np.errstate(over="ignore", invalid="ignore"):
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        losses = -log(p[np.arange(n), labels])
        grad = p.copy()
        if one_hot:
            grad[np.arange(n), labels] -= 1
        return (losses.mean() if mean_loss else losses.sum()), (grad / n if divide else grad)
    return softmax_cross_entropy


def loop_with(shuffle=True, rng_each_epoch=False, drop_last=False, weigh=True,
              step_first=False):
    """Exercise 10.7's loop, with one of the mistakes learners make switched on."""
    def train_epochs(model, x, y, *, epochs, batch_size, lr, momentum, seed=0):
        rng = np.random.default_rng(seed)
        losses = []
        for _ in range(epochs):
            if rng_each_epoch:
                rng = np.random.default_rng(seed)
            order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
            stop = len(x) - len(x) % batch_size if drop_last else len(x)
            total, seen = [], 0
            for start in range(0, stop, batch_size):
                batch = order[start:start + batch_size]
                scores = model.forward(x[batch])
                loss, dscores = model.loss(scores, y[batch])
                if step_first and model.layers[0].grads:
                    model.step(lr, momentum)
                model.backward(dscores)
                if not (step_first and model.layers[0].grads and start > 0):
                    model.step(lr, momentum)
                total.append(loss * len(batch) if weigh else loss)
                seen += len(batch)
            losses.append(sum(total) / (seen if weigh else len(total)))
        return losses
    return train_epochs


def a_piece_not_written(ns):
    """Exercise 10.8 with the reader's conv_backward still a stub: the network trains with
    cnnlib's in its place, and the check must say so and fail."""
    real = ns["learner_piece"]

    def not_written(*args, **kwargs):
        raise NotImplementedError("Exercise 7.6: write conv_backward in mycnn/conv.py")

    def learner_piece(module, name=None, root=None):
        got = real(module, name, root)
        if module == "network" and name is None:
            conv = real("conv", None, root)
            got.conv = SimpleNamespace(conv_forward_im2col=conv.conv_forward_im2col,
                                       conv_backward=not_written)
        return got
    return {"learner_piece": learner_piece}


def small_cnn_with(padding=1, widths_reversed=False, last_relu=True, side_divisor=8):
    """Exercise 10.8's assembly, with one of the mistakes learners make switched on."""
    def small_cnn(widths=(32, 64, 128), num_classes=10, image_size=32, seed=0):
        from cnnlib.book.exercises import learner_piece
        net = learner_piece("network", root=REPO_ROOT / "chapters")
        rng = np.random.default_rng(seed)
        layers, channels = [], 3
        for i, width in enumerate(widths[::-1] if widths_reversed else widths):
            layers += [net.Conv(channels, width, 3, 1, padding, rng=rng)]
            layers += [net.ReLU()] if last_relu or i < 2 else []
            layers += [net.MaxPool(2, 2)]
            channels = width
        side = image_size // side_divisor
        layers += [net.Flatten(), net.Linear(side * side * channels, num_classes, rng=rng)]
        return net.Network(layers)
    return small_cnn


CASES = [
    ("10.7", {}, True, "the solution"),
    ("10.7", pieces(train_epochs=loop_with()), True, "the same loop, written again"),
    ("10.7", pieces(train_epochs=loop_with(shuffle=False)), False, "no shuffling"),
    ("10.7", pieces(train_epochs=loop_with(rng_each_epoch=True)), False,
     "the same order every epoch"),
    ("10.7", pieces(train_epochs=loop_with(drop_last=True)), False, "the last batch dropped"),
    ("10.7", pieces(train_epochs=loop_with(weigh=False)), False,
     "batch losses averaged without their sizes"),
    ("10.7", pieces(train_epochs=loop_with(step_first=True)), False,
     "the step before the backward pass"),
    ("10.8", {}, True, "the solution"),
    ("10.8", pieces(small_cnn=small_cnn_with()), True, "the same assembly, written again"),
    ("10.8", pieces(small_cnn=small_cnn_with(padding=0, side_divisor=16)), False,
     "no padding: 32 → 30 → 15 → 13 → 6 → 4 → 2"),
    ("10.8", pieces(small_cnn=small_cnn_with(widths_reversed=True)), False, "widths reversed"),
    ("10.8", a_piece_not_written, False, "conv_backward not written: cnnlib's used"),
    ("10.8", pieces(small_cnn=small_cnn_with(last_relu=False)), False, "a ReLU forgotten"),
    ("10.8", pieces(small_cnn=small_cnn_with(side_divisor=4)), False,
     "the Linear's input counted after two pools"),
    ("9.7", {}, True, "the solution"),
    ("9.7", pieces(sgd_momentum_step=momentum_step_other_convention), True,
     "the other momentum convention"),
    ("9.7", pieces(sgd_momentum_step=momentum_step_with(in_place=False)), False,
     "weights rebound, not updated in place"),
    ("9.7", pieces(sgd_momentum_step=momentum_step_with(rebind_in_dict=True)), False,
     "params[name] = params[name] - ...: the dict's entry rebound"),
    ("9.7", pieces(sgd_momentum_step=momentum_step_by_cnnlib), False, "cnnlib.SGD inside"),
    ("9.7", pieces(sgd_momentum_step=momentum_step_with(keep_velocity=False)), False,
     "velocity not kept"),
    ("9.7", pieces(sgd_momentum_step=momentum_step_with(momentum_used=False)), False,
     "momentum ignored"),
    ("9.7", pieces(sgd_momentum_step=lambda p, g, v, lr, m: momentum_step_other_convention(
        p, {k: -a for k, a in g.items()}, v, lr, m)), False, "a sign: up the gradient"),
    ("2.6", {}, True, "the solution"),
    ("2.6", pieces(linear_backward=lambda dout, x, w: (
        (w @ dout.T).T, (dout.T @ x).T, np.ones(len(dout)) @ dout)), True,
     "transposes of transposes"),
    ("2.6", pieces(linear_backward=lambda dout, x, w: (dout @ w.T, dout.T @ x, dout.sum(0))),
     False, "dw without the transpose (M, D)"),
    ("2.6", pieces(linear_backward=lambda dout, x, w: (dout @ w.T, x.T @ dout, dout.mean(0))),
     False, "db averaged over the batch"),
    ("2.6", pieces(linear_backward=lambda dout, x, w: (dout @ w.T, x.T @ dout, dout[0])),
     False, "db from the first image"),
    ("2.6", pieces(linear_forward=lambda x, w, b: x @ w), False, "bias forgotten"),
    ("2.6", linear_by_cnnlib(), False, "a wrapper around cnnlib.Linear"),
    ("2.6", pieces(linear_backward=lambda dout, x, w: (x @ w @ w.T, x.T @ dout, dout.sum(0))),
     False, "dx from the output, not the gradient"),
    ("2.7", {}, True, "the solution"),
    ("2.7", pieces(softmax_cross_entropy=lambda z, y: cnnlib.softmax_cross_entropy(z, y)),
     False, "cnnlib's"),
    ("2.7", pieces(softmax_cross_entropy=lambda z, y: list(my_ce_with()(z, y))), True,
     "a list of two"),
    ("2.7", pieces(softmax_cross_entropy=my_ce_with(divide=False)), False,
     "gradient not divided by N"),
    ("2.7", pieces(softmax_cross_entropy=my_ce_with(shift=False)), False, "no max subtracted"),
    ("2.7", pieces(softmax_cross_entropy=my_ce_with(mean_loss=False)), False,
     "loss summed, not averaged"),
    ("2.7", pieces(softmax_cross_entropy=lambda z, y: (
        my_ce_with()(z, y)[0] * np.ones(len(y)), my_ce_with()(z, y)[1])), False,
     "one loss per image, no mean"),
    ("2.7", pieces(softmax_cross_entropy=my_ce_with(one_hot=False)), False,
     "one-hot not subtracted"),
    ("2.7", pieces(softmax_cross_entropy=my_ce_with(log=np.log10)), False, "log10"),
    ("8.7", {}, True, "the solution"),
    ("8.7", pieces(relu_backward=lambda dout, x: np.where(x > 0, dout, 0.0)), True,
     "np.where"),
    ("8.7", pieces(relu_backward=lambda dout, x: dout * (np.maximum(x, 0) > 0)), True,
     "the mask from the output"),
    ("8.7", pieces(relu_backward=lambda dout, x: dout * (x >= 0)), False, "slope 1 at zero"),
    ("8.7", pieces(relu_backward=lambda dout, x: (x > 0).astype(float)), False,
     "the mask, not multiplied by dout"),
    ("8.7", pieces(relu_backward=lambda dout, x: np.maximum(dout, 0)), False,
     "ReLU of the gradient"),
    ("8.7", pieces(relu_forward=lambda x: np.abs(x)), False, "absolute value"),
    ("8.7", pieces(relu_forward=relu_forward_in_place), False, "x zeroed in place"),
    ("8.7", pieces(relu_forward=lambda x: np.array([max(v, 0.0) for v in x.ravel()]).reshape(
        x.shape)), False, "a loop over the entries: too slow for chapter 10's network"),
    ("8.7", pieces(relu_forward=lambda x: cnnlib.ReLU().forward(x)), False, "cnnlib's ReLU"),
    ("7.5", {}, True, "the solution"),
    ("7.5", pieces(conv_backward_naive=cnnlib_conv_backward), False,
     "cnnlib's conv2d_backward"),
    ("7.5", pieces(conv_backward_naive=conv_backward_loops_with()), True, "other loops"),
    ("7.5", pieces(conv_backward_naive=conv_backward_loops_with(db_first_image=True)), False,
     "bias gradient not summed over the batch"),
    ("7.5", pieces(conv_backward_naive=conv_backward_loops_with(crop=False)), False,
     "padding not cut off dx"),
    ("7.5", pieces(conv_backward_naive=conv_backward_loops_with(stride_used=False)), False,
     "stride ignored"),
    ("7.5", pieces(conv_backward_naive=conv_backward_loops_with(overwrite_dw=True)), False,
     "dw = instead of +="),
    ("7.5", pieces(conv_backward_naive=conv_backward_loops_with(overwrite_dx=True)), False,
     "dx = instead of += where windows overlap"),
    ("7.6", {}, True, "the solution"),
    ("7.6", pieces(conv_backward=conv_backward_named), True,
     "offsets with named slices, dx one channel at a time"),
    ("7.6", pieces(conv_backward=cnnlib_conv_backward), False, "cnnlib's conv2d_backward"),
    ("7.6", pieces(conv_backward=conv_backward_vectorized_with()), True,
     "the same offsets, written again"),
    ("7.6", pieces(conv_backward=conv_backward_by_windows), False,
     "cnnlib's extract_windows and col2im"),
    ("7.6", pieces(conv_backward=conv_backward_dw_by_rows), False,
     "dw summed over the output rows, in a one-line generator"),
    ("7.6", pieces(conv_backward=conv_backward_loops_with()), False, "loops over positions"),
    ("7.6", pieces(conv_backward=lambda *args: conv_backward_loops_with()(*args)), False,
     "calls the loops of 7.5"),
    ("7.6", pieces(conv_backward=conv_backward_vectorized_with(flip=False)), False,
     "unflipped filters in the input gradient"),
    ("7.6", pieces(conv_backward=conv_backward_vectorized_with(db_mean=True)), False,
     "bias gradient averaged, not summed"),
    ("7.6", pieces(conv_backward=conv_backward_vectorized_with(dw_order=True)), False,
     "weight gradient reshaped in the wrong order"),
    ("5.7", {}, True, "the solution"),
    ("5.7", max_pool_by_offsets_with(), True, "one slice per offset, argmax over the window"),
    ("5.7", max_pieces(), False, "loops over positions: too slow for chapter 10's network"),
    ("5.7", max_pool_by_cnnlib(), False, "cnnlib's pool2d_naive"),
    ("5.7", max_pool_by_offsets_with(stride_used=False), False, "stride ignored"),
    ("5.7", max_pool_by_offsets_with(overwrite=True), False,
     "= instead of += where windows overlap"),
    ("5.7", max_pool_by_offsets_with(route="ties"), False, "the gradient to every tied maximum"),
    ("5.7", max_pool_by_offsets_with(route="last"), False, "the last maximum takes a tie"),
    ("5.8", {}, True, "the solution"),
    ("5.8", avg_pieces(), True, "loops over positions"),
    ("5.8", avg_pieces(divide=False), False, "sums, not means, both ways"),
    ("5.8", avg_pool_by_cnnlib(), False, "cnnlib's AvgPool2D"),
    ("5.8", avg_pieces(stride_used=False), False, "stride ignored"),
    ("5.8", avg_pieces(overwrite=True), False, "= instead of += where windows overlap"),
    ("3.7", {}, True, "the solution"),
    ("3.7", pieces(conv_forward_naive=cnnlib_conv2d), False, "cnnlib's conv2d"),
    ("3.7", pieces(conv_forward_naive=conv_loops_with(stride_used=False)), False,
     "stride ignored in the window's corner"),
    ("3.7", pieces(conv_forward_naive=conv_loops_with(pad=False)), False, "padding forgotten"),
    ("3.7", pieces(conv_forward_naive=conv_loops_with(bias=False)), False, "bias forgotten"),
    ("3.7", pieces(conv_forward_naive=conv_loops_with(swap_hw=True)), False, "H and W swapped"),
    ("3.8", {}, True, "the solution"),
    ("3.8", pieces(conv_forward_im2col=conv_im2col_named), True,
     "offsets with named slices and a loop over the channels"),
    ("3.8", pieces(conv_forward_im2col=cnnlib_conv2d), False, "cnnlib's conv2d"),
    ("3.8", pieces(conv_forward_im2col=conv_by_rows), False,
     "a loop over the output rows, in a one-line comprehension"),
    ("3.8", pieces(conv_forward_im2col=conv_loops_with()), False, "loops over positions"),
    ("3.8", pieces(conv_forward_im2col=lambda *args: conv_loops_with()(*args)), False,
     "calls the loops of 3.7"),
    ("3.8", pieces(conv_forward_im2col=conv_im2col_with(offsets_swapped=True)), False,
     "window offsets transposed"),
    ("3.8", pieces(conv_forward_im2col=conv_im2col_with(weights_by_channel=True)), False,
     "filters flattened channel-first"),
    ("3.8", pieces(conv_forward_im2col=conv_im2col_with(stride_used=False)), False,
     "stride ignored in the slices"),
    # (exercise, answers, right?, why); the exercise's stub and solution are run first, so
    # an entry replaces only the names it gives (answers may be a function of the
    # notebook's namespace, for answers built from the notebook's own objects).
    ("8.1", {}, True, "the solution"),
    ("8.1", {"dx": [0.0, 0.0, 3.0, 4.0, 5.0]}, False, "slope 1 at exactly 0"),
    ("8.1", {"y": [-0.0, 0.0, 0.0, 1.5, 3.0], "dx": [1.0, 2.0, 3.0, 4.0, 5.0]}, False,
     "dout passed everywhere"),
    ("8.1", lambda ns: {"y": np.maximum(ns["x"], 0), "dx": ns["dout"] * (ns["x"] > 0)}, True,
     "computed with NumPy"),
    ("8.1", {"dx": [0.0, 0.0, 0.0, 1.0, 1.0]}, False, "the mask, not dout times it"),
    ("8.1", {"dx": [0.0, 0.0, 0.0, 6.0, 15.0]}, False, "dout times y, not times the slope"),
    ("8.1", {"y": [0.0, 0.0, 0.0, 1.0, 1.0]}, False, "the forward pass as a 0/1 step"),
    ("8.2", {"answer": 0.25**10}, True, "(1/4)^10"),
    ("8.2", {"answer": 9.5e-7}, True, "rounded"),
    ("8.2", {"answer": 0.5**10}, False, "(1/2)^10"),
    ("8.2", {"answer": 2.5}, False, "(1/4)·10"),
    ("8.2", {"answer": 2.0**-20}, True, "2^-20"),
    ("8.2", {"answer": 0.25**9}, False, "nine factors for ten layers"),
    ("8.2", {"answer": 0.25}, False, "one layer's factor"),
    ("8.2", {"answer": 0.25**20}, False, "squared: (1/4)^20"),
    ("8.3", {}, True, "the solution"),
    ("8.3", {"LeakyReLU": leaky_with(backward_slope=False)}, False, "backward ignores the slope"),
    ("8.3", {"LeakyReLU": leaky_with(fixed_alpha=0.01)}, False, "alpha ignored"),
    ("8.3", {"LeakyReLU": leaky_with(maximum=True)}, True, "max(alpha·x, x)"),
    ("8.3", {"LeakyReLU": leaky_with(swapped=True)}, False, "alpha on the positive side"),
    ("8.3", {"LeakyReLU": leaky_with(grad_is_output=True)}, False,
     "backward multiplies by the output"),
    ("8.3", {"LeakyReLU": leaky_with(fixed_alpha=0.0)}, False, "a plain ReLU"),
    ("8.4", {}, True, "the solution"),
    ("8.4", {"stable_sigmoid": naive_sigmoid}, False, "the naive formula overflows"),
    ("8.4", {"stable_sigmoid": lambda x: np.where(x >= 0, naive_sigmoid(x),
                                                  np.exp(x) / (1 + np.exp(x)))}, False,
     "np.where evaluates both branches"),
    ("8.4", {"stable_sigmoid": clipped_sigmoid}, False, "clipping the input"),
    ("8.5", {}, True, "the solution"),
    ("8.5", {"dead_channels": lambda pre: np.all(pre <= 0, axis=(0, 1, 2))}, True,
     "never positive, said the other way"),
    ("8.5", {"dead_channels": lambda pre: ~np.any(pre >= 0, axis=(0, 1, 2))}, False,
     "zero counted as alive"),
    ("8.5", {"dead_channels": lambda pre: np.any(pre < 0, axis=(0, 1, 2))}, False,
     "negative once means dead"),
    ("8.5", {"dead_channels": lambda pre: ~np.any(pre > 0, axis=(0, 1))}, False,
     "a sum over the wrong axes"),
    ("10.1", {}, True, "the solution"),
    ("10.1", {"kept_value": 0.75}, False, "keep probability, not the scaled value"),
    ("10.1", {"expected_mean": 0.75}, False, "the mean of a kept fraction"),
    ("10.1", {"eval_output": "scaled"}, False, "dropout still on in evaluation"),
    ("10.2", {}, True, "the solution"),
    ("10.2", {"my_confusion_matrix": lambda t, p, num_classes=10: np.histogram2d(
        p, t, bins=num_classes, range=[[0, num_classes], [0, num_classes]])[0]}, False,
     "rows and columns swapped"),
    ("10.2", {"my_confusion_matrix": lambda t, p, num_classes=10: np.bincount(
        t * num_classes + p, minlength=num_classes**2).reshape(num_classes, num_classes)},
     True, "np.bincount"),
    ("10.2", {"my_confusion_matrix": confusion_fancy_index}, False,
     "m[t, p] += 1 with arrays: repeats counted once"),
    ("10.2", {"my_confusion_matrix": lambda t, p, num_classes=10: confusion_loop(
        t, p, num_classes, assign=True)}, False, "= 1 instead of += 1"),
    ("10.2", {"my_confusion_matrix": lambda t, p, num_classes=10: confusion_loop(
        t, p, num_classes, rates=True)}, False, "rows divided into rates"),
    ("10.3", {}, True, "the solution"),
    ("10.3", {"my_channel_stats": lambda im: (im.reshape(-1, 3).mean(axis=0),
                                              im.reshape(-1, 3).std(axis=0, ddof=1))}, False,
     "ddof=1"),
    ("10.3", {"my_channel_stats": lambda im: (im.mean(axis=(0, 1, 2)),
                                              im.std(axis=(1, 2)).mean(axis=0))}, False,
     "the mean of per-image deviations"),
    ("10.3", {"my_channel_stats": lambda im: (im.mean(axis=(0, 1, 2)),
                                              im.std(axis=(0, 1, 2)))}, True,
     "over the first three axes"),
    ("10.3", {"my_channel_stats": lambda im: (im.mean(axis=(0, 1, 2)), im.std())}, False,
     "one std over all channels"),
    ("10.3", {"my_channel_stats": lambda im: (im.mean(axis=(0, 1, 2)) / 255,
                                              im.std(axis=(0, 1, 2)) / 255)}, False,
     "scaled to [0, 1]"),
    ("10.3", {"my_channel_stats": lambda im: (im.reshape(-1, 3).mean(axis=0),
                                              np.sqrt(im.reshape(-1, 3).var(axis=0)
                                                      + 1e-5))}, False, "eps added"),
    ("10.4", {}, True, "the solution"),
    ("10.4", {"random_crop_loops": crops_with(shift_high=lambda p: 2 * p)}, False,
     "a range one short"),
    ("10.4", {"random_crop_loops": crops_with(same_shift=True)}, False,
     "one shift for the whole batch"),
    ("10.4", {"random_crop_loops": crops_with(shift_high=lambda p: 2 * p + 2)}, False,
     "a range one too far"),
    ("10.4", {"random_crop_loops": crops_with(one_draw=True)}, False,
     "one number for both shifts"),
    ("10.4", {"random_crop_loops": crops_with(shift_high=lambda p: p + 1)}, False,
     "shifts 0..p only"),
    ("10.5", {}, True, "the solution"),
    ("10.5", {"batchnorm_forward": batchnorm_with(ddof=1)}, False, "unbiased variance"),
    ("10.5", {"batchnorm_forward": batchnorm_with(axis=0)}, False, "statistics per position"),
    ("10.5", {"batchnorm_forward": batchnorm_with(eps=0.0)}, False, "eps forgotten"),
    ("10.5", {"batchnorm_forward": batchnorm_with(sqrt=False)}, False, "variance, not std"),
    ("1.1", {}, True, "the solution"),
    ("1.1", {"photo_shape": (64, 48, 3)}, False, "width before height"),
    ("1.1", {"bytes_float32": 48 * 64 * 3}, False, "float32 counted as one byte"),
    ("1.1", {"bytes_uint8": 48 * 64}, False, "channels forgotten"),
    ("1.3", {}, True, "the solution"),
    ("1.3", {"brightness": lambda im: im.sum(axis=-1) / 3}, True, "a float sum / 3"),
    ("1.3", {"brightness": lambda im: (im[..., 0] + im[..., 1] + im[..., 2]) / 3}, False,
     "uint8 sums wrap around"),
    ("1.3", {"brightness": lambda im: im.astype(np.float32).mean(axis=0)}, False, "wrong axis"),
    ("1.3", {"brightness": lambda im: im.astype(np.float32).sum(axis=-1)}, False,
     "the sum, not divided by 3"),
    ("1.3", {"brightness": lambda im: im.sum(axis=-1) // 3}, False, "floored by //"),
    ("1.3", {"brightness": lambda im: im @ np.array([0.299, 0.587, 0.114])}, False,
     "perceptual weights, not the plain mean"),
    ("1.4", {"answer": 409_700}, True, "weights and biases"),
    ("1.4", {"answer": 409_600}, False, "biases forgotten"),
    ("1.4", {"answer": 64 * 64 * 3 * 100 + 100}, False, "three channels for a gray image"),
    ("1.4", {"answer": 100 * (64 * 64 + 1)}, True, "(inputs + 1) per neuron"),
    ("1.4", {"answer": 64 * 64 + 100}, False, "one weight per input, not per pair"),
    ("1.4", {"answer": 64 * 64 * 100 + 64 * 64}, False, "a bias per input"),
    ("1.4", {"answer": 64 * 100 + 100}, False, "one side of the image only"),
    ("1.5", {}, True, "the solution"),
    ("1.5", {"changed_fraction": lambda a, b: float(np.mean(np.any(
        a.reshape(len(a), -1) != b.reshape(len(b), -1), axis=1)))}, False,
     "images changed, not inputs"),
    ("1.5", {"changed_fraction": lambda a, b: float(np.sum(a != b))}, False,
     "a count, not a fraction"),
    ("1.5", {"changed_fraction": lambda a, b: np.count_nonzero(a != b) / a.size}, True,
     "count_nonzero / size"),
    ("1.5", {"changed_fraction": lambda a, b: float(np.mean(a == b))}, False,
     "the unchanged fraction"),
    ("1.5", {"changed_fraction": lambda a, b: float(np.mean(np.any(a != b, axis=-1)))}, False,
     "pixels, not input values"),
    ("1.5", {"changed_fraction": lambda a, b: float(np.mean(a.astype(int) - b > 0))}, False,
     "only the values that went down"),
    ("2.1", {}, True, "the solution"),
    ("2.1", {"p": [0.665, 0.245, 0.090], "loss": 0.408}, True, "rounded to three digits"),
    ("2.1", {"p": [0.67, 0.24, 0.09], "loss": 0.41}, True, "rounded to two decimals"),
    ("2.1", {"p": [0.7, 0.2, 0.1], "loss": 0.4}, False, "rounded to one decimal"),
    ("2.1", {"p": [2 / 3, 1 / 3, 0.0]}, False, "logits normalized, not exponentiated"),
    ("2.1", {"loss": 0.177}, False, "log10 instead of ln"),
    ("2.1", {"loss": -math.log(0.090)}, False, "the last class's probability"),
    ("2.4", {}, True, "the solution"),
    ("2.4", {"numerical_grad": lambda f, x, eps=1e-6: one_sided_grad(f, x, eps)}, False,
     "a one-sided difference"),
    ("2.4", {"numerical_grad": lambda f, x, eps=1e-6: central_not_restored(f, x, eps)}, False,
     "x not put back"),
    ("2.4", {"numerical_grad": central_on_copies}, True, "a copy nudged each time"),
    ("2.4", {"numerical_grad": lambda f, x, eps=1e-6: 2 * central_on_copies(f, x, eps)},
     False, "divided by eps, not 2·eps"),
    ("2.4", {"numerical_grad": lambda f, x, eps=1e-6: np.full(x.shape, (
        f(x + eps) - f(x - eps)) / (2 * eps))}, False, "every entry nudged at once"),
    ("2.4", {"numerical_grad": lambda f, x, eps=1e-13: central_on_copies(f, x, eps)}, False,
     "eps = 1e-13: rounding swamps the difference"),
    ("3.1", {}, True, "the solution"),
    ("3.1", {"answer": [[0, -2], [1, 1]]}, False, "the kernel flipped (true convolution)"),
    ("3.1", {"answer": [[0, -1], [2, -1]]}, False, "rows and columns swapped"),
    ("3.1", {"answer": np.array([[0.0, 2.0], [-1.0, -1.0]])}, True, "a float array"),
    ("3.1", {"answer": [[0, 2], [-1, 1]]}, False, "a slip in the last window"),
    ("3.1", {"answer": [[0, 2]]}, False, "only the first row of windows"),
    ("3.1", lambda ns: {"answer": conv2d(ns["x"][None, :, :, None].astype(float), ns["k"][
        None, :, :, None].astype(float), padding=1)[0, :, :, 0]}, False, "padded: 4×4"),
    ("3.2", {}, True, "the solution"),
    ("3.2", {"out_shape": (8, 60, 60, 3)}, False, "the input's depth kept"),
    ("3.2", {"n_params": 16 * 5 * 5 + 16}, False, "filters without depth"),
    ("3.2", {"out_shape": (8, 64, 64, 16)}, False, "no shrinking without padding"),
    ("3.2", {"n_params": 16 * 5 * 5 * 3}, False, "biases forgotten"),
    ("3.3", {}, True, "the solution"),
    ("3.3", {"red_edges": blue_sobel()}, False, "the blue slice, not the red"),
    ("3.3", {"red_edges": np.ones((1, 3, 3, 3))}, False, "a blur, not an edge filter"),
    ("3.3", {"red_edges": -sobel_in(0)}, True, "the edge the other way round"),
    ("3.3", {"red_edges": sobel_in(1)}, False, "the green slice"),
    ("3.3", {"red_edges": sobel_in(0, vertical=False)}, False,
     "Sobel y: horizontal edges"),
    ("3.3", {"red_edges": sobel_in(0) + sobel_in(1) + sobel_in(2)}, False,
     "Sobel in every slice"),
    ("3.3", {"red_edges": sobel_in(0)[0]}, False, "no filter axis: (3, 3, 3)"),
    ("6.2", {}, True, "the solution"),
    ("6.2", {"uses_per_weight": 32 * 32 * 8}, False, "counts every filter's positions"),
    ("6.2", {"multiplications": 32 * 32 * 8 * 9}, False, "windows without depth"),
    ("6.2", {"multiplications_local": 221_184 * 1024}, False, "local layer does more work"),
    ("6.3", {}, True, "the solution"),
    ("6.3", {"moves_by": 2}, False, "pixels, not output positions"),
    ("6.3", {"one_pixel_is_a_shift": True}, False, "a one-pixel shift moves the map"),
    ("6.3", {"moves_by": 1.0}, True, "1.0"),
    ("6.3", {"moves_by": 0.5}, False, "divided the other way: half a position"),
    ("6.3", {"moves_by": 4}, False, "pixels times the stride"),
    ("6.3", {"moves_by": -1}, False, "the wrong direction"),
    ("7.3", {}, True, "the solution"),
    ("7.3", {"LocallyConnected2D": local_layer_with(shared=True)}, False, "shared weights"),
    ("7.3", {"LocallyConnected2D": local_layer_with(bias_per_filter=True)}, False,
     "one bias per filter, shared over positions"),
    ("7.3", {"LocallyConnected2D": local_layer_with(rows_columns_swapped=True)}, False,
     "position (i, j) uses the weights of (j, i)"),
    ("7.3", {"LocallyConnected2D": local_layer_with(dx_from_windows=True)}, False,
     "dx: the windows' gradient not added back (first window position only)"),
    ("7.3", {"LocallyConnected2D": local_layer_with(no_batch_sum=True)}, False,
     "gradients of the first image only"),
    ("9.1", {}, True, "the solution"),
    ("9.1", {"loss_10": 2.30, "loss_100": 4.61}, True, "rounded"),
    ("9.1", {"loss_10": 1.0}, False, "log10"),
    ("9.1", {"loss_100": math.log(10)}, False, "J = 10 for 100 classes"),
    ("9.1", {"loss_10": 0.1}, False, "the probability, not the loss"),
    ("9.4", {}, True, "the solution"),
    ("9.4", {"my_softmax_cross_entropy": ce_with(shift=False)}, False, "no max subtracted"),
    ("9.4", {"my_softmax_cross_entropy": ce_with(mean_grad=False)}, False,
     "gradient not divided by N"),
    ("9.4", {"my_softmax_cross_entropy": ce_with(sum_loss=True)}, False, "summed loss"),
    ("9.5", {}, True, "the solution"),
    ("9.5", {"sgd_momentum_step": momentum_step_other_convention}, True,
     "the other momentum convention"),
    ("9.5", {"sgd_momentum_step": momentum_step_with(in_place=False)}, False,
     "weights rebound, not updated in place"),
    ("9.5", {"sgd_momentum_step": momentum_step_with(keep_velocity=False)}, False,
     "velocity not kept"),
    ("9.5", {"sgd_momentum_step": momentum_step_with(momentum_used=False)}, False,
     "plain SGD"),
    ("4.2", {}, True, "the solution"),
    ("4.2", {"same_padding": same_padding_without_the_check}, False, "no error for even F"),
    ("4.2", {"same_padding": lambda f: (f - 1) / 2}, False, "a float padding"),
    ("4.2", {"same_padding": lambda f: f - 1}, False, "F - 1 instead of (F - 1)/2"),
    ("4.4", {"answer": (2, 7, 7, 32)}, True, "the shape"),
    ("4.4", {"answer": [2, 7, 7, 32]}, True, "as a list"),
    ("4.4", {"answer": (2, 7, 7, 3)}, False, "the input's depth"),
    ("4.4", {"answer": (2, 6, 6, 32)}, False, "the padding of the third layer forgotten"),
    ("4.4", {"answer": (7, 7, 32)}, False, "the batch forgotten"),
    ("4.5", {}, True, "the solution"),
    ("4.5", {"coverage": coverage_with(keep_padding=True)}, False, "padding kept"),
    ("4.5", {"coverage": coverage_with(overwrite=True)}, False, "= instead of +="),
    ("4.5", {"coverage": coverage_with(stride_used=False)}, False,
     "windows 1 apart: the stride forgotten"),
    ("4.5", {"coverage": coverage_with(count_padding=False)}, False,
     "the number of windows counted without padding"),
    ("4.5", {"coverage": coverage_with(width=lambda f: f - 1)}, False,
     "windows F − 1 wide (i·s:i·s + f − 1)"),
    ("7.1", {}, True, "the solution"),
    ("7.1", {"dweight": [[3, 0], [4, 3]]}, False, "rows and columns swapped"),
    ("7.1", {"dweight": [[3, 2], [2, 3]]}, False, "the gradient convolved with a flip"),
    ("7.1", {"dbias": 2}, False, "the largest gradient, not the sum"),
    ("7.1", {"dbias": 0.75}, False, "the mean, not the sum"),
    ("11.1", {}, True, "the solution"),
    ("11.1", {"pool_shapes": [(16, 16, 32), (8, 8, 64), (4, 4, 128)], "flat_length": 1024},
     False, "4·4·64"),
    ("11.1", {"pool_shapes": [(32, 32, 32), (16, 16, 64), (8, 8, 128)]}, False,
     "the shapes before the pools"),
    ("11.1", {"pool_shapes": [[16, 16, 32], [8, 8, 64], [4, 4, 128]], "flat_length": 2048},
     True, "lists, and the product worked out"),
    ("11.1", {"pool_shapes": [(32, 16, 16), (64, 8, 8), (128, 4, 4)]}, False,
     "channels first"),
    ("11.1", {"flat_length": 128}, False, "only the channels"),
    ("11.1", {"flat_length": 8 * 8 * 128}, False, "one pool too few"),
    ("11.2", {}, True, "the solution"),
    ("11.2", {"biggest_count": 4 * 4 * 128 * 256}, False, "bias forgotten"),
    ("11.2", {"biggest_count": 3 * 3 * 128 * 128 + 128}, False, "the last convolution"),
    ("11.2", {"biggest_count": 524_544}, True, "the number written out"),
    ("11.2", lambda ns: {"biggest_layer": ns["biggest_layer"] + 1}, False, "counted from 1"),
    ("11.2", {"biggest_count": 4 * 4 * 128 * 256 + 256 + 256 * 10 + 10}, False,
     "the whole head, not one layer"),
    ("11.2", {"biggest_count": 4 * 4 * 128 + 256}, False, "inputs plus outputs, not times"),
    ("11.3", {}, True, "the solution"),
    ("11.3", {"my_receptive_field": field_without_jump}, False, "strides ignored"),
    ("11.3", {"my_receptive_field": field_jump_first}, False, "jump updated too early"),
    ("11.3", {"my_receptive_field": field_by_cumprod}, True, "cumulative products"),
    ("11.3", {"my_receptive_field": lambda layers: field_by_cumprod(layers)[-1]}, False,
     "only the last size"),
    ("11.3", {"my_receptive_field": lambda layers: [r - 1 for r in field_by_cumprod(
        layers)]}, False, "starts from 0, not 1"),
    ("11.3", {"my_receptive_field": field_jump_by_filter}, False,
     "jump multiplied by F, not S"),
    ("12.1", {}, True, "the solution"),
    ("12.1", {"reference_head": 4 * 4 * 128 * 256 + 256 * 10}, False, "biases forgotten"),
    ("12.1", {"pooled_head": 128 * 10}, False, "the pooled head's bias forgotten"),
    ("12.1", {"reference_head": 527_114, "pooled_head": 1_290}, True, "written out"),
    ("12.1", {"reference_head": 4 * 4 * 128 * 256 + 256}, False, "the second Linear forgotten"),
    ("12.1", {"pooled_head": 4 * 4 * 128 * 10 + 10}, False,
     "the pooled head fed the flattened 4×4×128"),
    ("12.1", {"reference_head": 4 * 4 * 64 * 256 + 256 + 256 * 10 + 10}, False,
     "64 channels in the last stage"),
    ("12.2", {}, True, "the solution"),
    ("12.2", {"gap_backward": lambda d, shape: np.broadcast_to(
        d[:, None, None, :], shape).copy()}, False, "not divided by H·W"),
    ("12.2", {"gap_forward": lambda x: x.mean(axis=(1, 2, 3))}, False, "channels averaged too"),
    ("12.2", {"gap_backward": lambda d, shape: np.ones(shape) * d[:, None, None, :] / (
        shape[1] * shape[2])}, True, "ones times dout"),
    ("12.2", {"gap_forward": lambda x: x.sum(axis=(1, 2))}, False, "a sum, not a mean"),
    ("12.2", {"gap_forward": lambda x: x.mean(axis=(2, 3))}, False,
     "channels-first axes (2, 3)"),
    ("12.2", {"gap_backward": lambda d, shape: np.broadcast_to(
        d[:, None, None, :] / shape[1], shape).copy()}, False, "divided by H only"),
    ("12.3", {}, True, "the solution"),
    ("12.3", {"to_torch_layout": lambda w: w.transpose(0, 3, 2, 1)}, False,
     "rows and columns swapped"),
    ("12.3", {"to_torch_layout": lambda w: w.reshape(w.shape[0], w.shape[3], 3, 3)}, False,
     "reshape instead of transpose"),
    ("12.3", {"to_torch_layout": lambda w: np.moveaxis(w, -1, 1)}, True, "moveaxis"),
    ("12.3", {"to_torch_layout": lambda w: w.T}, False, "w.T reverses every axis"),
    ("12.3", {"to_torch_layout": lambda w: w[:, ::-1, ::-1, :].transpose(0, 3, 1, 2)}, False,
     "flipped as for a true convolution"),
    ("12.3", {"to_torch_layout": lambda w: w.transpose(3, 0, 1, 2)}, False,
     "channels moved to the front"),
    ("12.4", {}, True, "the solution"),
    ("12.4", {"shape": (16, 16, 64)}, False, "one stride-2 block counted"),
    ("12.4", {"projections": [1, 2, 3]}, False, "every block projects"),
    ("12.4", {"shape": [8, 8, 64], "projections": (3, 1)}, True, "a list and a tuple"),
    ("12.4", {"shape": (32, 32, 64)}, False, "the strides ignored"),
    ("12.4", {"shape": (8, 8, 32)}, False, "the middle block's channels"),
    ("12.4", {"projections": [0, 2]}, False, "counted from 0"),
    ("12.4", {"projections": [3]}, False, "only the last block"),
    ("A.1", {}, True, "the solution"),
    ("A.1", {"answer": 64 * 32 * 32 * 3 * 3 * 32}, False, "the filters forgotten"),
    ("A.1", {"answer": 64 * 30 * 30 * 3 * 3 * 32 * 32}, False, "no padding"),
    ("A.1", {"answer": 603_979_776}, True, "written out"),
    ("A.1", {"answer": 2 * 64 * 32 * 32 * 3 * 3 * 32 * 32}, False,
     "flops (a multiply and an add), not multiply-adds"),
    ("A.1", {"answer": 32 * 32 * 3 * 3 * 32 * 32}, False, "one image: the batch forgotten"),
    ("A.1", {"answer": 64 * 34 * 34 * 3 * 3 * 32 * 32}, False,
     "the padded size taken for the output"),
    ("A.2", {}, True, "the solution"),
    ("A.2", {"ratio_3x3": 3}, False, "F, not F·F"),
    ("A.2", {"ratio_3x3": 1}, False, "a view, not a copy"),
    ("A.2", {"ratio_3x3": 9.0}, True, "9.0"),
    ("A.2", {"ratio_3x3": 3 * 3 * 16}, False, "the channels multiplied in too"),
    ("A.2", {"ratio_3x3": 1 / 9}, False, "input over windows"),
    ("A.2", {"ratio_3x3": 8}, False, "the extra copies only: F·F − 1"),
    ("A.3", {}, True, "the solution"),
    ("A.3", {"my_window_view": window_view_with(inner_stride=True)}, False,
     "the stride inside a window"),
    ("A.3", {"my_window_view": lambda x, f, s: np.lib.stride_tricks.sliding_window_view(
        x, (f, f), axis=(1, 2))[:, ::s, ::s].transpose(0, 1, 2, 4, 5, 3)}, True,
     "sliding_window_view, strided and transposed"),
    ("A.3", {"my_window_view": lambda x, f, s: window_view_with(False, swap_inner=True)(
        x, f, s)}, False, "rows and columns inside a window swapped"),
    ("A.3", {"my_window_view": lambda x, f, s: window_view_with(False, plus_one=False)(
        x, f, s)}, False, "the + 1 of the output size forgotten"),
    ("A.3", {"my_window_view": lambda x, f, s: window_view_with(False, channels_first=True)(
        x, f, s)}, False, "(N, H2, W2, C, F, F): channels before the offsets"),
    ("A.3", {"my_window_view": lambda x, f, s: np.ascontiguousarray(
        window_view_with(False)(x, f, s))}, False, "a copy"),
    ("A.4", {}, True, "the solution"),
    ("A.4", {"conv2d_chunked": lambda x, w, b, padding, chunk: conv2d(
        x[:chunk], w, b, padding=padding)}, False, "only the first chunk"),
    ("A.4", {"conv2d_chunked": lambda x, w, b, padding, chunk: np.concatenate([conv2d(
        x[i:i + chunk], w, b, padding=padding) for i in range(0, len(x), chunk)])}, True,
     "conv2d on each chunk, concatenated"),
    ("A.4", {"conv2d_chunked": chunked_with(drop_rest=True)}, False,
     "the last, shorter chunk dropped"),
    ("A.4", {"conv2d_chunked": chunked_with(weights_transposed=False)}, False,
     "weight.reshape(-1, K): no transpose"),
    ("A.4", {"conv2d_chunked": chunked_with(pad=False)}, False, "the chunks not padded"),
    ("11.4", {}, True, "the solution"),
    ("11.4", lambda ns: unit_with(ns, pad_first=True), False, "padded before standardizing"),
    ("11.4", lambda ns: unit_with(ns, relu=False), False, "the ReLU forgotten"),
    ("11.4", lambda ns: unit_with(ns, shift=False), False, "batch norm's shift forgotten"),
    ("12.6", {}, True, "the solution"),
    ("12.6", {"err": 0.0}, False, "typed, not run"),
    ("12.6", {"err": 0.02}, False, "a float32 check"),
    ("12.6", {"err": "1e-10"}, False, "a string"),
    ("5.1", {}, True, "the solution"),
    ("5.1", {"avg_answer": [[10, 8], [9, 7]]}, False, "sums instead of means"),
    ("5.1", {"max_answer": [[4, 6], [5, 3]]}, False, "windows read column by column"),
    ("5.1", {"avg_answer": [[2.5, 2.0], [2.25, 1.75]]}, True, "decimals"),
    ("5.1", {"avg_answer": [[2, 2], [2, 1]]}, False, "averages floored"),
    ("5.1", {"avg_answer": [[5, 4], [4.5, 3.5]]}, False, "divided by 2, the window's side"),
    ("5.1", {"max_answer": [[4, 3, 5], [4, 3, 5], [6, 6, 3]]}, False, "stride 1: 3×3"),
    ("5.2", {}, True, "the solution"),
    ("5.2", {"shape_3x3": (16, 14, 14, 64)}, False, "3x3 windows counted as (31 - 3)/2"),
    ("5.2", {"shape_3x3": (16, 16, 16, 64)}, False, "the 2x2 answer copied"),
    ("5.2", {"shape_2x2": (16, 16, 16, 1)}, False, "depth lost"),
    ("5.3", {}, True, "the solution"),
    ("5.3", {"max_pool_backward_loops": lambda x, d, f, s: max_pool_backward(
        x, d, f, s, overwrite=True)}, False, "= instead of += where windows overlap"),
    ("5.3", {"max_pool_backward_loops": lambda x, d, f, s: max_pool_backward(
        x, d, f, s, last_max=True)}, False, "the last maximum takes a tie"),
    ("5.3", {"max_pool_backward_loops": lambda x, d, f, s: max_pool_backward(
        x, d, f, s, stride=False)}, False, "the stride forgotten"),
    ("5.4", {}, True, "the solution"),
    ("5.4", {"MinPool2D": min_pool_with(backward_sign=-1)}, False, "a sign in backward"),
    ("5.4", {"MinPool2D": min_pool_with(forward_sign=1)}, False, "max, not min"),
    ("5.4", {"MinPool2D": min_pool_with(negate_input=False)}, False,
     "-maxpool(x): the input not negated"),
    ("5.4", {"MinPool2D": min_pool_with(pass_stride=False)}, False,
     "the stride not handed on"),
    ("5.4", {"MinPool2D": min_pool_with(backward_sign=-1, negate_input=False)}, False,
     "-maxpool(x), its backward negated too"),
    ("5.5", {"answer": 10}, True, "ten pixels"),
    ("5.5", {"answer": 8}, False, "stops at the first conv's output"),
    ("5.5", {"answer": 12}, False, "adds 3 + 2 + 3 + 2 + 2"),
    ("5.5", {"answer": 10.0}, True, "10.0"),
    ("5.5", {"answer": 7}, False, "strides ignored: 1 + 2 + 1 + 2 + 1"),
    ("5.5", {"answer": 13}, False, "each layer's own stride counted too early"),
    ("5.5", {"answer": 36}, False, "the filter sizes multiplied"),
    ("6.1", {"conv_params": 608, "local_params": 119_168, "dense_params": 4_522_112}, True,
     "the counts"),
    ("6.1", {"conv_params": 600, "local_params": 117_600, "dense_params": 4_520_544}, False,
     "biases forgotten"),
    ("6.1", {"conv_params": 608, "local_params": 27 * 27 * 8 * 76,
             "dense_params": 31 * 31 * 3 * 27 * 27 * 8 + 27 * 27 * 8}, False,
     "stride ignored (27×27 outputs)"),
    ("6.1", {"conv_params": 608, "local_params": 8 * 76 * 196, "dense_params": 4_520_544},
     False, "dense biases forgotten"),
    ("7.2", {}, True, "the solution"),
    ("7.2", {"conv_weight_grad": weight_grad_by_windows}, False, "extract_windows"),
    ("7.2", {"conv_weight_grad": weight_grad_not_transposed_back}, False,
     "not transposed back"),
    ("7.2", {"conv_weight_grad": weight_grad_rows_and_columns_swapped}, False,
     "rows and columns swapped"),
    ("7.2", {"conv_weight_grad": weight_grad_first_image_only}, False, "no sum over the batch"),
    ("9.2", {"in_features": 288, "n_params": 2890}, True, "the counts"),
    ("9.2", {"in_features": 288, "n_params": 2880}, False, "biases forgotten"),
    ("9.2", {"in_features": 250, "n_params": 2510}, False, "the page's 5×5×10"),
    ("9.2", {"in_features": 16, "n_params": 170}, False, "only the channels"),
    ("9.3", {}, True, "the solution"),
    ("9.3", {"linear_backward_torch_layout": linear_backward_cnnlib_layout}, False, "copied from the page"),
    ("9.3", {"linear_backward_torch_layout": linear_backward_db_not_summed}, False, "mean instead of sum"),
    ("9.3", {"linear_backward_torch_layout": linear_backward_dx_transposed}, False, "rows of W reversed"),
    ("9.3", {"linear_backward_torch_layout": lambda x, w, dout: (dout @ w, dout.T @ x)}, False, "no db"),
    ("1.2", {}, True, "the solution"),
    ("1.2", {"images_to_rows": lambda images: np.moveaxis(images, -1, 1).reshape(
        len(images), -1)}, True, "moveaxis"),
    ("1.2", {"images_to_rows": rows_by_a_loop}, False, "a Python loop"),
    ("1.2", {"images_to_rows": rows_without_the_transpose}, False, "no transpose"),
    ("1.2", {"images_to_rows": rows_with_the_wrong_transpose}, False, "rows and columns swapped"),
    ("3.4", {}, True, "the solution"),
    ("3.4", {"dilated_conv2d": dilated_by_positions}, False, "a loop over positions"),
    ("3.4", {"dilated_conv2d": dilated_without_the_gaps}, False, "dilation ignored"),
    ("3.4", {"dilated_conv2d": dilated_by_taps}, True, "one slice per tap, no spread filter"),
    ("3.4", {"dilated_conv2d": lambda x, w, d: conv2d(x, w, stride=d)}, False,
     "dilation taken for the stride"),
    ("3.4", {"dilated_conv2d": lambda x, w, d: conv2d(x, np.repeat(np.repeat(
        w, d, axis=1), d, axis=2))}, False, "the filter stretched, no zeros in between"),
    ("3.4", {"dilated_conv2d": dilated_span_off_by_one}, False, "span d·F, not d(F − 1) + 1"),
    ("3.5", {}, True, "the solution"),
    ("3.5", {"window_matrix": windows_by_positions}, False, "a loop over positions"),
    ("3.5", {"window_matrix": windows_by_the_library}, False, "calls extract_windows"),
    ("3.5", {"window_matrix": windows_with_offsets_swapped}, False, "offsets swapped"),
    ("4.1", {"answer": [55, 28, 4, 16, 64]}, True, "floored"),
    ("4.1", {"answer": [55.0, 28.0, 4.0, 16.0, 64.0]}, True, "the right sizes as floats"),
    ("4.1", {"answer": [55.0, 28.0, 4.0, 16.5, 64.0]}, False, "plain division, no floor"),
    ("4.1", {"answer": [55, 28, 4, 17, 64]}, False, "rounded up or to nearest"),
    ("4.1", {"answer": [54, 27, 3, 15, 63]}, False, "forgets the + 1"),
    ("4.1", {"answer": [55, 24, 3, 15, 64]}, False, "forgets the padding"),
    ("4.3", {"count_positions": positions_loop}, True, "a loop"),
    ("4.3", {"count_positions": lambda w, f, s, p: (w - f + 2 * p) // s + 1}, True,
     "the floor formula"),
    ("4.3", {"count_positions": lambda w, f, s, p: (w - f + 2 * p) / s + 1}, False,
     "plain division"),
    ("4.3", {"count_positions": positions_loop_off_by_one}, False, "< instead of <="),
    ("4.3", {"count_positions": lambda w, f, s, p: positions_loop(w, f, s, 0)}, False,
     "forgets the padding"),
    ("2.2", {"dL_dw": DL_DZ * 0.5, "dL_db": DL_DZ}, True, "the chain rule"),
    ("2.2", {"dL_dw": round(DL_DZ * 0.5, 7), "dL_db": round(DL_DZ, 7)}, True, "rounded"),
    ("2.2", {"dL_dw": DL_DZ / 0.5, "dL_db": DL_DZ}, False, "divides by x"),
    ("2.2", {"dL_dw": DL_DZ, "dL_db": DL_DZ}, False, "forgets the factor x"),
    ("2.2", {"dL_dw": DL_DZ * 3, "dL_db": DL_DZ}, False, "multiplies by w instead of x"),
    ("2.2", {"dL_dw": -DL_DZ * 0.5, "dL_db": -DL_DZ}, False, "sign of the loss's slope"),
    ("2.3", {"lr_max": 1 / 3}, True, "exact"),
    ("2.3", {"lr_max": 0.33}, True, "rounded to two digits"),
    ("2.3", {"lr_max": 0.333}, True, "rounded to three digits"),
    ("2.3", {"lr_max": 1 / 6}, False, "the one-step rate, not the largest"),
    ("2.3", {"lr_max": 2 / 3}, False, "|1 − 6η| < 2"),
    ("2.3", {"lr_max": 0.3}, False, "too cautious"),
    ("2.3", {"lr_max": 1.0}, False, "unit step"),
]


@pytest.mark.parametrize(("label", "answers", "right", "why"), CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_check_tells_right_from_wrong(label, answers, right, why, monkeypatch):
    monkeypatch.setenv("CNNLIB_EPOCHS", "1")  # Exercise 10.8 trains: briefly, as `make test`
    monkeypatch.setenv("CNNLIB_TRAIN_SUBSET", "300")
    chapter = REPO_ROOT / "chapters" / CHAPTERS[label.split(".")[0]]
    monkeypatch.chdir(chapter.parent)
    section = exercise_section(chapter)
    namespace: dict = {"__name__": "__exercises__"}
    for cell in section.setup:
        if cell["cell_type"] == "code":
            run_cell(cell, namespace, "setup")
    (exercise,) = [e for e in section.exercises if e.label == label]
    for cell in exercise.of("exercise-stub") + exercise.of("exercise-solution"):
        if cell["cell_type"] == "code":  # a build-track solution is a file, shown as prose
            run_cell(cell, namespace, f"stub and solution {label}")  # stubs define the inputs
    namespace.update(answers(namespace) if callable(answers) else answers)
    err = failure_of(exercise.of("exercise-check")[0], namespace, f"check {label}")
    if right:
        assert err is None, f"{why}: a right answer fails: {err}"
    else:
        assert err is not None, f"{why}: a wrong answer passes"
        assert str(err).startswith(f"Exercise {label}: "), err
