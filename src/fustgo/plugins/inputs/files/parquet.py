"""Parquet input: row groups streamed as batches, with column projection.

The schema is the first file's (projected by `columns`); other files are cast to it by
column name, and a file that cannot be is an error naming the file and the columns.
When there are fewer files than channels, a file with several row groups is cut into
contiguous row-group ranges of about equal rows, so one big file is read in parallel.
Resuming skips whole row groups by their metadata, then the rest of one group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import Field

from fustgo.engine.batch import Split
from fustgo.engine.errors import ConfigError, TerminalError
from fustgo.plugins.inputs.files.base import FileInput, FileInputConfig, Piece
from fustgo.plugins.registry import register_input


class ParquetInputConfig(FileInputConfig):
    """Reads Parquet files, optionally only some columns."""

    columns: list[str] | None = Field(default=None, min_length=1)
    """Columns to read (projection); all when unset. Nested fields can be named by their
    top-level column."""


@register_input(
    "parquet",
    config=ParquetInputConfig,
    family="file",
    title="Parquet files",
    capabilities={"split", "resume"},
    examples=[
        {"type": "parquet", "paths": ["warehouse/orders/*.parquet"], "columns": ["id", "amount"]}
    ],
)
class ParquetInput(FileInput[ParquetInputConfig]):
    """One split per file, or per row-group range of big files; counts from the metadata."""

    async def splits(self, parallelism: int) -> list[Split]:
        whole = await super().splits(parallelism)
        if not whole or len(whole) >= parallelism:
            return whole
        pieces_per_file = -(-parallelism // len(whole))
        cut = await asyncio.to_thread(
            lambda: [part for split in whole for part in self._cut(split, pieces_per_file)]
        )
        self._splits = cut
        return list(cut)

    def _cut(self, split: Split, pieces: int) -> list[Split]:
        """`split` as up to `pieces` contiguous row-group ranges of about equal rows."""
        metadata = self._open(Path(split.params["path"])).metadata
        rows = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
        ranges = row_group_ranges(rows, pieces)
        if len(ranges) <= 1:
            return [split]
        return [
            replace(
                split,
                id=f"{split.id}#row-groups-{low}-{high - 1}",
                params={**split.params, "row_groups": [low, high]},
                description=f"{split.description}, row groups {low}–{high - 1}",
                estimated_records=sum(rows[low:high]),
                estimated_bytes=None,
            )
            for low, high in ranges
        ]

    def _discover_schema(self, files: list[Path]) -> pa.Schema | None:
        path = files[0]
        schema = self._open(path).schema_arrow
        wanted = self.config.columns
        if wanted is None:
            return schema
        missing = [name for name in wanted if name not in schema.names]
        if missing:
            raise ConfigError(
                f"`input.columns` names {', '.join(f'`{n}`' for n in missing)}, not a column "
                f"of `{path}` (its columns: {', '.join(schema.names)})."
            )
        return pa.schema([schema.field(name) for name in wanted])

    def _open(self, path: Path) -> Any:
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise TerminalError(f"Cannot read Parquet file `{path}`: {exc}.") from exc

    def _count_records(self, path: Path) -> int | None:
        return int(self._open(path).metadata.num_rows)

    def _pieces(self, split: Split, skip: int) -> tuple[int, Iterator[Piece]]:
        path = Path(split.params["path"])
        parquet = self._open(path)
        metadata = parquet.metadata
        first_group, end_group = split.params.get("row_groups", [0, metadata.num_row_groups])
        start = 0
        while first_group < end_group and start + metadata.row_group(first_group).num_rows <= skip:
            start += metadata.row_group(first_group).num_rows
            first_group += 1
        return start, self._read_groups(parquet, path, range(first_group, end_group))

    def _read_groups(self, parquet: Any, path: Path, row_groups: range) -> Iterator[Piece]:
        assert self._schema is not None
        schema = self._schema
        groups = list(row_groups)
        try:
            _check_columns(parquet.schema_arrow, schema, path)
            if not groups:
                return
            for batch in parquet.iter_batches(
                batch_size=self.context.batch_size, row_groups=groups, columns=schema.names
            ):
                yield batch if batch.schema == schema else _conform(batch, schema, path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise TerminalError(f"Cannot read Parquet file `{path}`: {exc}.") from exc
        finally:
            parquet.close()


def row_group_ranges(rows: list[int], pieces: int) -> list[tuple[int, int]]:
    """Cut row groups (their row counts) into at most `pieces` contiguous `[low, high)`
    ranges of about equal rows; every group is in exactly one range."""
    if not rows:
        return []
    pieces = max(1, min(pieces, len(rows)))
    total = sum(rows)
    ranges, low, done = [], 0, 0
    for index, count in enumerate(rows):
        done += count
        pieces_left = pieces - len(ranges) - 1  # pieces still to start after this one
        groups_left = len(rows) - index - 1
        balanced = done >= total * (len(ranges) + 1) / pieces
        if pieces_left and ((balanced and groups_left >= pieces_left) or groups_left < pieces_left):
            ranges.append((low, index + 1))
            low = index + 1
    if low < len(rows):
        ranges.append((low, len(rows)))
    return ranges


def _check_columns(found: pa.Schema, schema: pa.Schema, path: Path) -> None:
    missing = [name for name in schema.names if name not in found.names]
    if missing:
        raise TerminalError(
            f"Parquet file `{path}` lacks column(s) {', '.join(f'`{n}`' for n in missing)} of "
            "the first file; read files with different columns in separate pipelines."
        )


def _conform(batch: pa.RecordBatch, schema: pa.Schema, path: Path) -> pa.RecordBatch:
    """A batch of another file cast to the first file's schema, or a clear error."""
    try:
        return batch.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise TerminalError(
            f"Parquet file `{path}` has columns whose types differ from the first file's and "
            f"cannot be converted ({exc}); read it in a separate pipeline."
        ) from exc
