"""Split keys of the postgresql input against the real server: string, date, timestamp and
uuid keys, nondeterministic (case-insensitive) collations, TABLESAMPLE boundaries for
skewed keys, user boundaries, resume, errors."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fustgo.engine.batch import Batch, Split
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.postgresql import PostgresqlInput, PostgresqlInputConfig
from tests.databases import PG_CONNECTION, pg, pg_schema
from tests.plugins.inputs.reading import assert_exactly_once, ids, read_all

pytestmark = pytest.mark.integration

TEXT_KEYS = ["a", "A", "ä", "Ä", "a ", "b", "B", "b  ", "ab", "", " ", "ss", "ß", "z"]
# `ci`: ICU, case-insensitive and nondeterministic ('a' = 'A'); `C`: bytes; default: the db's
COLLATIONS = ["ci", "C", "default"]


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("split") as name:
        pg(
            f"CREATE COLLATION \"{name}\".ci (provider = icu, locale = 'und-u-ks-level2', "
            "deterministic = false)"
        )
        yield name


def make(query: dict[str, Any], size: int | None = None) -> PostgresqlInput:
    config = PostgresqlInputConfig.model_validate(
        {
            "connection": PG_CONNECTION,
            "query": query,
            "fetch": {"size": size},
        }
    )
    return PostgresqlInput(config, PluginContext(component_path="input"))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    case=st.fixed_dictionaries(
        {
            "keys": st.lists(st.one_of(st.none(), st.sampled_from(TEXT_KEYS)), max_size=40),
            "collation": st.sampled_from(COLLATIONS),
            "method": st.sampled_from(["auto", "sample", "boundaries"]),
            "boundaries": st.lists(st.sampled_from(TEXT_KEYS), min_size=1, max_size=6),
            "parallelism": st.integers(1, 5),
            "size": st.integers(1, 4),
            "primary": st.booleans(),
            "view": st.booleans(),
        }
    )
)
def test_string_keys_put_every_row_in_exactly_one_split_under_any_collation(
    schema: str, case: dict[str, Any]
) -> None:
    keys, collation, method = case["keys"], case["collation"], case["method"]
    pg(f'DROP TABLE IF EXISTS "{schema}".t CASCADE')
    collate = f'"{schema}".ci' if collation == "ci" else f'"{collation}"'
    primary = "PRIMARY KEY" if case["primary"] else "NOT NULL"  # without: ctid tie-break
    pg(f'CREATE TABLE "{schema}".t (id int {primary}, k varchar(10) COLLATE {collate})')
    pg(f'CREATE INDEX ON "{schema}".t (k)')
    if keys:
        pg(f'INSERT INTO "{schema}".t VALUES (%s, %s)', list(enumerate(keys, 1)), many=True)
    source = "t"
    if case["view"]:  # no TABLESAMPLE on a view: sampled by a scan, resumed by OFFSET
        pg(f'CREATE VIEW "{schema}".v AS SELECT * FROM "{schema}".t')
        source = "v"
    split: dict[str, Any] = {"key": "k"}
    if method == "boundaries":
        split["boundaries"] = case["boundaries"]
    else:
        split["method"] = method
    plugin = make({"table": f"{schema}.{source}", "split": split}, case["size"])
    splits, batches = read_all(plugin, case["parallelism"])
    assert_exactly_once(batches, list(range(1, len(keys) + 1)))
    limit = case["parallelism"] * (4 if method == "boundaries" else 1)
    assert len([s for s in splits if s.params["kind"] == "range"]) <= limit


def test_nondeterministic_collation_keeps_equal_keys_in_one_range(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t (id int PRIMARY KEY, k text COLLATE "{schema}".ci)')
    keys = ["a", "A", "b", "B", "m", "M", "t", "T"]
    pg(f'INSERT INTO "{schema}".t VALUES (%s, %s)', list(enumerate(keys, 1)), many=True)
    query = {"table": f"{schema}.t", "split": {"key": "k", "boundaries": ["T", "m", "M", "t"]}}
    splits, batches = read_all(make(query, size=1), parallelism=2)
    assert len(splits) == 3 + 1  # 'm'/'M' and 't'/'T' are one boundary each, plus NULLs
    assert splits[0].description == "k < 'm'" or splits[0].description == "k < 'M'"
    assert [sorted(ids(batches[s.id])) for s in splits] == [[1, 2, 3, 4], [5, 6], [7, 8], []]


def test_skewed_keys_get_boundaries_from_tablesample(schema: str) -> None:
    pg(
        f'CREATE TABLE "{schema}".t (id int PRIMARY KEY, n bigint, d date, ts timestamptz, '
        "u uuid, s text)"
    )
    pg(
        f'INSERT INTO "{schema}".t SELECT i, CASE WHEN i % 10 = 0 THEN i::bigint * 100000000 '
        "ELSE i % 1000 END, CASE WHEN i % 3 = 0 THEN date '2020-01-01' + i ELSE date "
        "'2024-03-01' END, timestamptz '2024-01-01 00:00+05' + i * interval '1 second', "
        "md5(i::text)::uuid, CASE WHEN i % 40 = 0 THEN NULL ELSE 'user' || (i % 7) END "
        "FROM generate_series(1, 20000) i"
    )
    pg(f'ANALYZE "{schema}".t')
    for key in ("n", "d", "ts", "u", "s"):
        splits, batches = read_all(make({"table": f"{schema}.t", "split_key": key}, 5000), 4)
        assert_exactly_once(batches, list(range(1, 20001)))
        ranges = [s for s in splits if s.params["kind"] == "range"]
        assert 2 <= len(ranges) <= 4, key
        sizes = [len(ids(batches[s.id])) for s in ranges]
        assert 0 not in sizes, (key, sizes)
        if key in ("n", "ts", "u"):  # no heavy value: about a quarter each
            assert max(sizes) <= 8000, (key, sizes, [s.description for s in ranges])


def test_user_boundaries_for_dates_and_resume_after_a_timestamp_key(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t (id int PRIMARY KEY, ts timestamp)')
    start = dt.datetime(2024, 1, 1)
    rows = [(i, start + dt.timedelta(hours=i // 2)) for i in range(1, 101)]  # ties in pairs
    pg(f'INSERT INTO "{schema}".t VALUES (%s, %s)', rows, many=True)
    query = {
        "table": f"{schema}.t",
        "split": {"key": "ts", "boundaries": [dt.date(2024, 1, 2), "2024-01-03 12:00:00"]},
    }
    plugin = make(query, size=7)

    async def run() -> tuple[list[Split], list[Batch], list[Batch]]:
        await plugin.open()
        try:
            splits = await plugin.splits(2)
            first = [b async for b in plugin.read(splits[1], None)]
            resumed = [b async for b in plugin.read(splits[1], first[1].checkpoint)]
            return splits, first, resumed
        finally:
            await plugin.close()

    splits, first, resumed = asyncio.run(run())
    assert [s.description for s in splits] == [
        "ts < '2024-01-02 00:00:00'",
        "'2024-01-02 00:00:00' <= ts < '2024-01-03 12:00:00'",
        "'2024-01-03 12:00:00' <= ts",
        "rows whose ts is NULL",
    ]
    assert sorted(ids(first)) == list(range(48, 101))  # from hour 24 on (i // 2)
    assert ids(first[:2]) + ids(resumed) == ids(first)


def test_unsupported_keys_and_bad_boundaries_are_terminal(schema: str) -> None:
    pg(
        f'CREATE TABLE "{schema}".t (id int PRIMARY KEY, j jsonb, b bytea, f float8, '
        "d date, a int[])"
    )
    pg(f"INSERT INTO \"{schema}\".t VALUES (1, '{{}}', '\\x00', 1.5, '2024-01-01', '{{1}}')")
    cases = [
        ({"split_key": "j"}, r"`input.query.split_key` `j` is `jsonb`.*integer, string"),
        ({"split": {"key": "b"}}, r"`input.query.split.key` `b` is `bytea`"),
        ({"split_key": "f"}, r"`f` is `double precision`"),
        ({"split_key": "a"}, r"`a` is `integer\[\]`"),
        ({"split": {"key": "d", "method": "even"}}, r"`method: even` needs an integer key"),
        ({"split": {"key": "d", "boundaries": ["2024-13-45"]}}, r"boundaries` are not all"),
    ]
    for query, message in cases:
        with pytest.raises(TerminalError, match=message):
            read_all(make({"table": f"{schema}.t", **query}))
