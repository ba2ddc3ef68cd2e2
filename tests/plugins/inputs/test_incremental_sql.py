"""Incremental reads of the SQL inputs against real PostgreSQL, MariaDB and SQLite files.

Each test runs the input as the runner does (`restore_state` → `splits` → `next_state` →
`read` every split) with the state the previous run would have committed.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fustgo.engine.batch import JSONValue, Split
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import Input, PluginContext
from fustgo.plugins.inputs.mysql import MysqlInput, MysqlInputConfig
from fustgo.plugins.inputs.postgresql import PostgresqlInput, PostgresqlInputConfig
from fustgo.plugins.inputs.sqlite import SqliteInput, SqliteInputConfig
from tests.databases import PG_CONNECTION, my, my_database, pg, pg_schema

pytestmark = pytest.mark.integration


@dataclass
class Family:
    """One SQL family: how to run statements on it and build its input for table `t`."""

    name: str
    timestamp: str
    """The DDL type of a timestamp column."""
    execute: Callable[[str], object]
    make: Callable[[dict[str, Any]], Input[Any]]
    table: str
    qualified: str
    """How statements name table `t`."""

    def sql(self, statement: str) -> None:
        self.execute(statement.replace("{t}", self.qualified))


def _postgresql() -> Iterator[Family]:
    def make(query: dict[str, Any]) -> Input[Any]:
        config = PostgresqlInputConfig.model_validate(
            {
                "connection": PG_CONNECTION,
                "query": query,
                "fetch": {"size": 2},
            }
        )
        return PostgresqlInput(config, PluginContext(component_path="input"))

    with pg_schema("inc") as schema:
        yield Family("postgresql", "timestamptz", pg, make, f"{schema}.t", f'"{schema}".t')


def _mariadb() -> Iterator[Family]:
    def make(query: dict[str, Any]) -> Input[Any]:
        config = MysqlInputConfig.model_validate(
            {
                "connection": {"host": "127.0.0.1", "database": database, "user": "root"},
                "query": query,
                "fetch": {"size": 2},
            }
        )
        return MysqlInput(config, PluginContext(component_path="input"))

    with my_database("inc") as database:
        yield Family("mariadb", "datetime(6)", my, make, "t", f"`{database}`.t")


def _sqlite(folder: Path) -> Iterator[Family]:
    path = folder / "source.db"

    def execute(statement: str) -> None:
        connection = sqlite3.connect(path)
        try:
            connection.execute(statement)
            connection.commit()
        finally:
            connection.close()

    def make(query: dict[str, Any]) -> Input[Any]:
        config = SqliteInputConfig.model_validate(
            {"connection": {"database": str(path)}, "query": query, "fetch": {"size": 2}}
        )
        return SqliteInput(config, PluginContext(component_path="input"))

    yield Family("sqlite", "TIMESTAMP", execute, make, "t", "t")


@pytest.fixture(params=["postgresql", "mariadb", "sqlite"])
def family(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Family]:
    if request.param == "postgresql":
        yield from _postgresql()
    elif request.param == "mariadb":
        yield from _mariadb()
    else:
        yield from _sqlite(tmp_path)


@dataclass
class Run:
    ids: list[int]
    """Ids read, sorted (a row read twice appears twice)."""
    state: dict[str, JSONValue] | None
    splits: list[Split]


def run(
    family: Family,
    incremental: dict[str, Any],
    state: dict[str, JSONValue] | None,
    *,
    parallelism: int = 1,
    between: Callable[[], None] | None = None,
    **query: Any,
) -> Run:
    """One run: plan from `state`, call `between` after planning, then read every split."""
    plugin = family.make({"table": family.table, "incremental": incremental, **query})

    async def go() -> Run:
        await plugin.open()
        try:
            plugin.restore_state(state)
            splits = await plugin.splits(parallelism)
            next_state = plugin.next_state()
            if between is not None:
                between()
            ids = [
                row["id"]
                for split in splits
                async for batch in plugin.read(split, None)
                for row in batch.data.to_pylist()
            ]
            return Run(sorted(ids), next_state, splits)
        finally:
            await plugin.close()

    return asyncio.run(go())


def create(family: Family, ts_type: str | None = None) -> None:
    family.sql(
        "CREATE TABLE {t} (id INTEGER NOT NULL PRIMARY KEY, v VARCHAR(20), "
        f"ts {ts_type or family.timestamp})"
    )


def insert(family: Family, *rows: tuple[int, str]) -> None:
    values = ", ".join(f"({i}, 'v{i}', '2024-01-01 {ts}')" for i, ts in rows)
    family.sql(f"INSERT INTO {{t}} (id, v, ts) VALUES {values}")


def test_first_run_reads_all_then_only_new_and_changed_rows(family: Family) -> None:
    create(family)
    insert(family, *((i, f"10:0{i}:00") for i in range(1, 6)))
    first = run(family, {"column": "ts"}, None)
    assert first.ids == [1, 2, 3, 4, 5]
    assert first.state is not None and first.state["column"] == "ts"
    assert first.state["key"] == ["id"] and first.state["high"][1] in (5, "5")  # type: ignore[index]

    insert(family, (6, "10:30:00"))
    family.sql("UPDATE {t} SET ts = '2024-01-01 11:00:00', v = 'changed' WHERE id = 2")
    second = run(family, {"column": "ts"}, first.state)
    assert second.ids == [2, 6]
    assert "incremental" in second.splits[0].description

    third = run(family, {"column": "ts"}, second.state)
    assert third.ids == []
    assert third.state is None  # nothing new: the committed mark stays


def test_the_window_composes_with_split_key_ranges(family: Family) -> None:
    create(family)
    insert(family, *((i, f"10:{i:02d}:00") for i in range(1, 41)))
    first = run(family, {"column": "ts"}, None, parallelism=3, split_key="id")
    assert first.ids == list(range(1, 41))
    insert(family, *((i, f"11:{i - 40:02d}:00") for i in range(41, 51)))
    second = run(family, {"column": "ts"}, first.state, parallelism=3, split_key="id")
    assert second.ids == list(range(41, 51))
    assert all("window" in split.params for split in second.splits)
    # the key range is cut from the window's rows (41..50), not from the whole table (1..50)
    cuts = [
        value
        for split in second.splits
        for value in (split.params.get("lo"), split.params.get("hi"))
        if isinstance(value, int)
    ]
    assert cuts and all(41 <= cut <= 50 for cut in cuts), second.splits


def test_equal_timestamps_at_the_boundary_are_neither_lost_nor_read_twice(
    family: Family,
) -> None:
    create(family)
    insert(family, (1, "10:00:00"), (2, "10:00:00"), (3, "10:00:00"))
    first = run(family, {"column": "ts"}, None)
    assert first.ids == [1, 2, 3]
    # same timestamp as the mark, inserted after the first run planned: a later key
    insert(family, (4, "10:00:00"), (5, "10:00:00"))
    second = run(family, {"column": "ts"}, first.state)
    assert second.ids == [4, 5]
    assert run(family, {"column": "ts"}, second.state).ids == []


def test_a_row_committed_late_inside_the_overlap_is_read(family: Family) -> None:
    create(family)
    insert(family, (1, "10:00:00"), (2, "10:10:00"))
    first = run(family, {"column": "ts", "overlap": "5m"}, None)
    assert first.ids == [1, 2]
    # committed after the first run but stamped before its mark (a long transaction)
    insert(family, (3, "10:07:00"), (4, "10:01:00"))
    without_overlap = run(family, {"column": "ts"}, first.state)
    assert without_overlap.ids == []  # what the overlap is for
    second = run(family, {"column": "ts", "overlap": "5m"}, first.state)
    assert second.ids == [2, 3]  # 10:05 on; row 2 again (upsert), row 4 is older than 5m
    assert second.state is None  # nothing past the mark: the committed one stays


def test_rows_written_after_planning_wait_for_the_next_run(family: Family) -> None:
    create(family)
    insert(family, (1, "10:00:00"))
    first = run(family, {"column": "ts"}, None)
    second = run(
        family, {"column": "ts"}, first.state, between=lambda: insert(family, (2, "10:05:00"))
    )
    assert second.ids == [] and second.state is None
    assert run(family, {"column": "ts"}, first.state).ids == [2]


def test_an_integer_column_with_and_without_overlap(family: Family) -> None:
    create(family)
    insert(family, *((i, "10:00:00") for i in range(1, 6)))
    first = run(family, {"column": "id"}, None)
    assert first.ids == [1, 2, 3, 4, 5]
    assert first.state is not None and first.state["key"] == []  # the key itself: exact
    insert(family, (6, "09:00:00"), (7, "09:00:00"))
    assert run(family, {"column": "id"}, first.state).ids == [6, 7]
    # `id >= 5 - 2`: the last three again, then the new ones
    assert run(family, {"column": "id", "overlap": 2}, first.state).ids == [3, 4, 5, 6, 7]


def test_start_and_an_empty_first_run(family: Family) -> None:
    create(family)
    empty = run(family, {"column": "ts", "start": "2024-01-01 10:03:00"}, None)
    assert empty.ids == [] and empty.state is None
    insert(family, *((i, f"10:0{i}:00") for i in range(1, 6)))
    first = run(family, {"column": "ts", "start": "2024-01-01 10:03:00"}, None)
    assert first.ids == [3, 4, 5]


def test_without_a_key_rows_equal_to_the_mark_are_read_again(family: Family) -> None:
    family.sql(f"CREATE TABLE {{t}} (id INTEGER NOT NULL, v VARCHAR(20), ts {family.timestamp})")
    insert(family, (1, "10:00:00"), (2, "10:05:00"))
    first = run(family, {"column": "ts"}, None)
    assert first.ids == [1, 2]
    insert(family, (3, "10:05:00"))
    second = run(family, {"column": "ts"}, first.state)
    if family.name == "sqlite":  # the rowid is SQLite's default key: exact
        assert second.ids == [3]
    else:  # no primary key, no tie-break: the boundary is read again rather than risked
        assert second.ids == [2, 3]


def test_the_mark_of_another_column_needs_a_full_refresh(family: Family) -> None:
    create(family)
    insert(family, (1, "10:00:00"))
    first = run(family, {"column": "ts"}, None)
    with pytest.raises(TerminalError, match="--full-refresh"):
        run(family, {"column": "id"}, first.state)


def test_wrong_column_or_key_fails_at_open(family: Family) -> None:
    create(family)
    with pytest.raises(TerminalError, match=r"incremental\.column.*`nope`"):
        run(family, {"column": "nope"}, None)
    with pytest.raises(TerminalError, match=r"incremental\.key.*allows NULL"):
        run(family, {"column": "ts", "key": "v"}, None)
    with pytest.raises(TerminalError, match=r"overlap.*number"):
        run(family, {"column": "id", "overlap": "5m"}, None)


def test_rows_whose_column_is_null_are_not_read_and_the_first_run_says_so(
    family: Family, caplog: pytest.LogCaptureFixture
) -> None:
    create(family)
    insert(family, (1, "10:00:00"))
    family.sql("INSERT INTO {t} (id, v, ts) VALUES (2, 'null', NULL)")
    with caplog.at_level(logging.WARNING):
        first = run(family, {"column": "ts"}, None)
    assert first.ids == [1]
    assert "whose `ts` is NULL are not read" in caplog.text
