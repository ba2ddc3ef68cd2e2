"""Enrichment from a CSV or Parquet file loaded once: paths, types, size limit, errors."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from fustgo.engine.errors import TerminalError
from tests.plugins.processors.enrichment.building import batch_of, make, only, rows

pytestmark = pytest.mark.unit

CUSTOMERS_CSV = (
    "id,name,tier,zip,since\n"
    "1,Ada Lovelace,gold,01234,2020-01-31\n"
    "2,Émile Zola,silver,75001,\n"
    "3,李雷,,10001,2021-06-01\n"
)


@pytest.fixture
def customers_csv(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "customers.csv"
    path.parent.mkdir()
    path.write_text(CUSTOMERS_CSV, encoding="utf-8")
    return path


def test_csv_relative_to_the_pipeline_folder(customers_csv: Path, tmp_path: Path) -> None:
    processor = make(
        {
            "key": "customer_id",
            "lookup": {"type": "file", "path": "data/customers.csv", "key": "id"},
            "fields": {"name": "customer", "tier": "tier"},
        },
        base_dir=tmp_path,
    )
    assert rows(processor, {"order": [10, 11, 12, 13], "customer_id": [3, 1, 9, None]}) == [
        {"order": 10, "customer_id": 3, "customer": "李雷", "tier": None},
        {"order": 11, "customer_id": 1, "customer": "Ada Lovelace", "tier": "gold"},
        {"order": 12, "customer_id": 9, "customer": None, "tier": None},
        {"order": 13, "customer_id": None, "customer": None, "tier": None},
    ]


def test_csv_types_are_inferred_or_declared(customers_csv: Path, tmp_path: Path) -> None:
    processor = make(
        {
            "key": "customer_id",
            "lookup": {"type": "file", "path": str(customers_csv), "key": "id"},
            "fields": ["zip", "since"],
            "types": {"zip": "string"},
        }
    )
    out = only(processor.process(batch_of({"customer_id": [1, 2]})))
    assert out.schema.field("since").type == pa.date32()
    assert out.data.column("zip").to_pylist() == ["01234", "75001"]  # leading zero kept
    assert out.data.column("since").to_pylist()[1] is None


def test_gzipped_csv_with_another_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv.gz"
    path.write_bytes(gzip.compress(b"code;label\nA;Alpha\nB;Beta\n"))
    processor = make(
        {"key": "code", "lookup": {"type": "file", "path": str(path), "delimiter": ";"}}
    )
    assert rows(processor, {"code": ["B", "C"]}) == [
        {"code": "B", "label": "Beta"},
        {"code": "C", "label": None},
    ]


def test_parquet_reads_only_the_needed_columns(tmp_path: Path) -> None:
    path = tmp_path / "products.parquet"
    pq.write_table(
        pa.table(
            {
                "sku": ["a", "b"],
                "price": pa.array([1.5, 2.25]),
                "at": pa.array([1, 2], pa.timestamp("ns")),
                "blob": [b"x" * 100, b"y"],
            }
        ),
        path,
    )
    processor = make(
        {"key": "sku", "lookup": {"type": "file", "path": str(path)}, "fields": ["price", "at"]}
    )
    out = only(processor.process(batch_of({"sku": ["b", "a", "z"]})))
    assert out.data.column("price").to_pylist() == [2.25, 1.5, None]
    assert out.schema.field("at").type == pa.timestamp("us")  # FustGo's time unit


def test_a_file_larger_than_max_bytes_is_refused_before_reading(customers_csv: Path) -> None:
    processor = make(
        {"key": "id", "lookup": {"type": "file", "path": str(customers_csv), "max_bytes": 50}}
    )
    with pytest.raises(TerminalError, match=r"is 0\.0 MiB on disk, more than `lookup\.max_bytes`"):
        processor.process(batch_of({"id": [1]}))


def test_a_parquet_file_is_measured_uncompressed(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"id": range(50_000), "v": ["same text"] * 50_000}), path)
    processor = make(
        {"key": "id", "lookup": {"type": "file", "path": str(path), "max_bytes": "100KiB"}}
    )
    with pytest.raises(TerminalError, match=r"MiB uncompressed, more than `lookup.max_bytes`"):
        processor.process(batch_of({"id": [1]}))


def test_missing_file_and_unknown_column(customers_csv: Path, tmp_path: Path) -> None:
    processor = make({"key": "id", "lookup": {"type": "file", "path": "nope.csv"}}, tmp_path)
    with pytest.raises(TerminalError, match=r"Lookup file `.*nope\.csv` does not exist"):
        processor.process(batch_of({"id": [1]}))
    with pytest.raises(TerminalError, match="does not exist"):
        asyncio.run(processor.check_connection())
    processor = make(
        {"key": "id", "lookup": {"type": "file", "path": str(customers_csv)}, "fields": ["age"]}
    )
    with pytest.raises(TerminalError, match=r"has no column `age`; its columns are `id`, `name`"):
        processor.process(batch_of({"id": [1]}))


def test_a_value_that_does_not_fit_a_declared_type_names_the_file(customers_csv: Path) -> None:
    processor = make(
        {
            "key": "id",
            "lookup": {"type": "file", "path": str(customers_csv)},
            "types": {"name": "int64"},
        }
    )
    with pytest.raises(
        TerminalError, match=r"Cannot read the lookup file .* declare it in `types`"
    ):
        processor.process(batch_of({"id": [1]}))


def test_unknown_extension_needs_a_format() -> None:
    with pytest.raises(ValidationError, match="cannot tell the format"):
        make({"key": "id", "lookup": {"type": "file", "path": "x.data"}})
    make({"key": "id", "lookup": {"type": "file", "path": "x.data", "format": "csv"}})


def test_check_connection_passes_for_a_readable_file(customers_csv: Path) -> None:
    processor = make({"key": "id", "lookup": {"type": "file", "path": str(customers_csv)}})
    asyncio.run(processor.check_connection())
