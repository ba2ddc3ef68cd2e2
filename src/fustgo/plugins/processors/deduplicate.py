"""deduplicate: drop records whose key was already seen, in bounded memory.

Keys are the values of `key_fields`, compared like SQL's DISTINCT (two NULLs are equal).
Each key is stored as a 64-bit hash of its values (Polars `hash_rows`), in an open-addressing
hash table of two NumPy arrays (hash, time kept), probed for the whole batch at once: about
16 bytes per slot, at most 70 % full, so 25–45 bytes per key (10,000,000 keys ≈ 250–450 MB).

Two different keys with the same hash would make the second look like a duplicate. With `n`
keys held the chance of any such collision is about n² / 2⁶⁵: one in 370,000 for 10 million
keys, one in 37 billion for 100,000. Deduplication in FustGo is as exact as that.

- `keep: first` (default, for streams): the first record of a key goes on, later ones are
  dropped and counted as filtered. With `time_window`, a key is forgotten that long after
  the record that was kept (processing time); its next record goes on and starts a new
  window. Past `max_keys` keys, the keys kept longest ago are forgotten (10 % at a time, a
  warning is logged once): memory stays bounded and a very old key may pass again — the
  trade every cache-based deduplicator makes (Benthos, Vector). Spilling to disk would make
  every batch wait on random disk reads; size `max_keys` (or `time_window`) to the key space.
- `keep: last` (bounded inputs only): the processor holds the latest record of each key and
  emits them all when the input ends, in the order their last copies arrived. It holds
  whole records, so more than `max_keys` distinct keys stops the run instead of guessing.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Literal, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch, BatchMetadata
from fustgo.engine.errors import TerminalError
from fustgo.engine.units import Duration
from fustgo.plugins.api import PluginContext, Processor
from fustgo.plugins.processors.frames import require_fields, to_frame
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import numpy as np

MAX_LOAD = 0.7
"""Fill ratio of the key table that triggers growing it (linear probing stays short)."""
MIN_SLOTS = 1 << 16
EVICT_FRACTION = 0.1
"""Share of `max_keys` forgotten at once when full, so the table is not rebuilt per batch."""
_KEY = "__fustgo_key"


class DeduplicateConfig(PluginConfig):
    """Drops records whose key fields repeat a record already seen."""

    key_fields: list[str] = Field(min_length=1)
    """Fields that together identify a record, e.g. `[order_id]`; NULLs are equal to NULLs."""
    keep: Literal["first", "last"] = "first"
    """`first` passes the first record of each key at once and drops the later ones;
    `last` holds the latest record of each key and emits them when the input ends (bounded
    inputs only)."""
    time_window: Duration | None = None
    """Forget a key this long (`10m`, `24h`) after the record that was kept, so the next
    record with that key passes again; processing time. Keys never expire when unset."""
    max_keys: int = Field(default=10_000_000, ge=1, json_schema_extra=ui(advanced=True))
    """Most keys held (about 25–45 bytes each). `first`: past it, the keys kept longest ago
    are forgotten. `last`: past it, the run stops."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.key_fields)) != len(self.key_fields):
            raise ValueError("`key_fields` names a field twice")
        if self.keep == "last" and self.time_window is not None:
            raise ValueError(
                "`keep: last` emits when the input ends and cannot expire keys; "
                "remove `time_window` or use `keep: first`"
            )
        if self.time_window is not None and self.time_window <= 0:
            raise ValueError("`time_window` must be longer than 0 seconds")
        return self


@register_processor(
    "deduplicate",
    config=DeduplicateConfig,
    title="Deduplicate",
    capabilities={"stateful"},
    examples=[
        {"type": "deduplicate", "key_fields": ["order_id"]},
        {"type": "deduplicate", "key_fields": ["device_id", "event_id"], "time_window": "1h"},
        {"type": "deduplicate", "key_fields": ["customer_id"], "keep": "last"},
    ],
)
class Deduplicate(Processor[DeduplicateConfig]):
    """Hashes the key fields of the whole batch and probes one NumPy hash table with them."""

    # Hashing a batch needs no state and runs on every channel at once; only the key table
    # is shared, and `_state_lock` guards it.
    thread_safe: ClassVar[bool] = True

    def __init__(self, config: DeduplicateConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._state_lock = threading.Lock()
        # Seconds on a monotonic clock; tests replace it to move time without sleeping.
        self.clock: Callable[[], float] = time.monotonic
        self._table = KeyTable()
        self._last_expiry = -math.inf
        self._warned_full = False
        self._pending: list[pa.RecordBatch] = []  # keep: last, not yet folded in
        self._pending_rows = 0
        self._latest: pa.Table | None = None  # keep: last, the latest record per key

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        hashes = self._hashes(batch.data)
        if self.config.keep == "last":
            with self._state_lock:
                self._hold(batch.data, hashes)
            return []
        firsts = self._first_in_batch(hashes)
        with self._state_lock:
            keep = self._first_copies(hashes, firsts)
        dropped = batch.num_rows - int(keep.sum())
        if dropped == 0:
            return [batch]
        self.count_filtered(dropped)
        return [batch.with_data(batch.data.filter(pa.array(keep)))] if dropped < len(keep) else []

    def finish(self) -> list[Batch]:
        if self.config.keep == "first" or self._held_rows() == 0:
            return []
        self._compact()
        assert self._latest is not None
        table, self._latest = self._latest.drop_columns([_KEY]), None
        metadata = BatchMetadata(source=self.context.component_path or "deduplicate")
        return [
            Batch(data=chunk, metadata=metadata)
            for chunk in table.to_batches(max_chunksize=self.context.batch_size)
        ]

    # ------------------------------------------------------------------------ keep: first

    @staticmethod
    def _first_in_batch(hashes: np.ndarray) -> np.ndarray:
        """Positions of the first record of each key within the batch (no shared state)."""
        import numpy as np
        import polars as pl

        return np.flatnonzero(pl.Series(hashes).is_first_distinct().to_numpy())

    def _first_copies(self, hashes: np.ndarray, firsts: np.ndarray) -> np.ndarray:
        """Mask of the records to pass: first of their key in the batch and not held."""
        import numpy as np

        now = self.clock()
        table = self._table
        slots = table.find(hashes[firsts])
        held = slots >= 0
        if self.config.time_window is not None:
            held[held] = table.stamps[slots[held]] >= now - self.config.time_window
        table.restamp(slots[(slots >= 0) & ~held], now)  # expired keys start a new window
        self._make_room(int((slots < 0).sum()), now)
        table.add(hashes[firsts][slots < 0], now, self.config.max_keys)
        keep = np.zeros(len(hashes), dtype=bool)
        keep[firsts[~held]] = True
        return keep

    def _make_room(self, incoming: int, now: float) -> None:
        table, window, limit = self._table, self.config.time_window, self.config.max_keys
        if window is not None and now - self._last_expiry >= window:
            self._last_expiry = now
            table.drop(table.stamps < now - window)
        overflow = table.size + incoming - limit
        if overflow > 0 and table.size:
            if not self._warned_full:
                self._warned_full = True
                self.context.logger.warning(
                    "More than %d distinct keys: forgetting the keys kept longest ago, so "
                    "their next records will pass again; raise `max_keys` or set "
                    "`time_window` if that matters.",
                    limit,
                )
            table.drop_oldest(max(overflow, int(limit * EVICT_FRACTION)))

    # ------------------------------------------------------------------------- keep: last

    def _hold(self, data: pa.RecordBatch, hashes: np.ndarray) -> None:
        import numpy as np

        keyed = data.append_column(_KEY, pa.array(hashes.astype(np.uint64)))
        self._pending.append(keyed)
        self._pending_rows += data.num_rows
        if self._pending_rows >= max(self._held_rows() - self._pending_rows, MIN_SLOTS):
            self._compact()

    def _compact(self) -> None:
        """Fold the pending batches into the latest record per key (amortized: the held
        table is rewritten only once as many rows have arrived as it holds)."""
        import polars as pl

        try:
            table = pa.concat_tables(
                [
                    *([] if self._latest is None else [self._latest]),
                    *(pa.Table.from_batches([b]) for b in self._pending),
                ],
                promote_options="permissive",
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise TerminalError(
                f"`deduplicate` (keep: last) got batches whose columns do not match: {exc}. "
                "Cast the columns to one type with `transform.casts` before it."
            ) from exc
        self._pending, self._pending_rows = [], 0
        last = pl.Series(table.column(_KEY).to_numpy()).is_last_distinct().to_arrow()
        self._latest = table.filter(last)
        self.count_filtered(table.num_rows - self._latest.num_rows)
        if self._latest.num_rows > self.config.max_keys:
            raise TerminalError(
                f"`deduplicate` (keep: last) holds more than `max_keys` = "
                f"{self.config.max_keys} distinct keys; raise `max_keys` if memory allows, "
                "or use `keep: first`, which needs no records held."
            )

    def _held_rows(self) -> int:
        return (0 if self._latest is None else self._latest.num_rows) + self._pending_rows

    # ----------------------------------------------------------------------------- state

    def _hashes(self, data: pa.RecordBatch) -> np.ndarray:
        import numpy as np
        import polars as pl

        require_fields(data.schema, self.config.key_fields, "`deduplicate.key_fields`")
        try:
            hashes = to_frame(data, self.config.key_fields).hash_rows().to_numpy()
        except pl.exceptions.PolarsError as exc:
            raise TerminalError(
                f"`deduplicate` cannot compare the values of {self.config.key_fields}: "
                f"{str(exc).strip().splitlines()[0]}."
            ) from exc
        return np.maximum(hashes, np.uint64(1))  # 0 marks an empty slot


class KeyTable:
    """A set of 64-bit key hashes with the time each was stamped, probed a batch at a time.

    Open addressing with linear probing over two NumPy arrays; 0 marks an empty slot. Every
    operation runs over all the keys of a batch at once, one probe step per loop turn, so the
    Python loop turns as often as the longest probe sequence, not once per key.
    """

    def __init__(self, slots: int = MIN_SLOTS) -> None:
        import numpy as np

        self.hashes = np.zeros(slots, dtype=np.uint64)
        self.stamps = np.zeros(slots, dtype=np.float64)
        self.size = 0

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The slot of each key, -1 where it is absent."""
        import numpy as np

        found = np.full(len(keys), -1, dtype=np.int64)
        mask = np.uint64(len(self.hashes) - 1)
        pending = np.arange(len(keys))
        probe = (keys & mask).astype(np.int64)
        while pending.size:
            seen = self.hashes[probe]
            hit = seen == keys[pending]
            found[pending[hit]] = probe[hit]
            more = ~hit & (seen != 0)
            pending, probe = pending[more], (probe[more] + 1) & int(mask)
        return found

    def add(self, keys: np.ndarray, stamp: float | np.ndarray, limit: int | None = None) -> None:
        """Insert keys that are absent and distinct (only the last `limit` when more)."""
        import numpy as np

        if limit is not None and len(keys) > limit:
            keys = keys[-limit:]
            stamp = stamp if np.isscalar(stamp) else np.asarray(stamp)[-limit:]
        if not len(keys):
            return
        self._reserve(self.size + len(keys))
        stamps = np.broadcast_to(np.asarray(stamp, dtype=np.float64), keys.shape)
        mask = len(self.hashes) - 1
        probe = (keys & np.uint64(mask)).astype(np.int64)
        while keys.size:
            free = np.flatnonzero(self.hashes[probe] == 0)
            # Keys racing for one free slot: the last write stays; reading back tells which
            # key won (keys are distinct), without sorting. The others probe on.
            self.hashes[probe[free]] = keys[free]
            won = free[self.hashes[probe[free]] == keys[free]]
            self.stamps[probe[won]] = stamps[won]
            self.size += len(won)
            lost = np.ones(len(keys), dtype=bool)
            lost[won] = False
            keys, stamps, probe = keys[lost], stamps[lost], (probe[lost] + 1) & mask

    def restamp(self, slots: np.ndarray, stamp: float) -> None:
        """Stamp the keys of `slots` anew (their record was kept: a new window starts)."""
        self.stamps[slots] = stamp

    def drop(self, where: np.ndarray) -> None:
        """Remove the keys of the slots flagged in `where` (by rebuilding the table)."""
        where &= self.hashes != 0
        if where.any():
            keep = (self.hashes != 0) & ~where
            self._rebuild(self.hashes[keep], self.stamps[keep], len(self.hashes))

    def drop_oldest(self, count: int) -> None:
        """Remove the `count` keys with the oldest stamps."""
        import numpy as np

        occupied = np.flatnonzero(self.hashes != 0)
        if count >= len(occupied):
            self._rebuild(self.hashes[:0], self.stamps[:0], len(self.hashes))
            return
        oldest = occupied[np.argpartition(self.stamps[occupied], count - 1)[:count]]
        where = np.zeros(len(self.hashes), dtype=bool)
        where[oldest] = True
        self.drop(where)

    def _reserve(self, keys: int) -> None:
        if keys <= MAX_LOAD * len(self.hashes):
            return
        slots = len(self.hashes)
        while keys > MAX_LOAD * slots / 2:  # grow to half the trigger load
            slots *= 2
        occupied = self.hashes != 0
        self._rebuild(self.hashes[occupied], self.stamps[occupied], slots)

    def _rebuild(self, hashes: np.ndarray, stamps: np.ndarray, slots: int) -> None:
        import numpy as np

        self.hashes = np.zeros(slots, dtype=np.uint64)
        self.stamps = np.zeros(slots, dtype=np.float64)
        self.size = 0
        self.add(hashes, stamps)
