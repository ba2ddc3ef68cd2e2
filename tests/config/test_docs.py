"""docs/configuration.md stays in step with the models it describes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from fustgo.config.validate import PipelineFile
from fustgo.engine.settings import RunSettings

pytestmark = pytest.mark.unit

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text("utf-8")


def leaf_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths.extend(leaf_fields(annotation, f"{prefix}{name}."))
        else:
            paths.append(f"{prefix}{name}")
    return paths


def test_every_setting_is_documented() -> None:
    missing = [path for path in leaf_fields(RunSettings) if f"| `{path}` |" not in PAGE]
    assert missing == []


def test_every_section_is_documented() -> None:
    missing = [name for name in PipelineFile.model_fields if f"| `{name}` |" not in PAGE]
    assert missing == []
