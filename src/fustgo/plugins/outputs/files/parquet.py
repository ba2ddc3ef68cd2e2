"""Parquet output: Arrow's Parquet writer, row groups of `row_group_size` rows.

A Parquet file is readable only once its footer is written, so a part is durable only when
it is finished: at rotation or at `close`. `flush` cannot make rows durable, so the output
declares `durable_flush = False`: the runner saves no mid-run checkpoint for it, and an
interrupted run starts over (a resumed one would start a new part, never overwriting
finished files).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field

from fustgo.engine.errors import TerminalError
from fustgo.plugins.outputs.files.base import FileOutput, FileOutputConfig, PartWriter
from fustgo.plugins.registry import register_output
from fustgo.plugins.spec import ui


class ParquetOutputConfig(FileOutputConfig):
    """Writes Parquet files, rotated by records or bytes; a file is durable once finished."""

    compression: Literal["snappy", "zstd", "gzip", "none"] = "snappy"
    """Codec of the column chunks."""
    row_group_size: int = Field(default=131_072, ge=1, json_schema_extra=ui(unit="rows"))
    """Rows per row group; rows are held in memory until a group is full."""


@register_output(
    "parquet",
    config=ParquetOutputConfig,
    family="file",
    title="Parquet files",
    examples=[
        {
            "type": "parquet",
            "path": "warehouse/orders/{date}/part-{part}.parquet",
            "compression": "zstd",
            "rotate": {"max_records": 5000000},
        }
    ],
)
class ParquetOutput(FileOutput[ParquetOutputConfig]):
    """Parquet files; the schema is fixed at `open` and later batches are cast to it."""

    durable_flush = False

    def _new_writer(self, temporary: Path, resume_at: int | None) -> PartWriter:
        assert self._schema is not None
        return _ParquetPartWriter(temporary, self._schema, self.config)


class _ParquetPartWriter:
    def __init__(self, temporary: Path, schema: pa.Schema, config: ParquetOutputConfig) -> None:
        import pyarrow.parquet as pq

        self._path = temporary
        self._row_group_size = config.row_group_size
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._rows_on_disk = 0
        try:
            self._file = temporary.open("wb")
            compression = None if config.compression == "none" else config.compression
            self._writer: Any = pq.ParquetWriter(self._file, schema, compression=compression)
        except OSError as exc:
            raise TerminalError(f"Cannot write `{temporary}`: {exc}.") from exc

    @property
    def size(self) -> int:
        """Bytes on disk, plus the buffered rows at the size rows have taken on disk so far."""
        on_disk = self._file.tell()
        if not self._pending_rows:
            return on_disk
        if self._rows_on_disk:
            return on_disk + self._pending_rows * on_disk // self._rows_on_disk
        return on_disk + sum(batch.nbytes for batch in self._pending)

    def write(self, batch: pa.RecordBatch) -> None:
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        if self._pending_rows >= self._row_group_size:
            self._write_groups(full_only=True)

    def _write_groups(self, *, full_only: bool) -> None:
        table = pa.Table.from_batches(self._pending)
        rows = table.num_rows
        if full_only:
            rows -= rows % self._row_group_size
        try:
            self._writer.write_table(table.slice(0, rows), row_group_size=self._row_group_size)
        except OSError as exc:
            raise TerminalError(f"Cannot write `{self._path}`: {exc}.") from exc
        rest = table.slice(rows)
        self._pending = rest.combine_chunks().to_batches() if rest.num_rows else []
        self._pending_rows = rest.num_rows
        self._rows_on_disk += rows

    def sync(self) -> None:
        """Never called: a Parquet part is durable only once finished (see the module doc)."""

    def close(self) -> None:
        try:
            if self._pending_rows:
                self._write_groups(full_only=False)
            self._writer.close()
            self._file.flush()
            os.fsync(self._file.fileno())
        finally:
            self._file.close()
