"""Split keys of the mysql input against the real MariaDB: string, date and skewed integer
keys, case-insensitive and PAD SPACE collations, user boundaries, resume, errors."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.mysql import MysqlInput, MysqlInputConfig
from tests.databases import my, my_database
from tests.plugins.inputs.reading import assert_exactly_once, ids, read_all

pytestmark = pytest.mark.integration

# equal in pairs under case-insensitive, accent-insensitive or PAD SPACE collations
TEXT_KEYS = ["a", "A", "ä", "Ä", "a ", "b", "B", "b  ", "ab", "", " ", "ss", "ß", "z"]
COLLATIONS = [
    "utf8mb4_general_ci",
    "utf8mb4_unicode_520_ci",
    "utf8mb4_bin",
    "utf8mb4_general_nopad_ci",
]


@pytest.fixture
def database() -> Iterator[str]:
    with my_database("split") as name:
        yield name


def make(database: str, query: dict[str, Any], size: int | None = None) -> MysqlInput:
    config = MysqlInputConfig.model_validate(
        {
            "connection": {"host": "127.0.0.1", "database": database, "user": "root"},
            "query": query,
            "fetch": {"size": size},
        }
    )
    return MysqlInput(config, PluginContext(component_path="input"))


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
            "integer_id": st.booleans(),
        }
    )
)
def test_string_keys_put_every_row_in_exactly_one_split_under_any_collation(
    database: str, case: dict[str, Any]
) -> None:
    keys, collation, method = case["keys"], case["collation"], case["method"]
    parallelism, integer_id = case["parallelism"], case["integer_id"]
    my(f"DROP TABLE IF EXISTS `{database}`.t")
    primary = "id int PRIMARY KEY" if integer_id else "id int NOT NULL"  # no PK: OFFSET reads
    my(
        f"CREATE TABLE `{database}`.t ({primary}, k varchar(10) CHARACTER SET utf8mb4 "
        f"COLLATE {collation} NULL, KEY (k))"
    )
    if keys:
        my(
            f"INSERT INTO `{database}`.t VALUES (%s, %s)",
            list(enumerate(keys, start=1)),
            many=True,
        )
    split: dict[str, Any] = {"key": "k"}
    if method == "boundaries":
        split["boundaries"] = case["boundaries"]
    else:
        split["method"] = method
    plugin = make(database, {"table": "t", "split": split}, case["size"])
    splits, batches = read_all(plugin, parallelism)
    assert_exactly_once(batches, list(range(1, len(keys) + 1)))
    ranges = [s for s in splits if s.params.get("kind") == "range"]
    limit = parallelism * (4 if method == "boundaries" else 1)
    assert len(ranges) <= limit
    assert len(splits) <= limit + 1


def test_case_and_pad_space_duplicates_are_one_boundary_and_land_in_one_range(
    database: str,
) -> None:
    my(
        f"CREATE TABLE `{database}`.t (id int PRIMARY KEY, "
        "k varchar(10) COLLATE utf8mb4_general_ci, KEY (k))"
    )
    keys = ["a", "A", "a ", "ä", "b", "B ", "m", "M", "t", "T  "]
    my(f"INSERT INTO `{database}`.t VALUES (%s, %s)", list(enumerate(keys, 1)), many=True)
    query = {"table": "t", "split": {"key": "k", "boundaries": ["t", "M", "m", "T ", "b"]}}
    splits, batches = read_all(make(database, query, size=2), parallelism=2)
    # 't', 'T ' and 'm', 'M' are one boundary each (which spelling stays is the server's)
    assert [s.description.lower().replace(" '", "'") for s in splits] == [
        "k <'b'",
        "'b' <= k <'m'",
        "'m' <= k <'t'",
        "'t' <= k",
        "rows whose k is null",
    ]
    by_split = {s.id: sorted(ids(batches[s.id])) for s in splits}
    assert by_split["range-0"] == [1, 2, 3, 4]  # a, A, 'a ', ä: one value in general_ci
    assert by_split["range-1"] == [5, 6]
    assert by_split["range-2"] == [7, 8]
    assert by_split["range-3"] == [9, 10]


def test_date_and_datetime_keys_with_skew_are_cut_by_a_sample(database: str) -> None:
    my(
        f"CREATE TABLE `{database}`.t (id int PRIMARY KEY, d date, ts datetime(6), "
        "KEY (d), KEY (ts))"
    )
    start = dt.datetime(2024, 1, 1, 12, 0, 0, 123456)
    rows = []
    for i in range(1, 601):
        day = dt.date(2024, 3, 1) if i % 3 else dt.date(2020, 1, 1) + dt.timedelta(days=i)
        rows.append((i, None if i % 50 == 0 else day, start + dt.timedelta(seconds=i * i)))
    my(f"INSERT INTO `{database}`.t VALUES (%s, %s, %s)", rows, many=True)
    for key in ("d", "ts"):
        splits, batches = read_all(make(database, {"table": "t", "split_key": key}, 50), 4)
        assert_exactly_once(batches, list(range(1, 601)))
        assert 2 <= len([s for s in splits if s.params["kind"] == "range"]) <= 4
    # the heavy day is one boundary: no range is cut inside it, none is empty
    splits, batches = read_all(make(database, {"table": "t", "split_key": "d"}, 50), 4)
    sizes = [len(ids(batches[s.id])) for s in splits if s.params["kind"] == "range"]
    assert 0 not in sizes
    assert max(sizes) >= 400 - 8  # 2024-03-01 holds two thirds of the rows


def test_snowflake_ids_get_no_empty_ranges(database: str) -> None:
    my(f"CREATE TABLE `{database}`.t (id bigint PRIMARY KEY)")
    # three dense clusters far apart in a 2^63 space: even ranges leave most splits empty
    values = [base + i for base, n in ((10**9, 100), (4 * 10**18, 300), (9 * 10**18, 500))
              for i in range(n)]  # fmt: skip
    my(f"INSERT INTO `{database}`.t VALUES (%s)", [(v,) for v in values], many=True)
    splits, batches = read_all(make(database, {"table": "t", "split_key": "id"}, 200), 6)
    sizes = [len(ids(batches[s.id])) for s in splits]
    assert sorted(sizes) == [100, 300, 500], [s.description for s in splits]
    splits, batches = read_all(
        make(database, {"table": "t", "split": {"key": "id", "method": "even"}}, 200), 6
    )
    assert len(splits) == 6
    assert [len(ids(batches[s.id])) for s in splits].count(0) == 3


def test_skewed_integer_keys_with_a_dense_primary_key_get_balanced_ranges(database: str) -> None:
    my(f"CREATE TABLE `{database}`.t (id int PRIMARY KEY, n bigint, KEY (n))")
    # 90 % of the rows have keys below 1,000, the rest spread up to 10^12
    keys = [i % 1000 if i % 10 else i * 10**8 for i in range(1, 2001)]
    my(f"INSERT INTO `{database}`.t VALUES (%s, %s)", list(enumerate(keys, 1)), many=True)
    splits, batches = read_all(make(database, {"table": "t", "split_key": "n"}, 500), 4)
    sizes = [len(ids(batches[s.id])) for s in splits if s.params["kind"] == "range"]
    assert sum(sizes) == 2000
    assert len(sizes) == 4
    assert max(sizes) <= 700, sizes  # even ranges: one split of 1,850 rows


def test_many_user_boundaries_are_thinned_to_a_bounded_task_count(database: str) -> None:
    my(f"CREATE TABLE `{database}`.t (id int PRIMARY KEY, n int, KEY (n))")
    my(f"INSERT INTO `{database}`.t VALUES (%s, %s)", [(i, i) for i in range(500)], many=True)
    query = {"table": "t", "split": {"key": "n", "boundaries": list(range(1, 1000, 3))}}
    splits, batches = read_all(make(database, query, 100), parallelism=2)
    assert len(splits) == 2 * 4 + 1  # 8 ranges (4 × parallelism) and the NULL split
    assert_exactly_once(batches, list(range(500)))


def test_a_resumed_string_split_continues_after_its_last_key(database: str) -> None:
    my(
        f"CREATE TABLE `{database}`.t (id int PRIMARY KEY, "
        "k varchar(10) COLLATE utf8mb4_general_ci, KEY (k))"
    )
    keys = ["a", "A", "a ", "b", "B", "c", "C ", "d", "e", "E"]
    my(f"INSERT INTO `{database}`.t VALUES (%s, %s)", list(enumerate(keys, 1)), many=True)
    plugin = make(database, {"table": "t", "split_key": "k"}, size=3)

    async def run() -> tuple[list[Batch], list[Batch]]:
        await plugin.open()
        try:
            (split, *_) = await plugin.splits(1)
            first = [b async for b in plugin.read(split, None)]
            resumed = [b async for b in plugin.read(split, first[0].checkpoint)]
            return first, resumed
        finally:
            await plugin.close()

    first, resumed = asyncio.run(run())
    assert first[0].checkpoint is not None
    assert first[0].checkpoint.position["last"][0].lower().strip() == "a"
    assert ids(first[:1]) + ids(resumed) == ids(first)
    assert sorted(ids(first)) == list(range(1, 11))


def test_unsupported_keys_and_bad_boundaries_are_terminal(database: str) -> None:
    my(f"CREATE TABLE `{database}`.t (id int PRIMARY KEY, j json, f double, d date, s text)")
    my(f"INSERT INTO `{database}`.t VALUES (1, '{{}}', 1.5, '2024-01-01', 'x')")
    cases = [
        ({"split_key": "f"}, r"`input.query.split_key` `f` is `double`.*integer, string"),
        ({"split": {"key": "j"}}, r"`input.query.split.key` `j` is `(longtext|json)`"),
        ({"split": {"key": "s", "method": "even"}}, r"`method: even` needs an integer key"),
        ({"split": {"key": "d", "boundaries": ["2024-13-45"]}}, r"boundaries.*not dates"),
        ({"split": {"key": "id", "boundaries": ["x"]}}, r"boundaries` holds \['x'\]"),
    ]
    for query, message in cases:
        with pytest.raises(TerminalError, match=message):
            read_all(make(database, {"table": "t", **query}))
