"""Write the student edition: every chapter without its solutions, into exercises/.

    python tools/make_exercises.py [--out exercises]

Each chapters/NN_name.ipynb becomes exercises/NN_name.ipynb with every cell tagged
`exercise-solution` removed and all outputs cleared. Run top to bottom, a student edition
stops at the first exercise whose stub is still unsolved, with its check's message.
`make exercises` runs this; exercises/ is generated (git-ignored). A notebook already
there is kept unless --force is given: it may hold a reader's answers.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = REPO_ROOT / "chapters"
SOLUTION_TAG = "exercise-solution"

NOTE = (
    "> **Student edition.** The solutions of this chapter's exercises are left out. Run the\n"
    "> notebook top to bottom: it stops at the first exercise you have not solved yet, and\n"
    "> its check says what is wrong.\n"
)


def tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def student_edition(nb: dict) -> dict:
    """A copy of the notebook without solution cells and without outputs."""
    out = copy.deepcopy(nb)
    cells = [c for c in out["cells"] if SOLUTION_TAG not in tags(c)]
    for cell in cells:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    note = {"cell_type": "markdown", "id": "student-edition-note", "metadata": {},
            "source": NOTE.splitlines(keepends=True)}
    # After the title cell, so the page keeps its title.
    out["cells"] = cells[:1] + [note] + cells[1:]
    return out


def write_all(out_dir: Path, chapters: Path = CHAPTERS, force: bool = True) -> list[Path]:
    """Write the student editions; with force=False, keep notebooks already there."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(chapters.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text())
        target = out_dir / path.name
        if target.exists() and not force:
            print(f"kept {target.name} (it may hold your work; --force overwrites it)")
            continue
        target.write_text(json.dumps(student_edition(nb), indent=1, ensure_ascii=False) + "\n")
        written.append(target)
    # Chapter 11 reads the network that chapter 10 saved under chapters/_models/.
    models = out_dir / "_models"
    if not models.exists() and not models.is_symlink():
        os.symlink(os.path.relpath(chapters / "_models", out_dir), models)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "exercises",
                        help="folder for the student edition (default: exercises/)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite notebooks that are already in the folder")
    args = parser.parse_args()
    for path in write_all(args.out, force=args.force):
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
