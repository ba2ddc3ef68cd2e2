"""The committed plugin reference is exactly what the config models generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from fustgo.config.reference import reference_pages
from fustgo.plugins.registry import default_registry
from tests.cli_runner import REPO

pytestmark = pytest.mark.unit

REFERENCE = REPO / "docs" / "reference"


def test_every_plugin_has_a_page_and_the_pages_are_fresh() -> None:
    pages = reference_pages(default_registry())
    assert len(pages) == len(default_registry().all()) + 1  # one per plugin and the index
    stale = [
        path
        for path, text in pages.items()
        if not (REFERENCE / path).exists() or (REFERENCE / path).read_text(encoding="utf-8") != text
    ]
    assert not stale, f"docs/reference is stale ({stale[:5]}…); run `make docs`"
    committed = {str(p.relative_to(REFERENCE)) for p in REFERENCE.rglob("*.md")}
    assert committed == set(pages), f"pages of removed plugins: {committed - set(pages)}"


def test_a_page_shows_fields_defaults_and_examples(tmp_path: Path) -> None:
    page = reference_pages(default_registry())["processors/filter.md"]
    assert "| `condition` | string | required |" in page
    assert '`"include"`' in page
    assert "```yaml\npipeline:\n  processors:\n    - type: filter" in page
