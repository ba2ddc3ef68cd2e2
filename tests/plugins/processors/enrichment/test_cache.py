"""The lookup cache: TTL with an injected clock, LRU eviction, absent keys, counters."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest

from fustgo.plugins.processors.enrichment.cache import FOUND, CacheStats, LookupCache
from tests.plugins.processors.enrichment.building import Clock, make, rows

pytestmark = pytest.mark.unit

KEY = "__fustgo_key_0"


def keys(*values: int) -> pl.DataFrame:
    return pl.DataFrame({KEY: list(values)})


def fields(pairs: dict[int, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {KEY: list(pairs), "name": list(pairs.values())}, schema={KEY: pl.Int64, "name": pl.String}
    )


def cached(cache: LookupCache, *values: int) -> tuple[dict[int, str | None], list[int]]:
    """{key: name or None when known absent}, and the keys not cached."""
    hits, missing = cache.lookup(keys(*values))
    found = {row[KEY]: row["name"] if row[FOUND] else None for row in hits.iter_rows(named=True)}
    return found, sorted(missing.get_column(KEY).to_list())


def test_entries_live_for_ttl_then_expire() -> None:
    clock = Clock()
    cache = LookupCache([KEY], ttl_seconds=60, max_entries=10, clock=clock)
    assert cached(cache, 1, 2) == ({}, [1, 2])
    cache.store(keys(1, 2), fields({1: "one"}))
    clock.now += 59.9
    assert cached(cache, 1, 2, 3) == ({1: "one", 2: None}, [3])  # 2 is known to be absent
    clock.now += 0.2
    assert cached(cache, 1, 2) == ({}, [1, 2])
    assert cache.stats() == CacheStats(hits=2, misses=5, entries=2)


def test_a_newer_entry_replaces_the_older_one() -> None:
    clock = Clock()
    cache = LookupCache([KEY], ttl_seconds=10, max_entries=10, clock=clock)
    cache.store(keys(1), fields({}))
    clock.now += 20
    cache.store(keys(1), fields({1: "now found"}))
    assert cached(cache, 1) == ({1: "now found"}, [])
    assert cache.stats().entries == 1


def test_least_recently_used_entries_are_evicted_first() -> None:
    clock = Clock()
    cache = LookupCache([KEY], ttl_seconds=600, max_entries=2, clock=clock)
    cache.store(keys(1, 2), fields({1: "a", 2: "b"}))
    assert cached(cache, 1) == ({1: "a"}, [])  # 1 is now more recent than 2
    cache.store(keys(3), fields({3: "c"}))
    assert cached(cache, 1, 2, 3) == ({1: "a", 3: "c"}, [2])
    assert cache.stats().evictions == 1
    assert cache.stats().entries == 2


def test_expired_entries_go_before_live_ones_when_full() -> None:
    clock = Clock()
    cache = LookupCache([KEY], ttl_seconds=10, max_entries=2, clock=clock)
    cache.store(keys(1), fields({1: "a"}))
    clock.now += 5
    cache.store(keys(2), fields({2: "b"}))
    clock.now += 6  # 1 expired, 2 has 4 seconds left
    cache.store(keys(3), fields({3: "c"}))
    assert cached(cache, 2, 3) == ({2: "b", 3: "c"}, [])
    assert cache.stats().expirations == 1
    assert cache.stats().evictions == 0


def test_composite_keys() -> None:
    cache = LookupCache(["a", "b"], ttl_seconds=10, max_entries=10, clock=Clock())
    cache.store(
        pl.DataFrame({"a": [1, 1], "b": ["x", "y"]}),
        pl.DataFrame({"a": [1], "b": ["y"], "v": [9]}),
    )
    hits, missing = cache.lookup(pl.DataFrame({"a": [1, 1, 2], "b": ["x", "y", "x"]}))
    assert sorted(hits.rows()) == [(1, "x", None, False), (1, "y", 9, True)]
    assert missing.rows() == [(2, "x")]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO customers VALUES (?, ?)", [(1, "Ada"), (2, "Bob"), (3, "Cy")])
    return path


def rename(database: Path, key: int, name: str) -> None:
    with sqlite3.connect(database) as db:
        db.execute("UPDATE customers SET name = ? WHERE id = ?", (name, key))


def test_processor_serves_cached_rows_until_the_ttl_passes(database: Path) -> None:
    clock = Clock()
    processor = make(
        {
            "key": "id",
            "lookup": {
                "type": "sql",
                "driver": "sqlite",
                "connection": {"database": str(database)},
                "table": "customers",
            },
            "cache": {"ttl": "1m"},
        }
    )
    processor.clock = clock
    assert rows(processor, {"id": [1, 2, 1, 7]}) == [
        {"id": 1, "name": "Ada"},
        {"id": 2, "name": "Bob"},
        {"id": 1, "name": "Ada"},
        {"id": 7, "name": None},
    ]
    assert processor.cache_stats() == CacheStats(misses=3, entries=3)
    rename(database, 1, "Ada L.")
    clock.now += 30
    assert rows(processor, {"id": [1, 7]}) == [{"id": 1, "name": "Ada"}, {"id": 7, "name": None}]
    assert processor.cache_stats().hits == 2
    clock.now += 31
    assert rows(processor, {"id": [1]}) == [{"id": 1, "name": "Ada L."}]
    assert processor.cache_stats() == CacheStats(hits=2, misses=4, entries=3)


def test_processor_cache_evicts_the_least_recently_used(database: Path) -> None:
    processor = make(
        {
            "key": "id",
            "lookup": {
                "type": "sql",
                "driver": "sqlite",
                "connection": {"database": str(database)},
                "table": "customers",
            },
            "cache": {"max_entries": 2},
        }
    )
    processor.clock = Clock()
    rows(processor, {"id": [1, 2]})
    rows(processor, {"id": [1]})
    rows(processor, {"id": [3]})  # evicts 2
    rename(database, 1, "changed")
    rename(database, 2, "changed")
    assert rows(processor, {"id": [1, 2]}) == [
        {"id": 1, "name": "Ada"},  # still cached
        {"id": 2, "name": "changed"},  # evicted, read again
    ]
    assert processor.cache_stats().evictions >= 1


def test_disabled_cache_asks_every_batch(database: Path) -> None:
    processor = make(
        {
            "key": "id",
            "lookup": {
                "type": "sql",
                "driver": "sqlite",
                "connection": {"database": str(database)},
                "table": "customers",
            },
            "cache": {"enabled": False},
        }
    )
    assert rows(processor, {"id": [1]}) == [{"id": 1, "name": "Ada"}]
    rename(database, 1, "changed")
    assert rows(processor, {"id": [1]}) == [{"id": 1, "name": "changed"}]
    assert processor.cache_stats() == CacheStats()
