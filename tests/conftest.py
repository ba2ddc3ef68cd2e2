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


@pytest.fixture(autouse=True)
def _restore_fustgo_logging() -> Iterator[None]:
    """CLI commands run in-process configure the `fustgo` logger; undo it after each test."""
    import logging

    logger = logging.getLogger("fustgo")
    saved = (logger.level, list(logger.handlers), logger.propagate)
    yield
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]
    logger.propagate = saved[2]
