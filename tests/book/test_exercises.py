"""The exercises at the end of every chapter: well formed, and their checks can fail.

Every chapter ends with "## Exercises". Its cells carry one of these tags:
`exercise-setup` (what the exercises need: imports, a few images), `exercise-stub` (the
reader's starting point), `exercise-solution` (folded in the book, removed from the
student edition) and `exercise-check` (asserts with a message that names the exercise).

nbval runs every chapter top to bottom (stub, then solution, then check), which proves
that every solution passes. Here, each chapter's exercise cells run on their own, in a
fresh namespace: setup, then for every exercise its stub and its check, which must fail
with an AssertionError naming the exercise, then its solution and the check again, which
must pass. Only the exercise cells run, so chapter 10's training is not repeated.

The build track's exercises are written in files (chapters/mycnn/, read by the check
through `learner_piece`): their "stub" is the student edition of the package, which
`tools/make_exercises.py` writes, and their "solution" the full edition's file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import REPO_ROOT

CHAPTERS = REPO_ROOT / "chapters"
CHAPTER_FILES = sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
TAGS = {"exercise-setup", "exercise-stub", "exercise-solution", "exercise-check"}
TITLE = re.compile(r"^### Exercise (\w+)\.(\d+)\b")
sys.path.insert(0, str(REPO_ROOT))


def appendix_files() -> list[str]:
    """The notebooks listed under the "Appendix" caption of _toc.yml, in order."""
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    parts = [p for p in toc.get("parts", []) if p.get("caption") == "Appendix"]
    return [Path(c["file"]).name for p in parts for c in p.get("chapters", [])]


def chapter_label(path: Path) -> str:
    """"3" for 03_convolution; "A", "B", ... for the appendices, as the book numbers them."""
    appendices = appendix_files()
    if path.stem in appendices:
        return "ABCDEFGH"[appendices.index(path.stem)]
    return str(int(path.name[:2]))


def source(cell: dict) -> str:
    return "".join(cell["source"])


def tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


@dataclass
class Exercise:
    label: str  # "2.3"
    cells: list[dict] = field(default_factory=list)

    def of(self, tag: str) -> list[dict]:
        return [c for c in self.cells if tag in tags(c)]


@dataclass
class Section:
    setup: list[dict]
    exercises: list[Exercise]


def exercise_section(path: Path) -> Section:
    cells = json.loads(path.read_text())["cells"]
    starts = [i for i, c in enumerate(cells)
              if c["cell_type"] == "markdown" and source(c).startswith("## Exercises")]
    assert len(starts) == 1, f"{path.name}: expected one '## Exercises' heading, found {starts}"
    before = [c for c in cells[: starts[0]] if tags(c) & TAGS]
    assert not before, f"{path.name}: exercise tags before '## Exercises'"
    setup, exercises = [], []
    for cell in cells[starts[0] + 1:]:
        match = TITLE.match(source(cell)) if cell["cell_type"] == "markdown" else None
        if match and not tags(cell):
            exercises.append(Exercise(f"{match[1]}.{match[2]}", [cell]))
        elif exercises:
            exercises[-1].cells.append(cell)
        else:
            setup.append(cell)
    return Section(setup, exercises)


CHAPTERS_WITH_EXERCISES = CHAPTER_FILES
IDS = [p.stem for p in CHAPTERS_WITH_EXERCISES]


@pytest.mark.parametrize("path", CHAPTERS_WITH_EXERCISES, ids=IDS)
def test_exercises_are_well_formed(path: Path) -> None:
    section = exercise_section(path)
    label = chapter_label(path)
    numbers = [e.label for e in section.exercises]
    assert numbers == [f"{label}.{k}" for k in range(1, len(numbers) + 1)], (
        f"{path.name}: exercises must be numbered {label}.1, {label}.2, ... in order: {numbers}")
    assert 4 <= len(section.exercises) <= 9, f"{path.name}: {len(numbers)} exercises, want 4-9"
    checked = [e for e in section.exercises if e.of("exercise-stub") and e.of("exercise-check")]
    assert len(checked) >= 2, f"{path.name}: only {len(checked)} exercises with stub and check"
    assert all(tags(c) <= {"exercise-setup", "nbval-ignore-output"} for c in section.setup), (
        f"{path.name}: cells between '## Exercises' and the first exercise must be setup")

    for ex in section.exercises:
        where = f"{path.name}, exercise {ex.label}"
        kinds = []
        for cell in ex.cells[1:]:
            ours = tags(cell) & TAGS
            assert len(ours) <= 1, f"{where}: a cell has several exercise tags {ours}"
            kinds.append(next(iter(ours), "prose"))
            if cell["cell_type"] == "code":
                assert ours, f"{where}: an untagged code cell"
                assert not re.search(r"^\s*[%!]", source(cell), re.M), f"{where}: magics"
                assert not cell.get("outputs"), f"{where}: outputs must be stripped"
            if "exercise-solution" in ours:
                # Folded in the book: code behind a "show" toggle, prose in a dropdown.
                if cell["cell_type"] == "code":
                    assert "hide-cell" in tags(cell), f"{where}: solution without hide-cell"
                else:
                    assert source(cell).startswith(":::{dropdown}"), (
                        f"{where}: a prose solution must be a {{dropdown}}")
            assert "exercise-setup" not in ours, f"{where}: setup cells come before exercise 1"
        assert "exercise-solution" in kinds, f"{where}: no solution"
        if "exercise-stub" in kinds or "exercise-check" in kinds:
            order = [k for k in kinds if k != "prose"]
            assert order == ["exercise-stub", "exercise-solution", "exercise-check"], (
                f"{where}: want stub, solution, check in that order, got {order}")
            check = source(ex.of("exercise-check")[0])
            assert f'"{ex.label}"' in check, f"{where}: the check must name its exercise"


def reads_a_file(check: dict) -> bool:
    """A build-track check: it reads the reader's function from mycnn/."""
    return "learner_piece(" in source(check)


def run_cell(cell: dict, namespace: dict, where: str) -> None:
    code = compile(source(cell), where, "exec")
    exec(code, namespace)  # noqa: S102 - the book's own cells


def failure_of(cell: dict, namespace: dict, where: str) -> AssertionError | None:
    try:
        run_cell(cell, namespace, where)
    except AssertionError as err:
        return err
    return None


@pytest.mark.parametrize("path", CHAPTERS_WITH_EXERCISES, ids=IDS)
def test_every_check_fails_on_its_stub_and_passes_on_its_solution(
        path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tools.make_exercises import write_package

    write_package(tmp_path)  # the student edition of mycnn/: every piece a stub
    section = exercise_section(path)
    monkeypatch.chdir(CHAPTERS)  # as in the book: notebooks run in chapters/
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("CNNLIB_EPOCHS", "1")  # Exercise 10.8 trains: briefly, as `make test`
    monkeypatch.setenv("CNNLIB_TRAIN_SUBSET", "300")
    namespace: dict = {"__name__": "__exercises__"}
    for i, cell in enumerate(section.setup):
        if cell["cell_type"] == "code":
            run_cell(cell, namespace, f"{path.name} exercise setup {i}")
    for ex in section.exercises:
        if not ex.of("exercise-check"):
            continue
        where = f"{path.name} exercise {ex.label}"
        (stub,), (solution,), (check,) = (ex.of(t) for t in
                                          ("exercise-stub", "exercise-solution", "exercise-check"))
        run_cell(stub, namespace, f"{where} stub")
        if reads_a_file(check):
            monkeypatch.chdir(tmp_path)  # the reader's mycnn/, not written yet
        err = failure_of(check, namespace, f"{where} check")
        assert err is not None, f"{where}: the check passes on the stub"
        assert str(err).startswith(f"Exercise {ex.label}: "), (
            f"{where}: on the stub, the check fails without naming the exercise: {err!r}")
        monkeypatch.chdir(CHAPTERS)  # the full edition's mycnn/, with the solutions
        if solution["cell_type"] == "code":
            run_cell(solution, namespace, f"{where} solution")
        err = failure_of(check, namespace, f"{where} check")
        assert err is None, f"{where}: the solution fails its check: {err}"


def test_student_edition_has_no_solutions_and_stops_at_the_first_check(tmp_path: Path) -> None:
    from tools.make_exercises import write_all

    written = write_all(tmp_path)
    assert [p.name for p in written] == [p.name for p in CHAPTER_FILES]
    for path in written:
        cells = json.loads(path.read_text())["cells"]
        assert not [c for c in cells if "exercise-solution" in tags(c)], path.name
        assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), path.name
    # One chapter, run top to bottom as a reader would: it stops at exercise 4.1's check.
    pytest.importorskip("nbclient")
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    student = tmp_path / "04_output_dimensions.ipynb"
    nb = nbformat.read(student, as_version=4)
    env_ok = os.environ.get("CNNLIB_DATA") or (REPO_ROOT.parent / "shared/data/cifar10").is_dir()
    if not env_ok:
        pytest.skip("no CIFAR-10 folder")
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    failed = [c for c in nb.cells if c.cell_type == "code" and any(
        o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert len(failed) == 1 and "exercise-check" in failed[0].metadata.get("tags", [])
    assert "Exercise 4.1: " in str(info.value)


def test_make_exercises_writes_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "exercises"
    subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "make_exercises.py"),
                    "--out", str(out)], check=True, capture_output=True, text=True)
    sub_pages = sorted(p.name for p in CHAPTERS.glob("[0-9][0-9][a-z]_*.ipynb"))
    assert sub_pages == ["13b_engine_details.ipynb"]  # copied too: chapter 13 links to it
    assert sorted(p.name for p in out.glob("*.ipynb")) == sorted(
        [p.name for p in CHAPTER_FILES] + sub_pages)
