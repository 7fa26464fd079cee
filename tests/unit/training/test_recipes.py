"""Recipes by name: book50 is the chapter's defaults on the reference network, fast the
fast network with its own settings; unknown names and bad settings are refused."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib.nn.models import reference_network
from cnnlib.nn.normalization import channel_stats
from cnnlib.training import TrainConfig
from cnnlib.training.recipes import DEFAULT_RECIPE, RECIPES, recipe


def images(n: int = 16) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def test_book50_is_the_reference_network_with_the_default_settings():
    book = recipe("book50")
    assert book.config == TrainConfig() and book.config.epochs == 50
    x = images()
    mean, std = channel_stats(x)
    ours = book.network(x, seed=3)
    theirs = reference_network(3, mean=mean, std=std)
    assert repr(ours) == repr(theirs)
    for key, value in theirs.params.items():
        np.testing.assert_array_equal(ours.params[key], value)


def test_fast_is_twelve_epochs_with_label_smoothing_and_a_whitened_stem():
    fast = recipe("fast")
    assert (fast.config.epochs, fast.config.label_smoothing) == (12, 0.2)
    x = images()
    model = fast.network(x)
    stem = model.layers[1]
    assert stem.params["weight"].shape == (24, 3, 3, 3) and not stem.params["bias"].any()
    np.testing.assert_array_equal(stem.params["weight"][12:], -stem.params["weight"][:12])


def test_with_settings_changes_one_setting_and_checks_it():
    assert recipe("fast").with_settings(epochs=3).config.epochs == 3
    assert recipe("fast").config.epochs == 12  # the registered recipe is unchanged
    with pytest.raises(ValueError, match="epochs = 0"):
        recipe("fast").with_settings(epochs=0)


def test_unknown_recipe_names_the_known_ones():
    with pytest.raises(ValueError,
                       match=r"recipe = 'quick' must be one of \['book50', 'fast', 'fast12', "
                             r"'fast16'\]"):
        recipe("quick")
    assert sorted(RECIPES) == ["book50", "fast", "fast12", "fast16"]


def test_fast16_is_fast_with_two_tricks_for_16_epochs():
    fast16 = recipe("fast16")
    assert fast16.config == recipe("fast").with_tricks(
        "ema", "alternating_flip").with_settings(epochs=16).config
    assert fast16.config.test_flip and fast16.config.test_shift == 0  # one view and its mirror
    assert fast16.build is recipe("fast").build


def test_fast12_is_fast16_in_12_epochs_with_smaller_shifts_and_a_larger_step():
    fast12 = recipe("fast12")
    assert fast12.config == recipe("fast16").with_settings(epochs=12, crop_padding=2,
                                                           lr=0.1).config
    assert recipe("fast16").config.crop_padding == 4 and recipe("fast16").config.lr == 0.05
    assert fast12.build is recipe("fast").build


def test_the_command_lines_default_is_the_reference_network_of_the_contract():
    # DESIGN.md: `python -m cnnlib.train` "trains the book's reference network".
    assert DEFAULT_RECIPE == "book50" and recipe(DEFAULT_RECIPE).config == TrainConfig()
    assert recipe(DEFAULT_RECIPE).network_name == "the reference network"


def test_tricks_switch_on_their_settings_and_leave_the_recipes_alone():
    fast = recipe("fast")
    assert (fast.config.ema_decay, fast.config.test_shift, fast.config.alternating_flip) == (
        0.0, 0, False)
    tricked = fast.with_tricks("ema", "shift_tta", "alternating_flip")
    assert (tricked.config.ema_decay, tricked.config.test_shift,
            tricked.config.alternating_flip) == (0.99, 2, True)
    assert tricked.config.epochs == 12 and tricked.config.label_smoothing == 0.2
    assert recipe("fast").with_tricks("ema").config.test_shift == 0
    assert recipe("book50").config == TrainConfig()  # the book's recipe is untouched
    with pytest.raises(ValueError, match=r"trick = 'swa' must be one of \['alternating_flip'"):
        fast.with_tricks("swa")
