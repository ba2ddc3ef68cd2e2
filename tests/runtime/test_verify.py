"""`verify`: fingerprints that ignore order and storage, and name every column that differs."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint, Split
from fustgo.engine.errors import ConfigError, TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.plugins.api import Input, PluginContext
from fustgo.plugins.spec import PluginConfig
from fustgo.runtime.verify import (
    TableFingerprint,
    VerifyReport,
    build_input,
    table_fingerprint,
    verify,
)
from fustgo.runtime.verify.hashing import CHUNK_BYTES, hash_bytes, seed_of
from fustgo.runtime.verify.normalize import common_kind, kind_of, value_hashes
from tests import databases
from tests.databases import PG_CONNECTION, pg
from tests.pipeline_runs import run_yaml

pytestmark = pytest.mark.unit

UTC = dt.UTC
PARIS = dt.timezone(dt.timedelta(hours=2))


class NoConfig(PluginConfig):
    """The test input is configured in code."""


class TablesInput(Input[NoConfig]):
    """Each table is one split, read in batches of `batch_rows`; records can be rejected."""

    def __init__(
        self, tables: list[pa.Table], batch_rows: int = 3, rejected: pa.RecordBatch | None = None
    ) -> None:
        super().__init__(NoConfig(), PluginContext(component_path="test"))
        self.tables = tables
        self.batch_rows = batch_rows
        self.rejected = rejected

    async def splits(self, parallelism: int) -> list[Split]:
        return [Split(id=str(index)) for index in range(len(self.tables))]

    async def read(self, split: Split, checkpoint: Checkpoint | None) -> AsyncIterator[Batch]:
        if self.rejected is not None and split.id == "0":
            self.reject(self.rejected, "bad record")
        for data in self.tables[int(split.id)].to_batches(max_chunksize=self.batch_rows):
            yield Batch(data=data, metadata=BatchMetadata(split_id=split.id))

    def schema(self) -> pa.Schema | None:
        return self.tables[0].schema if self.tables else None


def every_type() -> pa.Table:
    """Six rows of every kind, with NULLs, unicode, -0.0, NaN and nested values."""
    day, noon = dt.date(2000, 1, 1), dt.datetime(2000, 1, 1, 12)
    zoned = noon.replace(tzinfo=UTC)
    columns: dict[str, tuple[pa.DataType, list[Any]]] = {
        "id": (pa.int32(), [1, 2, 3, 4, 5, 6]),
        "big": (pa.int64(), [2**62, -1, None, 0, 7, 7]),
        "flag": (pa.bool_(), [True, False, None, True, False, True]),
        "ratio": (pa.float64(), [-0.0, math.nan, None, 1e300, 2.5, 2.5]),
        "amount": (
            pa.decimal128(12, 2),
            [v and Decimal(v) for v in ("1.50", "-0.01", None, "9999999999.99", "0.00", "100")],
        ),
        "name": (pa.string(), ["héllo 😀", "", None, "日本語", "a\nb", "same"]),
        "raw": (pa.binary(), [b"\x00\xff", b"", None, b"abc", b"\n", b"same"]),
        "day": (
            pa.date32(),
            [dt.date(2024, 2, 29), dt.date(1969, 12, 31), None, dt.date(1, 1, 1), day, day],
        ),
        "at": (
            pa.time64("us"),
            [dt.time(23, 59, 59, 999999), dt.time(0), None, dt.time(12), dt.time(1), dt.time(1)],
        ),
        "seen": (
            pa.timestamp("us"),
            [noon, dt.datetime(1969, 12, 31), None, dt.datetime(2262, 4, 11), noon, noon],
        ),
        "paid": (
            pa.timestamp("us", tz="UTC"),
            [
                zoned,
                dt.datetime(1960, 1, 1, tzinfo=UTC),
                None,
                zoned.replace(year=2038),
                zoned,
                zoned,
            ],
        ),
        "wait": (
            pa.duration("us"),
            [s if s is None else dt.timedelta(seconds=s) for s in (3, 0, None, -86400, 1e-6, 3600)],
        ),
        "tags": (pa.list_(pa.string()), [["x", "y"], [], None, [None], ["a"], ["a", "b", "c"]]),
        "point": (
            pa.struct([("x", pa.int64()), ("y", pa.float64())]),
            [{"x": 1, "y": 0.5}, {"x": None}, None, {"x": -5, "y": -0.0}, None, {"x": 0, "y": 1}],
        ),
    }
    json_docs = [
        '{"b": 1, "a": [1, 2]}',
        "[]",
        None,
        '"text"',
        "null",
        '{"k": {"z": 0, "a": null}}',
    ]
    arrays = [pa.array(values, data_type) for data_type, values in columns.values()]
    schema = pa.schema(
        [
            *((name, data_type) for name, (data_type, _) in columns.items()),
            pa.field("doc", pa.string(), metadata=JSON_FIELD_METADATA),
        ]
    )
    return pa.table([*arrays, pa.array(json_docs)], schema=schema)


def fingerprint(
    data: pa.Table | list[pa.Table], batch_rows: int = 3, **options: Any
) -> TableFingerprint:
    tables = data if isinstance(data, list) else [data]
    return asyncio.run(table_fingerprint(TablesInput(tables, batch_rows), **options))


def shuffled(table: pa.Table, seed: int) -> pa.Table:
    order = np.random.default_rng(seed).permutation(table.num_rows)
    return table.take(pa.array(order))


def with_value(table: pa.Table, column: str, row: int, value: Any) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    index = table.schema.get_field_index(column)
    return table.set_column(
        index, table.schema.field(index), pa.array(values, table.column(column).type)
    )


# Fingerprints ignore order, batching and splitting


def test_the_same_rows_in_any_order_batching_and_splitting_have_one_fingerprint() -> None:
    table = every_type()
    reference = fingerprint(table, batch_rows=100)
    reordered = shuffled(table, seed=7)
    halves = [reordered.slice(0, 2), reordered.slice(2)]
    assert fingerprint(reordered, batch_rows=1) == reference
    assert fingerprint(halves, batch_rows=2, parallelism=2) == reference
    assert fingerprint(table.combine_chunks(), batch_rows=4, parallelism=1) == reference
    assert reference.rows == 6
    assert reference.columns["big"].nulls == 1
    assert reference.columns["point"].nulls == 2
    assert [c.kind for c in reference.columns.values()] == [
        "integer",
        "integer",
        "integer",
        "float",
        "decimal",
        "text",
        "binary",
        "date",
        "time",
        "timestamp",
        "timestamp",
        "duration",
        "json",
        "json",
        "json",
    ]
    assert reference.compare(fingerprint(reordered)).ok


def test_every_column_and_the_row_check_see_a_change() -> None:
    table = every_type()
    reference = fingerprint(table)
    replacements = {
        "id": 99,
        "big": 2**62 + 1,
        "flag": False,
        "ratio": 0.1,
        "amount": Decimal("1.51"),
        "name": "hello 😀",
        "raw": b"\x00\xfe",
        "day": dt.date(2024, 3, 1),
        "at": dt.time(23),
        "seen": dt.datetime(2024, 1, 1, 12, 0, 0, 1),
        "paid": dt.datetime(2024, 1, 2, tzinfo=UTC),
        "wait": dt.timedelta(seconds=4),
        "doc": '{"b": 1, "a": [2, 1]}',
        "tags": ["y", "x"],
        "point": {"x": 1, "y": 0.25},
    }
    for column, value in replacements.items():
        report = reference.compare(fingerprint(with_value(table, column, 0, value)))
        assert report.mismatched_columns == [column], (column, report.describe())
        assert "checksums differ" in report.mismatches[0].message


def test_equal_values_in_a_different_form_match() -> None:
    json_field = pa.field("doc", pa.string(), metadata=JSON_FIELD_METADATA)
    table = pa.table(
        {
            "ratio": pa.array([0.0, math.nan], pa.float64()),
            "doc": pa.array(['{"a":1,"b":[1,2]}', "[ ]"], pa.string()),
        },
        schema=pa.schema([("ratio", pa.float64()), json_field]),
    )
    other_nan = np.array([0xFFC00001], dtype=np.uint32).view(np.float32)[0]  # signed, payload
    other = pa.table(
        {
            "ratio": pa.array(np.array([-0.0, other_nan], dtype=np.float32)),
            "doc": pa.array(['{ "b" : [1, 2],\n "a": 1 }', "[]"], pa.string()),
        },
        schema=pa.schema([("ratio", pa.float32()), json_field]),
    )
    assert fingerprint(table).compare(fingerprint(other)).ok


# Mismatches name the column


def test_a_changed_value_names_its_column_only() -> None:
    table = every_type()
    report = fingerprint(table).compare(fingerprint(with_value(table, "name", 3, "日本")))
    assert not report.ok
    assert report.mismatched_columns == ["name"]
    assert report.source.rows == report.target.rows == 6
    assert "Column `name`: checksums differ" in report.describe()


def test_a_missing_row_changes_the_count_and_the_columns_it_had_values_in() -> None:
    table = every_type()
    report = fingerprint(table).compare(fingerprint(table.slice(0, 5)))
    assert report.mismatches[0].column is None
    assert "Row counts differ: 6 in the source, 5 in the target." in report.mismatches[0].message
    # The last row has a value in every column: each one is named.
    assert report.mismatched_columns == table.column_names


def test_an_extra_null_is_counted_in_its_column() -> None:
    table = every_type()
    report = fingerprint(table).compare(fingerprint(with_value(table, "day", 0, None)))
    assert report.mismatched_columns == ["day"]
    assert "1 NULLs in the source, 2 in the target" in report.mismatches[0].message


def test_values_moved_between_rows_fail_the_row_check() -> None:
    table = pa.table({"id": [1, 2], "name": ["ann", "bob"]})
    swapped = pa.table({"id": [1, 2], "name": ["bob", "ann"]})
    report = fingerprint(table).compare(fingerprint(swapped))
    assert [m.column for m in report.mismatches] == [None]
    assert "not in the same rows" in report.mismatches[0].message


def test_renamed_missing_and_extra_columns() -> None:
    source = pa.table({"id": [1, 2], "name": ["a", "b"], "gone": [1, 1]})
    target = pa.table({"id": [2, 1], "full_name": ["b", "a"], "extra": [0, 0]})
    report = fingerprint(source).compare(fingerprint(target), column_map={"name": "full_name"})
    assert report.mismatched_columns == ["gone"]
    assert report.mismatches[0].message == "Column `gone` is missing in the target."
    assert any("`extra`" in note for note in report.notes)
    assert any("row check was skipped" in note for note in report.notes)
    renamed = fingerprint(source, columns=["id", "name"]).compare(
        fingerprint(target, columns=["id", "full_name"]), column_map={"name": "full_name"}
    )
    assert renamed.ok, renamed.describe()
    assert renamed.notes == ()


def test_rejected_records_are_reported() -> None:
    table = pa.table({"id": [1, 2]})
    source = TablesInput([table], rejected=pa.record_batch({"raw": ["x", "y"]}))
    printed = asyncio.run(table_fingerprint(source))
    assert printed.rejected == 2
    report = printed.compare(fingerprint(table))
    assert not report.ok
    assert "2 records of the source could not be read" in report.describe()


def test_empty_inputs_match_and_all_null_columns_wait_for_their_type() -> None:
    empty = pa.table({"id": pa.array([], pa.int64()), "name": pa.array([], pa.string())})
    empty_print = fingerprint(empty)
    assert empty_print.rows == 0
    assert empty_print.columns["id"].checksum == "0" * 32
    assert empty_print.compare(fingerprint(empty)).ok
    nulls_first = [pa.table({"v": pa.nulls(2)}), pa.table({"v": pa.array(["a"])})]
    typed = fingerprint(pa.table({"v": pa.array([None, None, "a"])}))
    assert fingerprint(nulls_first, parallelism=1) == typed
    assert typed.columns["v"].kind == "text"


def test_an_unknown_column_or_type_is_an_error_that_says_what_to_do() -> None:
    with pytest.raises(
        ConfigError, match=r"Column `nope` is not in the input; its columns are `id`"
    ):
        fingerprint(pa.table({"id": [1]}), columns=["nope"])
    dense = pa.UnionArray.from_dense(
        pa.array([0], pa.int8()), pa.array([0], pa.int32()), [pa.array([1])]
    )
    with pytest.raises(TerminalError, match="cannot be fingerprinted; leave it out with `columns`"):
        fingerprint(pa.table({"u": dense}))


def test_report_describes_a_match_and_serializes() -> None:
    table = pa.table({"id": [1, 2, 3]})
    report: VerifyReport = fingerprint(table).compare(fingerprint(table))
    assert report.ok and report.mismatches == ()
    assert report.describe() == "Source and target match: 3 rows, 1 column."
    assert report.to_json() == {
        "ok": True,
        "source_rows": 3,
        "target_rows": 3,
        "mismatches": [],
        "notes": [],
    }


def test_a_failing_split_stops_the_others_and_raises_its_own_error() -> None:
    drifted = [pa.table({"a": [1, 2], "b": [1, 2]}), pa.table({"b": [3, 4]})]
    with pytest.raises(TerminalError, match="Column `a` is missing from a batch of the input"):
        fingerprint(drifted, parallelism=2)


# Normalization and hashing


def test_decimals_compare_by_value_not_by_scale_or_type() -> None:
    scaled = pa.table(
        {
            "amount": pa.array(
                [Decimal("1.50"), Decimal("-0.10"), Decimal("2.00")], pa.decimal128(10, 2)
            )
        }
    )
    short = pa.table(
        {"amount": pa.array([Decimal("1.5"), Decimal("-0.1"), Decimal("2")], pa.decimal128(5, 1))}
    )
    wide = pa.table(
        {
            "amount": pa.array(
                [Decimal("1.5000"), Decimal("-0.1"), Decimal("2")], pa.decimal256(40, 4)
            )
        }
    )
    assert fingerprint(scaled).compare(fingerprint(short)).ok
    assert fingerprint(scaled).compare(fingerprint(wide)).ok
    text = pa.table({"amount": [" +01.500", "-.10", "2"]})
    as_decimal = {"amount": "decimal"}
    assert fingerprint(scaled).compare(fingerprint(text, kinds=as_decimal)).ok
    assert (
        not fingerprint(scaled)
        .compare(fingerprint(pa.table({"amount": ["1.5", "-0.1", "2.01"]}), kinds=as_decimal))
        .ok
    )


def test_timestamps_with_zones_compare_as_instants() -> None:
    instants = [dt.datetime(2024, 6, 1, 12, 0, tzinfo=UTC), dt.datetime(1960, 1, 1, tzinfo=UTC)]
    utc = pa.table({"at": pa.array(instants, pa.timestamp("us", tz="UTC"))})
    paris = pa.table(
        {
            "at": pa.array(
                [t.astimezone(PARIS) for t in instants], pa.timestamp("ns", tz="Europe/Paris")
            )
        }
    )
    tokyo = pa.table({"at": pa.array(instants, pa.timestamp("ms", tz="Asia/Tokyo"))})
    assert fingerprint(utc).compare(fingerprint(paris)).ok
    assert fingerprint(utc).compare(fingerprint(tokyo)).ok
    later = pa.table(
        {
            "at": pa.array(
                [instants[0] + dt.timedelta(hours=2), instants[1]], pa.timestamp("us", tz="UTC")
            )
        }
    )
    assert not fingerprint(utc).compare(fingerprint(later)).ok


def test_kinds_of_types_and_the_common_kind_of_two_columns() -> None:
    assert kind_of(pa.uint64()) == kind_of(pa.bool_()) == "integer"
    assert kind_of(pa.dictionary(pa.int8(), pa.string())) == "text"
    assert kind_of(pa.string(), JSON_FIELD_METADATA) == "json"
    assert kind_of(pa.map_(pa.string(), pa.int8())) == "json"
    assert kind_of(pa.float16()) == "float"
    assert common_kind("integer", "decimal") == "decimal"
    assert common_kind("text", "decimal") == "decimal"
    assert common_kind("null", "date") == common_kind("date", "null") == "date"
    assert common_kind("json", "text") == "json"
    assert common_kind("date", "timestamp") is None


def test_different_kinds_never_match_and_the_report_says_why() -> None:
    days = pa.table({"v": pa.array([dt.date(1970, 1, 2)], pa.date32())})
    ints = pa.table({"v": pa.array([1], pa.int32())})
    report = fingerprint(days).compare(fingerprint(ints))
    assert report.mismatched_columns == ["v"]
    assert (
        "compared as date (date32[day]) in the source and as integer (int32)" in report.describe()
    )


def test_hashes_are_pinned_so_stored_fingerprints_stay_comparable() -> None:
    # A change here silently breaks every fingerprint taken by an earlier FustGo version.
    assert [hex(h) for h in value_hashes(pa.array(["", "héllo 😀", None]), "text").tolist()] == [
        "0x9cbf279ff28dac1b",
        "0x9304a1f25c018fb6",
        "0x6e756c6c6e756c6c",
    ]
    assert [hex(h) for h in value_hashes(pa.array([0, -1, 2**62]), "integer").tolist()] == [
        "0x463025589f33f355",
        "0x3fbc99b9f2023f5e",
        "0xbaeb8f5f591014e5",
    ]


def test_string_hashes_see_every_byte_and_offset() -> None:
    hashes = value_hashes(pa.array(["", "a", "ab", "ba", None]), "text")
    assert len(set(hashes.tolist())) == 5
    assert value_hashes(pa.array(["a"]), "text")[0] != value_hashes(pa.array([b"a"]), "binary")[0]
    sliced = pa.array(["x", "hello", "world"]).slice(1)
    assert (
        value_hashes(sliced, "text").tolist()
        == value_hashes(pa.array(["hello", "world"]), "text").tolist()
    )
    large = pa.array(["hello", "world"], pa.large_string())
    assert (
        value_hashes(large, "text").tolist()
        == value_hashes(pa.array(["hello", "world"]), "text").tolist()
    )


def test_long_strings_hash_across_chunks_like_short_ones() -> None:
    long_text = "é" * (CHUNK_BYTES // 2 + 70_000)  # past the chunk size and the key table
    values = pa.array(["a", long_text, "b", long_text + "!", None], pa.binary())
    hashes = hash_bytes(values, seed_of("binary"))
    one_by_one = [hash_bytes(values.slice(i, 1), seed_of("binary"))[0] for i in range(4)]
    assert hashes[:4].tolist() == one_by_one
    assert hashes[1] != hashes[3]


# verify(): both sides built from pipeline-style components


def write_sources(folder: Path) -> dict[str, dict[str, Any]]:
    """The same five orders as SQLite (declared types), Parquet and CSV files."""
    rows = [
        (
            1,
            "Ann",
            Decimal("12.50"),
            dt.date(2024, 1, 31),
            dt.datetime(2024, 1, 31, 10, 0, tzinfo=UTC),
            1.25,
        ),
        (
            2,
            "Zoë 😀",
            Decimal("0.10"),
            dt.date(2024, 2, 29),
            dt.datetime(2024, 2, 29, 23, 30, tzinfo=UTC),
            None,
        ),
        (3, None, Decimal("-3.00"), None, None, -0.5),
        (
            4,
            'O\'Brien, "Jr"',
            None,
            dt.date(1999, 12, 31),
            dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
            1e-7,
        ),
        (
            5,
            "",
            Decimal("1000000.01"),
            dt.date(2000, 1, 1),
            dt.datetime(2000, 1, 1, tzinfo=UTC),
            3.0,
        ),
    ]
    table = pa.table(
        {
            "id": pa.array([r[0] for r in rows], pa.int64()),
            "name": pa.array([r[1] for r in rows], pa.string()),
            "amount": pa.array([r[2] for r in rows], pa.decimal128(12, 2)),
            "day": pa.array([r[3] for r in rows], pa.date32()),
            "paid_at": pa.array([r[4] for r in rows], pa.timestamp("us", tz="UTC")),
            "score": pa.array([r[5] for r in rows], pa.float64()),
        }
    )
    pq.write_table(table, folder / "orders.parquet")
    # CSV: times written with a +02:00 offset, amounts with varying scale, rows reversed.
    csv_table = table.take(pa.array([4, 3, 2, 1, 0]))
    shifted = [
        t.astimezone(PARIS).isoformat() if t else None
        for t in csv_table.column("paid_at").to_pylist()
    ]
    amounts = [
        None if a is None else str(a.normalize()) for a in csv_table.column("amount").to_pylist()
    ]
    csv_table = csv_table.set_column(2, "amount", pa.array(amounts)).set_column(
        4, "paid_at", pa.array(shifted)
    )
    pacsv.write_csv(csv_table, folder / "orders.csv")
    db = sqlite3.connect(folder / "orders.db")
    db.execute(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, name TEXT, amount DECIMAL_TEXT(12,2), "
        "day DATE, paid_at TIMESTAMPTZ, score REAL)"
    )
    db.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                r[0],
                r[1],
                None if r[2] is None else str(r[2]),
                r[3] and r[3].isoformat(),
                r[4] and r[4].strftime("%Y-%m-%d %H:%M:%S.%fZ"),
                r[5],
            )
            for r in reversed(rows)
        ],
    )
    db.commit()
    db.close()
    return {
        "sqlite": {
            "type": "sqlite",
            "connection": {"database": "orders.db"},
            "query": {"table": "orders"},
        },
        "parquet": {"type": "parquet", "paths": ["orders.parquet"]},
        "csv": {
            "type": "csv",
            "paths": ["orders.csv"],
            "columns": {"amount": "decimal(12,2)", "paid_at": "timestamp(UTC)", "day": "date"},
        },
    }


@pytest.mark.parametrize(
    ("left", "right"), [("sqlite", "parquet"), ("parquet", "csv"), ("csv", "sqlite")]
)
def test_the_same_data_in_sqlite_parquet_and_csv_matches(
    tmp_path: Path, left: str, right: str
) -> None:
    specs = write_sources(tmp_path)
    report = asyncio.run(verify(specs[left], specs[right], base_dir=tmp_path))
    assert report.ok, report.describe()
    assert report.source.rows == report.target.rows == 5
    assert report.source.columns["amount"].kind == "decimal"
    assert report.describe() == "Source and target match: 5 rows, 6 columns."


def test_verify_finds_a_changed_value_in_a_file(tmp_path: Path) -> None:
    specs = write_sources(tmp_path)
    db = sqlite3.connect(tmp_path / "orders.db")
    db.execute("UPDATE orders SET amount = '12.51' WHERE id = 1")
    db.commit()
    db.close()
    report = asyncio.run(verify(specs["parquet"], specs["sqlite"], base_dir=tmp_path))
    assert report.mismatched_columns == ["amount"]
    assert report.to_json()["mismatches"][0]["column"] == "amount"


def test_verify_compares_chosen_columns_and_names_the_others(tmp_path: Path) -> None:
    specs = write_sources(tmp_path)
    db = sqlite3.connect(tmp_path / "orders.db")
    db.execute("UPDATE orders SET score = 0")
    db.commit()
    db.close()
    report = asyncio.run(
        verify(specs["parquet"], specs["sqlite"], columns=["id", "name"], base_dir=tmp_path)
    )
    assert report.ok, report.describe()
    assert list(report.target.columns) == ["id", "name"]
    assert report.notes == (
        "Target columns not in the source were not compared: `amount`, `day`, `paid_at`, `score`.",
    )


def test_text_digits_and_integers_compare_with_decimals(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "t.db")
    db.execute("CREATE TABLE a (id INTEGER, amount TEXT, qty TEXT)")
    db.execute("CREATE TABLE b (id DECIMAL_TEXT(10,2), amount DECIMAL_TEXT(10,2), qty INTEGER)")
    db.executemany(
        "INSERT INTO a VALUES (?, ?, ?)", [(1, "1.50", "3"), (2, "007", "-0"), (3, None, None)]
    )
    db.executemany(
        "INSERT INTO b VALUES (?, ?, ?)",
        [("1.00", "1.5", 3), ("2.00", "7.00", 0), ("3", None, None)],
    )
    db.commit()
    db.close()

    def side(table: str) -> dict[str, Any]:
        return {"type": "sqlite", "connection": {"database": "t.db"}, "query": {"table": table}}

    report = asyncio.run(verify(side("a"), side("b"), base_dir=tmp_path))
    assert report.ok, report.describe()
    assert {c.kind for c in report.source.columns.values()} == {"decimal"}


def test_verify_rejects_an_invalid_component_with_the_loaders_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        asyncio.run(
            verify(
                {"type": "parquet", "paths": ["x.parquet"]},
                {"type": "sqlite", "connection": {"database": "t.db"}, "query": {}},
                base_dir=tmp_path,
            )
        )
    assert str(caught.value) == (
        "The target of the verification is invalid: `target.query`: set either `table` or "
        "`sql` (not both)."
    )
    with pytest.raises(ConfigError, match="Unknown input plugin `sqlit`"):
        build_input({"type": "sqlit"}, "source", base_dir=tmp_path)


# A real copy: PostgreSQL → SQLite through a FustGo pipeline


@pytest.fixture
def pg_schema() -> Iterator[str]:
    with databases.pg_schema("verify") as name:
        yield name


@pytest.mark.integration
def test_a_postgresql_table_and_its_sqlite_copy_match(pg_schema: str, tmp_path: Path) -> None:
    pg(
        f'CREATE TABLE "{pg_schema}".orders (id bigint PRIMARY KEY, user_id int, '
        "name text, email text, amount numeric(12,2), paid boolean, ratio double precision, "
        "day date, created_at timestamptz, payload jsonb, tags int[], raw bytea)"
    )
    pg(
        f'INSERT INTO "{pg_schema}".orders SELECT g, g % 97, '
        "CASE WHEN g % 10 = 0 THEN NULL ELSE 'név ' || g || ' 😀' END, "
        "'user' || g || '@example.com', (g * 1.37)::numeric(12,2), g % 3 = 0, "
        "CASE WHEN g % 7 = 0 THEN NULL ELSE g / 3.0 END, DATE '2024-01-01' + g % 400, "
        "TIMESTAMPTZ '2024-01-01 00:00:00+05' + g * INTERVAL '1 minute 1.5 seconds', "
        "jsonb_build_object('n', g, 'tags', jsonb_build_array('a', g % 5)), "
        "ARRAY[g, g % 4], decode(lpad(to_hex(g), 8, '0'), 'hex') "
        "FROM generate_series(1, 20000) AS g"
    )
    source = {
        "type": "postgresql",
        "connection": PG_CONNECTION,
        "query": {"table": f"{pg_schema}.orders", "split_key": "id"},
    }
    pipeline = {
        "name": "pg-to-sqlite",
        "settings": {"parallelism": 2, "batch_size": 3000},
        "input": source,
        "output": {
            "type": "sqlite",
            "connection": {"database": "copy.db"},
            "write": {"table": "orders"},
        },
    }
    outcome = run_yaml(json.dumps(pipeline), tmp_path)
    assert outcome.summary.status == "succeeded", outcome.summary
    target = {"type": "sqlite", "connection": {"database": "copy.db"}, "query": {"table": "orders"}}
    report = asyncio.run(verify(source, target, base_dir=tmp_path))
    assert report.ok, report.describe()
    assert report.source.rows == 20000
    assert report.source.columns["name"].nulls == 2000
    kinds = {name: column.kind for name, column in report.target.columns.items()}
    assert kinds["amount"] == "decimal" and kinds["payload"] == kinds["tags"] == "json"
    pg(f'UPDATE "{pg_schema}".orders SET email = NULL WHERE id = 5')
    changed = asyncio.run(verify(source, target, base_dir=tmp_path))
    assert changed.mismatched_columns == ["email"]


# Memory stays flat whatever the table's size

MEMORY_SCRIPT = """
import asyncio, resource, sys
from fustgo.runtime.verify import build_input, table_fingerprint

def source(count):
    return build_input({"type": "generate", "count": count, "seed": 3, "fields": {
        "id": {"kind": "sequence"},
        "amount": {"kind": "random_float", "max": 1000, "decimals": 2},
        "email": {"kind": "string", "length": 12, "null_fraction": 0.1},
        "at": {"kind": "timestamp", "start": "2024-01-01T00:00:00Z"}}}, "source")

async def run(count):
    plugin = source(count)
    await plugin.open()
    try:
        return await table_fingerprint(plugin, parallelism=2)
    finally:
        await plugin.close()

asyncio.run(run(200_000))  # warm up: imports, worker threads, the generator's blocks
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
printed = asyncio.run(run(int(sys.argv[1])))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(printed.rows, (after - before) // 1024)
"""


@pytest.mark.e2e
def test_fingerprinting_two_million_rows_keeps_memory_flat(tmp_path: Path) -> None:
    # Two malloc arenas: otherwise glibc gives each worker thread its own, and their
    # fragmentation (not data held) decides the peak.
    completed = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, "2000000"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "MALLOC_ARENA_MAX": "2"},
    )
    assert completed.returncode == 0, completed.stderr
    rows, growth_mib = (int(value) for value in completed.stdout.split())
    assert rows == 2_000_000
    assert growth_mib < 100, f"peak RSS grew by {growth_mib} MiB"
