"""PostgreSQL → PostgreSQL with no processor: splits pass through as binary COPY data."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import pg, pg_schema
from tests.integration.test_type_roundtrip import COLUMNS, ROWS
from tests.pipeline_runs import run_yaml

pytestmark = pytest.mark.integration

PG = "{host: 127.0.0.1, database: test, user: postgres}"


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("pass") as name:
        yield name


def rows_of(schema: str, table: str) -> list[Any]:
    found = pg(f'SELECT to_jsonb(t)::text FROM "{schema}".{table} t ORDER BY id')
    return [json.loads(row[0]) for row in found]


def copy(schema: str, folder: Path, *, mode: str = "insert", extra: str = "") -> Any:
    outcome = run_yaml(
        f"""
name: pass
settings: {{parallelism: 2, error_limit: {{records: 5}}}}
input: {{type: postgresql, connection: {PG}, query: {{table: {schema}.source, split_key: id}}}}
output: {{type: postgresql, connection: {PG}, write: {{table: {schema}.target, mode: {mode}}}}}
{extra}""",
        folder,
    )
    return outcome.summary


def test_every_type_passes_through_exactly(
    schema: str, in_tmp_cwd: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pg(f'CREATE TABLE "{schema}".source ({COLUMNS})')
    pg(f'CREATE TABLE "{schema}".target ({COLUMNS})')
    pg(f'INSERT INTO "{schema}".source VALUES {", ".join(ROWS)}')
    pg(
        f'INSERT INTO "{schema}".source (id, txt) SELECT g, md5(g::text) '
        "FROM generate_series(10, 60009) g"
    )
    with caplog.at_level(logging.INFO, logger="fustgo"):
        summary = copy(schema, in_tmp_cwd)
    assert summary.status == "succeeded", summary.error
    assert "binary COPY pass-through" in caplog.text
    assert summary.records_read == summary.records_written == 60_003
    assert rows_of(schema, "target") == rows_of(schema, "source")


def test_a_different_type_falls_back_to_converting_rows(
    schema: str, in_tmp_cwd: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pg(f'CREATE TABLE "{schema}".source (id int PRIMARY KEY, code varchar(10), n int)')
    pg(f'CREATE TABLE "{schema}".target (id bigint PRIMARY KEY, code text, n numeric)')
    pg(f"INSERT INTO \"{schema}\".source SELECT g, 'c' || g, g FROM generate_series(1, 500) g")
    with caplog.at_level(logging.INFO, logger="fustgo"):
        summary = copy(schema, in_tmp_cwd)
    assert summary.status == "succeeded", summary.error
    assert "Not passing COPY data through: column `id`" in caplog.text
    assert pg(f'SELECT count(*), sum(n) FROM "{schema}".target') == [(500, 125250)]


def test_a_refused_row_sends_its_split_down_the_row_path_to_the_dead_letter(
    schema: str, in_tmp_cwd: Path
) -> None:
    pg(f'CREATE TABLE "{schema}".source (id int PRIMARY KEY, n int)')
    pg(f'CREATE TABLE "{schema}".target (id int PRIMARY KEY, n int CHECK (n <> 777))')
    pg(f'INSERT INTO "{schema}".source SELECT g, g FROM generate_series(1, 2000) g')
    summary = copy(schema, in_tmp_cwd)
    assert summary.status == "succeeded", summary.error
    assert (summary.records_written, summary.records_failed) == (1_999, 1)
    assert pg(f'SELECT count(*), count(*) FILTER (WHERE n = 777) FROM "{schema}".target') == [
        (1_999, 0)
    ]
    letters = (in_tmp_cwd / ".fustgo/dead-letter/pass.jsonl").read_text().splitlines()
    assert [json.loads(json.loads(line)["record"])["n"] for line in letters] == [777]


def test_truncate_empties_the_target_once(schema: str, in_tmp_cwd: Path) -> None:
    pg(f'CREATE TABLE "{schema}".source (id int PRIMARY KEY, n int)')
    pg(f'CREATE TABLE "{schema}".target (id int PRIMARY KEY, n int)')
    pg(f'INSERT INTO "{schema}".source SELECT g, g FROM generate_series(1, 3000) g')
    pg(f'INSERT INTO "{schema}".target VALUES (-1, -1)')
    summary = copy(schema, in_tmp_cwd, mode="truncate")
    assert summary.status == "succeeded", summary.error
    assert pg(f'SELECT count(*), min(id) FROM "{schema}".target') == [(3000, 1)]
