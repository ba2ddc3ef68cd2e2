"""Shared fixtures: every test runs in its own working directory (checkpoints, dead letters)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def in_tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run the test with `tmp_path` as the working directory."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path
