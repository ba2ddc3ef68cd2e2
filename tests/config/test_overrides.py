"""`--set path=value` overrides."""

from __future__ import annotations

from typing import Any

import pytest

from fustgo.config.overrides import OverrideError, apply_overrides, parse_override
from fustgo.config.positions import Position, SourceMap

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "loc", "value"),
    [
        ("settings.parallelism=8", ("settings", "parallelism"), 8),
        ("output.write.mode=upsert", ("output", "write", "mode"), "upsert"),
        ("input.paths[0]=x.csv", ("input", "paths", 0), "x.csv"),
        ("output.write.conflict_key=[id, ts]", ("output", "write", "conflict_key"), ["id", "ts"]),
        (
            "output.connection={host: h, port: 1}",
            ("output", "connection"),
            {"host": "h", "port": 1},
        ),
        ("a.b=", ("a", "b"), None),
        ("a.b=''", ("a", "b"), ""),
        ("a.b=2024-01-31", ("a", "b"), "2024-01-31"),
        ("a.b=x=y", ("a", "b"), "x=y"),
        ("a.b=表", ("a", "b"), "表"),
        ("a.b=true", ("a", "b"), True),
    ],
)
def test_parse(text: str, loc: tuple[Any, ...], value: Any) -> None:
    assert parse_override(text) == (loc, value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("parallelism", "has no `=`"),
        ("=8", "has no `=`"),
        ("a..b=1", "cannot read the path"),
        ("[0]=1", "cannot read the path"),
        ("a.b=[1, 2", "not valid YAML"),
    ],
)
def test_bad_overrides_name_themselves(text: str, fragment: str) -> None:
    with pytest.raises(OverrideError) as caught:
        parse_override(text)
    assert f"`{text}`" in str(caught.value)
    assert fragment in str(caught.value)


def test_apply_creates_sections_and_records_the_override_as_position() -> None:
    document: dict[str, Any] = {"input": {"paths": ["a.csv", "b.csv"]}, "settings": None}
    source = SourceMap()
    source.values[("input", "paths", 0)] = Position("p.yaml", 3, 5)
    problems = apply_overrides(
        document,
        ["settings.parallelism=8", "input.paths[0]=x.csv", "input.paths[2]=c.csv", "a.b.c=1"],
        source,
    )
    assert problems == []
    assert document == {
        "input": {"paths": ["x.csv", "b.csv", "c.csv"]},
        "settings": {"parallelism": 8},
        "a": {"b": {"c": 1}},
    }
    assert source.value_position(("input", "paths", 0)) == Position("--set input.paths[0]=x.csv")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("input.paths[5]=x", "`input.paths` has 2 item(s); index 5 is out of range"),
        ("input.paths.x=1", "`input.paths` is not a mapping"),
        ("input[0]=1", "`input` is not a list"),
        ("input.type.x=1", "`input.type` is not a mapping"),
    ],
)
def test_overrides_that_do_not_fit_the_document(text: str, fragment: str) -> None:
    document = {"input": {"type": "csv", "paths": ["a", "b"]}}
    [problem] = apply_overrides(document, [text], SourceMap())
    assert problem.file == f"--set {text}"
    assert fragment in problem.message
    assert document == {"input": {"type": "csv", "paths": ["a", "b"]}}
