"""Optional test dependencies: skipped loudly on a developer's machine, required in CI.

PyTorch (the cross-checks) and Chromium (the browser tests) are installed by
`make test` and `.ci/run`. Where they are missing a local run skips those tests with
the reason; with CNNLIB_REQUIRE_TORCH=1 / CNNLIB_REQUIRE_BROWSER=1 (set by `.ci/run`)
a missing one is a failure, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os

import pytest

TORCH_INSTALL = "pip install torch==2.13.0 (the CPU wheel; requirements-dev.txt)"


def require_torch():
    """The torch module, or a skip (a failure where CNNLIB_REQUIRE_TORCH is set)."""
    if os.environ.get("CNNLIB_REQUIRE_TORCH"):
        try:
            import torch
        except ImportError as err:
            pytest.fail(f"PyTorch is required here (CNNLIB_REQUIRE_TORCH) but missing: {err}. "
                        f"Install it: {TORCH_INSTALL}")
        return torch
    return pytest.importorskip("torch", reason=f"PyTorch not installed: {TORCH_INSTALL}")
