"""Pydantic errors folded into one readable, located diagnostic per problem."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fustgo.config.document import DocumentReader
from fustgo.config.model_errors import model_diagnostics
from fustgo.config.models import Diagnostic
from fustgo.config.positions import SourceMap

pytestmark = pytest.mark.unit


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Basic(Strict):
    kind: Literal["basic"] = "basic"
    """Basic authentication."""
    user: str
    """User name."""
    password: str
    """Password."""


class Token(Strict):
    kind: Literal["token"] = "token"
    """Token authentication."""
    token: str
    """The token."""


class Column(Strict):
    name: str
    """Column name."""
    width: int = Field(default=1, gt=0)
    """Width in characters."""


class Sample(Strict):
    paths: str | list[str] = "x"
    """One path or several."""
    auth: Basic | Token | None = None
    """How to log in."""
    columns: list[Column] = []
    """Columns to write."""
    tags: dict[str, int] = {}
    """Tag weights."""
    label: str = Field(default="x", min_length=2, pattern=r"^[a-z]+$")
    """Lower-case label."""


def check(text: str) -> list[Diagnostic]:
    source = SourceMap()
    data = DocumentReader(env={}, source=source).read(
        text, label="s.yaml", directory=Path(), real_path=None
    )
    try:
        Sample.model_validate(data)
    except ValidationError as error:
        return model_diagnostics(error, model=Sample, prefix=(), data=data, source=source)
    return []


def test_scalar_union_gives_one_combined_message() -> None:
    [diagnostic] = check("paths: 5\n")
    assert diagnostic.message == "`paths` must be a string or a list, got `5`"
    assert (diagnostic.line, diagnostic.column) == (1, 8)


def test_model_union_reports_the_closest_branch_only() -> None:
    [diagnostic] = check("auth:\n  user: bob\n")
    assert diagnostic.message == "Missing required field `password` in `auth`"
    assert (diagnostic.line, diagnostic.column) == (1, 1)
    assert diagnostic.hint == "`password`: Password."


def test_errors_inside_list_items_are_located_at_the_item() -> None:
    found = check("columns:\n  - name: a\n  - {name: b, width: 0}\n  - width: 3\n")
    assert [(d.path, d.line, d.column, d.message) for d in found] == [
        ("columns[1].width", 3, 22, "`columns[1].width` must be greater than 0, got `0`"),
        ("columns[2].name", 4, 5, "Missing required field `name` in `columns[2]`"),
    ]


def test_dict_values_are_checked() -> None:
    [diagnostic] = check("tags: {a: 1, b: heavy}\n")
    assert diagnostic.path == "tags.b"
    assert diagnostic.message == "`tags.b` must be an integer, got `heavy`"


def test_string_constraints() -> None:
    [diagnostic] = check("label: A\n")
    assert diagnostic.message == "`label` must have at least 2 character(s), got `A`"
    [diagnostic] = check("label: AB\n")
    assert diagnostic.message == "`label` must match the pattern `^[a-z]+$`, got `AB`"


def test_union_of_models_with_a_scalar() -> None:
    [diagnostic] = check("auth: 5\n")
    assert diagnostic.message == "`auth` must be a mapping, got `5`"


def test_field_of_another_union_branch_is_not_suggested_as_itself() -> None:
    [diagnostic] = check("auth: {user: a, password: b, token: c}\n")
    assert diagnostic.message == "Unknown field `token` in `auth`"
    assert diagnostic.hint is not None and "Did you mean `token`" not in diagnostic.hint


def test_empty_value_for_a_mapping() -> None:
    [diagnostic] = check("columns:\n  - \n")
    assert diagnostic.message == "`columns[0]` must be a mapping, got nothing (an empty value)"


def test_long_values_are_shortened() -> None:
    [diagnostic] = check(f"tags: {{a: {'x' * 100}}}\n")
    assert diagnostic.message.endswith("got `" + "x" * 57 + "...`")
