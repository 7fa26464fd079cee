"""The exercises in the rendered book: solutions folded until the reader opens them.

In chapter 3 (the exercises are the same kind of cells in every chapter): a code solution
(tagged `exercise-solution` and `hide-cell`) is not visible when the page loads, its stub
and check are; clicking its toggle shows it. A discussion (a `{dropdown}`) opens the same
way. Uses the session's strict test build, or $CNNLIB_BOOK_DIR, like tests/test_browser.py.
"""

from __future__ import annotations

import pytest
from browser_helpers import file_url, load, wait_until

pytestmark = pytest.mark.book

PAGE = "chapters/03_convolution"


@pytest.fixture(scope="module")
def page(book_html, driver) -> str:
    url = file_url(book_html / f"{PAGE}.html")
    load(driver, url)
    return url


def visible(driver, selector: str) -> list[bool]:
    """Whether each element matching the CSS selector is drawn. The content of a closed
    <details> keeps its layout boxes in Chromium (content-visibility: hidden), so ask the
    browser's own checkVisibility, which knows about it."""
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.checkVisibility("
        "{contentVisibilityAuto: true, opacityProperty: true, visibilityProperty: true}));",
        selector)


def test_code_solutions_are_hidden_until_their_toggle_is_clicked(driver, page):
    solution_code = ".cell.tag_exercise-solution .cell_input"
    stubs, checks = (visible(driver, f".cell.tag_exercise-{t} .cell_input")
                     for t in ("stub", "check"))
    assert stubs and all(stubs), f"stubs must be visible: {stubs}"
    assert checks and all(checks), f"checks must be visible: {checks}"
    shown = visible(driver, solution_code)
    assert shown and not any(shown), f"solutions must be folded on load: {shown}"

    # Open the first solution: it, and only it, becomes visible.
    toggle = driver.execute_script(
        "const s = document.querySelector('.cell.tag_exercise-solution summary');"
        "s.scrollIntoView({block: 'center'}); return s;")
    assert "Show solution" in toggle.text, f"the toggle reads {toggle.text!r}"
    toggle.click()
    wait_until(lambda: visible(driver, solution_code)[0], 10, "the solution to open")
    after = visible(driver, solution_code)
    assert after[0] and not any(after[1:]), f"one click opens one solution: {after}"


def test_discussions_are_folded_dropdowns(driver, page):
    load(driver, page)
    bodies = ".sd-dropdown .sd-summary-content"
    shown = visible(driver, bodies)
    assert shown and not any(shown), f"discussions must be folded on load: {shown}"
    summary = driver.execute_script(
        "const s = document.querySelector('.sd-dropdown summary');"
        "s.scrollIntoView({block: 'center'}); return s;")
    summary.click()
    wait_until(lambda: visible(driver, bodies)[0], 10, "the discussion to open")
