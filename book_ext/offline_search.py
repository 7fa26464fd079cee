"""Search snippets for a book opened from disk.

Sphinx's search page shows, under each result, the passage where the word occurs. It gets
that passage by fetching the result's page, which browsers refuse for pages opened from
`file://` (Sphinx issue #10407), so an offline reader saw titles only. This extension
writes every page's text into `_static/search_texts.js` after an HTML build, and the
search page alone loads it with `static/offline_search.js` (html_static_path in
`_config.yml`), which answers those fetches from it.

A page's text keeps its sections (`<section id=...>`), so a result that points at a
section gets that section's passage, as it would on a web server.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

TEXTS_FILE = "search_texts.js"
SHIM_FILE = "offline_search.js"


def section_html(node: nodes.Element) -> str:
    """The text of `node` as HTML that keeps only the sections and their ids."""
    parts = []
    for child in node.children:
        if isinstance(child, nodes.section):
            parts.append(section_html(child))
        elif isinstance(child, (nodes.comment, nodes.raw, nodes.substitution_definition)):
            continue  # not shown as text on the page
        else:
            parts.append(f"<p>{html.escape(child.astext())}</p>")
    body = "".join(parts)
    if isinstance(node, nodes.section) and node["ids"]:
        first, *others = node["ids"]
        spans = "".join(f'<span id="{html.escape(i)}"></span>' for i in others)
        return f'<section id="{html.escape(first)}">{spans}{body}</section>'
    return body


def page_texts(app: Sphinx) -> dict[str, str]:
    """{docname: the page's text as section HTML} for every page of the build."""
    return {docname: section_html(app.env.get_doctree(docname))
            for docname in sorted(app.env.found_docs)}


def _on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    payload = json.dumps(page_texts(app), ensure_ascii=False, separators=(",", ":"))
    target = Path(app.outdir) / "_static" / TEXTS_FILE
    target.write_text(f"window.BOOK_SEARCH_TEXTS = {payload};\n", encoding="utf-8")


def _on_page_context(app: Sphinx, pagename: str, templatename: str, context: dict,
                     doctree: nodes.document | None) -> None:
    if pagename == "search":  # the texts are large: only the search page loads them
        app.add_js_file(TEXTS_FILE)
        app.add_js_file(SHIM_FILE)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _on_page_context)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
