"""Shared pytest set-up: the `book` marker and one strict book build per session.

The build is a session fixture so that every test that inspects the rendered book
(tests/test_book_build.py, browser tests) shares one build; `book_html` is the one
place that says which built book those tests read. Deselect with -m "not book".
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Short training for chapter 10 when the test build executes it; the caller may override.
SHORT_TRAINING_ENV = {"CNNLIB_EPOCHS": "1", "CNNLIB_TRAIN_SUBSET": "1000"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "book: builds the Jupyter Book (slow); deselect with -m 'not book'"
    )


@dataclass(frozen=True)
class BookBuild:
    returncode: int
    log: str
    html_dir: Path  # the folder that holds index.html

    def log_tail(self, lines: int = 30) -> str:
        """The build's warning and error lines, then its last lines."""
        log = ANSI.sub("", self.log).splitlines()
        problems = [line for line in log if re.search(r"WARNING|ERROR|Error|Exception", line)
                    and "Kernel is running over TCP" not in line]
        return "\n".join(["warnings and errors:", *problems[:40], "last lines:", *log[-lines:]])


@pytest.fixture(scope="session")
def built_book() -> BookBuild:
    """Build the book with warnings as errors into $CNNLIB_BOOK_TEST_DIR (default
    _build/test), with short-training env vars; never into _build/html."""
    out = Path(os.environ.get("CNNLIB_BOOK_TEST_DIR", "_build/test"))
    out = out if out.is_absolute() else REPO_ROOT / out
    bindir = Path(sys.executable).parent
    env = {**SHORT_TRAINING_ENV, **os.environ}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    shared_data = REPO_ROOT.parent / "shared" / "data" / "cifar10"
    if "CNNLIB_DATA" not in env and shared_data.is_dir():  # as the Makefile does
        env["CNNLIB_DATA"] = str(shared_data)

    cmd = [
        str(bindir / "jupyter-book"), "build", str(REPO_ROOT),
        "-W", "-n", "--keep-going", "--path-output", str(out),
    ]
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=3 * 3600,
    )
    return BookBuild(proc.returncode, proc.stdout, out / "_build" / "html")


def require_build(book: BookBuild) -> Path:
    """The build's HTML folder, or a test failure that shows the end of its log."""
    if book.returncode != 0 or not (book.html_dir / "index.html").is_file():
        pytest.fail(f"the book did not build (exit {book.returncode}); last lines:\n"
                    f"{book.log_tail(10)}", pytrace=False)
    return book.html_dir


@pytest.fixture(scope="session")
def book_html(request: pytest.FixtureRequest) -> Path:
    """The built book's HTML folder (holds index.html): $CNNLIB_BOOK_DIR when set (e.g. the
    full `make book` in _build/html), else the session's strict test build."""
    chosen = os.environ.get("CNNLIB_BOOK_DIR")
    if chosen:
        path = Path(chosen) if Path(chosen).is_absolute() else REPO_ROOT / chosen
        if not (path / "index.html").is_file():
            pytest.fail(f"CNNLIB_BOOK_DIR={chosen}: there is no built book there "
                        f"({path / 'index.html'} is missing). Build it first: `make book` "
                        "(writes _build/html), or unset CNNLIB_BOOK_DIR to let the tests "
                        "build their own.", pytrace=False)
        return path
    return require_build(request.getfixturevalue("built_book"))


@pytest.fixture(scope="module")
def driver():
    """A headless Chromium, 1200×1000, for the browser tests of one module (skipped where
    Chromium is missing; a failure where CNNLIB_REQUIRE_BROWSER is set, as in CI)."""
    from browser_helpers import chromium, require_chromium

    require_chromium()
    with chromium(1200, 1000) as d:
        yield d


def toc_pages(toc: dict) -> list[str]:
    """Every `file:` in a jb-book _toc.yml, root first, without suffix."""
    pages = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return [str(Path(p).with_suffix("")) if Path(p).suffix in {".md", ".ipynb"} else p
            for p in pages]


@dataclass(frozen=True)
class PdfBuild:
    returncode: int
    log: str
    latex_dir: Path  # the folder that holds the .tex and the PDF

    def log_tail(self, lines: int = 40) -> str:
        return BookBuild(self.returncode, self.log, self.latex_dir).log_tail(lines)


PDF_NAME = "cnn-from-scratch.pdf"  # _config.yml latex_documents targetname, as .pdf


def require_pdf_tools() -> None:
    """Skip where XeLaTeX or poppler's tools are missing; fail instead where
    CNNLIB_REQUIRE_PDF is set (CI installs them)."""
    import shutil

    missing = [t for t in ("xelatex", "latexmk", "pdftotext", "pdfimages", "pdfinfo")
               if shutil.which(t) is None]
    if missing:
        message = (f"the PDF edition needs {', '.join(missing)} (README: Debian's "
                   "texlive-xetex texlive-latex-extra texlive-latex-recommended "
                   "texlive-fonts-recommended latexmk xindy fonts-freefont-otf poppler-utils)")
        if os.environ.get("CNNLIB_REQUIRE_PDF"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def built_pdf(built_book: BookBuild) -> PdfBuild:
    """`make pdf` into the test build's folder: it reuses the execution cache that
    `built_book` filled, so no notebook runs a second time."""
    import shutil

    require_pdf_tools()
    require_build(built_book)
    out = built_book.html_dir.parent.parent  # the --path-output of built_book
    bindir = Path(sys.executable).parent
    env = {**SHORT_TRAINING_ENV, **os.environ}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    # The LaTeX builder rewrites everything but never deletes: start from an empty folder,
    # so that no picture of an earlier build is counted.
    shutil.rmtree(out / "_build" / "latex", ignore_errors=True)
    cmd = [str(bindir / "jupyter-book"), "build", str(REPO_ROOT), "--builder", "pdflatex",
           "-W", "-n", "--keep-going", "--path-output", str(out)]
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=3600,
    )
    return PdfBuild(proc.returncode, proc.stdout, out / "_build" / "latex")
