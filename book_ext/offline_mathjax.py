"""Serve MathJax from the book itself: the book renders its math with no network.

MathJax 3.2.2 comes from PyPI (the `django-static-mathjax` package, which holds MathJax's
own release tree and its LICENSE), so building the book needs Python only, no npm. After
an HTML build this extension copies the part of that tree the book uses into
`_static/mathjax/`, and `mathjax_path` in `_config.yml` points there.

Copied: the combined TeX+MathML/CHTML component and what it loads on demand (TeX
extensions via autoload, the CHTML fonts, the context menu, the accessibility parts).
Not copied: the speech engine (sre, about 4 MB), SVG output and the other combined
builds: about 3 MB instead of 24.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx

# The parts of MathJax's es5/ tree that tex-mml-chtml.js loads, relative to es5/.
USED = ["tex-mml-chtml.js", "input/tex", "input/mml", "output/chtml", "ui", "a11y"]
TARGET = "mathjax"  # under _static/, as mathjax_path says


def mathjax_release() -> Path:
    """The folder of MathJax's release tree inside the installed package (holds es5/)."""
    try:
        import mathjax  # the django-static-mathjax package
    except ImportError as error:
        raise RuntimeError(
            "MathJax for the offline book comes from the Python package "
            "django-static-mathjax (requirements.txt): pip install -r requirements.txt"
        ) from error
    root = Path(mathjax.__file__).parent / "static" / "mathjax"
    if not (root / "es5" / "tex-mml-chtml.js").is_file():
        raise RuntimeError(f"{root} holds no es5/tex-mml-chtml.js: reinstall "
                           "django-static-mathjax")
    return root


def copy_mathjax(release: Path, static_dir: Path) -> Path:
    """Copy the used part of `release`/es5 and its LICENSE into `static_dir`/mathjax."""
    dest = static_dir / TARGET
    for part in USED:
        src = release / "es5" / part
        if src.is_dir():
            shutil.copytree(src, dest / part, dirs_exist_ok=True)
        else:
            (dest / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / part)
    shutil.copy2(release / "LICENSE", dest / "LICENSE")
    return dest


def _on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(mathjax_release(), Path(app.outdir) / "_static")


def _check_installed(app: Sphinx) -> None:
    if app.builder.format == "html":
        mathjax_release()  # fail at the start of the build, not after every notebook ran


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _check_installed)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
