"""The book's animations in a real browser (headless Chromium), offline.

A standalone page holds every animation (fast: no book build). For each player: the
buttons step forward and back, the slider jumps to a frame, Play advances on its own and
Pause stops it; the caption and the drawing change with the frame; nothing is logged to
the console and nothing is requested from outside the machine; the page is light.
With the `book` marker, the same checks run on the built chapters that hold animations
and new figures, and each page (HTML plus its images) stays within the weight budget.

Needs Debian's chromium + chromium-driver; skips (loudly) only when they are not
installed. Set CNNLIB_REQUIRE_BROWSER=1 to make that a failure.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import (
    broken_images,
    chromium,
    console_errors,
    drain_logs,
    file_url,
    load,
    outside_requests,
    require_chromium,
    wait_until,
)

from cnnlib.book import animations, kernels

PAGE_BUDGET = 3_000_000  # bytes of HTML and images per page
# Chapters with an animation (data-cnnp players) and how many each must hold.
BOOK_ANIMATIONS = {"chapters/03_convolution": 1, "chapters/04_output_dimensions": 1,
                   "chapters/05_pooling": 2, "chapters/07_convolution_backward": 1}
BOOK_FIGURE_PAGES = ["chapters/01_pixels", "chapters/09_fully_connected", "chapters/10_cifar10"]


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    with chromium(width=1000, height=900) as driver:
        yield driver


def all_animations() -> list[animations.Animation]:
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    patch = rng.integers(0, 256, (6, 6)).astype(float)
    return [
        animations.sliding_filter_animation(patch, kernels.laplacian(), image=photo,
                                            patch_origin=(4, 4), interval_ms=150),
        animations.worked_example_animation(rng.integers(0, 3, (5, 5, 3)),
                                            rng.integers(-1, 2, (2, 3, 3, 3)),
                                            np.array([1, 0]), interval_ms=150),
        animations.max_pool_animation(rng.permutation(16).reshape(4, 4), 2, 2,
                                      interval_ms=150),
        animations.max_pool_animation(rng.permutation(25).reshape(5, 5), 3, 2,
                                      interval_ms=150),
        animations.conv_backprop_animation(rng.integers(0, 5, (5, 5)),
                                           rng.integers(-1, 2, (3, 3)),
                                           rng.integers(-2, 3, (3, 3)), interval_ms=150),
    ]


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """(page path, the animations on it)."""
    anims = all_animations()
    page = tmp_path_factory.mktemp("anim") / "animations.html"
    page.write_text(animations.animations_page(anims), encoding="utf-8")
    return page, anims


READ = """
const root = arguments[0];
const part = name => root.querySelector('[data-cnnp="' + name + '"]');
return {frame: parseInt(root.getAttribute("data-cnnp-frame"), 10),
        frames: parseInt(root.getAttribute("data-cnnp-frames"), 10),
        caption: part("caption").textContent,
        svg: part("stage").innerHTML.length,
        svgText: [...part("stage").querySelectorAll("text")].map(t => t.textContent).join("|"),
        slider: parseInt(part("slider").value, 10), sliderMax: parseInt(part("slider").max, 10),
        readout: part("readout").textContent, play: part("play").textContent,
        width: part("stage").getBoundingClientRect().width};
"""


def read(driver, root) -> dict:
    return driver.execute_script(READ, root)


def click(driver, root, name: str) -> None:
    button = root.find_element("css selector", f'[data-cnnp="{name}"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def slide_to(driver, root, value: int) -> None:
    driver.execute_script(
        "const s = arguments[0].querySelector('[data-cnnp=\"slider\"]');"
        "s.value = String(arguments[1]); s.dispatchEvent(new Event('input', {bubbles: true}));",
        root, value)


def player_problems(driver, root) -> list[str]:
    """Drive one player through its controls; return what did not work."""
    problems: list[str] = []
    start = read(driver, root)
    n = start["frames"]
    if start["frame"] != 0 or start["sliderMax"] != n - 1 or start["readout"] != f"frame 1 / {n}":
        problems.append(f"does not open on frame 1 of {n}: {start}")
    if start["width"] < 100:
        problems.append(f"the drawing is not shown (width {start['width']})")
    click(driver, root, "next")
    step = read(driver, root)
    if step["frame"] != 1 or step["slider"] != 1:
        problems.append(f"Step ▶ did not go to frame 2: {step}")
    if step["caption"] == start["caption"] or step["svgText"] == start["svgText"]:
        problems.append("Step ▶ left the caption or the drawing unchanged")
    click(driver, root, "back")
    if read(driver, root)["frame"] != 0:
        problems.append("◀ Step did not go back to frame 1")
    slide_to(driver, root, n - 1)
    last = read(driver, root)
    if last["frame"] != n - 1 or last["readout"] != f"frame {n} / {n}":
        problems.append(f"the slider did not jump to the last frame: {last}")
    click(driver, root, "first")
    if read(driver, root)["frame"] != 0:
        problems.append("« First did not go to frame 1")
    click(driver, root, "play")
    try:
        wait_until(lambda: read(driver, root)["frame"] >= min(2, n - 1), 10,
                   "Play to advance the frames")
    except TimeoutError as err:
        problems.append(str(err))
    if "Pause" not in read(driver, root)["play"] and read(driver, root)["frame"] < n - 1:
        problems.append("the Play button does not turn into Pause while playing")
    click(driver, root, "play")  # pause
    paused = read(driver, root)["frame"]
    driver.execute_script("return new Promise(ok => setTimeout(ok, 500))")
    if read(driver, root)["frame"] != paused:
        problems.append("Pause did not stop the animation")
    return problems


# --------------------------------------------------------------------- standalone page


def test_standalone_page_is_light(standalone):
    page, _ = standalone
    assert page.stat().st_size < 600_000, f"{page.stat().st_size} bytes for five animations"


def test_every_player_on_the_standalone_page_works(browser, standalone):
    page, anims = standalone
    drain_logs(browser)
    load(browser, file_url(page))
    roots = browser.find_elements("css selector", ".cnnp")
    assert len(roots) == len(anims)
    problems = []
    for root, anim in zip(roots, anims, strict=True):
        assert read(browser, root)["frames"] == len(anim)
        problems += [f"{anim.title}: {p}" for p in player_problems(browser, root)]
    assert not problems, "\n".join(problems)
    errors = console_errors(browser) + outside_requests(browser) + broken_images(browser)
    assert not errors, "\n".join(errors)


def test_player_shows_cnnlibs_numbers(browser, standalone):
    page, anims = standalone
    load(browser, file_url(page))
    root = browser.find_elements("css selector", ".cnnp")[1]  # the worked example
    example = anims[1]
    for i in (0, 4, len(example) - 1):
        slide_to(browser, root, i)
        shown = read(browser, root)
        value = example.data[i]["value"]
        number = f"{value:.0f}".replace("-", "\u2212")
        assert shown["caption"].endswith(f"= {number}"), shown["caption"]
        assert shown["caption"] == example.frames[i][1]


def test_play_at_the_end_starts_again(browser, standalone):
    page, _ = standalone
    load(browser, file_url(page))
    root = browser.find_elements("css selector", ".cnnp")[2]  # 4 frames
    slide_to(browser, root, 3)
    click(browser, root, "play")
    wait_until(lambda: read(browser, root)["frame"] in (1, 2), 5, "Play to restart at frame 1")
    wait_until(lambda: "Play" in read(browser, root)["play"], 5, "Play to stop at the end")
    assert read(browser, root)["frame"] == 3


# ----------------------------------------------------------------------- the built book


def page_weight(html: Path) -> int:
    """Bytes of the page's HTML plus the local images it shows."""
    text = html.read_text(encoding="utf-8")
    total = len(text.encode())
    for src in set(re.findall(r'<img[^>]+src="([^"#?]+)"', text)):
        if not src.startswith("data:"):
            path = (html.parent / src).resolve()
            total += path.stat().st_size if path.is_file() else 0
    return total


@pytest.mark.book
@pytest.mark.parametrize("page", [*BOOK_ANIMATIONS, *BOOK_FIGURE_PAGES])
def test_book_page_weight_within_budget(book_html, page):
    weight = page_weight(book_html / f"{page}.html")
    assert weight <= PAGE_BUDGET, f"{page}.html weighs {weight:,} bytes (budget {PAGE_BUDGET:,})"


@pytest.mark.book
@pytest.mark.parametrize("page", list(BOOK_ANIMATIONS))
def test_book_animations_play(browser, book_html, page):
    drain_logs(browser)
    load(browser, file_url(book_html / f"{page}.html"))
    roots = browser.find_elements("css selector", ".cnnp")
    assert len(roots) == BOOK_ANIMATIONS[page], f"{page}: {len(roots)} players"
    problems = [p for root in roots for p in player_problems(browser, root)]
    problems += console_errors(browser) + outside_requests(browser) + broken_images(browser)
    assert not problems, f"{page}:\n" + "\n".join(problems)


def test_player_checker_reports_a_dead_player(browser, tmp_path):
    """The checker can fail: a player whose script never runs is reported."""
    anim = all_animations()[2]
    fragment = anim.html(element_id="dead")
    dead = fragment[:fragment.index("<script>(function")]  # drop the player's script
    page = tmp_path / "dead.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>dead</title>"
                    f"</head><body>{dead}</body></html>", encoding="utf-8")
    load(browser, file_url(page))
    root = browser.find_element("css selector", ".cnnp")
    browser.execute_script("arguments[0].setAttribute('data-cnnp-frame', '0')", root)
    problems = player_problems(browser, root)
    assert any("Step ▶ did not go to frame 2" in p for p in problems), problems
