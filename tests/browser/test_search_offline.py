"""Full-text search in a book opened from disk: results come with their passage.

Sphinx's search page fetches each result's page for the passage under the link, which a
browser refuses for file:// pages; book_ext/offline_search.py writes the pages' text into
_static/search_texts.js and answers those fetches from it. Here headless Chromium opens
search.html from file:// with a word that occurs in the body of one page only (never in a
title), and the result for that page must show a passage holding the word.

Which book and which browser: as in test_browser.py (CNNLIB_BOOK_DIR, else the session's
test build; CNNLIB_REQUIRE_BROWSER=1 turns a missing Chromium into a failure).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from browser_helpers import console_errors, file_url, outside_requests, search_results

pytestmark = pytest.mark.book

WORD = re.compile(r"[a-z]{10,}")


def page_texts(book_html: Path) -> dict[str, str]:
    """{docname: the page's text} as offline_search.py wrote it."""
    script = (book_html / "_static" / "search_texts.js").read_text(encoding="utf-8")
    payload = script.removeprefix("window.BOOK_SEARCH_TEXTS = ").rstrip().removesuffix(";")
    return {name: re.sub(r"<[^>]+>", " ", html) for name, html in json.loads(payload).items()}


def body_only_word(book_html: Path) -> tuple[str, str]:
    """(a word, the one page it occurs on): the alphabetically first word of 10+ letters
    that occurs on exactly one chapter page, in no page title, and whose first 5 letters
    begin no other word of the book. Sphinx searches for the word's stem (at least its
    first 5 letters, for such words) and cuts the passage where the stem first occurs on
    the page, which is then where the word is. No word ending in y: the stemmer turns its
    y into an i."""
    texts = page_texts(book_html)
    words = {name: set(WORD.findall(text.lower())) for name, text in texts.items()}
    every = {w for ws in words.values() for w in ws} | {
        w for text in texts.values() for w in re.findall(r"[a-z]+", text.lower())}
    pages_of = Counter(w for ws in words.values() for w in ws)
    prefixes = Counter(w[:5] for w in every)
    index = (book_html / "searchindex.js").read_text(encoding="utf-8").strip()
    index = json.loads(index.removeprefix("Search.setIndex(").removesuffix(")"))
    titles = " ".join([*index["titles"], *index.get("alltitles", {})]).lower()
    for name in sorted(words):
        if not name.startswith("chapters/"):
            continue
        for word in sorted(words[name]):
            if (pages_of[word] == 1 and prefixes[word[:5]] == 1 and not word.endswith("y")
                    and word[:5] not in titles):
                return word, name
    pytest.fail("no word of 10+ letters occurs on one chapter page only")


@pytest.fixture(scope="module")
def search(driver, book_html):
    word, page = body_only_word(book_html)
    url = file_url(book_html / "search.html") + f"?q={word}"
    links, status = search_results(driver, url)
    passages = driver.execute_script(
        "return [...document.querySelectorAll('#search-results ul.search li')]"
        ".map(li => [li.querySelector('a').href,"
        " (li.querySelector('p.context') || {textContent: ''}).textContent])")
    return {"word": word, "page": page, "links": links, "status": status,
            "passages": passages, "console": console_errors(driver),
            "outside": outside_requests(driver)}


def test_the_search_page_loads_the_texts_and_no_other_page_does(book_html):
    assert "search_texts.js" in (book_html / "search.html").read_text(encoding="utf-8")
    assert "search_texts.js" not in (book_html / "intro.html").read_text(encoding="utf-8")


def test_a_body_only_word_finds_its_page_with_a_passage(search):
    word, page = search["word"], search["page"]
    hits = [(link, text) for link, text in search["passages"]
            if link.split("#")[0].split("?")[0].endswith(f"/{page}.html")]
    assert hits, (f"searching {word!r} (only in {page}) did not list {page}.html: "
                  f"{search['status']!r}, links {search['links']}")
    link, passage = hits[0]
    assert word in passage.lower(), (
        f"the result {link} for {word!r} has no passage holding the word: {passage!r} "
        "(from file://, the passage must come from _static/search_texts.js)")
    assert len(passage) > len(word) + 20, f"the passage is only {passage!r}"


def test_the_search_page_logs_no_error_and_stays_offline(search):
    assert not search["console"], "the search page logged errors:\n" + "\n".join(search["console"])
    assert not search["outside"], f"the search page fetched from outside: {search['outside']}"
