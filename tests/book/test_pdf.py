"""The print edition (`make pdf`): it builds, holds every chapter, resolves every reference,
embeds its figures, and prints the interactive outputs as pictures.

Uses the session fixture `built_pdf` (tests/conftest.py), which runs the pdflatex builder
on the test build's execution cache. Needs XeLaTeX and poppler-utils (pdftotext,
pdfimages, pdfinfo): skipped without them, failed without them when CNNLIB_REQUIRE_PDF is
set (CI). Deselect with -m "not book".
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import PDF_NAME, REPO_ROOT, PdfBuild, toc_pages

pytestmark = pytest.mark.book

# The book's smallest sensible size; the test build had 250+ pages when this was written.
MIN_PAGES = 150
# The root element of each kernel-free page in the HTML edition (cnnlib/book/pages.py).
INTERACTIVE = re.compile(r'<div class="cnn[pxn]" id="')


def pdf_path(build: PdfBuild) -> Path:
    pdf = build.latex_dir / PDF_NAME
    if build.returncode != 0 or not pdf.is_file():
        pytest.fail(f"make pdf failed (exit {build.returncode}, {pdf} "
                    f"{'exists' if pdf.is_file() else 'missing'}):\n{build.log_tail()}",
                    pytrace=False)
    return pdf


def run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def pdf(built_pdf: PdfBuild) -> Path:
    return pdf_path(built_pdf)


@pytest.fixture(scope="module")
def pdf_text(pdf: Path) -> str:
    """The PDF's text, with words split over two lines joined again and spaces collapsed."""
    text = run("pdftotext", "-enc", "UTF-8", str(pdf), "-")
    text = re.sub(r"-\n(?=[a-z])", "", text)
    return " ".join(text.split())


def chapter_titles() -> list[str]:
    """The first heading of every page in _toc.yml (notebooks and Markdown pages)."""
    titles = []
    for page in toc_pages(yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())):
        notebook, markdown = REPO_ROOT / f"{page}.ipynb", REPO_ROOT / f"{page}.md"
        if notebook.is_file():
            cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
            lines = [line for c in cells if c["cell_type"] == "markdown"
                     for line in "".join(c["source"]).splitlines()]
        else:
            lines = markdown.read_text(encoding="utf-8").splitlines()
        heading = next(line for line in lines if line.startswith("# "))
        titles.append(heading[2:].strip())
    return titles


def plain(title: str) -> str:
    """A heading as pdftotext prints it: no Markdown marks, no LaTeX-changed characters."""
    title = re.sub(r"[`*_]", "", title)
    title = re.sub(r"\$([^$]*)\$", r"\1", title)
    return " ".join(title.split())


def test_the_pdf_builds_with_enough_pages(built_pdf: PdfBuild, pdf: Path):
    pages = int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(pdf)), re.M).group(1))
    assert pages >= MIN_PAGES, f"{pdf} has {pages} pages, fewer than {MIN_PAGES}"


def test_every_chapter_title_is_in_the_pdf(pdf_text: str):
    titles = chapter_titles()
    assert len(titles) >= 12, titles
    missing = [t for t in titles if plain(t).lower() not in pdf_text.lower()]
    assert not missing, f"chapter titles not found in the PDF's text: {missing}"


def test_no_unresolved_reference(pdf_text: str):
    at = [m.start() for m in re.finditer(r"\?\?", pdf_text)]
    context = [pdf_text[max(i - 60, 0):i + 60] for i in at[:5]]
    assert not at, f"{len(at)} unresolved references ('??') in the PDF, e.g. {context}"


def test_figures_are_embedded(built_pdf: PdfBuild, pdf: Path):
    listed = run("pdfimages", "-list", str(pdf)).splitlines()[2:]  # two header lines
    images = [line for line in listed if line.split()[2] == "image"]
    tex = (built_pdf.latex_dir / PDF_NAME).with_suffix(".tex").read_text(encoding="utf-8")
    included = re.findall(r"\\sphinxincludegraphics(?:\[[^]]*\])?\{\{([^}]+)\}(\.\w+)\}", tex)
    assert len(included) >= 20, f"only {len(included)} pictures in the LaTeX source"
    missing = [f"{name}{ext}" for name, ext in included
               if not (built_pdf.latex_dir / f"{name}{ext}").is_file()]
    assert not missing, f"pictures the LaTeX source includes but the build lacks: {missing}"
    # Each picture LaTeX includes is an image in the PDF (a picture with transparency
    # adds its mask, listed as 'smask', not counted here).
    assert len(images) >= len(included), (
        f"the LaTeX source includes {len(included)} pictures, the PDF holds {len(images)}")


def test_interactive_outputs_print_as_pictures(built_pdf: PdfBuild, pdf_text: str):
    html_dir = built_pdf.latex_dir.parent / "html"  # the HTML build of the same cache
    expected = sum(len(INTERACTIVE.findall(p.read_text(encoding="utf-8")))
                   for p in sorted(html_dir.glob("chapters/*.html")))
    assert expected >= 5, f"the interactive outputs were not found in {html_dir}"
    notes = pdf_text.count("In the HTML edition")
    assert notes == expected, (f"{notes} print notes for {expected} interactive outputs: "
                               "each should print as a picture and a line")
    tex = (built_pdf.latex_dir / PDF_NAME).with_suffix(".tex").read_text(encoding="utf-8")
    stills = {path.stem for path in (built_pdf.latex_dir / "_stills").glob("*.png")}
    shown = [name for name in stills if f"{{{{{name}}}.png}}" in tex]
    assert len(shown) == expected, f"{len(shown)} still pictures for {expected} outputs"
    assert "IPython.core.display.HTML object" not in pdf_text, \
        "an HTML output printed as its Python repr"
