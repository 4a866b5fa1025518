"""Shared fixtures. Real public sample files are read from ../shared/data when present."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def shared_file(relative: str) -> Path:
    """A real sample file, or skip the test with a message saying what is missing."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real sample {path} is absent (it lives outside the repository)")
    return path
