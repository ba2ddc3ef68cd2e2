"""Fixtures for config tests: a private registry of sample plugins and a file writer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fustgo.plugins.registry import Registry
from tests.config.sample_plugins import sample_registry


@pytest.fixture
def registry() -> Registry:
    return sample_registry()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write `text` to `tmp_path/name` (folders created) and return the path."""

    def write_file(text: str, name: str = "pipeline.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write_file
