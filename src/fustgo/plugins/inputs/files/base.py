"""What every file input shares: one split per file, even batches, resume by record count.

A format reads a file as a stream of *pieces*: record batches of good rows and single
rejected records, in file order. `assemble` turns pieces into batches of about `batch_size`
rows and counts records (good and rejected) so that a checkpoint `{"rows": N}` means "the
first N records of this file are done"; resuming skips exactly those, without reporting the
rejected ones among them a second time.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pyarrow as pa
from pydantic import Field

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint, Split
from fustgo.engine.units import ByteSize
from fustgo.plugins.api import Input, PluginContext, Progress
from fustgo.plugins.clients.files import (
    Compression,
    check_readable,
    display_path,
    expand_paths,
)
from fustgo.plugins.spec import PluginConfig, ui

PATHS_OPTION = "input.paths"


class FileInputConfig(PluginConfig):
    """Options every file input has."""

    paths: list[str] = Field(min_length=1, json_schema_extra=ui(placeholder="data/*.csv"))
    """Files to read: paths or globs (`data/*.csv`, `logs/**/*.json.gz`), relative to the
    pipeline file's folder. Each file is one split; a pattern matching nothing is an error."""


class CompressedFileInputConfig(FileInputConfig):
    """Options of the text formats, which may be compressed."""

    compression: Compression = "auto"
    """`auto` decompresses `.gz` as gzip and `.zst`/`.zstd` as zstd; others are read as is."""
    block_size: ByteSize = Field(
        default=1 << 20, ge=4096, json_schema_extra=ui(advanced=True, unit="bytes")
    )
    """Bytes parsed at a time; the first block is the sample types are inferred from."""


ConfigT = TypeVar("ConfigT", bound=FileInputConfig)


@dataclass(frozen=True)
class RejectedRecord:
    """One record of a file that cannot become a row; it goes to the dead-letter output."""

    columns: dict[str, Any]
    """The dead-letter row: the raw text and where it was (`_raw`, `_file`, `_line`)."""
    error: str


Piece = pa.RecordBatch | RejectedRecord


class FileInput(Input[ConfigT], Generic[ConfigT]):
    """Base of the csv, json and parquet inputs: files, splits, progress, the read loop."""

    def __init__(self, config: ConfigT, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._files: list[Path] = []
        self._schema: pa.Schema | None = None
        self._splits: list[Split] = []

    async def open(self) -> None:
        self._files = await asyncio.to_thread(
            expand_paths, self.config.paths, self.context, option=PATHS_OPTION
        )
        self._schema = await asyncio.to_thread(self._discover_schema, self._files)

    async def splits(self, parallelism: int) -> list[Split]:
        """One split per file: files are read whole, in order, so rows never overlap."""
        self._splits = await asyncio.to_thread(lambda: [self._split_for(p) for p in self._files])
        return list(self._splits)

    def _split_for(self, path: Path) -> Split:
        name = display_path(path, self.context)
        return Split(
            id=name,
            params={"path": str(path)},
            description=f"file {name}",
            estimated_records=self._count_records(path),
            estimated_bytes=path.stat().st_size,
        )

    def progress(self) -> Progress:
        records = [s.estimated_records for s in self._splits]
        known = all(r is not None for r in records)
        return Progress(
            records_total=sum(r or 0 for r in records) if known and records else None,
            bytes_total=sum(s.estimated_bytes or 0 for s in self._splits),
        )

    def schema(self) -> pa.Schema | None:
        """The schema every batch will have; known after `open`."""
        return self._schema

    async def check_connection(self) -> None:
        files = await asyncio.to_thread(
            expand_paths, self.config.paths, self.context, option=PATHS_OPTION
        )
        for path in files:
            check_readable(path)

    async def read(self, split: Split, checkpoint: Checkpoint | None) -> AsyncIterator[Batch]:
        skip = int(checkpoint.position.get("rows", 0)) if checkpoint else 0
        batches = self._batches(split, skip)
        # A cancelled `to_thread` leaves its thread running: the file generator may be closed
        # only once that step is over, hence the lock around each step and the close.
        busy = threading.Lock()

        def step() -> tuple[pa.RecordBatch, int] | None:
            with busy:
                return next(batches, None)

        def finish() -> None:
            with busy:
                batches.close()

        try:
            while True:
                item = await asyncio.to_thread(step)
                if item is None:
                    return
                data, rows = item
                yield Batch(
                    data=data,
                    metadata=BatchMetadata(source=self.info.name, split_id=split.id),
                    checkpoint=Checkpoint(split_id=split.id, position={"rows": rows}, records=rows),
                )
        finally:
            await asyncio.to_thread(finish)

    def _batches(self, split: Split, skip: int) -> Iterator[tuple[pa.RecordBatch, int]]:
        """Batches of one split after its first `skip` records, with the records done after each."""
        path = Path(split.params["path"])
        start, pieces = self._pieces(split, skip)
        try:
            for batch, end in assemble(
                pieces, start=start, skip=skip, batch_size=self.context.batch_size,
                report=self._report,
            ):  # fmt: skip
                converted = self._finish_batch(batch, end - batch.num_rows, path)
                if converted.num_rows:
                    yield converted, end
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()

    def _report(self, rejected: RejectedRecord) -> None:
        self.reject(pa.RecordBatch.from_pylist([rejected.columns]), rejected.error)

    # Hooks of the formats.

    def _discover_schema(self, files: list[Path]) -> pa.Schema | None:
        """The schema of the batches, from the first file(s), cheaply."""
        raise NotImplementedError

    def _pieces(self, split: Split, skip: int) -> tuple[int, Iterator[Piece]]:
        """The pieces of a split (`params["path"]` is its file) and the record index of the
        first one (> 0 if it skipped)."""
        raise NotImplementedError

    def _finish_batch(self, batch: pa.RecordBatch, first_record: int, path: Path) -> pa.RecordBatch:
        """Last step before a batch leaves (type conversion, for CSV); rejects bad rows."""
        return batch

    def _count_records(self, path: Path) -> int | None:
        """Records in a file when known without reading it (parquet metadata), or estimated."""
        return None


def estimate_lines(path: Path, sample_bytes: int = 1 << 16) -> int | None:
    """Lines of an uncompressed text file, estimated from the line length of its start.

    For the progress bar's percentage only (it never limits reading); None for compressed
    files, whose size says little about their lines.
    """
    if path.suffix.lower() in (".gz", ".zst", ".zstd"):
        return None
    size = path.stat().st_size
    with path.open("rb") as handle:
        sample = handle.read(sample_bytes)
    lines = sample.count(b"\n")
    if not sample or not lines:
        return None
    if len(sample) == size:
        return lines + (0 if sample.endswith(b"\n") else 1)
    return round(lines * size / len(sample))


def assemble(
    pieces: Iterator[Piece],
    *,
    start: int,
    skip: int,
    batch_size: int,
    report: Callable[[RejectedRecord], None],
) -> Iterator[tuple[pa.RecordBatch, int]]:
    """Batches of `batch_size` rows from pieces, each with the records done after it.

    Records before `skip` are dropped (rejected ones among them are not reported again).
    Batches of pieces that already have the right size pass through without a copy.
    """
    index = start
    pending: list[tuple[pa.RecordBatch, int]] = []  # (rows, record index after them)
    pending_rows = 0
    for piece in pieces:
        if isinstance(piece, RejectedRecord):
            if index >= skip:
                report(piece)
            index += 1
            continue
        rows = piece.num_rows
        if rows == 0 or index + rows <= skip:
            index += rows
            continue
        kept = piece if index >= skip else piece.slice(skip - index)
        index += rows
        pending.append((kept, index))
        pending_rows += kept.num_rows
        while pending_rows >= batch_size:
            yield _take(pending, batch_size)
            pending_rows -= batch_size
    if pending_rows:
        yield _take(pending, pending_rows)


def _take(pending: list[tuple[pa.RecordBatch, int]], rows: int) -> tuple[pa.RecordBatch, int]:
    """Remove the first `rows` rows from `pending`; one batch and the record index after it."""
    parts: list[pa.RecordBatch] = []
    end = 0
    while rows:
        batch, batch_end = pending[0]
        if batch.num_rows <= rows:
            parts.append(batch)
            pending.pop(0)
            rows -= batch.num_rows
            end = batch_end
        else:
            parts.append(batch.slice(0, rows))
            pending[0] = (batch.slice(rows), batch_end)
            end = batch_end - (batch.num_rows - rows)
            rows = 0
    return (parts[0] if len(parts) == 1 else pa.concat_batches(parts)), end
