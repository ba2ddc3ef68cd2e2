"""`stdout` and `drop` outputs: look at records, or throw them away (benchmarks)."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Literal

import pyarrow as pa
from pydantic import Field

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import Output, PluginContext
from fustgo.plugins.registry import register_output
from fustgo.plugins.spec import PluginConfig, ui


class StdoutOutputConfig(PluginConfig):
    """Prints records to standard output: JSON Lines, CSV, or tables for people."""

    format: Literal["jsonl", "csv", "table"] = "jsonl"
    """`jsonl`: one JSON object per line; `csv`: CSV with one header; `table`: a table per
    batch, for reading in a terminal."""
    max_records: int | None = Field(default=None, ge=0, json_schema_extra=ui(unit="records"))
    """Print at most this many records. Later records are still accepted and counted as
    written, just not printed; a note on standard error says how many were not shown."""


@register_output(
    "stdout",
    config=StdoutOutputConfig,
    family="debug",
    title="Standard output",
    examples=[{"type": "stdout", "format": "table", "max_records": 20}],
)
class StdoutOutput(Output[StdoutOutputConfig]):
    """Prints batches as they come; `flush` flushes standard output."""

    def __init__(self, config: StdoutOutputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._lock = threading.Lock()
        self._printed = 0

    async def write(self, batch: Batch) -> None:
        await asyncio.to_thread(self._write, batch.data)

    def _write(self, data: pa.RecordBatch) -> None:
        with self._lock:
            limit = self.config.max_records
            shown = data if limit is None else data.slice(0, max(0, limit - self._printed))
            if shown.num_rows:
                text = self._render(shown)
                sys.stdout.write(text)
                self._printed += shown.num_rows
                self._stats.bytes_written += len(text.encode("utf-8"))
            self._stats.records_written += data.num_rows
            self._stats.batches_written += 1

    def _render(self, data: pa.RecordBatch) -> str:
        if self.config.format == "jsonl":
            from fustgo.plugins.outputs.files.json import encode_lines

            return encode_lines(data).decode("utf-8")
        if self.config.format == "csv":
            return self._csv(data, header=self._printed == 0)
        return self._table(data)

    def _csv(self, data: pa.RecordBatch, *, header: bool) -> str:
        import pyarrow.csv as pacsv

        sink = pa.BufferOutputStream()
        try:
            pacsv.write_csv(data, sink, pacsv.WriteOptions(include_header=header))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise TerminalError(
                f"`stdout` cannot print these records as CSV ({exc}); use `format: jsonl`."
            ) from exc
        return sink.getvalue().to_pybytes().decode("utf-8")

    def _table(self, data: pa.RecordBatch) -> str:
        from rich.console import Console
        from rich.table import Table

        table = Table(show_lines=False)
        for field in data.schema:
            table.add_column(f"{field.name}\n{field.type}", overflow="fold")
        for row in data.to_pylist():  # for people: a screenful, not a hot path
            table.add_row(*("[dim]NULL[/dim]" if v is None else _escape(v) for v in row.values()))
        console = Console(force_terminal=False, width=_width())
        with console.capture() as capture:
            console.print(table)
        return capture.get()

    async def flush(self) -> None:
        await asyncio.to_thread(sys.stdout.flush)

    async def close(self) -> None:
        hidden = self._stats.records_written - self._printed
        if hidden:
            sys.stderr.write(
                f"stdout: {hidden} of {self._stats.records_written} records were not printed "
                f"(max_records: {self.config.max_records}).\n"
            )
        await self.flush()


def _escape(value: object) -> str:
    from rich.markup import escape

    return escape(str(value))


def _width() -> int:
    import shutil

    return max(80, shutil.get_terminal_size((120, 24)).columns)


class DropOutputConfig(PluginConfig):
    """Accepts and discards every record; for benchmarks and dry runs."""


@register_output(
    "drop",
    config=DropOutputConfig,
    family="debug",
    title="Drop",
    examples=[{"type": "drop"}],
)
class DropOutput(Output[DropOutputConfig]):
    """Counts records and batches (as written) and keeps nothing."""

    async def write(self, batch: Batch) -> None:
        self._stats.records_written += batch.num_rows
        self._stats.batches_written += 1
