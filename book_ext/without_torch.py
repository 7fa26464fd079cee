"""A note at the top of the pages a build did not execute because PyTorch is missing.

`make book TORCH=no` builds with the configuration that tools/book_config_without_torch.py
writes: it leaves chapter 12 unexecuted and lists it in `book_unexecuted_pages` (glob
patterns of docnames). Such a page shows its text and code but no outputs; this extension
says so at its top, so that a reader does not take the missing outputs for a fault.
In the normal build the list is empty and the extension does nothing.
"""

from __future__ import annotations

from fnmatch import fnmatch

from docutils import nodes
from sphinx.application import Sphinx

NOTE = ("This copy of the book was built without PyTorch (make book TORCH=no), so the code "
        "of this page was not run and shows no outputs. Install PyTorch as the README says "
        "and run make book again to see them.")


def _on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    if not any(fnmatch(docname, pattern) for pattern in app.config.book_unexecuted_pages):
        return
    note = nodes.note("", nodes.paragraph(text=NOTE))
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        doctree.insert(0, note)
        return
    title = next((i for i, child in enumerate(section.children)
                  if isinstance(child, nodes.title)), -1)
    section.insert(title + 1, note)


def setup(app: Sphinx) -> dict:
    app.add_config_value("book_unexecuted_pages", [], "env")
    app.connect("doctree-read", _on_doctree_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
