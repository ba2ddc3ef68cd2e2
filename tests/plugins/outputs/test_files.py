"""File outputs: csv, json and parquet parts, rotation, compression, resume and atomicity."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from fustgo.engine.batch import Batch
from fustgo.engine.errors import DataError, TerminalError
from fustgo.plugins.api import Output, PluginContext
from fustgo.plugins.inputs.files.json import JsonInput, JsonInputConfig
from fustgo.plugins.outputs.files.csv import CsvOutput, CsvOutputConfig
from fustgo.plugins.outputs.files.json import JsonOutput, JsonOutputConfig
from fustgo.plugins.outputs.files.parquet import ParquetOutput, ParquetOutputConfig

pytestmark = pytest.mark.unit

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def batch(start: int, count: int) -> pa.RecordBatch:
    ids = list(range(start, start + count))
    names = [None if i % 4 == 3 else f"nom-{i}-é" for i in ids]
    return pa.RecordBatch.from_arrays([pa.array(ids), pa.array(names)], schema=SCHEMA)


def csv_output(base: Path, resume: bool = False, **options: Any) -> CsvOutput:
    return CsvOutput(
        CsvOutputConfig.model_validate(options), PluginContext(base_dir=base, resume=resume)
    )


def json_output(base: Path, resume: bool = False, **options: Any) -> JsonOutput:
    config = JsonOutputConfig.model_validate(options)
    return JsonOutput(config, PluginContext(base_dir=base, resume=resume))


def parquet_output(base: Path, resume: bool = False, **options: Any) -> ParquetOutput:
    config = ParquetOutputConfig.model_validate(options)
    return ParquetOutput(config, PluginContext(base_dir=base, resume=resume))


async def _write(output: Output[Any], batches: list[pa.RecordBatch], close: bool) -> None:
    await output.open(batches[0].schema if batches else SCHEMA)
    for data in batches:
        await output.write(Batch(data=data))
    if close:
        await output.flush()
        await output.close()


def write(output: Output[Any], batches: list[pa.RecordBatch], close: bool = True) -> None:
    asyncio.run(_write(output, batches, close))


def flush(output: Output[Any]) -> None:
    asyncio.run(output.flush())


def read_csv(path: Path) -> list[dict[str, Any]]:
    options = pacsv.ConvertOptions(
        column_types={"id": pa.int64(), "name": pa.string()}, strings_can_be_null=True
    )
    with pa.input_stream(str(path), compression="detect") as stream:
        return pacsv.read_csv(stream, convert_options=options).to_pylist()


def read_lines(path: Path) -> list[dict[str, Any]]:
    with pa.input_stream(str(path), compression="detect") as stream:
        return [json.loads(line) for line in stream.read().decode().splitlines()]


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


# CSV ------------------------------------------------------------------------------------


def test_csv_is_written_under_a_temporary_name_until_closed(tmp_path: Path) -> None:
    output = csv_output(tmp_path, path="out/orders.csv")

    async def scenario() -> None:
        await output.open(SCHEMA)
        await output.write(Batch(data=batch(0, 5)))
        await output.flush()
        assert visible(tmp_path / "out") == []
        assert (tmp_path / "out" / ".orders.csv.tmp").exists()
        await output.write(Batch(data=batch(5, 5)))
        await output.close()

    asyncio.run(scenario())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["orders.csv"]
    text = (tmp_path / "out" / "orders.csv").read_text()
    assert text.count('"id","name"') == 1
    assert [r["id"] for r in read_csv(tmp_path / "out" / "orders.csv")] == list(range(10))
    stats = output.stats()
    assert (stats.records_written, stats.batches_written, stats.files_written) == (10, 2, 1)
    assert stats.bytes_written == (tmp_path / "out" / "orders.csv").stat().st_size


def test_csv_options_and_nulls(tmp_path: Path) -> None:
    output = csv_output(tmp_path, path="o.csv", delimiter=";", null_value="\\N", quoting="all",
                        header=False)  # fmt: skip
    write(output, [batch(2, 2)])
    assert (tmp_path / "o.csv").read_text() == '"2";"nom-2-é"\n"3";\\N\n'
    plain = csv_output(tmp_path, path="p.csv", quoting="none")
    write(plain, [batch(0, 1)])
    assert (tmp_path / "p.csv").read_text() == "id,name\n0,nom-0-é\n"


def test_csv_write_is_all_or_nothing(tmp_path: Path) -> None:
    output = csv_output(tmp_path, path="o.csv", quoting="none")

    async def scenario() -> None:
        await output.open(SCHEMA)
        await output.write(Batch(data=batch(0, 2)))
        await output.flush()
        size = (tmp_path / ".o.csv.tmp").stat().st_size
        bad = pa.RecordBatch.from_pylist([{"id": 9, "name": "a,b"}], schema=SCHEMA)
        with pytest.raises(DataError, match="CSV"):
            await output.write(Batch(data=bad))
        assert (tmp_path / ".o.csv.tmp").stat().st_size == size
        await output.close()

    asyncio.run(scenario())
    assert [r["id"] for r in read_csv(tmp_path / "o.csv")] == [0, 1]
    assert output.stats().records_written == 2


def test_a_batch_split_across_parts_is_still_all_or_nothing(tmp_path: Path) -> None:
    output = csv_output(tmp_path, path="o.csv", quoting="none", rotate={"max_records": 3})
    rows = [{"id": i, "name": "a,b" if i == 4 else "ok"} for i in range(5)]

    async def scenario() -> None:
        await output.open(SCHEMA)
        with pytest.raises(DataError):
            await output.write(Batch(data=pa.RecordBatch.from_pylist(rows, schema=SCHEMA)))
        await output.write(Batch(data=batch(10, 2)))
        await output.close()

    asyncio.run(scenario())
    assert visible(tmp_path) == ["o-00000.csv"]
    assert [r["id"] for r in read_csv(tmp_path / "o-00000.csv")] == [10, 11]


def test_csv_refuses_nested_and_binary_columns(tmp_path: Path) -> None:
    nested = pa.schema([("tags", pa.list_(pa.string())), ("raw", pa.binary())])
    with pytest.raises(TerminalError, match=r"`tags`.*`raw`"):
        asyncio.run(csv_output(tmp_path, path="o.csv").open(nested))


def test_csv_rotation_by_records_splits_batches_exactly(tmp_path: Path) -> None:
    output = csv_output(tmp_path, path="out/o.csv", rotate={"max_records": 4})
    write(output, [batch(0, 5), batch(5, 5), batch(10, 5)])
    names = visible(tmp_path / "out")
    assert names == ["o-00000.csv", "o-00001.csv", "o-00002.csv", "o-00003.csv"]
    counts = [len(read_csv(tmp_path / "out" / n)) for n in names]
    assert counts == [4, 4, 4, 3]
    all_ids = [r["id"] for n in names for r in read_csv(tmp_path / "out" / n)]
    assert all_ids == list(range(15))
    assert output.stats().files_written == 4


def test_csv_rotation_by_bytes(tmp_path: Path) -> None:
    output = csv_output(tmp_path, path="{part}.csv", rotate={"max_bytes": "200B"})
    write(output, [batch(i * 5, 5) for i in range(8)])
    names = visible(tmp_path)
    assert len(names) > 2
    sizes = [(tmp_path / n).stat().st_size for n in names]
    assert all(size >= 200 for size in sizes[:-1])
    assert [r["id"] for n in names for r in read_csv(tmp_path / n)] == list(range(40))
    assert output.stats().bytes_written == sum(sizes)


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_csv_compressed_round_trip(tmp_path: Path, suffix: str) -> None:
    write(csv_output(tmp_path, path=f"o.csv{suffix}"), [batch(0, 1000), batch(1000, 1000)])
    got = read_csv(tmp_path / f"o.csv{suffix}")
    assert [r["id"] for r in got] == list(range(2000))
    assert got[3]["name"] is None and got[4]["name"] == "nom-4-é"


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_csv_resume_cuts_unflushed_rows_and_appends(tmp_path: Path, suffix: str) -> None:
    first = csv_output(tmp_path, path=f"o.csv{suffix}")
    write(first, [batch(0, 5), batch(5, 5)], close=False)
    flush(first)
    write(first, [batch(100, 5)], close=False)  # written, never flushed: not covered
    # The process dies here: `first` is never flushed again nor closed.
    assert visible(tmp_path) == []
    second = csv_output(tmp_path, resume=True, path=f"o.csv{suffix}")
    write(second, [batch(10, 5)])
    got = read_csv(tmp_path / f"o.csv{suffix}")
    assert [r["id"] for r in got] == list(range(15))
    assert visible(tmp_path) == [f"o.csv{suffix}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"o.csv{suffix}"]


def test_csv_resume_of_a_finished_file_appends_without_a_second_header(tmp_path: Path) -> None:
    write(csv_output(tmp_path, path="o.csv"), [batch(0, 3)])
    write(csv_output(tmp_path, resume=True, path="o.csv"), [batch(3, 3)])
    text = (tmp_path / "o.csv").read_text()
    assert text.count("id") == 1
    assert [r["id"] for r in read_csv(tmp_path / "o.csv")] == list(range(6))


def test_csv_resume_with_rotation_continues_the_record_count(tmp_path: Path) -> None:
    first = csv_output(tmp_path, path="o.csv", rotate={"max_records": 4})
    write(first, [batch(0, 6)], close=False)
    flush(first)
    # The process dies here: `first` is never flushed again nor closed.
    second = csv_output(tmp_path, resume=True, path="o.csv", rotate={"max_records": 4})
    write(second, [batch(6, 3)])
    names = visible(tmp_path)
    assert [len(read_csv(tmp_path / n)) for n in names] == [4, 4, 1]
    assert [r["id"] for n in names for r in read_csv(tmp_path / n)] == list(range(9))


def test_empty_input_still_makes_a_file(tmp_path: Path) -> None:
    write(csv_output(tmp_path, path="o.csv"), [])
    assert (tmp_path / "o.csv").read_text() == '"id","name"\n'
    write(json_output(tmp_path, path="o.jsonl"), [])
    assert (tmp_path / "o.jsonl").read_bytes() == b""
    write(json_output(tmp_path, path="o.json", format="array"), [])
    assert json.loads((tmp_path / "o.json").read_text()) == []
    write(parquet_output(tmp_path, path="o.parquet"), [])
    assert pq.read_table(tmp_path / "o.parquet").schema.names == ["id", "name"]


def test_date_placeholder_and_folders(tmp_path: Path) -> None:
    write(csv_output(tmp_path, path="{date}/x/o.csv"), [batch(0, 1)])
    [day] = visible(tmp_path)
    assert dt.date.fromisoformat(day)
    assert visible(tmp_path / day / "x") == ["o.csv"]


def test_check_connection(tmp_path: Path) -> None:
    asyncio.run(csv_output(tmp_path, path="new/folder/o.csv").check_connection())
    (tmp_path / "file").write_text("")
    with pytest.raises(TerminalError):
        asyncio.run(csv_output(tmp_path, path="file/o.csv").check_connection())


# JSON -----------------------------------------------------------------------------------


def test_json_lines_types(tmp_path: Path) -> None:
    data = pa.RecordBatch.from_pydict(
        {
            "n": pa.array([1, None]),
            "f": pa.array([float("nan"), 2.5]),
            "d": pa.array([dt.date(2024, 2, 29), None]),
            "t": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5), None], pa.timestamp("us")),
            "dec": pa.array([Decimal("12.50"), None], pa.decimal128(10, 2)),
            "bin": pa.array([b"\x00\xff", None]),
            "nested": pa.array([{"a": [1, 2], "b": "é"}, None]),
        }
    )
    write(json_output(tmp_path, path="o.jsonl"), [data])
    assert read_lines(tmp_path / "o.jsonl") == [
        {"n": 1, "f": None, "d": "2024-02-29", "t": "2024-01-02 03:04:05", "dec": "12.50",
         "bin": "AP8=", "nested": {"a": [1, 2], "b": "é"}},
        {"n": None, "f": 2.5, "d": None, "t": None, "dec": None, "bin": None, "nested": None},
    ]  # fmt: skip


def test_json_refuses_binary_inside_nested_columns(tmp_path: Path) -> None:
    schema = pa.schema([("s", pa.struct([("b", pa.binary())]))])
    with pytest.raises(TerminalError, match="`s`"):
        asyncio.run(json_output(tmp_path, path="o.jsonl").open(schema))


def test_json_array_files_are_valid_json(tmp_path: Path) -> None:
    output = json_output(tmp_path, path="o.json", format="array")
    assert not output.durable_flush
    write(output, [batch(0, 3), batch(3, 0), batch(3, 2)])
    document = json.loads((tmp_path / "o.json").read_text())
    assert [r["id"] for r in document] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_json_compressed_round_trip_through_the_json_input(tmp_path: Path, suffix: str) -> None:
    output = json_output(tmp_path, path=f"o.jsonl{suffix}")
    assert output.durable_flush
    write(output, [batch(0, 500), batch(500, 500)])
    reader = JsonInput(
        JsonInputConfig(paths=[f"o.jsonl{suffix}"]), PluginContext(base_dir=tmp_path)
    )

    async def read_back() -> list[dict[str, Any]]:
        await reader.open()
        [split] = await reader.splits(1)
        return [row async for b in reader.read(split, None) for row in b.data.to_pylist()]

    assert asyncio.run(read_back()) == batch(0, 1000).to_pylist()


def test_json_lines_resume_cuts_and_appends(tmp_path: Path) -> None:
    first = json_output(tmp_path, path="o.jsonl.zst")
    write(first, [batch(0, 4)], close=False)
    flush(first)
    write(first, [batch(50, 4)], close=False)
    # The process dies here: `first` is never flushed again nor closed.
    write(json_output(tmp_path, resume=True, path="o.jsonl.zst"), [batch(4, 4)])
    assert [r["id"] for r in read_lines(tmp_path / "o.jsonl.zst")] == list(range(8))


# Parquet --------------------------------------------------------------------------------


def test_parquet_row_groups_and_compression(tmp_path: Path) -> None:
    output = parquet_output(tmp_path, path="o.parquet", row_group_size=250, compression="zstd")
    assert not output.durable_flush
    write(output, [batch(i * 100, 100) for i in range(6)])
    parquet = pq.ParquetFile(tmp_path / "o.parquet")
    assert [parquet.metadata.row_group(i).num_rows for i in range(3)] == [250, 250, 100]
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
    assert parquet.read().to_pylist() == batch(0, 600).to_pylist()
    assert output.stats().bytes_written == (tmp_path / "o.parquet").stat().st_size


def test_parquet_casts_later_batches_or_says_why_not(tmp_path: Path) -> None:
    output = parquet_output(tmp_path, path="o.parquet")

    async def scenario() -> None:
        await output.open(SCHEMA)
        narrower = pa.RecordBatch.from_pydict({"name": ["x"], "id": pa.array([7], pa.int32())})
        await output.write(Batch(data=narrower))
        await output.write(Batch(data=pa.RecordBatch.from_pydict({"id": [8]})))
        with pytest.raises(TerminalError, match="`extra`"):
            await output.write(Batch(data=pa.RecordBatch.from_pydict({"id": [1], "extra": [1]})))
        with pytest.raises(TerminalError, match="changed type"):
            await output.write(Batch(data=pa.RecordBatch.from_pydict({"id": [[1]]})))
        with pytest.raises(DataError, match="`id`"):
            await output.write(Batch(data=pa.RecordBatch.from_pydict({"id": ["x"]})))
        await output.close()

    asyncio.run(scenario())
    assert pq.read_table(tmp_path / "o.parquet").to_pylist() == [
        {"id": 7, "name": "x"}, {"id": 8, "name": None},
    ]  # fmt: skip


def test_parquet_rotation_by_bytes_and_records(tmp_path: Path) -> None:
    output = parquet_output(tmp_path, path="p.parquet", row_group_size=100,
                            rotate={"max_bytes": "2KB"})  # fmt: skip
    write(output, [batch(i * 100, 100) for i in range(10)])
    names = visible(tmp_path)
    assert len(names) > 1
    assert names[0] == "p-00000.parquet"
    ids = [r["id"] for n in names for r in pq.read_table(tmp_path / n).to_pylist()]
    assert ids == list(range(1000))
    by_records = parquet_output(tmp_path / "r", path="r.parquet", rotate={"max_records": 300})
    write(by_records, [batch(0, 1000)])
    rows = [pq.ParquetFile(tmp_path / "r" / n).metadata.num_rows for n in visible(tmp_path / "r")]
    assert rows == [300, 300, 300, 100]


def test_parquet_resume_starts_a_new_part_and_drops_the_interrupted_one(tmp_path: Path) -> None:
    write(parquet_output(tmp_path, path="p.parquet"), [batch(0, 3)])
    interrupted = parquet_output(tmp_path, resume=True, path="p.parquet")
    write(interrupted, [batch(3, 3)], close=False)
    # The process dies here: `interrupted` is never closed.
    assert (tmp_path / ".p-00001.parquet.tmp").exists()
    write(parquet_output(tmp_path, resume=True, path="p.parquet"), [batch(6, 3)])
    # Part 1 was never finished: its number is reused; the finished part 0 is untouched.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p-00001.parquet", "p.parquet"]
    assert [r["id"] for r in pq.read_table(tmp_path / "p.parquet").to_pylist()] == [0, 1, 2]
    assert [r["id"] for r in pq.read_table(tmp_path / "p-00001.parquet").to_pylist()] == [6, 7, 8]
