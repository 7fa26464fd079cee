"""The package's layout is its architecture, and the docs that describe it cannot go stale:
every module is in the README's tree and its folder's docstring and names its chapter;
only `cnnlib.book` needs matplotlib or ipywidgets."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "cnnlib"
FOLDERS = ["book", "cli", "core", "engine", "nn", "training"]
TOP_FILES = ["__init__.py", "checks.py", "evaluate.py", "train.py"]
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")


def rel(path) -> str:
    return str(path.relative_to(PACKAGE))


def test_the_top_level_holds_only_the_folders_the_checks_and_the_two_entry_points():
    entries = sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    assert entries == sorted(FOLDERS + TOP_FILES), entries


@pytest.mark.parametrize("module", MODULES, ids=rel)
def test_every_module_names_its_chapter(module):
    doc = ast.get_docstring(ast.parse(module.read_text(encoding="utf-8"))) or ""
    assert "Book:" in doc, f"cnnlib/{rel(module)}: its docstring has no 'Book:' line"


@pytest.mark.parametrize("module", MODULES, ids=rel)
def test_every_module_is_in_the_readme_tree(module):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    tree = readme[readme.index("## The library, folder by folder"):]
    folder = module.parent.name if module.parent != PACKAGE else None
    assert module.name in tree, f"cnnlib/{rel(module)} is missing from the README's tree"
    if folder:
        assert f"{folder}/" in tree, f"cnnlib/{folder}/ is missing from the README's tree"


@pytest.mark.parametrize("module", [m for m in MODULES if m.parent != PACKAGE], ids=rel)
def test_every_module_is_in_its_folders_docstring(module):
    init = module.parent / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
    assert f"`{module.stem}`" in doc, (f"cnnlib/{rel(module)} is missing from the docstring of "
                                       f"cnnlib/{rel(init)}")


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_folder_is_in_the_package_docstring(folder):
    doc = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8")))
    assert f"`{folder}/`" in doc, f"cnnlib/{folder}/ is missing from cnnlib/__init__.py's docstring"


def imported_modules(module) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", [m for m in MODULES if "book" not in m.parts], ids=rel)
def test_only_the_book_folder_imports_matplotlib_or_ipywidgets(module):
    found = imported_modules(module) & {"matplotlib", "ipywidgets"}
    assert not found, f"cnnlib/{rel(module)} imports {sorted(found)}; only cnnlib/book/ may"


# A fresh interpreter in which matplotlib and ipywidgets cannot be imported: what a user
# has after `pip install cnnlib` without the `book` extra.
BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("matplotlib", "ipywidgets"):
            raise ImportError(f"{name} is blocked: cnnlib must work without it")
sys.meta_path.insert(0, Block())
"""

TRAIN_TINY = BLOCK + """
import numpy as np
import cnnlib
from cnnlib.training import TrainConfig, Trainer
rng = np.random.default_rng(0)
x = rng.integers(0, 256, (32, 8, 8, 3), dtype=np.uint8)
y = rng.integers(0, 3, 32)
model = cnnlib.reference_network(0, widths=(4,), hidden=8, num_classes=3, image_size=8,
                                 mean=(127.5,) * 3, std=(74.0,) * 3)
history = Trainer(model, x, y, TrainConfig(epochs=2, batch_size=16, seed=0)).fit(progress=False)
assert np.isfinite(history.train_loss).all()
import cnnlib.cli.train, cnnlib.cli.evaluate, cnnlib.interop
assert not any(m.split(".")[0] in ("matplotlib", "ipywidgets") for m in sys.modules)
print("trained without matplotlib and ipywidgets")
"""


def test_cnnlib_imports_and_trains_without_matplotlib_or_ipywidgets():
    run = subprocess.run([sys.executable, "-c", TRAIN_TINY], capture_output=True, text=True,
                         cwd=REPO_ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "trained without matplotlib and ipywidgets" in run.stdout


def test_the_blocker_really_blocks():
    """The test above proves something only if the blocker stops an import of matplotlib."""
    run = subprocess.run([sys.executable, "-c", BLOCK + "import cnnlib.book.viz"],
                         capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert run.returncode != 0 and "matplotlib is blocked" in run.stderr


def _public_functions() -> dict[str, list[tuple[str, ast.FunctionDef]]]:
    found: dict[str, list[tuple[str, ast.FunctionDef]]] = {}
    for module in MODULES:
        for node in ast.parse(module.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
                found.setdefault(node.name, []).append((rel(module), node))
    return found


def test_no_two_public_functions_share_a_name_except_the_documented_twins():
    # STYLE.md: CLI modules each have main/build_parser; engine/conv.py's drivers are the
    # drop-in twins of core/functional.py's functions (same name, same parameters).
    for name, places in _public_functions().items():
        if len(places) < 2:
            continue
        modules = sorted(module for module, _ in places)
        if name in ("main", "build_parser"):
            assert all(m.startswith(("cli/", "book/")) for m in modules), (name, modules)
            continue
        assert modules == ["core/functional.py", "engine/conv.py"], (name, modules)
        # The same positional parameters; `out` (where a chunk writes its rows) is the
        # engine's business, and the engine may add keyword-only options (keep_tiles).
        params = {m: [a.arg for a in node.args.args if a.arg != "out"] for m, node in places}
        assert params["engine/conv.py"] == params["core/functional.py"], (name, params)
