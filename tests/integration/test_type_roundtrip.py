"""Types survive PostgreSQL → MySQL → PostgreSQL and PostgreSQL → SQLite → PostgreSQL.

Each trip is two `fustgo` pipelines through the real servers: the middle table is created
by the output from the logical types (the family's type table), the final table is
declared like the source, and every row must come back equal, NULLs included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import my, my_database, pg, pg_schema
from tests.pipeline_runs import run_yaml

pytestmark = pytest.mark.integration

PG = "{host: 127.0.0.1, database: test, user: postgres}"

COLUMNS = """
    id integer PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
    n122 numeric(12,2), n3810 numeric(38,10), txt text, vc varchar(20), b bytea, ok boolean,
    d date, tm time, ts timestamp, tz timestamptz, iv interval, u uuid, j json, jb jsonb,
    ints integer[], texts text[]
"""
ROWS = [
    "(1, -32768, -2147483648, -9223372036854775808, -3.4e38, -1.7976931348623157e308, "
    "-9999999999.99, -1234567890123456789012345678.0123456789, 'héllo wörld 😀🎉 中文', "
    "'ünï', '\\x00ff10'::bytea, true, '0001-01-01', '00:00:00', '1900-01-01 00:00:00.000001', "
    "'1969-12-31 23:59:59.5+05:30', 'P1Y2M3DT4H5M6.5S', "
    "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2, {\"b\": null}]}', "
    '\'{"emoji": "😀", "n": 1.5}\', \'{1,NULL,3}\', \'{"x","y, z",NULL}\')',
    "(2, 32767, 2147483647, 9223372036854775807, 1.5, 2.25, 9999999999.99, "
    "0.0000000001, '', 'a''b\"c\\\\d\ttab\nnewline', ''::bytea, false, '9999-12-31', "
    "'23:59:59.999999', '2038-01-19 03:14:08', '2262-04-11 23:47:16.854775+00', "
    "'-1 days -00:00:01', '00000000-0000-0000-0000-000000000000', '[]', '{}', '{}', '{}')",
    "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
]


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("trip") as name:
        pg(f'CREATE TABLE "{name}".source ({COLUMNS})')
        pg(f'CREATE TABLE "{name}".back ({COLUMNS})')
        pg(f'INSERT INTO "{name}".source VALUES {", ".join(ROWS)}')
        yield name


@pytest.fixture
def database() -> Iterator[str]:
    with my_database("trip") as name:
        my(f"ALTER DATABASE `{name}` CHARACTER SET utf8mb4")
        yield name


def as_json(schema: str, table: str) -> list[Any]:
    """Every row as PostgreSQL's own JSON rendering (exact text of every value)."""
    found = pg(f'SELECT to_jsonb(t)::text FROM "{schema}".{table} t ORDER BY id')
    return [json.loads(row[0]) for row in found]


def trip(first: str, second: str, folder: Path) -> None:
    for index, text in enumerate((first, second)):
        outcome = run_yaml(text, folder, name=f"leg{index}.yaml")
        summary = outcome.summary
        assert summary.status == "succeeded", summary.error
        assert summary.records_written == len(ROWS), summary.render_text()
        assert summary.records_failed == 0


def test_postgresql_to_mysql_and_back(schema: str, database: str, in_tmp_cwd: Path) -> None:
    mysql_connection = f"{{host: 127.0.0.1, database: {database}, user: root}}"
    there = f"""
name: there
input: {{type: postgresql, connection: {PG}, query: {{table: {schema}.source}}}}
output: {{type: mysql, connection: {mysql_connection}, write: {{table: middle}}}}
"""
    back = f"""
name: back
input: {{type: mysql, connection: {mysql_connection}, query: {{table: middle}}}}
output: {{type: postgresql, connection: {PG}, write: {{table: {schema}.back}}}}
"""
    trip(there, back, in_tmp_cwd)
    assert as_json(schema, "back") == as_json(schema, "source")


def test_postgresql_to_sqlite_and_back(schema: str, in_tmp_cwd: Path) -> None:
    there = f"""
name: there
input: {{type: postgresql, connection: {PG}, query: {{table: {schema}.source}}}}
output: {{type: sqlite, connection: {{database: middle.db}}, write: {{table: middle}}}}
"""
    back = f"""
name: back
input: {{type: sqlite, connection: {{database: middle.db}}, query: {{table: middle}}}}
output: {{type: postgresql, connection: {PG}, write: {{table: {schema}.back}}}}
"""
    trip(there, back, in_tmp_cwd)
    assert as_json(schema, "back") == as_json(schema, "source")


def test_values_the_target_cannot_hold_go_to_the_dead_letter(
    schema: str, database: str, in_tmp_cwd: Path
) -> None:
    pg(f'CREATE TABLE "{schema}".wide (id int PRIMARY KEY, code text, small int, price numeric)')
    pg(
        f"INSERT INTO \"{schema}\".wide VALUES (1, 'abc', 1, 1.5), (2, 'abcd', 2, 2.5), "
        f"(3, 'ok', 300, 3.5), (4, 'ok', 4, 12345.678), (5, '😀', 5, 5.5), (6, NULL, NULL, NULL)"
    )
    my(
        f"CREATE TABLE `{database}`.narrow (id int PRIMARY KEY, code varchar(3) CHARACTER SET "
        "utf8mb3, small tinyint, price decimal(5,2))"
    )
    mysql_connection = f"{{host: 127.0.0.1, database: {database}, user: root}}"
    outcome = run_yaml(
        f"""
name: narrow
settings: {{error_limit: {{records: 10}}}}
input: {{type: postgresql, connection: {PG}, query: {{table: {schema}.wide}}}}
output: {{type: mysql, connection: {mysql_connection}, write: {{table: narrow}}}}
""",
        in_tmp_cwd,
    )
    summary = outcome.summary
    assert summary.status == "succeeded", summary.error
    assert (summary.records_written, summary.records_failed) == (2, 4)
    letters = [
        json.loads(line)
        for line in (in_tmp_cwd / ".fustgo/dead-letter/narrow.jsonl").read_text().splitlines()
    ]
    assert sorted(json.loads(letter["record"])["id"] for letter in letters) == [2, 3, 4, 5]
    errors = " ".join(letter["error"] for letter in letters)
    assert "code" in errors and "small" in errors and "price" in errors
