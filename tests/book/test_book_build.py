"""The book builds strictly, every page in _toc.yml is there, and nothing loads from the web.

"Loads" means what a browser fetches on its own when it shows a page: scripts, images,
stylesheets, preloads, icons, frames and media, url(...) and @import in CSS (in the
book's .css files, in <style> blocks and in style attributes), and script or stylesheet
URLs written inside inline scripts (how the widget and MathJax fallbacks load from CDNs).
Plain <a href> links to other sites (the references' DOIs and publishers, the PyTorch
install page) are allowed: a reader follows them by choice, and every page reads and
works without them.

Uses the session fixture `built_book` (tests/conftest.py): one `jupyter-book build -W -n
--keep-going` into _build/test with short training. Deselect with -m "not book".
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import REPO_ROOT, BookBuild, require_build, toc_pages

pytestmark = pytest.mark.book

REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
# A script or stylesheet URL written inside an inline <script> (loaded later by code).
REMOTE_ASSET_IN_SCRIPT = re.compile(r"(https?:)?//[^\s\"'<>]+\.(m?js|css)\b", re.IGNORECASE)
MATHJAX_LOCAL = "_static/mathjax/tex-mml-chtml.js"
# url(...) and @import "..." in CSS, quoted or not.
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)
# What myst-nb adds to a page with widgets: require.js and the widget manager's bundle.
WIDGET_SCRIPTS = re.compile(r"require(\.min)?\.js|embed-amd\.js|html-manager|"
                            r"widgets-compat|jsdelivr|unpkg|cdnjs", re.IGNORECASE)



class ResourceCollector(HTMLParser):
    """Records every URL a browser would fetch on its own: scripts, stylesheets and
    other <link>s, images, frames, media. Plain <a href> links are not fetched."""

    FETCHING = {
        "script": ("src",), "img": ("src", "srcset"), "iframe": ("src",),
        "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",),
        "embed": ("src",), "object": ("data",), "input": ("src",), "track": ("src",),
    }

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (tag, url)
        self._in_script = False
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._in_script = tag == "script"
        self._in_style = tag == "style"
        if attrs.get("style"):
            self.urls += [(f"{tag} style", url) for url in css_urls(attrs["style"])]
        if tag == "link":
            rel = (attrs.get("rel") or "").lower()
            # Hints like dns-prefetch/preconnect/canonical fetch nothing that renders.
            if any(r in rel for r in ("stylesheet", "preload", "modulepreload", "icon",
                                      "manifest")):
                self.urls.append((f"link rel={rel}", attrs.get("href") or ""))
            return
        for attr in self.FETCHING.get(tag, ()):
            value = attrs.get(attr)
            if value:
                for url in value.split(",") if attr == "srcset" else [value]:
                    self.urls.append((tag, url.strip().split(" ")[0]))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.urls += [("style block", url) for url in css_urls(data)]
        if self._in_script:
            self.urls += [("inline script", m.group(0))
                          for m in REMOTE_ASSET_IN_SCRIPT.finditer(data)]


def css_urls(css: str) -> list[str]:
    return [a or b for a, b in CSS_URL.findall(css)]


def built_pages(html_dir: Path) -> list[Path]:
    return sorted(p for p in html_dir.rglob("*.html")
                  if not {"_static", "_sources", "_images"} & set(p.relative_to(html_dir).parts))


def test_book_builds_with_warnings_as_errors(built_book: BookBuild):
    assert built_book.returncode == 0, (
        f"jupyter-book build -W -n --keep-going exited {built_book.returncode}; "
        f"last lines of its log:\n{built_book.log_tail()}"
    )
    assert "build succeeded" in built_book.log, built_book.log_tail()


def test_every_toc_page_is_built(built_book: BookBuild):
    html_dir = require_build(built_book)
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    pages = toc_pages(toc)
    missing = [p for p in ["index", *pages] if not (html_dir / f"{p}.html").is_file()]
    assert not missing, f"pages in _toc.yml with no HTML in {html_dir}: {missing}"


def test_no_page_fetches_anything_from_the_web(built_book: BookBuild):
    html_dir = require_build(built_book)
    pages = built_pages(html_dir)
    assert pages, f"no HTML pages under {html_dir}"
    offenders = []
    for page in pages:
        collector = ResourceCollector()
        collector.feed(page.read_text(encoding="utf-8"))
        offenders += [f"{page.relative_to(html_dir)}: <{tag}> {url}"
                      for tag, url in collector.urls if REMOTE.match(url)]
    assert not offenders, "pages that load resources from the web:\n" + "\n".join(offenders)


def test_mathjax_is_served_from_the_book_itself(built_book: BookBuild):
    html_dir = require_build(built_book)
    assert (html_dir / MATHJAX_LOCAL).is_file(), f"{MATHJAX_LOCAL} is missing from {html_dir}"
    assert (html_dir / "_static/mathjax/output/chtml/fonts/woff-v2").is_dir(), "MathJax fonts"
    # Every page with math must load the local MathJax (the landing page has a formula).
    without = []
    for page in built_pages(html_dir):
        text = page.read_text(encoding="utf-8")
        if 'class="math' in text and MATHJAX_LOCAL not in text:
            without.append(str(page.relative_to(html_dir)))
    assert not without, f"pages with math that do not load {MATHJAX_LOCAL}: {without}"
    intro = (html_dir / "intro.html").read_text(encoding="utf-8")
    assert 'class="math' in intro and MATHJAX_LOCAL in intro, "intro.html should show math"


def test_no_stylesheet_of_the_book_fetches_from_the_web(built_book: BookBuild):
    html_dir = require_build(built_book)
    sheets = sorted(html_dir.rglob("*.css"))
    assert sheets, f"no stylesheets under {html_dir}"
    offenders = [f"{sheet.relative_to(html_dir)}: {url}" for sheet in sheets
                 for url in css_urls(sheet.read_text(encoding="utf-8", errors="replace"))
                 if REMOTE.match(url)]
    assert not offenders, "stylesheets that load from the web:\n" + "\n".join(offenders)


def test_collector_sees_every_kind_of_remote_resource():
    """The scan above can fail: each way a page can fetch from the web is caught."""
    page = """<html><head><link rel="stylesheet" href="https://cdn.example/a.css">
    <link rel="preload" href="//cdn.example/font.woff2"><link rel="icon" href="http://x/i.png">
    <style>body { background: url('https://x/bg.png') } @import "https://x/more.css";</style>
    <script src="https://cdn.jsdelivr.net/npm/require.js"></script>
    <script>var s = "https://unpkg.com/@jupyter-widgets/html-manager/dist/embed-amd.js";</script>
    </head><body><img src="https://x/a.png"><iframe src="https://x/frame"></iframe>
    <div style="background-image: url(http://x/div.png)"></div>
    <a href="https://doi.org/10.1/x">a citation</a><img src="_images/local.png"></body></html>"""
    collector = ResourceCollector()
    collector.feed(page)
    remote = [url for _, url in collector.urls if REMOTE.match(url)]
    assert len(remote) == 10, remote
    assert "https://doi.org/10.1/x" not in remote and "_images/local.png" not in remote


def test_no_page_loads_the_widget_manager(built_book: BookBuild):
    """No page shows an ipywidget (nb_ipywidgets_js: {} in _config.yml), so none loads
    require.js or the widget manager, locally or from a CDN, and none has a widget view.
    (Chapter 4's page still carries its notebook's saved widget state: inert JSON that
    nothing reads, since its one widget output is tagged remove-output.)"""
    html_dir = require_build(built_book)
    offenders = []
    for page in built_pages(html_dir):
        text = page.read_text(encoding="utf-8")
        if "application/vnd.jupyter.widget-view+json" in text:
            offenders.append(f"{page.relative_to(html_dir)}: a widget view")
        collector = ResourceCollector()
        collector.feed(text)
        offenders += [f"{page.relative_to(html_dir)}: <{tag}> {url}"
                      for tag, url in collector.urls if WIDGET_SCRIPTS.search(url)]
    assert not offenders, "pages with widget scripts:\n" + "\n".join(offenders)


def test_the_book_extensions_are_loaded_by_the_config():
    """Every extension in `local_extensions` is also in `sphinx.config.extensions`: that
    list replaces the one Jupyter Book appends local extensions to (without it, no
    extension of book_ext/ ran and the book had no MathJax)."""
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    local = config["sphinx"]["local_extensions"]
    listed = config["sphinx"]["config"]["extensions"]
    assert set(local) <= set(listed), f"not in sphinx.config.extensions: {set(local) - set(listed)}"
    for name, folder in local.items():
        assert (REPO_ROOT / folder / f"{name}.py").is_file(), f"{folder}/{name}.py is missing"


def test_config_without_torch_leaves_chapter_12_unexecuted(tmp_path):
    """`make book TORCH=no`: the written configuration excludes chapter 12 from execution,
    names it for the note, and finds book_ext/ from its own folder."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "book_config_without_torch", REPO_ROOT / "tools" / "book_config_without_torch.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    target = tmp_path / "deep" / "config.yml"
    assert tool.main([str(REPO_ROOT / "_config.yml"), str(target)]) == 0
    written = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert "chapters/12_*" in written["execute"]["exclude_patterns"]
    assert written["sphinx"]["config"]["book_unexecuted_pages"] == ["chapters/12_*"]
    for name, folder in written["sphinx"]["local_extensions"].items():
        assert (target.parent / folder / f"{name}.py").resolve().is_file(), (name, folder)
    original = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert written["sphinx"]["config"]["extensions"] == original["sphinx"]["config"]["extensions"]
    assert written["title"] == original["title"]
