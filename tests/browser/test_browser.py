"""The rendered book in a real browser (headless Chromium), as a reader meets it, offline.

For every page in _toc.yml (plus search and the index): no JavaScript console errors, no
request that leaves the machine, every formula typeset by MathJax, every image shown, and
previous/next links that land on the neighboring pages. The search page finds
"convolution". The static stride/padding explorer (cnnlib.book.conv_explorer_html) is driven by its
sliders, standalone and inside chapter 4. The checkers themselves are run against
deliberately broken pages, to show they can fail.

Which book: $CNNLIB_BOOK_DIR (a built HTML folder, e.g. _build/html after `make book`)
when set, else the session's strict test build (conftest `built_book`, into _build/test),
which `make test` runs anyway. Needs Debian's chromium + chromium-driver; skips (loudly)
only when they are not installed. Set CNNLIB_REQUIRE_BROWSER=1 to make that a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from browser_helpers import (
    broken_images,
    chromium,
    console_errors,
    drain_logs,
    file_url,
    follow_link,
    load,
    math_problems,
    math_report,
    outside_requests,
    page_problems,
    prev_next_problems,
    read_explorer,
    require_chromium,
    search_results,
    set_sliders,
)
from conftest import REPO_ROOT, toc_pages

from cnnlib.book.conv_explorer_html import conv_explorer_html, conv_explorer_page
from cnnlib.book.geometry import EXPLORER_RANGES, conv_geometry, describe_conv, explorer_settings
from cnnlib.core.shapes import conv_output_size

pytestmark = pytest.mark.book

TOC_PAGES = toc_pages(yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8")))
CHAPTER_4 = next((p for p in TOC_PAGES if p.endswith("04_output_dimensions")), None)
# The pages a reader reaches that are not chapters.
EXTRA_PAGES = ["search", "genindex"]


# ------------------------------------------------------------------------------ fixtures

@pytest.fixture(scope="session")
def browser():
    require_chromium()
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="session")
def page_reports(browser, book_html):
    """Checks of each page, run once per page and shared by the tests below."""
    cache: dict[str, dict] = {}

    def report(page: str) -> dict:
        if page not in cache:
            html = book_html / f"{page}.html"
            assert html.is_file(), f"{page} is in _toc.yml but {html} was not built"
            drain_logs(browser)
            load(browser, file_url(html))
            cache[page] = {
                "console": console_errors(browser),
                "outside": outside_requests(browser),
                "math": math_problems(browser),
                "math_report": math_report(browser),
                "images": broken_images(browser),
                "has_math_source": 'class="math' in html.read_text(encoding="utf-8"),
            }
        return cache[page]

    return report


def page_ids(pages):
    return [p.replace("/", ":") for p in pages]


# ----------------------------------------------------------------- every page of the book

ALL_PAGES = [*TOC_PAGES, *EXTRA_PAGES]


@pytest.mark.parametrize("page", ALL_PAGES, ids=page_ids(ALL_PAGES))
def test_page_logs_no_console_errors(page_reports, page):
    errors = page_reports(page)["console"]
    assert not errors, f"{page}.html: JavaScript console errors:\n" + "\n".join(errors)


@pytest.mark.parametrize("page", ALL_PAGES, ids=page_ids(ALL_PAGES))
def test_page_requests_only_local_files(page_reports, page):
    outside = page_reports(page)["outside"]
    assert not outside, f"{page}.html reaches outside the book (it must work offline):\n" + \
        "\n".join(outside)


@pytest.mark.parametrize("page", ALL_PAGES, ids=page_ids(ALL_PAGES))
def test_page_math_is_typeset(page_reports, page):
    report = page_reports(page)
    assert not report["math"], f"{page}.html: math a reader sees as raw TeX:\n" + \
        "\n".join(report["math"])
    if report["has_math_source"]:
        assert report["math_report"]["typeset"] > 0, f"{page}.html has math but MathJax " \
            f"typeset nothing: {report['math_report']}"


@pytest.mark.parametrize("page", ALL_PAGES, ids=page_ids(ALL_PAGES))
def test_page_images_are_shown(page_reports, page):
    broken = page_reports(page)["images"]
    assert not broken, f"{page}.html: images that do not show:\n" + "\n".join(broken)


@pytest.mark.parametrize("index", range(len(TOC_PAGES)), ids=page_ids(TOC_PAGES))
def test_previous_and_next_links_land_on_the_neighboring_pages(browser, book_html, index):
    urls = [file_url(book_html / f"{page}.html") for page in TOC_PAGES]
    problems = prev_next_problems(browser, urls, index)
    assert not problems, "\n".join(problems)


def test_landing_page_opens_the_first_page(browser, book_html):
    load(browser, file_url(book_html / "index.html"))
    expected = file_url(book_html / f"{TOC_PAGES[0]}.html")
    landed = browser.execute_script("return location.href").split("#")[0]
    assert landed == expected, f"index.html led to {landed}, expected {expected}"


def test_search_page_finds_convolution(browser, book_html):
    links, status = search_results(browser, file_url(book_html / "search.html") + "?q=convolution")
    assert links, f"search.html?q=convolution found nothing: {status!r}"
    for link in links:
        target = Path(link.split("#")[0].split("?")[0].removeprefix("file://"))
        assert target.is_file(), f"search result {link} points to a missing page"
    errors = console_errors(browser)
    assert not errors, "the search page logged errors:\n" + "\n".join(errors)


def test_search_box_on_a_page_leads_to_results(browser, book_html):
    load(browser, file_url(book_html / f"{TOC_PAGES[0]}.html"))
    browser.execute_script(
        "const form = document.querySelector('form.bd-search');"
        "form.querySelector('input[name=q]').value = 'convolution'; form.submit();")
    links, status = search_results(browser, browser.execute_script("return location.href"))
    assert "search.html?q=convolution" in browser.current_url, browser.current_url
    assert links, f"the search box found nothing for 'convolution': {status!r}"


# -------------------------------------------------------- the checkers can fail (and pass)

def write(tmp_path: Path, name: str, body: str, head: str = "") -> str:
    page = tmp_path / name
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}<title>{name}"
                    f"</title></head><body>{body}</body></html>", encoding="utf-8")
    return file_url(page)


# A 1×1 PNG, so the "good" pages have an image that really loads.
PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc000000301010018dd8db00000000049454e44ae426082")


def test_checkers_pass_a_clean_page(browser, tmp_path):
    (tmp_path / "dot.png").write_bytes(PNG_1x1)
    url = write(tmp_path, "clean.html", "<p>Costs 5 dollars.</p><img src='dot.png' alt='dot'>"
                "<pre>echo $HOME; cost=$x$</pre>")
    assert page_problems(browser, url) == []


def test_raw_dollar_math_without_mathjax_is_reported(browser, tmp_path):
    url = write(tmp_path, "raw.html", "<p>The area is $x^2$ and $$W_2 = (W - F)/S + 1$$</p>")
    problems = page_problems(browser, url)
    assert any("$x^2$" in p for p in problems), problems
    assert any("$$W_2" in p for p in problems), problems


def test_sphinx_math_left_untypeset_is_reported(browser, tmp_path):
    url = write(tmp_path, "untypeset.html",
                '<p>Inline <span class="math notranslate nohighlight">\\(x^2\\)</span></p>'
                '<div class="math notranslate nohighlight">\\[y = 1\\]</div>')
    problems = math_problems_after_load(browser, url)
    assert any("\\(x^2\\)" in p and "raw TeX" in p for p in problems), problems
    assert any("not typeset" in p for p in problems), problems
    assert any("no mjx-container" in p for p in problems), problems


def math_problems_after_load(browser, url):
    load(browser, url)
    return math_problems(browser)


@pytest.fixture(scope="module")
def local_mathjax() -> Path:
    """MathJax as the book serves it: from the django-static-mathjax package
    (requirements.txt; book_ext/offline_mathjax.py copies it into the build)."""
    import mathjax

    path = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5" / "tex-mml-chtml.js"
    assert path.is_file(), f"{path} is missing: pip install -r requirements.txt"
    return path


def test_math_typeset_by_local_mathjax_passes(browser, tmp_path, local_mathjax):
    url = write(tmp_path, "typeset.html", "<p>Area \\(x^2\\), and $$W_2 = 3$$</p>",
                head=f"<script defer src='{file_url(local_mathjax)}'></script>")
    assert page_problems(browser, url) == []
    assert math_report(browser)["typeset"] == 2


def test_mathjax_tex_error_is_reported(browser, tmp_path, local_mathjax):
    url = write(tmp_path, "texerror.html", "<p>Broken \\(\\frac{1}\\)</p>",
                head=f"<script defer src='{file_url(local_mathjax)}'></script>")
    problems = page_problems(browser, url)
    assert any("MathJax error" in p for p in problems), problems


def test_missing_image_is_reported(browser, tmp_path):
    url = write(tmp_path, "noimage.html", "<img src='figure_missing.png' alt='a figure'>")
    problems = page_problems(browser, url)
    assert any("image not shown" in p and "figure_missing.png" in p for p in problems), problems
    assert any("console" in p and "figure_missing.png" in p for p in problems), problems


def test_script_from_a_cdn_is_reported(browser, tmp_path):
    url = write(tmp_path, "cdn.html", "<p>x</p>",
                head="<script src='https://cdn.example.com/npm/mathjax@3/tex-mml-chtml.js'>"
                     "</script>")
    problems = page_problems(browser, url)
    assert any(p.startswith("outside request: https://cdn.example.com/") for p in problems), \
        problems


def test_fetch_to_the_web_from_a_script_is_reported(browser, tmp_path):
    url = write(tmp_path, "fetch.html",
                "<script>fetch('https://api.example.com/data.json').catch(() => {});</script>")
    drain_logs(browser)
    load(browser, url)
    outside = outside_requests(browser)
    assert any("api.example.com" in p for p in outside), outside


def test_javascript_error_is_reported(browser, tmp_path):
    url = write(tmp_path, "jserror.html", "<script>notAFunction();</script>")
    problems = page_problems(browser, url)
    assert any("notAFunction" in p for p in problems), problems


def two_page_book(tmp_path: Path, next_href: str) -> list[str]:
    first = write(tmp_path, "one.html", f"<h1>One</h1><a class='right-next' href='{next_href}'>"
                  "next</a>")
    second = write(tmp_path, "two.html", "<h1>Two</h1><a class='left-prev' href='one.html'>"
                   "prev</a>")
    return [first, second]


def test_working_next_link_passes(browser, tmp_path):
    urls = two_page_book(tmp_path, "two.html")
    assert prev_next_problems(browser, urls, 0) == []
    assert prev_next_problems(browser, urls, 1) == []


def test_next_link_to_a_missing_page_is_reported(browser, tmp_path):
    urls = two_page_book(tmp_path, "chapter_missing.html")
    problems = prev_next_problems(browser, urls, 0)
    assert any("error page" in p for p in problems), problems


def test_next_link_to_the_wrong_page_is_reported(browser, tmp_path):
    (tmp_path / "three.html").write_text("<h1>Three</h1>")
    urls = two_page_book(tmp_path, "three.html")
    problems = prev_next_problems(browser, urls, 0)
    assert any("expected" in p and "two.html" in p for p in problems), problems


def test_next_link_to_the_page_itself_is_reported(browser, tmp_path):
    urls = two_page_book(tmp_path, "one.html")
    problems = prev_next_problems(browser, urls, 0)
    assert any("landed on" in p and "one.html" in p for p in problems), problems


def test_missing_next_link_is_reported(browser, tmp_path):
    urls = [write(tmp_path, "a.html", "<h1>A</h1>"), write(tmp_path, "b.html", "<h1>B</h1>")]
    landed, problems = follow_link(browser, urls[0], "a.right-next")
    assert landed is None and problems and "no link" in problems[0]


# ---------------------------------------------------- the static explorer, on its own page

@pytest.fixture
def explorer(browser, tmp_path):
    """The standalone explorer page loaded in the browser; returns its root element."""
    page = tmp_path / "explorer.html"
    page.write_text(conv_explorer_page(), encoding="utf-8")
    drain_logs(browser)
    load(browser, file_url(page))
    return browser.find_element("css selector", ".cnnx")


def test_explorer_opens_on_the_worked_example(browser, explorer):
    shown = read_explorer(browser, explorer)
    assert shown["formula"] == describe_conv(5, 3, 2, 1, 2)["formula"]
    assert (shown["w2"], shown["d2"], shown["volume"]) == ("3", "2", "3 × 3 × 2")
    assert shown["error"] is None and not shown["errorVisible"]
    assert shown["readouts"] == {"w": "5", "f": "3", "s": "2", "p": "1", "d": "1", "k": "2",
                                 "step": "0"}
    assert console_errors(browser) == [] and outside_requests(browser) == []


def test_explorer_moving_sliders_updates_size_formula_and_picture(browser, explorer):
    set_sliders(browser, explorer, w=7, f=3, s=2, p=1, k=3)
    shown = read_explorer(browser, explorer)
    assert shown["formula"] == "W₂ = (7 − 3 + 2·1)/2 + 1 = 4"
    assert (shown["w2"], shown["volume"]) == ("4", "4 × 4 × 3")
    assert shown["dots"] == 16, "one dot per filter position (4 × 4)"
    assert shown["cells"] == 9 * 9 and shown["padCells"] == 9 * 9 - 7 * 7
    assert shown["sheets"] == 3 and shown["frontCells"] == 16
    assert shown["stepMax"] == 16 and not shown["stepDisabled"]


def test_explorer_invalid_setting_shows_the_library_reason(browser, explorer):
    set_sliders(browser, explorer, w=9, f=3, s=4, p=0)  # flooring would drop 2 real columns
    shown = read_explorer(browser, explorer)
    with pytest.raises(ValueError) as err:
        conv_output_size(9, 3, 4, 0)
    assert shown["error"] == str(err.value)
    assert "is not divisible by stride S = 4" in shown["error"] and shown["errorVisible"]
    assert "real input pixels" in shown["error"]
    assert shown["invalid"] and shown["w2"] == "none" and shown["volume"] == "none"
    assert shown["stepDisabled"] and shown["stepMax"] == 0
    assert shown["hang"] == 1, "the step that hangs over the edge is drawn"
    assert shown["formula"] == "W₂ = (9 − 3 + 2·0)/4 + 1 = 6/4 + 1, not a whole number"


def test_explorer_floored_setting_with_only_padding_left_over_is_drawn(browser, explorer):
    set_sliders(browser, explorer, w=8, f=3, s=2, p=1)  # 7/2: the last padded column is spare
    shown = read_explorer(browser, explorer)
    assert shown["error"] is None and not shown["errorVisible"] and not shown["invalid"]
    assert shown["formula"] == "W₂ = ⌊(8 − 3 + 2·1)/2⌋ + 1 = ⌊7/2⌋ + 1 = 4"
    assert shown["w2"] == "4" and shown["dots"] == 16 and shown["hang"] == 0
    caption = explorer.find_element("css selector", '[data-cnnx="input-caption"]').text
    assert "left over" in caption and "no real pixel" in caption, caption
    assert explorer.get_attribute("data-cnnx-leftover") == "1"
    strips = explorer.find_elements("css selector", '[data-cnnx="input"] .cnnx-leftover')
    assert len(strips) == 2, "the left-over column and row are outlined"
    set_sliders(browser, explorer, w=7)  # 6/2: exact again, nothing left over
    assert explorer.get_attribute("data-cnnx-leftover") == "0"
    assert not explorer.find_elements("css selector", '[data-cnnx="input"] .cnnx-leftover')


def test_explorer_filter_larger_than_padded_input_is_explained(browser, explorer):
    set_sliders(browser, explorer, w=2, f=5, s=1, p=1)
    shown = read_explorer(browser, explorer)
    assert shown["error"] == ("filter size F = 5 is larger than the padded input W + 2P = 4: "
                              "the rule is F <= W + 2P")
    set_sliders(browser, explorer, p=2)  # W + 2P = 6 >= F = 5: two positions
    shown = read_explorer(browser, explorer)
    assert shown["error"] is None and shown["w2"] == "2"


def test_explorer_step_slider_moves_the_filter_and_the_output_unit(browser, explorer):
    set_sliders(browser, explorer, w=7, f=3, s=2, p=1)
    geometry = conv_geometry(7, 3, 2, 1)
    for step in (1, 2, 6, 16):
        set_sliders(browser, explorer, step=step)
        shown = read_explorer(browser, explorer)
        g = shown["grid"]
        top, left = geometry.window(step - 1)
        window = ((shown["window"]["y"] - g["y0"]) / g["cs"], (shown["window"]["x"] - g["x0"]) / g["cs"])
        assert window == (top, left), f"step {step}"
        assert shown["window"]["size"] == 3 * g["cs"] and not shown["window"]["all"]
        row, col = divmod(step - 1, 4)
        current = ((shown["current"]["y"] - g["oy0"]) / g["ocs"],
                   (shown["current"]["x"] - g["ox0"]) / g["ocs"])
        assert current == (row, col), f"step {step}"
        assert f"Position {step} of 16" in shown["steptext"]


def test_explorer_step_is_clamped_when_the_output_shrinks(browser, explorer):
    set_sliders(browser, explorer, w=7, f=3, s=2, p=1, step=16)
    set_sliders(browser, explorer, w=5)  # 3 × 3 = 9 positions now
    shown = read_explorer(browser, explorer)
    assert (shown["stepMax"], shown["step"]) == (9, 9)


def test_explorer_agrees_with_cnnlib_on_every_slider_setting(browser, explorer):
    """All 16·7·4·4 = 1792 settings, through the sliders, against describe_conv."""
    r = EXPLORER_RANGES
    settings = [(w, f, s, p) for w in range(r["w"][0], r["w"][1] + 1)
                for f in range(r["f"][0], r["f"][1] + 1)
                for s in range(r["s"][0], r["s"][1] + 1)
                for p in range(r["p"][0], r["p"][1] + 1)]
    browser.set_script_timeout(300)
    shown = browser.execute_script("""
        const root = arguments[0], out = [];
        const set = (name, v) => { const i = root.querySelector(
            'input[data-cnnx-param="' + name + '"]'); i.value = String(v);
            i.dispatchEvent(new Event("input", {bubbles: true})); };
        const text = name => root.querySelector('[data-cnnx="' + name + '"]');
        for (const [w, f, s, p] of arguments[1]) {
          set("w", w); set("f", f); set("s", s); set("p", p);
          out.push([text("w2").textContent, text("formula").textContent,
                    text("error").hidden ? null : text("error").textContent,
                    root.querySelectorAll('[data-cnnx="input"] .cnnx-dot').length]);
        }
        return out;""", explorer, settings)
    browser.set_script_timeout(30)
    mismatches = []
    for (w, f, s, p), (w2, formula, error, dots) in zip(settings, shown, strict=True):
        info = describe_conv(w, f, s, p)
        want = (str(info["output_size"]) if info["ok"] else "none", info["formula"],
                info["error"], info["output_size"] ** 2 if info["ok"] else 0)
        if (w2, formula, error, dots) != want:
            mismatches.append(f"W={w} F={f} S={s} P={p}: page {(w2, formula, error, dots)}, "
                              f"cnnlib {want}")
    assert len(shown) == 1792
    assert not mismatches, f"{len(mismatches)} settings disagree:\n" + "\n".join(mismatches[:10])
    assert console_errors(browser) == []


def test_explorer_dilation_spaces_the_taps_and_uses_the_dilated_formula(browser, explorer):
    set_sliders(browser, explorer, w=7, f=3, s=2, p=1, d=2)
    set_sliders(browser, explorer, step=5)  # the centre position: padded rows/columns 2-6
    shown = read_explorer(browser, explorer)
    assert shown["formula"] == "W₂ = (7 + 2·1 − 2·(3 − 1) − 1)/2 + 1 = 3"
    assert shown["formula"] == describe_conv(7, 3, 2, 1, dilation=2)["formula"]
    assert (shown["w2"], shown["volume"], shown["stepMax"]) == ("3", "3 × 3 × 2", 9)
    assert shown["readouts"]["d"] == "2" and shown["dots"] == 9
    g = shown["grid"]
    assert shown["window"]["size"] == 5 * g["cs"], "the outline spans d(F - 1) + 1 = 5 cells"
    taps = browser.execute_script("""
        return [...arguments[0].querySelectorAll('[data-cnnx="input"] .cnnx-tap')].map(
          t => [+t.getAttribute("y"), +t.getAttribute("x")]);""", explorer)
    cells = sorted(((y - g["y0"]) / g["cs"] - 0.25, (x - g["x0"]) / g["cs"] - 0.25) for y, x in taps)
    assert cells == [(r, c) for r in (2, 4, 6) for c in (2, 4, 6)], "taps 2 pixels apart"
    assert "every 2nd" in shown["steptext"]
    # Odd rows and columns fall between the taps of every position: none is ever read.
    skipped = browser.execute_script(
        "return arguments[0].querySelectorAll('[data-cnnx=\"input\"] .cnnx-skip').length", explorer)
    assert skipped == 7 * 7 - 3 * 3
    set_sliders(browser, explorer, d=1)  # back to the dense filter: no taps, the old formula
    shown = read_explorer(browser, explorer)
    assert shown["formula"] == "W₂ = (7 − 3 + 2·1)/2 + 1 = 4" and shown["w2"] == "4"
    assert not explorer.find_elements("css selector", '[data-cnnx="input"] .cnnx-tap')
    assert console_errors(browser) == []


def test_explorer_refused_dilated_setting_shows_the_library_reason(browser, explorer):
    set_sliders(browser, explorer, w=8, f=3, s=2, p=0, d=2)
    shown = read_explorer(browser, explorer)
    with pytest.raises(ValueError) as err:
        conv_output_size(8, 3, 2, 0, dilation=2)
    assert shown["error"] == str(err.value) and shown["errorVisible"] and shown["invalid"]
    assert shown["hang"] == 1 and shown["stepDisabled"]
    set_sliders(browser, explorer, w=4, f=3, s=1, p=0, d=3)  # span 7 > W + 2P = 4
    shown = read_explorer(browser, explorer)
    with pytest.raises(ValueError) as err:
        conv_output_size(4, 3, 1, 0, dilation=3)
    assert shown["error"] == str(err.value) and "d(F - 1) + 1 = 7" in shown["error"]


def test_explorer_agrees_with_cnnlib_on_every_dilated_setting(browser, explorer):
    """d = 2 and 3 on all 1792 (W, F, S, P) settings, through the sliders, against
    describe_conv and conv_output_size."""
    settings = [(w, f, s, p, d) for d in (2, 3) for w, f, s, p in explorer_settings()]
    browser.set_script_timeout(300)
    shown = browser.execute_script("""
        const root = arguments[0], out = [];
        const set = (name, v) => { const i = root.querySelector(
            'input[data-cnnx-param="' + name + '"]'); i.value = String(v);
            i.dispatchEvent(new Event("input", {bubbles: true})); };
        const text = name => root.querySelector('[data-cnnx="' + name + '"]');
        for (const [w, f, s, p, d] of arguments[1]) {
          set("w", w); set("f", f); set("s", s); set("p", p); set("d", d);
          out.push([text("w2").textContent, text("formula").textContent,
                    text("error").hidden ? null : text("error").textContent,
                    root.querySelectorAll('[data-cnnx="input"] .cnnx-dot').length]);
        }
        return out;""", explorer, settings)
    browser.set_script_timeout(30)
    mismatches = []
    for (w, f, s, p, d), got in zip(settings, shown, strict=True):
        info = describe_conv(w, f, s, p, dilation=d)
        try:
            size, error = conv_output_size(w, f, s, p, dilation=d), None
        except ValueError as err:
            size, error = None, str(err)
        want = (str(size) if size else "none", info["formula"], error, size ** 2 if size else 0)
        if tuple(got) != want:
            mismatches.append(f"W={w} F={f} S={s} P={p} d={d}: page {got}, cnnlib {want}")
    assert len(shown) == 2 * 1792
    assert not mismatches, f"{len(mismatches)} settings disagree:\n" + "\n".join(mismatches[:10])
    assert console_errors(browser) == []


def test_explorer_responds_to_the_keyboard(browser, explorer):
    from selenium.webdriver.common.keys import Keys

    slider = explorer.find_element("css selector", 'input[data-cnnx-param="w"]')
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)  # W: 5 -> 7
    shown = read_explorer(browser, explorer)
    assert shown["readouts"]["w"] == "7" and shown["w2"] == "4"


def test_explorer_play_button_steps_through_positions(browser, explorer):
    from selenium.webdriver.support.ui import WebDriverWait

    play = explorer.find_element("css selector", '[data-cnnx="play"]')
    play.click()
    WebDriverWait(browser, 10).until(lambda _: read_explorer(browser, explorer)["step"] >= 2)
    play.click()
    paused = read_explorer(browser, explorer)["step"]
    assert "Play" in play.text
    browser.execute_script("return new Promise(ok => setTimeout(ok, 1600))")
    assert read_explorer(browser, explorer)["step"] == paused, "pause stops the stepping"


def test_two_explorers_on_one_page_are_independent(browser, tmp_path):
    page = tmp_path / "two.html"
    page.write_text("<!DOCTYPE html><meta charset='utf-8'><body>" + conv_explorer_html()
                    + conv_explorer_html(w=8, f=2, s=2, p=0, k=1) + "</body>", encoding="utf-8")
    drain_logs(browser)
    load(browser, file_url(page))
    first, second = browser.find_elements("css selector", ".cnnx")
    set_sliders(browser, first, w=6, p=0)
    assert read_explorer(browser, first)["formula"].endswith("not a whole number")
    assert read_explorer(browser, second)["volume"] == "4 × 4 × 1"
    assert console_errors(browser) == []


# ----------------------------------------------------------- the explorer inside chapter 4

@pytest.fixture
def chapter4_explorer(browser, book_html):
    if CHAPTER_4 is None:
        pytest.skip("chapter 4 (chapters/04_output_dimensions) is not in _toc.yml yet")
    drain_logs(browser)
    load(browser, file_url(book_html / f"{CHAPTER_4}.html"))
    return browser.find_elements("css selector", ".cnnx")


def test_chapter4_explorer_works_in_the_built_book(browser, chapter4_explorer):
    assert chapter4_explorer, (
        f"{CHAPTER_4}.html shows no static stride/padding explorer: add a cell "
        "`HTML(cnnlib.book.conv_explorer_html.explorer_html())` tagged remove-input")
    root = chapter4_explorer[0]
    browser.execute_script("arguments[0].scrollIntoView()", root)
    set_sliders(browser, root, w=7, f=3, s=2, p=1, k=2)
    shown = read_explorer(browser, root)
    assert (shown["w2"], shown["volume"]) == ("4", "4 × 4 × 2")
    assert shown["formula"] == "W₂ = (7 − 3 + 2·1)/2 + 1 = 4"
    set_sliders(browser, root, w=6, f=3, s=2, p=0)
    shown = read_explorer(browser, root)
    with pytest.raises(ValueError) as err:
        conv_output_size(6, 3, 2, 0)
    assert shown["error"] == str(err.value) and shown["errorVisible"]
    errors = console_errors(browser)
    assert not errors, "\n".join(errors)
