"""Fingerprint a table by streaming an input: row count, and per column NULLs and a checksum.

A column's checksum is two sums modulo 2^64 over the 64-bit hashes of its normalized values
(`normalize`, `hashing`): sums do not depend on the order of rows, splits or batches, and
each batch is added and dropped, so memory stays flat whatever the table's size. A row
checksum sums one hash per row over all columns, in the order given, so values that moved
between rows (same values per column, different rows) are caught too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pyarrow as pa

from fustgo.engine.errors import ConfigError, TerminalError
from fustgo.plugins.api import Input
from fustgo.runtime.verify.hashing import GOLDEN64, MASK64, fmix64, second_hash, wrapping_sum
from fustgo.runtime.verify.normalize import Kind, kind_of, value_hashes

if TYPE_CHECKING:
    from fustgo.runtime.verify.report import VerifyReport

T = TypeVar("T")


@dataclass(frozen=True)
class ColumnFingerprint:
    """What is known of one column's values, independent of their order."""

    kind: Kind
    """How the values were normalized before hashing (docs/verify.md)."""
    arrow_type: str
    """The column's Arrow type as the input read it (for reports)."""
    nulls: int
    """How many values are NULL."""
    checksum: str
    """Two 64-bit sums of value hashes, as 32 hex digits."""


@dataclass(frozen=True)
class TableFingerprint:
    """Row count, per-column fingerprints (in column order) and a row checksum of a table."""

    rows: int
    columns: dict[str, ColumnFingerprint]
    row_checksum: str
    """Sum of one hash per row over all columns in order; comparable when the columns line up."""
    rejected: int = 0
    """Records the input could not read (sent to its dead letter); not in any checksum."""

    def compare(
        self, other: TableFingerprint, *, column_map: Mapping[str, str] | None = None
    ) -> VerifyReport:
        """Compare this (the source) with `other` (the target), columns matched by name.

        `column_map` maps source column names to target names where they were renamed.
        """
        from fustgo.runtime.verify.report import compare_fingerprints

        return compare_fingerprints(self, other, column_map=column_map or {})


@dataclass
class _Sums:
    """Running sums of one input (or one batch): combined by adding modulo 2^64."""

    rows: int = 0
    rejected: int = 0
    nulls: list[int] = field(default_factory=list)
    first: list[int] = field(default_factory=list)
    second: list[int] = field(default_factory=list)
    row_first: int = 0
    row_second: int = 0

    def add(self, other: _Sums) -> None:
        self.pad(len(other.first))
        self.rows += other.rows
        self.rejected += other.rejected
        for index in range(len(other.first)):
            self.nulls[index] += other.nulls[index]
            self.first[index] = (self.first[index] + other.first[index]) & MASK64
            self.second[index] = (self.second[index] + other.second[index]) & MASK64
        self.row_first = (self.row_first + other.row_first) & MASK64
        self.row_second = (self.row_second + other.row_second) & MASK64

    def pad(self, columns: int) -> None:
        """Zero sums for columns not seen yet (before the first batch)."""
        for values in (self.nulls, self.first, self.second):
            values.extend([0] * (columns - len(values)))


def _column_key(position: int) -> np.uint64:
    key = fmix64(np.array([position + 1], dtype=np.uint64) * GOLDEN64)
    return key[0]


def _hash_batch(
    data: pa.RecordBatch, columns: Sequence[str], kinds: Sequence[Kind | None]
) -> _Sums:
    """The sums of one batch; `kinds[i]` is None while column i has been all NULL so far."""
    rows = np.zeros(data.num_rows, dtype=np.uint64)
    sums = _Sums(rows=data.num_rows)
    for position, (name, kind) in enumerate(zip(columns, kinds, strict=True)):
        index = data.schema.get_field_index(name)
        if index < 0:
            raise TerminalError(
                f"Column `{name}` is missing from a batch of the input (its columns changed "
                "while it was read); verify the columns every batch has with `columns`."
            )
        array = data.column(index)
        try:
            hashes = value_hashes(array, kind or "null")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError) as exc:
            raise TerminalError(
                f"Column `{name}` ({array.type}) cannot be compared as {kind}: {exc}; "
                "leave it out with `columns`."
            ) from exc
        sums.nulls.append(array.null_count)
        sums.first.append(wrapping_sum(hashes))
        sums.second.append(wrapping_sum(second_hash(hashes)))
        rows += fmix64(hashes ^ _column_key(position))
    row_hashes = fmix64(rows)
    sums.row_first = wrapping_sum(row_hashes)
    sums.row_second = wrapping_sum(second_hash(row_hashes))
    return sums


class _Plan:
    """Which columns are hashed as which kind; kinds are fixed by the schema or first values."""

    def __init__(
        self, columns: Sequence[str] | None, kinds: Mapping[str, Kind], schema: pa.Schema | None
    ) -> None:
        self.overrides = dict(kinds)
        self.columns: list[str] | None = None
        self.kinds: list[Kind | None] = []
        self.types: list[str] = []
        if columns is not None:
            self._fix_columns(columns)
        if schema is not None:
            self.learn(schema)

    def _fix_columns(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self.kinds = [self.overrides.get(name) for name in self.columns]
        self.types = ["null"] * len(self.columns)

    def learn(self, schema: pa.Schema) -> None:
        """Fix the columns (if not given) and the kinds of columns seen with a real type."""
        if self.columns is None:
            self._fix_columns(schema.names)
        assert self.columns is not None
        for position, name in enumerate(self.columns):
            if self.types[position] != "null":
                continue
            index = schema.get_field_index(name)
            if index < 0:
                raise ConfigError(
                    f"Column `{name}` is not in the input; its columns are "
                    f"{', '.join(f'`{n}`' for n in schema.names) or 'none'}."
                )
            column = schema.field(index)
            if pa.types.is_null(column.type):
                continue  # all NULL so far: the kind waits for a real type
            kind = self.kinds[position] or kind_of(column.type, column.metadata)
            if kind is None:
                raise TerminalError(
                    f"Column `{name}` has the type {column.type}, which cannot be "
                    "fingerprinted; leave it out with `columns`."
                )
            self.kinds[position], self.types[position] = kind, str(column.type)


async def table_fingerprint(
    source: Input[Any],
    *,
    columns: list[str] | None = None,
    parallelism: int = 2,
    kinds: Mapping[str, Kind] | None = None,
) -> TableFingerprint:
    """Fingerprint every split of an opened input, `parallelism` splits at a time.

    `columns` limits and orders the columns (default: all, in the input's order); `kinds`
    forces how named columns are normalized (`verify` sets it so that both sides agree).
    Batches are hashed in worker threads and dropped, so memory does not grow with the table.
    """
    plan = _Plan(columns, kinds or {}, source.schema())
    splits = await source.splits(max(1, parallelism))
    pending = list(reversed(splits))
    total = _Sums()

    async def worker() -> None:
        while pending:
            split = pending.pop()
            async for batch in source.read(split, None):
                plan.learn(batch.data.schema)
                assert plan.columns is not None
                sums = await asyncio.to_thread(
                    _hash_batch, batch.data, plan.columns, list(plan.kinds)
                )
                sums.rejected = _rejected_rows(source)
                total.add(sums)

    await run_together([worker() for _ in range(max(1, min(parallelism, len(splits))))])
    total.rejected += _rejected_rows(source)
    names = plan.columns or []
    total.pad(len(names))
    return TableFingerprint(
        rows=total.rows,
        columns={
            name: ColumnFingerprint(
                kind=plan.kinds[i] or "null",
                arrow_type=plan.types[i],
                nulls=total.nulls[i],
                checksum=f"{total.first[i]:016x}{total.second[i]:016x}",
            )
            for i, name in enumerate(names)
        },
        row_checksum=f"{total.row_first:016x}{total.row_second:016x}",
        rejected=total.rejected,
    )


async def run_together(coroutines: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Run concurrently; the first failure cancels the others and is raised as itself.

    (A `TaskGroup` alone would raise an `ExceptionGroup`, which callers that catch
    `FustgoError` would miss.)
    """
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coroutine) for coroutine in coroutines]
    except ExceptionGroup as failed:
        first = failed.exceptions[0]
        raise first from first.__cause__  # its own cause, not the group, is what explains it
    return [task.result() for task in tasks]


def _rejected_rows(source: Input[Any]) -> int:
    """Records the input dead-lettered since the last call (they are in no checksum)."""
    return sum(item.records.num_rows for item in source.take_rejected())
