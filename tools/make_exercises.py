"""Write the student edition: every chapter without its solutions, into exercises/.

    python tools/make_exercises.py [--out exercises]

Each chapters/NN_name.ipynb becomes exercises/NN_name.ipynb with every cell tagged
`exercise-solution` removed and all outputs cleared. Run top to bottom, a student edition
stops at the first exercise whose stub is still unsolved, with its check's message.
The package of the build track, chapters/mycnn/, becomes exercises/mycnn/ with every
block between `# BEGIN SOLUTION (Exercise 3.7)` and `# END SOLUTION` replaced by
`raise NotImplementedError("Exercise 3.7: write conv_forward_naive in mycnn/conv.py")`.
`make exercises` runs this; exercises/ is generated (git-ignored). A notebook or a mycnn
file already there is kept unless --force is given: it may hold a reader's answers.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = REPO_ROOT / "chapters"
SOLUTION_TAG = "exercise-solution"
SUBPAGES = "[0-9][0-9][a-z]_*.ipynb"  # a chapter's sub-page, e.g. 13b_engine_details
PACKAGE = "mycnn"
BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION \(Exercise (\w+\.\d+)\)\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
DEF = re.compile(r"^\s*def (\w+)\(")

NOTE = (
    "> **Student edition.** The solutions of this chapter's exercises are left out. Run the\n"
    "> notebook top to bottom: it stops at the first exercise you have not solved yet, and\n"
    "> its check says what is wrong. The build track's exercises (track.md) are written in\n"
    "> the files of the mycnn/ folder beside this notebook.\n"
)


def tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def student_edition(nb: dict, note: bool = True) -> dict:
    """A copy of the notebook without solution cells and without outputs (and, with
    `note`, the student-edition note after its title)."""
    out = copy.deepcopy(nb)
    cells = [c for c in out["cells"] if SOLUTION_TAG not in tags(c)]
    for cell in cells:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    if not note:
        out["cells"] = cells
        return out
    remark = {"cell_type": "markdown", "id": "student-edition-note", "metadata": {},
              "source": NOTE.splitlines(keepends=True)}
    # After the title cell, so the page keeps its title.
    out["cells"] = cells[:1] + [remark] + cells[1:]
    return out


def student_module(text: str, filename: str) -> str:
    """A mycnn module with each solution block replaced by a NotImplementedError that
    names the exercise, the function and the file. Raises ValueError on an unclosed or
    nested block, or one outside a function."""
    out: list[str] = []
    inside = None
    function = None
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        begin, end, define = BEGIN.match(line), END.match(line), DEF.match(line)
        if define and inside is None:
            function = define[1]
        if begin:
            if inside is not None or function is None:
                raise ValueError(f"{filename}:{number}: a solution block must be inside a "
                                 "function and not inside another block")
            inside = begin
            out.append(f'{begin[1]}raise NotImplementedError("Exercise {begin[2]}: write '
                       f'{function} in {PACKAGE}/{filename}")\n')
        elif end:
            if inside is None:
                raise ValueError(f"{filename}:{number}: # END SOLUTION without a BEGIN")
            inside = None
        elif inside is None:
            out.append(line)
    if inside is not None:
        raise ValueError(f"{filename}: a solution block is not closed (# END SOLUTION)")
    return "".join(out)


def write_package(out_dir: Path, chapters: Path = CHAPTERS, force: bool = True) -> list[Path]:
    """Write out_dir/mycnn/, the build track's files without their solutions; with
    force=False, keep files already there."""
    target_dir = out_dir / PACKAGE
    target_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted((chapters / PACKAGE).glob("*.py")):
        target = target_dir / path.name
        if target.exists() and not force:
            print(f"kept {PACKAGE}/{target.name} (it may hold your work; --force overwrites it)")
            continue
        target.write_text(student_module(path.read_text(encoding="utf-8"), path.name),
                          encoding="utf-8")
        written.append(target)
    return written


def write_all(out_dir: Path, chapters: Path = CHAPTERS, force: bool = True) -> list[Path]:
    """Write the student editions; with force=False, keep notebooks already there."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    # A chapter's sub-pages (13b_engine_details) hold no exercises: copied without the
    # student note, outputs cleared, so that their chapter's links work here too.
    pages = [(path, True) for path in sorted(chapters.glob("[0-9][0-9]_*.ipynb"))]
    pages += [(path, False) for path in sorted(chapters.glob(SUBPAGES))]
    for path, is_chapter in pages:
        target = out_dir / path.name
        if target.exists() and not force:
            print(f"kept {target.name} (it may hold your work; --force overwrites it)")
            continue
        edition = student_edition(json.loads(path.read_text()), note=is_chapter)
        target.write_text(json.dumps(edition, indent=1, ensure_ascii=False) + "\n")
        if is_chapter:
            written.append(target)
    # Chapter 11 reads the network that chapter 10 saved under chapters/_models/.
    models = out_dir / "_models"
    if not models.exists() and not models.is_symlink():
        os.symlink(os.path.relpath(chapters / "_models", out_dir), models)
    write_package(out_dir, chapters, force=force)
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
