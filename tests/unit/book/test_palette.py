"""One palette (cnnlib.book.palette): every figure, widget, animation and page uses it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from cnnlib.book import palette
from cnnlib.book.palette import css_variables, light

BOOK = REPO_ROOT / "cnnlib" / "book"
HEX = re.compile(r"#[0-9A-Fa-f]{6}\b|#[0-9A-Fa-f]{3}\b")


def test_light_mixes_with_white():
    assert light("#000000", 0.5) == "#808080"
    assert light("#4C72B0", 0) == "#4C72B0" and light("#4C72B0", 1) == "#FFFFFF"
    assert light(palette.INPUT) == "#DBE3EF"  # 80 % white, the default


@pytest.mark.parametrize("color, amount", [("blue", 0.5), ("#12345", 0.5), ("#4C72B0", 1.5)])
def test_light_refuses_what_is_not_a_colour_or_a_fraction(color, amount):
    with pytest.raises(ValueError, match="color|amount"):
        light(color, amount)


def test_css_variables_name_every_role_and_its_light_version():
    pairs = dict(item.split(":") for item in css_variables().split(";"))
    for name, value in palette.ROLES.items():
        assert pairs[f"--cnn-{name}"] == value
        assert pairs[f"--cnn-{name}-light"] == light(value)


def _python_sources() -> list[Path]:
    return sorted(p for p in BOOK.glob("*.py") if p.name != "palette.py")


@pytest.mark.parametrize("module", _python_sources(), ids=lambda p: p.name)
def test_no_figure_module_has_a_colour_of_its_own(module):
    text = module.read_text()
    strings = re.findall(r"""["'](#[0-9A-Fa-f]{3,6}|tab:\w+|C\d)["']""", text)
    assert not strings, f"{module.name} names colours {strings}: take them from palette.py"


def _is_grey(hex_colour: str) -> bool:
    digits = hex_colour[1:]
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    rgb = [int(digits[i:i + 2], 16) for i in (0, 2, 4)]
    return max(rgb) - min(rgb) <= 24


@pytest.mark.parametrize("static", sorted((BOOK / "static").iterdir()), ids=lambda p: p.name)
def test_the_pages_colour_roles_only_through_the_palettes_properties(static):
    text = static.read_text()
    coloured = [c for c in HEX.findall(text) if not _is_grey(c)]
    assert not coloured, f"{static.name} has colours {coloured}: use var(--cnn-...)"
    known = {item.split(":")[0] for item in css_variables().split(";")}
    used = set(re.findall(r"--cnn-[a-z-]+", text))
    assert used <= known, f"{static.name} uses undefined {sorted(used - known)}"


def test_the_grey_rule_tells_greys_from_colours():
    assert _is_grey("#1f2328") and _is_grey("#ccc")
    assert not _is_grey("#e8590c") and not _is_grey("#2b8a3e") and not _is_grey("#f6c6c0")


def test_the_kernel_free_explorer_needs_no_ipywidgets():
    """conv_explorer_html used to import the ipywidgets explorer for its colours."""
    program = (REPO_ROOT / "tests" / "unit" / "book" / "block_ipywidgets.py").read_text()
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         cwd=REPO_ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "explorer written without ipywidgets" in run.stdout
