"""The kernel-free pages' glue (cnnlib.book.pages)."""

from __future__ import annotations

import json
import re

import pytest

from cnnlib.book import pages
from cnnlib.book.palette import css_variables


def test_script_json_cannot_end_its_script_tag():
    text = pages.script_json({"a": "</script><!--&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!--&"}


def test_element_id_keeps_a_good_id_and_makes_fresh_ones():
    assert pages.element_id("net-1", "cnnn") == "net-1"
    a, b = pages.element_id(None, "cnnx"), pages.element_id(None, "cnnx")
    assert a != b and re.fullmatch(r"cnnx-[0-9a-f]{12}", a)


@pytest.mark.parametrize("bad", ["1x", "a b", 'a"', "", 5])
def test_element_id_refuses_what_html_cannot_hold(bad):
    with pytest.raises(ValueError, match="element_id"):
        pages.element_id(bad, "x") if bad != "" else pages.element_id("-", "x")


def test_fragment_sets_the_palette_inlines_css_and_scripts_in_order_and_starts_once():
    out = pages.fragment("cnnp", "p-1", "<b>body</b>", css="player.css",
                         scripts=["player.js", "explorer.js"], start="cnnlibPlayer",
                         attributes='data-x="1"')
    assert out.startswith(f'<div class="cnnp" id="p-1" style="{css_variables()}" data-x="1">')
    assert pages.static("player.css") in out and "<b>body</b>" in out
    assert out.index("function cnnlibPlayer") < out.index("function cnnlibConvExplorer")
    assert out.count('cnnlibPlayer(document.getElementById("p-1"))') == 1
    assert out.index("</div>\n<script>") > out.index("<b>body</b>")


def test_page_is_a_whole_document_with_an_escaped_title():
    doc = pages.page("a < b", "<p>x</p>")
    assert doc.startswith("<!DOCTYPE html>") and "<title>a &lt; b</title>" in doc
    assert "<p>x</p>" in doc and doc.rstrip().endswith("</html>")
