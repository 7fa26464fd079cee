"""cnnlib.book.conv_explorer_html without a browser: the table it embeds says exactly what
cnnlib.book.geometry / cnnlib.core.shapes say, and the fragment is self-contained.

What the page does with the table in a real browser is tested in tests/test_browser.py.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from cnnlib.book.conv_explorer_html import (
    _decode_text,
    _encode_text,
    _fold_constants,
    _pack,
    _unpack,
    conv_explorer_data,
    conv_explorer_html,
    conv_explorer_page,
    lookup,
    main,
)
from cnnlib.book.geometry import EXPLORER_RANGES, describe_conv
from cnnlib.core.shapes import conv_output_size

ALL_SETTINGS = [(w, f, s, p)
                for w in range(EXPLORER_RANGES["w"][0], EXPLORER_RANGES["w"][1] + 1)
                for f in range(EXPLORER_RANGES["f"][0], EXPLORER_RANGES["f"][1] + 1)
                for s in range(EXPLORER_RANGES["s"][0], EXPLORER_RANGES["s"][1] + 1)
                for p in range(EXPLORER_RANGES["p"][0], EXPLORER_RANGES["p"][1] + 1)]


@pytest.fixture(scope="module")
def data() -> dict:
    return conv_explorer_data()


class Inputs(HTMLParser):
    """Collects <input> attributes, every src/href, and the JSON table of a fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict] = {}
        self.links: list[str] = []
        self.roots: list[str] = []
        self.table_json = ""
        self._in_table = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input":
            self.inputs[attrs["name"]] = attrs
        if attrs.get("class") == "cnnx":
            self.roots.append(attrs["id"])
        self.links += [attrs[a] for a in ("src", "href", "action", "data") if a in attrs]
        self._in_table = tag == "script" and attrs.get("data-cnnx") == "table"

    def handle_endtag(self, tag):
        self._in_table = False

    def handle_data(self, text):
        if self._in_table:
            self.table_json += text


def parse(fragment: str) -> Inputs:
    parser = Inputs()
    parser.feed(fragment)
    return parser


def test_table_has_one_row_per_slider_setting(data):
    assert len(data["rows"]) == len(ALL_SETTINGS) == 16 * 7 * 4 * 4


def test_lookup_gives_back_describe_conv_for_every_setting(data):
    for w, f, s, p in ALL_SETTINGS:
        info = describe_conv(w, f, s, p)
        got = lookup(data, w, f, s, p)
        positions = info["output_size"] if info["ok"] else len(info["fitting_starts"])
        assert got == {"ok": info["ok"], "positions": positions, "formula": info["formula"],
                       "error": info["error"]}, (w, f, s, p)


@pytest.mark.parametrize("w, f, s, p", [(9, 2, 4, 0), (6, 3, 2, 0), (2, 5, 1, 1), (16, 6, 4, 0)])
def test_invalid_setting_carries_the_conv_output_size_message(data, w, f, s, p):
    with pytest.raises(ValueError) as err:
        conv_output_size(w, f, s, p)
    assert lookup(data, w, f, s, p)["error"] == str(err.value)


def test_worked_example_of_the_source_article_is_3_by_3(data):
    assert lookup(data, 5, 3, 2, 1) == {"ok": True, "positions": 3, "error": None,
                                         "formula": "W₂ = (5 − 3 + 2·1)/2 + 1 = 3"}


@pytest.mark.parametrize("text", ["P = 0, then 10 and 105", "007 x", "no numbers", "0", "",
                                  "W₂ = (9 − 1 + 2·0)/2 + 1 = 5", "−3/4"])
def test_text_encoding_is_lossless(text):
    templates: dict[str, int] = {}
    row = _encode_text(text, templates)
    assert _decode_text(list(templates), row, 0) == (text, len(row))


def test_text_encoding_keeps_none():
    assert _decode_text([], _encode_text(None, {}), 0) == (None, 1)


def test_text_encoding_rejects_the_placeholder_character():
    with pytest.raises(ValueError, match="NUL"):
        _encode_text("a\x00b", {})


@pytest.mark.parametrize("w, f, s, p", [(0, 3, 1, 0), (17, 3, 1, 0), (5, 8, 1, 0), (5, 3, 5, 0),
                                        (5, 3, 1, 4)])
def test_lookup_rejects_settings_outside_the_sliders(data, w, f, s, p):
    with pytest.raises(ValueError, match="outside the explorer's range"):
        lookup(data, w, f, s, p)


def test_fragment_embeds_the_table(data):
    assert json.loads(parse(conv_explorer_html()).table_json) == data


def test_fragment_sliders_span_the_explorer_ranges():
    inputs = parse(conv_explorer_html()).inputs
    for name, (lo, hi) in EXPLORER_RANGES.items():
        assert (inputs[name]["type"], inputs[name]["min"], inputs[name]["max"]) == \
            ("range", str(lo), str(hi)), name
    assert inputs["step"]["min"] == "0"


def test_fragment_starts_at_the_given_values():
    inputs = parse(conv_explorer_html(w=9, f=5, s=2, p=0, k=4, step=3)).inputs
    assert {n: inputs[n]["value"] for n in "wfspk"} == \
        {"w": "9", "f": "5", "s": "2", "p": "0", "k": "4"}
    assert 'data-cnnx-step="3"' in conv_explorer_html(step=3)


def test_fragment_defaults_to_the_worked_example():
    inputs = parse(conv_explorer_html()).inputs
    assert {n: inputs[n]["value"] for n in "wfspk"} == \
        {"w": "5", "f": "3", "s": "2", "p": "1", "k": "2"}


def test_fragment_loads_nothing_from_anywhere():
    fragment = conv_explorer_html()
    parsed = parse(fragment)
    assert parsed.links == [], "the explorer must not load files: it is inlined"
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", fragment))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls  # the SVG namespace is no request


def test_fragment_is_small():
    assert len(conv_explorer_html().encode()) < 120_000


def test_each_fragment_gets_its_own_root_id():
    first, second = parse(conv_explorer_html()).roots, parse(conv_explorer_html()).roots
    assert len(first) == len(second) == 1 and first != second


def test_element_id_names_the_root():
    fragment = conv_explorer_html(element_id="ch3-explorer")
    assert parse(fragment).roots == ["ch3-explorer"]
    assert 'document.getElementById("ch3-explorer")' in fragment


@pytest.mark.parametrize("bad", ['x" onload="alert(1)', "1abc", "", "a b"])
def test_element_id_must_be_a_plain_name(bad):
    with pytest.raises(ValueError, match="element_id"):
        conv_explorer_html(element_id=bad or "-")


@pytest.mark.parametrize("kwargs, message", [
    ({"w": 0}, r"Input size W = 0 must be an integer from 1 to 16"),
    ({"w": 17}, r"Input size W = 17 must be an integer from 1 to 16"),
    ({"f": 8}, r"Filter size F = 8 must be an integer from 1 to 7"),
    ({"s": 0}, r"Stride S = 0 must be an integer from 1 to 4"),
    ({"p": 4}, r"Padding P = 4 must be an integer from 0 to 3"),
    ({"k": 5}, r"Filters K = 5 must be an integer from 1 to 4"),
    ({"w": 5.0}, r"Input size W = 5.0 must be an integer"),
    ({"k": True}, r"Filters K = True must be an integer"),
    ({"step": -1}, r"step = -1 must be an integer >= 0"),
])
def test_fragment_rejects_values_outside_the_sliders(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message).replace(r"\ ", " ")):
        conv_explorer_html(**kwargs)


def test_invalid_starting_setting_is_allowed():
    assert 'value="4"' in conv_explorer_html(w=7, f=2, s=4, p=0)  # the page explains it


def test_page_is_a_whole_document():
    page = conv_explorer_page(title="T <1>")
    assert page.startswith("<!DOCTYPE html>") and "<title>T &lt;1&gt;</title>" in page
    assert page.rstrip().endswith("</html>") and 'class="cnnx"' in page


def test_main_writes_the_standalone_page(tmp_path, capsys):
    out = tmp_path / "explorer.html"
    assert main([str(out)]) == 0
    assert 'class="cnnx"' in out.read_text(encoding="utf-8")
    assert str(out) in capsys.readouterr().out


# ------------------------------------------------------------------ dilation (issue 26 §5)

DILATIONS = range(EXPLORER_RANGES["d"][0], EXPLORER_RANGES["d"][1] + 1)


def test_lookup_gives_back_describe_conv_for_every_setting_and_dilation(data):
    assert list(DILATIONS) == [1, 2, 3]
    for w, f, s, p in ALL_SETTINGS:
        for d in DILATIONS:
            info = describe_conv(w, f, s, p, dilation=d)
            positions = info["output_size"] if info["ok"] else len(info["fitting_starts"])
            assert lookup(data, w, f, s, p, d) == {
                "ok": info["ok"], "positions": positions, "formula": info["formula"],
                "error": info["error"]}, (w, f, s, p, d)


def test_table_agrees_with_conv_output_size_for_every_setting_and_dilation(data):
    refused = 0
    for w, f, s, p in ALL_SETTINGS:
        for d in DILATIONS:
            got = lookup(data, w, f, s, p, d)
            try:
                size = conv_output_size(w, f, s, p, dilation=d)
            except ValueError as err:
                refused += 1
                assert not got["ok"] and got["error"] == str(err), (w, f, s, p, d)
                continue
            assert got["ok"] and got["positions"] == size and got["error"] is None
    assert 0 < refused < len(ALL_SETTINGS) * 3


def test_dilated_formula_has_the_readers_numbers(data):
    assert lookup(data, 7, 3, 2, 1, 2)["formula"] == "W₂ = (7 + 2·1 − 2·(3 − 1) − 1)/2 + 1 = 3"
    assert lookup(data, 7, 3, 2, 1, 1) == lookup(data, 7, 3, 2, 1)


@pytest.mark.parametrize("d", [0, 4])
def test_lookup_rejects_a_dilation_outside_the_slider(data, d):
    with pytest.raises(ValueError, match=f"d = {d} is outside the explorer's range 1 ... 3"):
        lookup(data, 5, 3, 1, 0, d)


def test_rows_are_packed_one_character_per_number():
    assert _unpack(_pack([-1, 0, 5, 62])) == [-1, 0, 5, 62]
    assert _pack([-1, 0, 1]) == "?@A"
    with pytest.raises(ValueError, match="number 63 cannot be packed"):
        _pack([63])
    with pytest.raises(ValueError, match="number -2 cannot be packed"):
        _pack([-2])


def test_fold_constants_keeps_texts_and_drops_the_numbers_every_row_shares():
    texts = ["2P = 4, S = 3", "2P = 6, S = 3", None]
    templates: dict[str, int] = {}
    rows = [[[1], [2], _encode_text(texts[0], templates), _encode_text(texts[2], templates)],
            [[0], [5], _encode_text(texts[1], templates), _encode_text(texts[2], templates)]]
    folded, packed = _fold_constants(list(templates), rows)
    assert folded == ["2P = \x00, S = 3"]  # the 2 and the 3 are the same in every row
    assert packed == [[[1], [2], [0, 4], [-1]], [[0], [5], [0, 6], [-1]]]
    for row, text in zip(packed, texts, strict=False):
        assert _decode_text(folded, row[2], 0) == (text, 2)


def test_fragment_has_a_dilation_slider_and_starts_at_d():
    inputs = parse(conv_explorer_html(d=2)).inputs
    assert (inputs["d"]["min"], inputs["d"]["max"], inputs["d"]["value"]) == ("1", "3", "2")
    assert parse(conv_explorer_html()).inputs["d"]["value"] == "1"
    with pytest.raises(ValueError, match="Dilation d = 4 must be an integer from 1 to 3"):
        conv_explorer_html(d=4)
