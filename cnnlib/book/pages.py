"""The glue of the book's kernel-free pages: a fragment with inline CSS, data and script.

The stride/padding explorer, the animation player and the network explorer are each an
HTML fragment that works in any browser, offline, with no Python kernel: one root
element carrying the palette, its CSS inline, its data as JSON in a script tag, and a
script that finds the root by id and brings it to life. This module writes that frame
once; each page writes only its own body.

Book: chapters 3-5 (animations), 4 (the explorer) and 11 (the network page).
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Sequence
from importlib import resources

from .palette import css_variables

_ELEMENT_ID = re.compile(r"[A-Za-z][\w-]*")


def static(name: str) -> str:
    """The text of cnnlib/book/static/<name> (CSS or JavaScript shipped with the package)."""
    return resources.files("cnnlib.book").joinpath("static", name).read_text(encoding="utf-8")


def script_json(value: object) -> str:
    """JSON that is safe inside <script>: no "</script>", no HTML comment openers."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def element_id(given: str | None, prefix: str) -> str:
    """`given`, checked to be a usable HTML id, or a fresh random one starting `prefix-`.

    A fresh id per fragment lets several explorers share one page.
    """
    root_id = given or f"{prefix}-{uuid.uuid4().hex[:12]}"
    if not isinstance(root_id, str) or not _ELEMENT_ID.fullmatch(root_id):
        raise ValueError(f"element_id = {root_id!r} must be a letter followed by letters, "
                         "digits, '_' or '-'")
    return root_id


def fragment(root_class: str, root_id: str, body: str, *, css: str,
             scripts: Sequence[str], start: str, attributes: str = "") -> str:
    """The page's root <div> (palette set, CSS inlined) around `body`, then its script.

    scripts: files in static/ inlined, in order, into one function scope (nothing leaks
    into the page's globals but what they assign to window); start: the function they
    define that is called with the root element.
    """
    code = "\n".join(static(name) for name in scripts)
    extra = f" {attributes}" if attributes else ""
    return (f'<div class="{root_class}" id="{root_id}" style="{css_variables()}"{extra}>\n'
            f"<style>{static(css)}</style>\n{body}\n</div>\n"
            f"<script>(function () {{\n{code}\n"
            f"{start}(document.getElementById({json.dumps(root_id)}));\n}})();</script>\n")


def page(title: str, body: str) -> str:
    """A whole standalone HTML document around `body` (one or more fragments)."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title></head>\n"
            f'<body style="margin:16px">\n{body}\n</body></html>\n')
