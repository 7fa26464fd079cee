"""The print edition's pictures of the book's interactive outputs (`make pdf`).

The animations, the stride/padding explorer and the network explorer are HTML fragments
that need a browser (cnnlib/book/pages.py). A notebook output holds them as text/html
only, which the LaTeX builder cannot print: myst-nb would fall back to the text
"<IPython.core.display.HTML object>". For LaTeX builds this extension replaces each such
output with a still picture of it, as a browser first draws it, and a line that sends the
reader to the HTML edition.

The picture is a screenshot by headless Chromium (Debian's `chromium`, which the browser
tests use too) of the fragment on a page of its own. Without Chromium the line alone is
printed, and the build says so once. Other HTML outputs (tables) are turned into text.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

# The root element of each kind of kernel-free page (cnnlib/book/pages.py `fragment`), and
# what it does in the HTML edition.
KINDS = {
    "cnnp": "an animation: press Play or step through its frames",
    "cnnx": "an explorer: move its sliders to change the input, filter, stride and padding",
    "cnnn": "an explorer: pick an image and see every layer's output and the prediction",
}
ROOT = re.compile(r'<div class="(cnnp|cnnx|cnnn)" id="[^"]*"')
TITLE = re.compile(r'<div class="cnn[pxn]-title">(.*?)</div>', re.S)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
STILLS = "_stills"  # under the builder's output folder
WINDOW = (1000, 1500)  # CSS pixels; the picture is cropped to what was drawn


def find_browser() -> str | None:
    chosen = os.environ.get("CNNLIB_CHROMIUM")
    if chosen:
        return chosen
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def crop_to_drawing(png: Path, margin: int = 12) -> None:
    """Cut the white page around what the fragment drew (Pillow comes with matplotlib)."""
    from PIL import Image, ImageChops

    with Image.open(png) as image:
        rgb = image.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, "white")).getbbox()
    if box:
        left, top, right, bottom = box
        rgb = rgb.crop((max(left - margin, 0), max(top - margin, 0),
                        min(right + margin, rgb.width), min(bottom + margin, rgb.height)))
    rgb.save(png, optimize=True, dpi=(192, 192))  # 2 device pixels per CSS pixel


def screenshot(browser: str, fragment: str, target: Path) -> bool:
    """Draw `fragment` alone on a white page in headless Chromium and save it as `target`."""
    page = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head>'
            f'<body style="margin:16px;background:white">{fragment}</body></html>')
    with tempfile.TemporaryDirectory(prefix="book-still-") as tmp:
        source = Path(tmp) / "page.html"
        source.write_text(page, encoding="utf-8")
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--no-first-run", "--hide-scrollbars",
                   "--force-device-scale-factor=2", "--virtual-time-budget=3000",
                   f"--user-data-dir={tmp}/profile", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                   f"--screenshot={target}", source.as_uri()]
        try:
            subprocess.run(command, capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
    if not target.is_file():
        return False
    crop_to_drawing(target)
    return True


class TableText(HTMLParser):
    """The rows of the HTML tables in an output, cell texts joined, one row a line."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_table(raw: str) -> nodes.table | None:
    """A docutils table of the first HTML table in `raw` (header = its first row)."""
    parser = TableText()
    parser.feed(raw)
    rows = [r for r in parser.rows if r]
    if not rows:
        return None
    width = max(len(r) for r in rows)
    table = nodes.table(classes=["colwidths-auto"])
    group = nodes.tgroup(cols=width)
    table += group
    group += [nodes.colspec(colwidth=1) for _ in range(width)]

    def row(cells: list[str]) -> nodes.row:
        line = nodes.row()
        for text in cells + [""] * (width - len(cells)):
            line += nodes.entry("", nodes.paragraph(text=text))
        return line

    head = nodes.thead()
    head += row(rows[0])
    body = nodes.tbody()
    body += [row(r) for r in rows[1:]]
    group += [head, body]
    return table


def source_page(node: nodes.Node, env) -> str:
    """The docname a node comes from. The LaTeX builder joins every page into one tree
    (each page under an addnodes.start_of_file), and env.docname is then the root page's."""
    while node is not None:
        if isinstance(node, addnodes.start_of_file):
            return node["docname"]
        if isinstance(node, nodes.document) and node.get("source"):
            return env.path2doc(node["source"]) or env.docname
        node = node.parent
    return env.docname


class PrintInteractiveOutputs(SphinxPostTransform):
    """Replace HTML-only notebook outputs with something LaTeX prints (see the module)."""

    default_priority = 3  # before myst-nb's SelectMimeType (4) drops the HTML
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        bundles = [node for node in self.document.findall(nodes.container)
                   if node.get("nb_element") == "mime_bundle"]
        for bundle in bundles:
            types = {child.get("mime_type"): child for child in bundle.children}
            if "text/html" not in types or {"text/latex", "image/png", "image/jpeg",
                                            "application/pdf"} & set(types):
                continue
            raw = types["text/html"].astext()
            if ROOT.search(raw):
                bundle.replace_self(self.still(raw, source_page(bundle, self.env)))
            elif "<table" in raw and (table := html_table(raw)) is not None:
                bundle.replace_self(table)

    def still(self, raw: str, docname: str) -> list[nodes.Node]:
        app = self.app
        kind = ROOT.search(raw).group(1)
        title = TITLE.search(raw)
        name = html.unescape(re.sub(r"<[^>]+>", "", title.group(1))).strip() if title else ""
        page = f"{docname}.html"
        line = nodes.paragraph(classes=["print-edition-note"])
        line += nodes.emphasis(text=(
            f"In print, a still picture{f': {name}' if name else ''}. In the HTML edition "
            f"(page {page}) this is {KINDS[kind]}."))
        browser = find_browser()
        if browser is None:
            if not getattr(app, "_book_warned_no_browser", False):
                LOGGER.info("print_edition: no Chromium found: interactive outputs are "
                            "printed as a line without a picture")
                app._book_warned_no_browser = True
            return [line]
        digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]
        folder = Path(app.outdir) / STILLS
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{digest}.png"
        if not target.is_file() and not screenshot(browser, raw, target):
            LOGGER.info(f"print_edition: Chromium drew no picture for {page} ({kind})")
            return [line]
        relative = os.path.relpath(target, app.srcdir)
        self.env.images.add_file(self.env.docname, relative)
        # A plain image, not a figure: a figure floats away from its line in LaTeX.
        image = nodes.image(uri=relative, candidates={"*": relative}, alt=name or KINDS[kind],
                            align="center")
        return [image, line]


def setup(app: Sphinx) -> dict:
    app.add_post_transform(PrintInteractiveOutputs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
