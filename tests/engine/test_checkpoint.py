"""Checkpoint stores keep the split plan and positions across processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from fustgo.engine.batch import Checkpoint, Split
from fustgo.engine.checkpoint import MemoryCheckpointStore, SqliteCheckpointStore
from fustgo.engine.errors import TerminalError

pytestmark = pytest.mark.unit

SPLITS = [Split("a", {"path": "/x/a.csv"}, "a.csv", 10, 100), Split("b", {"lo": 0, "hi": 5})]


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_round_trip(kind: str, tmp_path: Path) -> None:
    def open_store():
        if kind == "sqlite":
            return SqliteCheckpointStore(tmp_path / "state" / "cp.db")
        return memory

    memory = MemoryCheckpointStore()
    store = open_store()
    assert store.load("p") is None
    store.begin("p", "fp1", SPLITS)
    store.save("p", [Checkpoint("a", {"rows": 4}, 4)])
    store.save("p", [Checkpoint("a", {"rows": 9}, 9), Checkpoint("b", {"next": 5}, 5, True)])
    if kind == "sqlite":
        store.close()
        store = open_store()  # a new process sees the same state
    state = store.load("p")
    assert state is not None
    assert state.fingerprint == "fp1"
    assert state.splits == SPLITS
    assert state.checkpoints["a"] == Checkpoint("a", {"rows": 9}, 9)
    assert state.done_split_ids == {"b"}
    assert state.records_done == 14
    store.begin("p", "fp2", SPLITS[:1])  # a new run replaces the old state
    assert store.load("p").checkpoints == {}
    store.complete("p")
    assert store.load("p") is None


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TerminalError, match=r"settings\.checkpoint\.path"):
        SqliteCheckpointStore(blocker / "cp.db")


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_input_state_is_committed_only_by_complete(kind: str, tmp_path: Path) -> None:
    memory = MemoryCheckpointStore()

    def open_store():
        return SqliteCheckpointStore(tmp_path / "cp.db") if kind == "sqlite" else memory

    store = open_store()
    assert store.load_state("p") is None
    store.begin("p", "fp", SPLITS, next_state={"high": "2024-01-02", "key": [7]})
    assert store.load_state("p") is None  # planned, not committed
    assert store.load("p").next_state == {"high": "2024-01-02", "key": [7]}
    if kind == "sqlite":
        store.close()
        store = open_store()
    resumed = store.load("p")
    assert resumed is not None and resumed.next_state == {"high": "2024-01-02", "key": [7]}
    store.complete("p", resumed.next_state)
    assert store.load("p") is None
    assert store.load_state("p") == {"high": "2024-01-02", "key": [7]}
    store.complete("p")  # a later run without a new state keeps the committed one
    assert store.load_state("p") == {"high": "2024-01-02", "key": [7]}
    assert store.load_state("other") is None


def test_a_store_written_before_input_states_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE runs (pipeline TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, "
        "splits TEXT NOT NULL, started_at REAL NOT NULL)"
    )
    old.execute("INSERT INTO runs VALUES ('p', 'fp', '[]', 0)")
    old.commit()
    old.close()
    store = SqliteCheckpointStore(path)
    state = store.load("p")
    assert state is not None and state.next_state is None
    store.begin("p", "fp", SPLITS, next_state={"high": 3})
    assert store.load("p").next_state == {"high": 3}
    store.close()
