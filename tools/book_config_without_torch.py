"""Write the book's configuration for a machine without PyTorch (`make book TORCH=no`).

    python tools/book_config_without_torch.py _config.yml _build/config-without-torch.yml
    jupyter-book build . --config _build/config-without-torch.yml

Chapters 1-11 and the appendices need no PyTorch (chapter 13 times it only when it is
there); chapter 12 compares cnnlib with it on
every page. The written configuration is `_config.yml` with two changes:

- chapter 12 is not executed (`execute: exclude_patterns`): its page shows its text and
  code, without outputs, and a note at its top says why (book_ext/without_torch.py);
- the book's own Sphinx extensions are found from the new file's folder (Jupyter Book
  reads `local_extensions` paths relative to the configuration file).

Its execution cache is the same as `make book`'s: the other chapters are not run twice.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

# The pages that import torch; each is built unexecuted, with a note.
NEEDS_TORCH = ["chapters/12_*"]


def config_without_torch(config: dict, source: Path, target: Path) -> dict:
    """`config` (a parsed _config.yml that sits in `source`'s folder) for a build whose
    configuration file is `target`, with the PyTorch chapters left unexecuted."""
    out = dict(config)
    execute = dict(out.get("execute") or {})
    execute["exclude_patterns"] = sorted({*execute.get("exclude_patterns", []), *NEEDS_TORCH})
    out["execute"] = execute
    sphinx = dict(out.get("sphinx") or {})
    local = dict(sphinx.get("local_extensions") or {})
    base = source.resolve().parent
    moved = {name: Path(os.path.relpath(base / path, target.resolve().parent)).as_posix()
             for name, path in local.items()}
    sphinx["local_extensions"] = moved
    sphinx_config = dict(sphinx.get("config") or {})
    sphinx_config["book_unexecuted_pages"] = NEEDS_TORCH
    sphinx["config"] = sphinx_config
    out["sphinx"] = sphinx
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="the book's _config.yml")
    parser.add_argument("target", type=Path, help="where to write the configuration")
    args = parser.parse_args(argv)
    config = yaml.safe_load(args.source.read_text(encoding="utf-8"))
    args.target.parent.mkdir(parents=True, exist_ok=True)
    written = config_without_torch(config, args.source, args.target)
    header = (f"# Written by tools/book_config_without_torch.py from {args.source}: "
              "do not edit.\n")
    args.target.write_text(header + yaml.safe_dump(written, sort_keys=False,
                                                   allow_unicode=True), encoding="utf-8")
    print(f"No PyTorch: {', '.join(NEEDS_TORCH)} will be built without running "
          f"(text and code, no outputs). Configuration: {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
