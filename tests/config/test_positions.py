"""Locations in a document: spelling, parsing and lookups."""

from __future__ import annotations

import pytest

from fustgo.config.positions import Position, SourceMap, format_loc, parse_loc

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        ((), ""),
        (("input",), "input"),
        (("pipeline", "processors", 1, "condition"), "pipeline.processors[1].condition"),
        (("input", "paths", 0), "input.paths[0]"),
        (("表", "列"), "表.列"),
    ],
)
def test_format_and_parse_round_trip(loc: tuple[str | int, ...], text: str) -> None:
    assert format_loc(loc) == text
    if loc:
        assert parse_loc(text) == loc


@pytest.mark.parametrize("text", ["", "a..b", "[0]", "a.", "a[x]", "a=b"])
def test_parse_rejects_malformed_paths(text: str) -> None:
    assert parse_loc(text) is None


def test_forget_drops_a_subtree_only() -> None:
    source = SourceMap()
    for loc in [("a",), ("a", "b"), ("a", "b", 0), ("ab",)]:
        source.values[loc] = source.keys[loc] = Position("f", 1, 1)
    source.forget(("a", "b"))
    assert set(source.values) == set(source.keys) == {("a",), ("ab",)}
    assert source.value_position(("a", "b", 0)) == Position("f", 1, 1)
    assert SourceMap().value_position(("x",)) is None
