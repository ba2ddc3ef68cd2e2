"""File inputs: csv, json and parquet read as batches, with rejects, resume and splits."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import tempfile
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fustgo.engine.batch import Batch, Checkpoint
from fustgo.engine.errors import ConfigError, TerminalError
from fustgo.plugins.api import Input, PluginContext
from fustgo.plugins.inputs.files.csv import CsvInput, CsvInputConfig
from fustgo.plugins.inputs.files.json import JsonInput, JsonInputConfig
from fustgo.plugins.inputs.files.parquet import ParquetInput, ParquetInputConfig

pytestmark = pytest.mark.unit


def csv_input(base: Path, batch_size: int = 10_000, **options: Any) -> CsvInput:
    config = CsvInputConfig.model_validate({"paths": ["*.csv*"], **options})
    return CsvInput(config, PluginContext(base_dir=base, batch_size=batch_size))


def json_input(base: Path, batch_size: int = 10_000, **options: Any) -> JsonInput:
    config = JsonInputConfig.model_validate({"paths": ["*.json*"], **options})
    return JsonInput(config, PluginContext(base_dir=base, batch_size=batch_size))


def parquet_input(base: Path, batch_size: int = 10_000, **options: Any) -> ParquetInput:
    config = ParquetInputConfig.model_validate({"paths": ["*.parquet"], **options})
    return ParquetInput(config, PluginContext(base_dir=base, batch_size=batch_size))


async def _read(
    plugin: Input[Any], parallelism: int, resume: dict[str, Checkpoint] | None
) -> list[Batch]:
    await plugin.open()
    batches: list[Batch] = []
    try:
        for split in await plugin.splits(parallelism):
            async for batch in plugin.read(split, (resume or {}).get(split.id)):
                batches.append(batch)
    finally:
        await plugin.close()
    return batches


def read(
    plugin: Input[Any], parallelism: int = 1, resume: dict[str, Checkpoint] | None = None
) -> list[Batch]:
    return asyncio.run(_read(plugin, parallelism, resume))


def rows(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.data.to_pylist()]


def rejected(plugin: Input[Any]) -> list[tuple[dict[str, Any], str]]:
    """(dead-letter row, message) of every rejected record, in order."""
    found = []
    for item in plugin.take_rejected():
        assert isinstance(item.error, str)
        found.extend((row, item.error) for row in item.records.to_pylist())
    return found


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


# CSV ------------------------------------------------------------------------------------


def test_csv_types_values_batches_and_checkpoints(tmp_path: Path) -> None:
    lines = ["id,price,paid,day,at,label"]
    lines += [f"{i},{i}.5,{'true' if i % 2 else 'false'},2024-01-0{i % 9 + 1},"
              f"2024-01-01 00:00:0{i % 10},row {i}" for i in range(10)]  # fmt: skip
    write(tmp_path / "orders.csv", "\n".join(lines) + "\n")
    plugin = csv_input(tmp_path, batch_size=4)
    batches = read(plugin)
    assert [b.num_rows for b in batches] == [4, 4, 2]
    assert [b.checkpoint.position for b in batches if b.checkpoint] == [
        {"rows": 4}, {"rows": 8}, {"rows": 10},
    ]  # fmt: skip
    assert batches[0].metadata.source == "csv"
    assert batches[0].metadata.split_id == "orders.csv"
    schema = plugin.schema()
    assert schema is not None
    assert [str(t) for t in schema.types] == [
        "int64", "double", "bool", "date32[day]", "timestamp[us]", "string",
    ]  # fmt: skip
    first = rows(batches)[3]
    assert first == {
        "id": 3, "price": 3.5, "paid": True, "day": dt.date(2024, 1, 4),
        "at": dt.datetime(2024, 1, 1, 0, 0, 3), "label": "row 3",
    }  # fmt: skip
    assert rejected(plugin) == []


def test_csv_nulls_and_quoted_empty_strings(tmp_path: Path) -> None:
    write(tmp_path / "n.csv", 'a,b,c\n1,,x\nNULL,"",\\N\n\\N,"NULL",null\n3,z,y\n')
    assert rows(read(csv_input(tmp_path))) == [
        {"a": 1, "b": None, "c": "x"},
        {"a": None, "b": "", "c": None},
        {"a": None, "b": "NULL", "c": None},
        {"a": 3, "b": "z", "c": "y"},
    ]


def test_csv_empty_and_header_only_files(tmp_path: Path) -> None:
    write(tmp_path / "a-empty.csv", "")
    write(tmp_path / "b-header.csv", "id,name\n")
    plugin = csv_input(tmp_path)
    assert read(plugin) == []
    schema = plugin.schema()
    assert schema is not None
    assert schema.names == ["id", "name"]
    assert plugin.progress().bytes_total == len("id,name\n")


def test_csv_all_files_empty_give_no_schema_and_no_batches(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "")
    plugin = csv_input(tmp_path)
    assert read(plugin) == []
    assert plugin.schema() is None


def test_csv_schema_comes_from_the_first_file_with_rows(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "id,v\n")
    write(tmp_path / "b.csv", "v,id\nx,7\n")
    plugin = csv_input(tmp_path)
    assert rows(read(plugin)) == [{"id": 7, "v": "x"}]


def test_csv_unicode_names_values_and_other_encodings(tmp_path: Path) -> None:
    write(tmp_path / "u.csv", "名前;prix €\nZoë;3\n日本;4\n")
    assert rows(read(csv_input(tmp_path, delimiter=";"))) == [
        {"名前": "Zoë", "prix €": 3},
        {"名前": "日本", "prix €": 4},
    ]
    latin = tmp_path / "latin"
    write(latin / "l.csv", "ville\nSão Paulo\n", encoding="latin1")
    assert rows(read(csv_input(latin, encoding="latin1"))) == [{"ville": "São Paulo"}]


def test_csv_rows_with_wrong_field_counts_are_rejected_with_row_numbers(tmp_path: Path) -> None:
    write(tmp_path / "bad.csv", 'id,name\n1,a\n2\n3,"multi\nline"\n4,b,extra\n5,c\n')
    plugin = csv_input(tmp_path, batch_size=2)
    batches = read(plugin)
    assert rows(batches) == [
        {"id": 1, "name": "a"}, {"id": 3, "name": "multi\nline"}, {"id": 5, "name": "c"},
    ]  # fmt: skip
    bad = rejected(plugin)
    assert [(row["_row"], row["_raw"]) for row, _ in bad] == [(3, "2"), (5, "4,b,extra")]
    assert bad[0][0]["_file"].endswith("bad.csv")
    assert "CSV row 3 of" in bad[0][1] and "has 1 fields, expected 2" in bad[0][1]
    # records counts good and rejected rows: 5 records, the last checkpoint covers them all
    assert batches[-1].checkpoint is not None
    assert batches[-1].checkpoint.records == 5


def test_csv_declared_types_reject_values_that_do_not_fit(tmp_path: Path) -> None:
    write(
        tmp_path / "t.csv",
        "id,amount,at\n1,12.50,08:30:00\n2,abc,09:00:00\n3,7,nope\n4,1.2,10:15:30.5\n",
    )
    plugin = csv_input(tmp_path, columns={"amount": "decimal(10,2)", "at": "time"})
    assert rows(read(plugin)) == [
        {"id": 1, "amount": Decimal("12.50"), "at": dt.time(8, 30)},
        {"id": 4, "amount": Decimal("1.20"), "at": dt.time(10, 15, 30, 500000)},
    ]
    bad = rejected(plugin)
    assert [(row["_row"], row["_raw"]) for row, _ in bad] == [
        (3, "2,abc,09:00:00"),
        (4, "3,7,nope"),
    ]
    assert "column `amount` value `abc` is not a valid decimal(10,2)" in bad[0][1]
    assert "column `at` value `nope` is not a valid time" in bad[1][1]
    assert "inferred" not in bad[0][1]  # the type was declared, not guessed


def test_csv_inferred_types_that_later_blocks_contradict(tmp_path: Path) -> None:
    lines = ["id,qty"] + [f"{i},{i}" for i in range(3000)] + ["3000,n/a", "3001,5"]
    write(tmp_path / "late.csv", "\n".join(lines) + "\n")
    plugin = csv_input(tmp_path, block_size=4096)
    got = rows(read(plugin))
    assert len(got) == 3001
    assert got[-1] == {"id": 3001, "qty": 5}
    [(row, message)] = rejected(plugin)
    assert row["_row"] == 3002
    assert "column `qty` value `n/a` is not a valid int64" in message
    assert "declare `qty` in `input.columns`" in message


def test_csv_header_options(tmp_path: Path) -> None:
    write(tmp_path / "h.csv", "# exported\nx|y\n1|2\n")
    assert rows(read(csv_input(tmp_path, delimiter="|", skip_rows=1))) == [{"x": 1, "y": 2}]
    renamed = read(csv_input(tmp_path, delimiter="|", skip_rows=1, column_names=["a", "b"]))
    assert rows(renamed) == [{"a": 1, "b": 2}]
    write(tmp_path / "h.csv", "1,2\n3,4\n")
    assert rows(read(csv_input(tmp_path, header=False))) == [{"f0": 1, "f1": 2}, {"f0": 3, "f1": 4}]


def test_csv_files_with_other_columns_stop_the_run(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "id,name\n1,x\n")
    write(tmp_path / "b.csv", "id,email\n2,y\n")
    with pytest.raises(TerminalError, match=r"b\.csv` has columns .*missing: `name`.*`email`"):
        read(csv_input(tmp_path))


def test_csv_unknown_declared_column_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "id\n1\n")
    with pytest.raises(ConfigError, match="`columns` names `idd`"):
        read(csv_input(tmp_path, columns={"idd": "int64"}))


def test_csv_config_rejects_bad_types() -> None:
    with pytest.raises(ValueError, match="column `x`"):
        CsvInputConfig.model_validate({"paths": ["a.csv"], "columns": {"x": "intt"}})
    with pytest.raises(ValueError, match="cannot hold"):
        CsvInputConfig.model_validate({"paths": ["a.csv"], "columns": {"x": "list<int64>"}})


@pytest.mark.parametrize(("suffix", "codec"), [(".gz", "gzip"), (".zst", "zstd")])
def test_csv_compressed_files(tmp_path: Path, suffix: str, codec: str) -> None:
    text = "id,name\n" + "".join(f"{i},név {i}\n" for i in range(5000))
    with pa.output_stream(str(tmp_path / f"big.csv{suffix}"), compression=codec) as sink:
        sink.write(text.encode())
    got = rows(read(csv_input(tmp_path, batch_size=1000)))
    assert len(got) == 5000
    assert got[4999] == {"id": 4999, "name": "név 4999"}


def test_csv_compression_can_be_forced(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_bytes(gzip.compress(b"a\n1\n"))
    assert rows(read(csv_input(tmp_path, compression="gzip"))) == [{"a": 1}]


def test_csv_globs_make_one_split_per_file_in_order(tmp_path: Path) -> None:
    for name in ["2024/02.csv", "2024/01.csv", "2023/12.csv"]:
        write(tmp_path / name, f"month\n{name[5:7]}\n")
    plugin = CsvInput(
        CsvInputConfig(paths=["**/*.csv"]), PluginContext(base_dir=tmp_path, batch_size=10)
    )

    async def plan() -> list[str]:
        await plugin.open()
        return [s.id for s in await plugin.splits(8)]

    assert asyncio.run(plan()) == ["2023/12.csv", "2024/01.csv", "2024/02.csv"]
    progress = plugin.progress()
    assert progress.records_total == 3  # counted from the line lengths, for the progress bar
    assert progress.bytes_total == 3 * len("month\n01\n")


def test_csv_resume_after_a_checkpoint_has_no_gap_and_no_duplicate(tmp_path: Path) -> None:
    lines = ["id,v"] + [f"{i},{i}" if i % 7 else f"{i}" for i in range(1, 101)]
    write(tmp_path / "r.csv", "\n".join(lines) + "\n")
    whole = csv_input(tmp_path, batch_size=10)
    everything = read(whole)
    all_bad = rejected(whole)
    for cut in range(len(everything)):
        first_run = csv_input(tmp_path, batch_size=10)
        done = read(first_run)[: cut + 1]
        checkpoint = done[-1].checkpoint
        assert checkpoint is not None
        second_run = csv_input(tmp_path, batch_size=10)
        rest = read(second_run, resume={checkpoint.split_id: checkpoint})
        assert [r["id"] for r in rows(done) + rows(rest)] == [r["id"] for r in rows(everything)]
        # rejects before the checkpoint are not reported again
        again = [row["_raw"] for row, _ in rejected(second_run)]
        assert again == [
            row["_raw"] for row, _ in all_bad if int(row["_raw"]) > max(r["id"] for r in rows(done))
        ]


class _PausingCsvInput(CsvInput):
    """Pauses in its worker thread after the first batch, until the test releases it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.paused = threading.Event()
        self.release = threading.Event()

    def _batches(self, path: Path, skip: int) -> Iterator[tuple[pa.RecordBatch, int]]:
        for item in super()._batches(path, skip):
            yield item
            self.paused.set()
            self.release.wait(timeout=30)


def test_cancelling_a_read_while_a_thread_parses_ends_cleanly(tmp_path: Path) -> None:
    # The runner cancels readers (SIGTERM) while a block is being parsed in a worker thread;
    # the file must be closed only once that thread is done with it.
    write(tmp_path / "a.csv", "id\n" + "".join(f"{i}\n" for i in range(10)))
    plugin = _PausingCsvInput(
        CsvInputConfig(paths=["a.csv"]), PluginContext(base_dir=tmp_path, batch_size=4)
    )

    async def scenario() -> None:
        await plugin.open()
        [split] = await plugin.splits(1)
        stream = plugin.read(split, None)
        await anext(stream)
        pending = asyncio.ensure_future(anext(stream))
        assert await asyncio.to_thread(plugin.paused.wait, 30)
        pending.cancel()
        plugin.release.set()
        with pytest.raises(asyncio.CancelledError):
            await pending
        await stream.aclose()

    asyncio.run(scenario())


def test_check_connection(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "a\n1\n")
    asyncio.run(csv_input(tmp_path).check_connection())
    with pytest.raises(ConfigError):
        asyncio.run(csv_input(tmp_path / "missing").check_connection())


# JSON -----------------------------------------------------------------------------------


def test_json_lines_nested_nulls_unicode_and_blank_lines(tmp_path: Path) -> None:
    write(
        tmp_path / "e.jsonl",
        '{"id": 1, "user": {"name": "Zoë", "tags": ["a", "b"]}, "score": 1.5}\n'
        "\n"
        '{"id": 2, "user": null, "score": null}\n'
        '   {"id": 3, "user": {"name": "日本", "tags": []}}\r\n',
    )
    plugin = json_input(tmp_path)
    assert rows(read(plugin)) == [
        {"id": 1, "user": {"name": "Zoë", "tags": ["a", "b"]}, "score": 1.5},
        {"id": 2, "user": None, "score": None},
        {"id": 3, "user": {"name": "日本", "tags": []}, "score": None},
    ]
    schema = plugin.schema()
    assert schema is not None
    assert str(schema.field("user").type) == "struct<name: string, tags: list<item: string>>"


def test_json_lines_longer_than_a_block_and_no_final_newline(tmp_path: Path) -> None:
    long = "é" * 20_000
    write(tmp_path / "l.jsonl", f'{{"s": "{long}"}}\n{{"s": "b"}}')
    got = rows(read(json_input(tmp_path, block_size=4096)))
    assert got == [{"s": long}, {"s": "b"}]


def test_json_bad_lines_are_rejected_with_line_numbers(tmp_path: Path) -> None:
    write(
        tmp_path / "b.jsonl",
        '{"id": 1, "v": "a"}\n{"id": "two", "v": "b"}\nnot json\n\n[1, 2]\n{"id": 6, "v": "f"}\n',
    )
    plugin = json_input(tmp_path)
    assert rows(read(plugin)) == [{"id": 1, "v": "a"}, {"id": 6, "v": "f"}]
    bad = rejected(plugin)
    assert [(row["_line"], row["_raw"]) for row, _ in bad] == [
        (2, '{"id": "two", "v": "b"}'), (3, "not json"), (5, "[1, 2]"),
    ]  # fmt: skip
    assert "JSON line 2 of" in bad[0][1] and "input.columns" in bad[0][1]
    assert "is not a JSON object" in bad[2][1]


def test_json_sample_with_conflicting_types_keeps_the_first_type(tmp_path: Path) -> None:
    write(tmp_path / "c.jsonl", '{"a": 1}\n{"a": "x"}\n{"a": 3}\n')
    plugin = json_input(tmp_path)
    assert rows(read(plugin)) == [{"a": 1}, {"a": 3}]
    assert [row["_line"] for row, _ in rejected(plugin)] == [2]


def test_json_unknown_fields_are_rejected_or_ignored(tmp_path: Path) -> None:
    lines = [f'{{"id": {i}}}' for i in range(400)] + ['{"id": 400, "late": true}']
    write(tmp_path / "u.jsonl", "\n".join(lines) + "\n")
    strict = json_input(tmp_path, block_size=4096)
    assert len(rows(read(strict))) == 400
    [(row, message)] = rejected(strict)
    assert row["_line"] == 401
    assert "`late` are not in the schema" in message
    lenient = json_input(tmp_path, block_size=4096, unknown_fields="ignore")
    assert rows(read(lenient))[-1] == {"id": 400}
    assert rejected(lenient) == []


def test_json_declared_types(tmp_path: Path) -> None:
    write(tmp_path / "d.jsonl", '{"at": "2024-01-02T03:04:05", "n": 5, "day": "2024-02-29"}\n')
    plugin = json_input(tmp_path, columns={"n": "float64", "day": "date", "extra": "string"})
    assert rows(read(plugin)) == [
        {
            "at": dt.datetime(2024, 1, 2, 3, 4, 5),
            "n": 5.0,
            "day": dt.date(2024, 2, 29),
            "extra": None,
        }
    ]


def test_json_array_streams_pretty_printed_elements(tmp_path: Path) -> None:
    elements = ",\n".join(f'  {{\n    "id": {i},\n    "s": "x\\ny {i}"\n  }}' for i in range(2000))
    write(tmp_path / "a.json", "\ufeff[\n" + elements + ",\n  42\n]\n")
    plugin = json_input(tmp_path, batch_size=500, block_size=4096)
    got = rows(read(plugin))
    assert len(got) == 2000
    assert got[1999] == {"id": 1999, "s": "x\ny 1999"}
    [(row, message)] = rejected(plugin)
    assert row["_element"] == 2001
    assert "`42` is not a JSON object" in message


def test_json_empty_array_and_empty_file(tmp_path: Path) -> None:
    write(tmp_path / "a.json", "  [ ]  ")
    write(tmp_path / "b.json", "")
    plugin = json_input(tmp_path)
    assert read(plugin) == []
    assert plugin.schema() is None


def test_json_broken_array_stops_with_the_element_number(tmp_path: Path) -> None:
    write(tmp_path / "a.json", '[{"a": 1}, {"a": 2} {"a": 3}]')
    with pytest.raises(TerminalError, match="expected `,` or `]` after element 2"):
        read(json_input(tmp_path))
    write(tmp_path / "a.json", '[{"a": 1}, {"a": ')
    with pytest.raises(TerminalError, match="element 2"):
        read(json_input(tmp_path))


def test_json_format_can_be_forced(tmp_path: Path) -> None:
    write(tmp_path / "a.json", '{"a": 1}\n')
    with pytest.raises(TerminalError, match="does not start with"):
        read(json_input(tmp_path, format="array"))


def test_json_gzip_lines_and_resume(tmp_path: Path) -> None:
    lines = "".join(f'{{"id": {i}}}\n' if i % 50 else "oops\n" for i in range(1, 1001))
    (tmp_path / "big.jsonl.gz").write_bytes(gzip.compress(lines.encode()))
    everything = read(json_input(tmp_path, batch_size=100))
    ids = [r["id"] for r in rows(everything)]
    assert len(ids) == 980
    checkpoint = everything[4].checkpoint
    assert checkpoint is not None
    again = json_input(tmp_path, batch_size=100)
    rest = read(again, resume={checkpoint.split_id: checkpoint})
    assert [r["id"] for r in rows(everything[:5]) + rows(rest)] == ids
    assert all(int(row["_line"]) > checkpoint.records for row, _ in rejected(again))


# Parquet --------------------------------------------------------------------------------


def parquet_file(path: Path, start: int, count: int, row_group_size: int = 100) -> None:
    ids = list(range(start, start + count))
    table = pa.table({"id": ids, "name": [f"n{i}" for i in ids], "score": [i / 2 for i in ids]})
    pq.write_table(table, path, row_group_size=row_group_size)


def test_parquet_projection_batches_and_counts(tmp_path: Path) -> None:
    parquet_file(tmp_path / "a.parquet", 0, 250)
    parquet_file(tmp_path / "b.parquet", 250, 30)
    plugin = parquet_input(tmp_path, batch_size=64, columns=["score", "id"])
    batches = read(plugin)
    assert plugin.progress().records_total == 280
    assert [r["id"] for r in rows(batches)] == list(range(280))
    assert batches[0].data.schema.names == ["score", "id"]
    assert max(b.num_rows for b in batches) == 64
    assert sum(1 for b in batches if b.num_rows < 64) <= 2  # the tail of each file


def test_parquet_unknown_column_is_a_config_error(tmp_path: Path) -> None:
    parquet_file(tmp_path / "a.parquet", 0, 3)
    with pytest.raises(ConfigError, match="`nope`"):
        read(parquet_input(tmp_path, columns=["nope"]))


def test_parquet_other_files_are_cast_or_refused(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": pa.array([1], pa.int64()), "v": ["a"]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"v": ["b"], "id": pa.array([2], pa.int32())}), tmp_path / "b.parquet")
    assert rows(read(parquet_input(tmp_path))) == [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]
    pq.write_table(pa.table({"id": [3]}), tmp_path / "c.parquet")
    with pytest.raises(TerminalError, match=r"c\.parquet` lacks column\(s\) `v`"):
        read(parquet_input(tmp_path))


def test_parquet_resume_skips_row_groups(tmp_path: Path) -> None:
    parquet_file(tmp_path / "a.parquet", 0, 1000, row_group_size=128)
    resume = Checkpoint(split_id="a.parquet", position={"rows": 300}, records=300)
    rest = read(parquet_input(tmp_path, batch_size=100), resume={"a.parquet": resume})
    assert [r["id"] for r in rows(rest)] == list(range(300, 1000))
    assert rest[0].checkpoint is not None
    assert rest[0].checkpoint.position == {"rows": 400}


def test_parquet_corrupt_file(tmp_path: Path) -> None:
    write(tmp_path / "bad.parquet", "not parquet at all")
    with pytest.raises(TerminalError, match="Cannot read Parquet file"):
        read(parquet_input(tmp_path))


# Properties -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=6),
    parallelism=st.integers(min_value=1, max_value=8),
    batch_size=st.integers(min_value=1, max_value=17),
    resume_after=st.integers(min_value=0, max_value=50),
)
def test_file_splits_cover_the_source_once_and_resume_exactly(
    sizes: list[int], parallelism: int, batch_size: int, resume_after: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        next_id = 0
        for index, size in enumerate(sizes):
            body = "".join(f"{next_id + i},{index}\n" for i in range(size))
            write(base / f"sub{index % 2}" / f"part{index}.csv", "id,file\n" + body)
            next_id += size
        plugin = CsvInput(
            CsvInputConfig(paths=["sub0/*.csv", "**/*.csv"]),
            PluginContext(base_dir=base, batch_size=batch_size),
        )

        async def plan() -> list[str]:
            await plugin.open()
            return [s.id for s in await plugin.splits(parallelism)]

        split_ids = asyncio.run(plan())
        assert len(split_ids) == len(set(split_ids)) == len(sizes)
        batches = read(plugin, parallelism)
        got = [r["id"] for r in rows(batches)]
        assert sorted(got) == list(range(next_id))  # the union is everything, nothing twice

        # Resuming any split after any of its checkpoints reads exactly the rest.
        by_split: dict[str, list[Batch]] = {}
        for batch in batches:
            by_split.setdefault(batch.metadata.split_id, []).append(batch)
        for split_batches in by_split.values():
            cut = min(resume_after, len(split_batches) - 1)
            checkpoint = split_batches[cut].checkpoint
            assert checkpoint is not None
            again = CsvInput(
                CsvInputConfig(paths=[checkpoint.split_id]),
                PluginContext(base_dir=base, batch_size=batch_size),
            )
            rest = read(again, resume={checkpoint.split_id: checkpoint})
            before = [r["id"] for r in rows(split_batches[: cut + 1])]
            assert before + [r["id"] for r in rows(rest)] == [r["id"] for r in rows(split_batches)]


def test_record_estimates_for_the_progress_bar(tmp_path: Path) -> None:
    from fustgo.plugins.inputs.files.base import estimate_lines

    small = tmp_path / "small.csv"
    small.write_text("a\n1\n2\n3", encoding="utf-8")  # no final newline
    assert estimate_lines(small) == 4
    big = tmp_path / "big.csv"
    big.write_text("id,name\n" + "".join(f"{i:06d},name-{i:06d}\n" for i in range(100_000)))
    estimate = estimate_lines(big)
    assert estimate is not None and abs(estimate - 100_001) / 100_001 < 0.01
    assert estimate_lines(tmp_path / "x.csv.gz") is None
