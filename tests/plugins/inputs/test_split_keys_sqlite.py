"""Split keys of the sqlite input: string, date and skewed integer keys, NOCASE and RTRIM
collations, values of mixed storage classes, user boundaries, resume, errors."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.sqlite import SqliteInput, SqliteInputConfig
from tests.databases import make_sqlite
from tests.plugins.inputs.reading import assert_exactly_once, ids, read_all

TEXT_KEYS = ["a", "A", "ä", "Ä", "a ", "b", "B", "b  ", "ab", "", " ", "z", 7, 2.5, -3, b"x"]


def make(base: Path, query: dict[str, Any], size: int = 1000) -> SqliteInput:
    body = {"connection": {"database": "db.sqlite"}, "query": query, "fetch": {"size": size}}
    return SqliteInput(
        SqliteInputConfig.model_validate(body), PluginContext(base_dir=base, batch_size=1000)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=st.fixed_dictionaries(
        {
            "keys": st.lists(st.one_of(st.none(), st.sampled_from(TEXT_KEYS)), max_size=40),
            "collation": st.sampled_from(["NOCASE", "RTRIM", "BINARY"]),
            "declared": st.sampled_from(["TEXT", "VARCHAR(10)", "DATE", "INTEGER"]),
            "method": st.sampled_from(["auto", "sample", "boundaries"]),
            "boundaries": st.lists(
                st.sampled_from([k for k in TEXT_KEYS if isinstance(k, str)]),
                min_size=1,
                max_size=6,
            ),
            "parallelism": st.integers(1, 5),
            "size": st.integers(1, 4),
            "index": st.sampled_from(["none", "plain", "unique-free"]),
            "rowid": st.booleans(),
        }
    )
)
def test_keys_of_any_storage_class_are_in_exactly_one_split(case: dict[str, Any]) -> None:
    keys = [k for k in case["keys"] if not isinstance(k, bytes)]  # blobs cannot order pages
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        table = (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, "
            f"k {case['declared']} COLLATE {case['collation']})"
        )
        if not case["rowid"]:
            table = (
                "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, "
                f"k {case['declared']} COLLATE {case['collation']}) WITHOUT ROWID"
            )
        index = "CREATE INDEX t_k ON t (k);" if case["index"] != "none" else ""
        make_sqlite(base / "db.sqlite", f"{table}; {index}", rows={"t": list(enumerate(keys, 1))})
        split: dict[str, Any] = {"key": "k"}
        if case["method"] == "boundaries" and case["declared"] == "INTEGER":
            split["boundaries"] = [len(b) * 3 - 2 for b in case["boundaries"]]
        elif case["method"] == "boundaries":
            split["boundaries"] = case["boundaries"]
        else:
            split["method"] = case["method"]
        plugin = make(base, {"table": "t", "columns": ["id"], "split": split}, case["size"])
        splits, batches = read_all(plugin, case["parallelism"])
    assert_exactly_once(batches, list(range(1, len(keys) + 1)))
    limit = case["parallelism"] * (4 if case["method"] == "boundaries" else 1)
    assert len([s for s in splits if s.params["kind"] == "range"]) <= limit


def test_nocase_boundaries_are_deduplicated_and_compared_by_sqlite(tmp_path: Path) -> None:
    keys = ["a", "A", "b", "B", "m", "M", "t", "T", None]
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT COLLATE NOCASE); CREATE INDEX i ON t (k)",
        rows={"t": list(enumerate(keys, 1))},
    )
    query = {"table": "t", "split": {"key": "k", "boundaries": ["t", "M", "m", "T"]}}
    splits, batches = read_all(make(tmp_path, query, size=1), parallelism=2)
    assert [s.description.lower() for s in splits] == [
        "k < 'm'",
        "'m' <= k < 't'",
        "'t' <= k",
        "rows whose k is null",
    ]
    assert [sorted(ids(batches[s.id])) for s in splits] == [[1, 2, 3, 4], [5, 6], [7, 8], [9]]


def test_skewed_integer_keys_get_balanced_ranges_from_a_rowid_sample(tmp_path: Path) -> None:
    keys = [i % 100 if i % 20 else i * 10**12 for i in range(1, 5001)]
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER); CREATE INDEX i ON t (k)",
        rows={"t": list(enumerate(keys, 1))},
    )
    splits, batches = read_all(make(tmp_path, {"table": "t", "split_key": "k"}), 4)
    sizes = [len(ids(batches[s.id])) for s in splits]
    assert sum(sizes) == 5000
    assert len(splits) == 4
    assert max(sizes) <= 1800, [s.description for s in splits]  # even: one range of 4,750
    again, _ = read_all(make(tmp_path, {"table": "t", "split_key": "k"}), 4)
    assert [s.params for s in again] == [s.params for s in splits]  # deterministic


def test_a_resumed_text_split_continues_after_its_last_key(tmp_path: Path) -> None:
    keys = ["a", "A", "a", "b", "B", "c", "C", "d", "e", "E"]
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT COLLATE NOCASE); CREATE INDEX i ON t (k)",
        rows={"t": list(enumerate(keys, 1))},
    )
    plugin = make(tmp_path, {"table": "t", "split_key": "k"}, size=3)

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
    assert first[0].checkpoint.position == {"last_key": "a", "last_rowid": 3}
    assert ids(first[:1]) + ids(resumed) == ids(first)
    assert sorted(ids(first)) == list(range(1, 11))


def test_unsupported_keys_and_bad_configs_are_errors(tmp_path: Path) -> None:
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, f REAL, b BLOB, s TEXT)",
        rows={"t": [(1, 1.5, b"x", "s")]},
    )
    cases = [
        ({"split_key": "f"}, r"`input.query.split_key` `f` is `REAL`.*integer, string"),
        ({"split": {"key": "b"}}, r"`input.query.split.key` `b` is `BLOB`"),
        ({"split": {"key": "s", "method": "even"}}, r"`method: even` needs an integer key"),
        ({"split": {"key": "id", "boundaries": ["x"]}}, r"boundaries` holds \['x'\]"),
    ]
    for query, message in cases:
        with pytest.raises(TerminalError, match=message):
            read_all(make(tmp_path, {"table": "t", **query}))
    for query, message in [
        ({"split_key": "id", "split": {"key": "id"}}, "either `split_key` or `split`"),
        ({"split": {"key": "id", "method": "even", "boundaries": [1]}}, "remove `method"),
        ({"split": {"key": "id", "boundaries": []}}, "at least 1"),
    ]:
        with pytest.raises(ValidationError, match=message):
            make(tmp_path, {"table": "t", **query})
