"""Connections of the sqlite input: the splits of a run share the pool's connections."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.sqlite import SqliteInput, SqliteInputConfig

pytestmark = pytest.mark.integration


def test_splits_share_the_runs_connections(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1, 1001)])
    config = SqliteInputConfig.model_validate(
        {
            "connection": {"database": "db.sqlite"},
            "query": {"table": "t", "split_key": "id"},
            "fetch": {"size": 100},
        }
    )
    plugin = SqliteInput(config, PluginContext(base_dir=tmp_path, component_path="input"))

    async def run() -> int:
        await plugin.open()
        try:
            splits = await plugin.splits(4)
            assert len(splits) >= 4
            return sum([b.num_rows for s in splits async for b in plugin.read(s, None)])
        finally:
            await plugin.close()

    assert asyncio.run(run()) == 1000
    assert (plugin._pool.opened, plugin._pool.discarded) == (2, 0)
    assert plugin._pool.reused >= 3
    assert plugin._pool.open_connections == 0
