"""Take the README's screenshots with headless Chromium: the book's landing page and the
stride/padding explorer (as it appears in chapter 4, when that page is built).

    .venv/bin/python tools/screenshots.py [--book _build/html] [--out docs/screenshots]

Needs a built book (`make book`) and Debian's chromium + chromium-driver. Each PNG is
reduced to a 256-colour palette so that it stays well under 300 kB in git.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from browser_helpers import (  # noqa: E402  (after the path set-up above)
    chromium,
    console_errors,
    file_url,
    load,
    set_sliders,
)
from PIL import Image  # noqa: E402  (matplotlib depends on Pillow)

from cnnlib.book.conv_explorer_html import conv_explorer_page  # noqa: E402

MAX_BYTES = 300_000
# The explorer's state in the picture: a 7×7 input, padding 1, stride 2, 3×3 filters, K = 2,
# the filter at its 6th position, so the reader sees padding, a step and the output unit.
EXPLORER_STATE = {"w": 7, "f": 3, "s": 2, "p": 1, "k": 2, "step": 6}


def save_png(png: bytes, path: Path) -> int:
    """Write `png` as a 256-colour PNG; return its size in bytes."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    path.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def landing_page(driver, book: Path, out: Path) -> Path:
    load(driver, file_url(book / "index.html"))
    path = out / "book.png"
    save_png(driver.get_screenshot_as_png(), path)
    return path


def explorer(driver, book: Path, out: Path) -> Path:
    """The explorer inside chapter 4 when it is there, else on its own page."""
    chapter = book / "chapters" / "04_output_dimensions.html"
    roots = []
    if chapter.is_file():
        load(driver, file_url(chapter))
        roots = driver.find_elements("css selector", ".cnnx")
    if not roots:
        page = Path(tempfile.mkdtemp()) / "explorer.html"
        page.write_text(conv_explorer_page(), encoding="utf-8")
        load(driver, file_url(page))
        roots = driver.find_elements("css selector", ".cnnx")
    root = roots[0]
    set_sliders(driver, root, **{k: v for k, v in EXPLORER_STATE.items() if k != "step"})
    set_sliders(driver, root, step=EXPLORER_STATE["step"])
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", root)
    path = out / "explorer.png"
    save_png(root.screenshot_as_png, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, default=REPO / "_build" / "html",
                        help="the built book's HTML folder (default: _build/html)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    if not (args.book / "index.html").is_file():
        parser.error(f"no built book in {args.book}: run `make book` first")
    args.out.mkdir(parents=True, exist_ok=True)
    with chromium(width=1280, height=860) as driver:
        shots = [landing_page(driver, args.book, args.out), explorer(driver, args.book, args.out)]
        errors = console_errors(driver)
    for shot in shots:
        size = shot.stat().st_size
        flag = "" if size <= MAX_BYTES else f"  (over {MAX_BYTES // 1000} kB!)"
        print(f"{shot.relative_to(REPO) if shot.is_relative_to(REPO) else shot}: "
              f"{size // 1000} kB{flag}")
    if errors:
        print("console errors while taking them:\n" + "\n".join(errors), file=sys.stderr)
        return 1
    return 0 if all(s.stat().st_size <= MAX_BYTES for s in shots) else 1


if __name__ == "__main__":
    raise SystemExit(main())
