"""Batches, splits and checkpoints: what flows between the stages of a pipeline.

A `Batch` is an Arrow `RecordBatch` plus where it came from and a `Checkpoint` saying where
a reader may resume once this batch (and every batch before it in the same split) is durably
written. A `Split` is one independent part of a source (a file, a key range, a partition)
that one channel reads from start to end, in order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

JSONValue = Any  # a value json.dumps accepts; checkpoints and split params must be JSON


@dataclass(frozen=True)
class Split:
    """One independently readable part of a source.

    `params` is whatever the input needs to read it (a path, a key range), JSON-serializable
    so the plan can be saved with the checkpoints and reused verbatim on resume.
    """

    id: str
    params: dict[str, JSONValue] = field(default_factory=dict)
    description: str = ""
    estimated_records: int | None = None
    estimated_bytes: int | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "id": self.id,
            "params": self.params,
            "description": self.description,
            "estimated_records": self.estimated_records,
            "estimated_bytes": self.estimated_bytes,
        }

    @classmethod
    def from_json(cls, data: dict[str, JSONValue]) -> Split:
        return cls(
            id=data["id"],
            params=data.get("params") or {},
            description=data.get("description", ""),
            estimated_records=data.get("estimated_records"),
            estimated_bytes=data.get("estimated_bytes"),
        )


@dataclass(frozen=True)
class Checkpoint:
    """Where reading of one split may resume.

    `position` is input-specific and JSON-serializable (a row offset, the last key, a Kafka
    offset). `records` counts the records of the split read up to this point, so a resumed
    run can report how much it skipped.
    """

    split_id: str
    position: dict[str, JSONValue] = field(default_factory=dict)
    records: int = 0
    split_done: bool = False

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "split_id": self.split_id,
            "position": self.position,
            "records": self.records,
            "split_done": self.split_done,
        }

    @classmethod
    def from_json(cls, data: dict[str, JSONValue]) -> Checkpoint:
        return cls(
            split_id=data["split_id"],
            position=data.get("position") or {},
            records=int(data.get("records", 0)),
            split_done=bool(data.get("split_done", False)),
        )


@dataclass(frozen=True)
class BatchMetadata:
    """Where a batch came from; carried along for logs, lineage and dead letters."""

    source: str = ""
    split_id: str = ""
    created_at: float = field(default_factory=time.time)
    extra: dict[str, JSONValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    """An Arrow record batch with its metadata and resume point."""

    data: pa.RecordBatch
    metadata: BatchMetadata = field(default_factory=BatchMetadata)
    checkpoint: Checkpoint | None = None

    @property
    def num_rows(self) -> int:
        return self.data.num_rows

    @property
    def nbytes(self) -> int:
        return self.data.nbytes

    @property
    def schema(self) -> pa.Schema:
        return self.data.schema

    def with_data(self, data: pa.RecordBatch | pa.Table) -> Batch:
        """The same batch (metadata, checkpoint) carrying new data."""
        return replace(self, data=as_record_batch(data))

    @classmethod
    def of(cls, data: pa.RecordBatch | pa.Table | dict[str, list[Any]], **kwargs: Any) -> Batch:
        """A batch from a record batch, a table or a dict of columns (handy in tests)."""
        if isinstance(data, dict):
            data = pa.RecordBatch.from_pydict(data)
        return cls(data=as_record_batch(data), **kwargs)


def as_record_batch(data: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
    """One record batch from a batch or a table (combining a table's chunks if needed)."""
    if isinstance(data, pa.RecordBatch):
        return data
    batches = data.combine_chunks().to_batches()
    if not batches:
        return pa.RecordBatch.from_pylist([], schema=data.schema)
    return batches[0]
