"""Small helpers to edit chapter notebooks cell by cell (keeps the files' JSON layout).

Used from one-off scripts: `from tools.nbedit import load, save, find, set_source`.
"""

from __future__ import annotations

import json
from pathlib import Path


def load(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def save(path: str | Path, nb: dict) -> None:
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def source(cell: dict) -> str:
    return "".join(cell["source"])


def set_source(cell: dict, text: str) -> None:
    lines = text.split("\n")
    cell["source"] = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def find(nb: dict, needle: str) -> int:
    """Index of the only cell whose source contains `needle`."""
    hits = [i for i, c in enumerate(nb["cells"]) if needle in source(c)]
    if len(hits) != 1:
        raise ValueError(f"{needle!r} found in cells {hits}, expected exactly one")
    return hits[0]


def replace_in(nb: dict, old: str, new: str) -> None:
    i = find(nb, old)
    set_source(nb["cells"][i], source(nb["cells"][i]).replace(old, new))
