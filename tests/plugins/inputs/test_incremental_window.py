"""The incremental window's pieces that need no database: config, bounds' SQL, ISO overlap."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Split
from fustgo.plugins.clients.incremental import (
    Incremental,
    SqliteDialect,
    WindowColumn,
    earlier_iso,
    window_conditions,
)
from fustgo.plugins.clients.incremental import _compare as compare

pytestmark = pytest.mark.unit


def test_config_takes_one_key_and_checks_the_overlap() -> None:
    assert Incremental.model_validate({"column": "ts", "key": "id"}).key == ["id"]
    assert Incremental.model_validate({"column": "ts", "overlap": "1m30s"}).overlap == "1m30s"
    with pytest.raises(ValidationError, match="not a duration"):
        Incremental.model_validate({"column": "ts", "overlap": "soon"})
    with pytest.raises(ValidationError, match="negative"):
        Incremental.model_validate({"column": "id", "overlap": -1})
    with pytest.raises(ValidationError, match="empty"):
        Incremental.model_validate({"column": "ts", "key": []})


def test_tuple_bounds_lead_with_a_range_on_the_column() -> None:
    dialect = SqliteDialect(lambda sql: [], "t", has_rowid=True)
    columns = [WindowColumn(n, n, "INTEGER", "integer") for n in ("a", "b", "c")]
    assert compare(columns, [1, 2, 3], ">", dialect) == (
        "(a >= 1 AND (a > 1 OR (b > 2 OR (b = 2 AND c > 3))))"
    )
    assert compare(columns[:2], [1, "x'y"], "<=", dialect) == (
        "(a <= 1 AND (a < 1 OR b <= 'x''y'))"
    )
    assert compare(columns[:1], [5], ">=", dialect) == "a >= 5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01T10:00:00.250000+02:00", "2024-01-01T09:55:00"),
        ("2024-01-01 00:02:00", "2023-12-31 23:57:00"),
        ("2024-01-01T10:00:00Z", "2024-01-01T09:55:00"),
        ("2024-01-01", "2023-12-31"),
    ],
)
def test_an_iso_time_moves_back_in_its_own_layout(text: str, expected: str) -> None:
    moved = earlier_iso(text, 300)
    assert moved == expected
    assert moved <= text  # sorts before every text of the instant it rounds down from


def test_only_a_splits_own_window_is_added() -> None:
    assert window_conditions(Split("all", {"kind": "all"})) == []
    assert window_conditions(Split("all", {"window": ["a > 1", "a <= 9"]})) == ["a > 1", "a <= 9"]
