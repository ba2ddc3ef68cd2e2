"""The enrichment cache: key → looked-up row, with a time to live and LRU eviction.

The entries are one Polars frame (the key columns, the fields, whether the key was found,
when the entry expires, when it was last used), so a batch's keys are looked up with one
join and stored with one concat: no Python per record or per key. Keys the source did not
have are cached too (as absent), so a missing key costs one round trip per `ttl`, not one
per batch. Each lookup and store costs time proportional to the number of entries (about a
millisecond per 100,000), which is what `max_entries` bounds, with the memory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

FOUND = "__fustgo_found"
"""Column of the cached (and joined) rows: True when the source has the key."""
_EXPIRES = "__fustgo_expires"
_USED = "__fustgo_used"
_ROW = "__fustgo_row"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheStats:
    """Counters of one cache since the processor was created."""

    hits: int = 0
    """Distinct keys of a batch answered from the cache (found or known to be absent)."""
    misses: int = 0
    """Distinct keys of a batch that were not cached, or whose entry had expired."""
    evictions: int = 0
    """Entries dropped because the cache held `max_entries` (least recently used first)."""
    expirations: int = 0
    """Entries dropped because their `ttl` had passed."""
    entries: int = 0
    """Entries held now."""


class LookupCache:
    """A TTL and LRU cache of lookup rows by key, safe to use from several threads."""

    def __init__(
        self,
        key_columns: list[str],
        *,
        ttl_seconds: float,
        max_entries: int,
        clock: Callable[[], float],
    ) -> None:
        self._keys = key_columns
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._frame: pl.DataFrame | None = None
        self._tick = 0
        self._stats = CacheStats()
        self._lock = threading.Lock()

    def stats(self) -> CacheStats:
        with self._lock:
            entries = 0 if self._frame is None else self._frame.height
            return replace(self._stats, entries=entries)

    def lookup(self, keys: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The live entries of `keys` (key columns, fields, `FOUND`) and the keys not cached.

        `keys` holds distinct, non-NULL keys. Entries found are marked as just used.
        """
        import polars as pl

        with self._lock:
            now = self._clock()
            frame = self._frame
            if frame is None:
                self._count(hits=0, misses=keys.height)
                return pl.DataFrame(), keys
            live = frame.with_row_index(_ROW).filter(pl.col(_EXPIRES) > now)
            hits = keys.join(live, on=self._keys, how="inner")
            self._tick += 1
            used = frame.get_column(_USED).scatter(hits.get_column(_ROW), self._tick)
            self._frame = frame.with_columns(used)
            self._count(hits=hits.height, misses=keys.height - hits.height)
        missing = keys.join(hits.select(self._keys), on=self._keys, how="anti")
        log.debug("Lookup cache: %d hits, %d misses.", hits.height, missing.height)
        return hits.drop(_ROW, _EXPIRES, _USED), missing

    def store(self, keys: pl.DataFrame, rows: pl.DataFrame) -> None:
        """Remember `rows` (the found keys' fields) and the other `keys` as absent."""
        import polars as pl

        found = rows.with_columns(pl.lit(True).alias(FOUND))
        with self._lock:
            now = self._clock()
            entries = keys.join(found, on=self._keys, how="left").with_columns(
                pl.col(FOUND).fill_null(False),
                pl.lit(now + self._ttl, pl.Float64).alias(_EXPIRES),
                pl.lit(self._tick, pl.Int64).alias(_USED),
            )
            frame = self._frame
            if frame is not None:  # a newer entry replaces an older one of the same key
                kept = frame.join(entries.select(self._keys), on=self._keys, how="anti")
                entries = pl.concat([kept, entries], how="vertical_relaxed")
            self._frame = entries
            if entries.height > self._max_entries:
                self._evict(now)

    def _evict(self, now: float) -> None:
        """Drop expired entries, then the least recently used down to `max_entries`."""
        import polars as pl

        assert self._frame is not None
        live = self._frame.filter(pl.col(_EXPIRES) > now)
        expired = self._frame.height - live.height
        evicted = max(0, live.height - self._max_entries)
        if evicted:
            live = live.top_k(self._max_entries, by=_USED)
        self._frame = live
        self._stats = replace(
            self._stats,
            evictions=self._stats.evictions + evicted,
            expirations=self._stats.expirations + expired,
        )

    def _count(self, *, hits: int, misses: int) -> None:
        self._stats = replace(
            self._stats, hits=self._stats.hits + hits, misses=self._stats.misses + misses
        )
