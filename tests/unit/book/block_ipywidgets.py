"""Run in a fresh interpreter by test_palette: write the kernel-free explorer with
ipywidgets impossible to import, and prove the blocker blocks."""

import sys


class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "ipywidgets":
            raise ImportError(f"{name} is blocked")


sys.meta_path.insert(0, Block())
from cnnlib.book.conv_explorer_html import conv_explorer_html  # noqa: E402

assert "cnnx" in conv_explorer_html()
assert "ipywidgets" not in sys.modules
try:
    import cnnlib.book.conv_explorer  # noqa: F401  (the widget module needs ipywidgets)
except ImportError as error:
    assert "blocked" in str(error)
else:
    raise AssertionError("the blocker let ipywidgets through")
print("explorer written without ipywidgets")
