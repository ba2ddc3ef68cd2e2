"""`stdout` prints records (JSON Lines, CSV, tables); `drop` counts and discards them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pyarrow as pa
import pytest

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.plugins.outputs.stdout import (
    DropOutput,
    DropOutputConfig,
    StdoutOutput,
    StdoutOutputConfig,
)

pytestmark = pytest.mark.unit

DATA = pa.RecordBatch.from_pydict(
    {"id": [1, 2, 3], "név": ["Zoë", None, "[b]x"], "day": [dt.date(2024, 1, 1)] * 3}
)


def run(output: StdoutOutput | DropOutput, batches: list[pa.RecordBatch]) -> None:
    async def scenario() -> None:
        await output.open(DATA.schema)
        for data in batches:
            await output.write(Batch(data=data))
        await output.flush()
        await output.close()

    asyncio.run(scenario())


def stdout(**options: Any) -> StdoutOutput:
    return StdoutOutput(StdoutOutputConfig.model_validate(options))


def test_jsonl_is_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    output = stdout()
    run(output, [DATA])
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": 1, "név": "Zoë", "day": "2024-01-01"},
        {"id": 2, "név": None, "day": "2024-01-01"},
        {"id": 3, "név": "[b]x", "day": "2024-01-01"},
    ]
    assert output.stats().bytes_written == len("\n".join(lines).encode()) + 1


def test_csv_prints_one_header(capsys: pytest.CaptureFixture[str]) -> None:
    run(stdout(format="csv"), [DATA, DATA])
    out = capsys.readouterr().out
    assert out.count('"id","név","day"') == 1
    assert out.count('3,"[b]x",2024-01-01') == 2


def test_csv_of_nested_values_says_what_to_do() -> None:
    nested = pa.RecordBatch.from_pydict({"tags": [["a"]]})
    with pytest.raises(TerminalError, match="format: jsonl"):
        run(stdout(format="csv"), [nested])


def test_table_is_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    run(stdout(format="table"), [DATA])
    out = capsys.readouterr().out
    assert "név" in out and "Zoë" in out and "NULL" in out
    assert "[b]x" in out  # markup-like text is printed as is


def test_max_records_stops_printing_but_keeps_counting(capsys: pytest.CaptureFixture[str]) -> None:
    output = stdout(max_records=4)
    run(output, [DATA, DATA, DATA])
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 4
    assert "5 of 9 records were not printed (max_records: 4)" in captured.err
    stats = output.stats()
    assert (stats.records_written, stats.batches_written) == (9, 3)


def test_max_records_zero_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    run(stdout(max_records=0, format="table"), [DATA])
    assert capsys.readouterr().out == ""


def test_drop_counts_and_discards(capsys: pytest.CaptureFixture[str]) -> None:
    output = DropOutput(DropOutputConfig())
    run(output, [DATA, DATA.slice(0, 0), DATA])
    assert capsys.readouterr().out == ""
    stats = output.stats()
    assert (stats.records_written, stats.batches_written, stats.bytes_written) == (6, 3, 0)
