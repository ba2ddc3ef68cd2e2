"""What every file output shares: parts, rotation, temporary names, resume, statistics.

An output writes *parts*. Each is written under a hidden temporary name beside its final
name (`.orders-00003.csv.tmp`) and renamed into place when finished (by rotation or at
`close`), so readers never see half a file.

Durability (`flush`): appendable formats (CSV, JSON Lines) sync the part and durably note
its flushed size beside it. Other formats (Parquet, JSON arrays) are readable only once
finished, so their `flush` makes nothing durable: they set `durable_flush = False` and the
runner saves no mid-run checkpoint for them (an interrupted run starts over).

Resuming an interrupted run (`context.resume`): appendable formats cut the interrupted part
back to its flushed size and append to it (a finished single file is reopened the same
way, without a second header); other formats delete the interrupted part and start a new
part after the highest finished one, never overwriting finished files.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import pyarrow as pa
from pydantic import Field

from fustgo.engine.batch import Batch
from fustgo.engine.errors import DataError, TerminalError
from fustgo.plugins.api import Output, PluginContext
from fustgo.plugins.clients.files import (
    Compression,
    PartNaming,
    Rotation,
    check_writable_folder,
    finish_file,
    flushed_size_path,
    read_flushed_size,
    record_flushed_size,
    temporary_path,
)
from fustgo.plugins.spec import PluginConfig, ui


class FileOutputConfig(PluginConfig):
    """Options every file output has."""

    path: str = Field(min_length=1, json_schema_extra=ui(placeholder="out/orders-{part}.csv"))
    """File to write, relative to the pipeline file's folder. May contain `{part}` (the part
    number, `00000`) and `{date}` (UTC date the part was started, `2024-05-31`); folders are
    created. With rotation and no `{part}`, `-{part}` goes before the extension."""
    rotate: Rotation = Rotation()
    """When to start a new file; by default everything goes to one file."""


class TextFileOutputConfig(FileOutputConfig):
    """Options of the text formats, which may be compressed."""

    compression: Compression = "auto"
    """`auto` compresses `.gz` paths with gzip and `.zst`/`.zstd` paths with zstd."""
    compression_level: int | None = Field(
        default=None, ge=1, le=22, json_schema_extra=ui(advanced=True)
    )
    """Higher compresses smaller and slower: gzip 1–9 (default 6), zstd 1–22 (default 1)."""


class PartWriter(Protocol):
    """Writes one part (a temporary file) in one format."""

    @property
    def size(self) -> int:
        """Bytes of the part on disk (estimated for rows a format still buffers)."""
        ...

    def write(self, encoded: Any) -> None:
        """Append a batch encoded by the output's `_encode`: all of it or, on error, nothing."""

    def sync(self) -> None:
        """Make what was written durable (called for appendable formats only)."""

    def close(self) -> None:
        """Finish the content (header of an empty file, footer, closing bracket), sync, close."""


@dataclass
class _Part:
    number: int
    final: Path
    temporary: Path
    writer: PartWriter
    records: int = 0


ConfigT = TypeVar("ConfigT", bound=FileOutputConfig)


class FileOutput(Output[ConfigT], Generic[ConfigT]):
    """Base of the csv, json and parquet outputs."""

    appendable: bool = False
    """Whether a part can be cut back to a flushed size and continued (and `flush` syncs)."""

    def __init__(self, config: ConfigT, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._lock = threading.Lock()
        self._naming = PartNaming.for_output(self.context.resolve_path(config.path), config.rotate)
        self._schema: pa.Schema | None = None
        self._part: _Part | None = None
        self._next_part = 0
        self._finished_bytes = 0

    # Format hooks.

    def _check_schema(self, schema: pa.Schema) -> pa.Schema:
        """The schema to write, or a `TerminalError` naming columns the format cannot hold."""
        return schema

    def _new_writer(self, temporary: Path, resume_at: int | None) -> PartWriter:
        """A writer of a new part, or of an interrupted one continued after `resume_at` bytes."""
        raise NotImplementedError

    def _encode(self, data: pa.RecordBatch, *, at_start: bool) -> Any:
        """A batch ready for `PartWriter.write` (`at_start`: first content of its file).

        Every slice of a batch is encoded before any is written, so a batch whose values the
        format cannot hold raises (`DataError`) with nothing written.
        """
        return data

    # The contract.

    async def open(self, schema: pa.Schema) -> None:
        await asyncio.to_thread(self._open, schema)

    async def write(self, batch: Batch) -> None:
        await asyncio.to_thread(self._write, batch.data)

    async def flush(self) -> None:
        """Durability point for appendable formats; nothing for the others (see the module)."""
        await asyncio.to_thread(self._flush)

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    async def check_connection(self) -> None:
        check_writable_folder(self._naming.path(0).parent)

    # Blocking implementations, run in a worker thread.

    def _open(self, schema: pa.Schema) -> None:
        with self._lock:
            self._schema = self._check_schema(schema) if len(schema) else None
            if self.context.resume:
                self._resume()

    def _resume(self) -> None:
        in_progress = self._naming.existing(temporary=True)
        finished = self._naming.existing()
        if self.appendable and in_progress:
            temporary, number = max(in_progress.items(), key=lambda item: item[1])
            final = temporary.with_name(temporary.name[1 : -len(".tmp")])
            size, records = read_flushed_size(temporary)
            self._continue(number, final, temporary, size, records)
            return
        if self.appendable and finished and not self.config.rotate.enabled:
            final, number = max(finished.items(), key=lambda item: item[1])
            temporary = temporary_path(final)
            size = final.stat().st_size
            record_flushed_size(temporary, size, 0)  # noted before the move: never a gap
            final.replace(temporary)
            self._continue(number, final, temporary, size, 0)
            return
        for temporary in in_progress:
            temporary.unlink(missing_ok=True)
            flushed_size_path(temporary).unlink(missing_ok=True)
        self._next_part = max(finished.values(), default=-1) + 1

    def _continue(self, number: int, final: Path, temporary: Path, size: int, records: int) -> None:
        writer = self._new_writer(temporary, size)
        self._part = _Part(number, final, temporary, writer, records)
        self._next_part = number + 1

    def _write(self, data: pa.RecordBatch) -> None:
        with self._lock:
            if self._schema is None:
                self._schema = self._check_schema(data.schema)
            data = conform(data, self._schema, self.context.component_path or "output")
            for starts_part, encoded, rows in self._plan(data):
                if starts_part:
                    self._finish_part()
                    self._start_part()
                assert self._part is not None
                self._part.writer.write(encoded)
                self._part.records += rows
            if self._part is not None and self._is_full(self._part):
                self._finish_part()
            self._stats.records_written += data.num_rows
            self._stats.batches_written += 1
            self._update_bytes()

    def _plan(self, data: pa.RecordBatch) -> list[tuple[bool, Any, int]]:
        """The batch cut at `max_records` boundaries: (starts a part, encoded slice, rows)."""
        max_records = self.config.rotate.max_records
        part = self._part
        records = part.records if part else None  # None: the next slice starts a part
        at_start = part is None or part.writer.size == 0
        plan: list[tuple[bool, Any, int]] = []
        offset = 0
        while offset < data.num_rows:
            starts_part = records is None or (max_records is not None and records >= max_records)
            if starts_part:
                records, at_start = 0, True
            assert records is not None
            rows = data.num_rows - offset
            if max_records is not None:
                rows = min(rows, max_records - records)
            plan.append(
                (starts_part, self._encode(data.slice(offset, rows), at_start=at_start), rows)
            )
            records += rows
            offset += rows
            at_start = False
        return plan

    def _is_full(self, part: _Part) -> bool:
        rotate = self.config.rotate
        return (rotate.max_records is not None and part.records >= rotate.max_records) or (
            rotate.max_bytes is not None and part.writer.size >= rotate.max_bytes
        )

    def _start_part(self) -> _Part:
        number = self._next_part
        self._next_part += 1
        final = self._naming.path(number)
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = temporary_path(final)
        flushed_size_path(temporary).unlink(missing_ok=True)
        self._part = _Part(number, final, temporary, self._new_writer(temporary, None))
        return self._part

    def _finish_part(self) -> None:
        part = self._part
        if part is None:
            return
        self._part = None
        part.writer.close()
        finish_file(part.temporary, part.final)
        self._finished_bytes += final_size(part.final)
        self._stats.files_written += 1
        self._update_bytes()

    def _flush(self) -> None:
        with self._lock:
            part = self._part
            if part is not None and self.appendable:
                part.writer.sync()
                record_flushed_size(part.temporary, part.writer.size, part.records)

    def _close(self) -> None:
        with self._lock:
            if self._part is None and self._stats.files_written == 0 and not self.context.resume:
                if self._schema is None:
                    return
                self._start_part()  # an empty input still yields a (header-only) file
            self._finish_part()

    def _update_bytes(self) -> None:
        current = self._part.writer.size if self._part else 0
        self._stats.bytes_written = self._finished_bytes + current


def is_binary(typ: pa.DataType) -> bool:
    """Whether values of `typ` are raw bytes (which text formats cannot hold as is)."""
    return (
        pa.types.is_binary(typ)
        or pa.types.is_large_binary(typ)
        or pa.types.is_fixed_size_binary(typ)
        or pa.types.is_binary_view(typ)
    )


def final_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def conform(data: pa.RecordBatch, schema: pa.Schema, where: str) -> pa.RecordBatch:
    """A batch in the output's schema: columns matched by name, cast when types differ.

    Columns the schema lacks, or types that cannot be converted at all, stop the run
    (`TerminalError`); values that do not convert (an overflow) are a `DataError`, so the
    runner isolates the records that hold them.
    """
    if data.schema.equals(schema, check_metadata=False):
        return (
            data if data.schema.equals(schema, check_metadata=True) else _with_schema(data, schema)
        )
    names = set(schema.names)
    extra = [name for name in data.schema.names if name not in names]
    if extra:
        raise TerminalError(
            f"`{where}` got column(s) {', '.join(f'`{n}`' for n in extra)} that its files do "
            f"not have (columns: {', '.join(schema.names)}); remove them with a processor."
        )
    arrays: list[pa.Array] = []
    for field in schema:
        if field.name not in data.schema.names:
            arrays.append(pa.nulls(data.num_rows, field.type))
            continue
        column = data.column(field.name)
        if column.type != field.type:
            try:
                column = column.cast(field.type)
            except pa.ArrowNotImplementedError as exc:
                raise TerminalError(
                    f"`{where}`: column `{field.name}` changed type from {field.type} to "
                    f"{column.type}, which cannot be converted; cast it with a processor."
                ) from exc
            except pa.ArrowInvalid as exc:
                raise DataError(
                    f"`{where}`: column `{field.name}` has values that do not fit "
                    f"{field.type}: {exc}"
                ) from exc
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _with_schema(data: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(data.columns, schema=schema)
