"""Checkpoint stores: where a run saves its split plan and positions so a restart resumes.

The store holds, per pipeline, the split plan of the current (unfinished) run and the last
durable checkpoint of each split. A run that ends normally deletes its state; a run that is
interrupted or fails leaves it, and the next run of the same pipeline resumes from it.

It also holds the input's committed state (an incremental input's high-water mark): the
state a run will commit is saved with its split plan at `begin` and becomes the committed
state only in `complete`, in the same transaction that deletes the finished run, so a run
that fails or is interrupted never advances it.
`SqliteCheckpointStore` (a local file) is the default; the server keeps the same interface
over its metadata store, and Redis can back it in distributed mode.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fustgo.engine.batch import Checkpoint, JSONValue, Split
from fustgo.engine.errors import TerminalError


@dataclass
class RunState:
    """What an interrupted run left behind."""

    pipeline: str
    fingerprint: str
    splits: list[Split]
    checkpoints: dict[str, Checkpoint] = field(default_factory=dict)
    started_at: float = 0.0
    next_state: dict[str, JSONValue] | None = None
    """The input state this run commits when it succeeds (see `Input.next_state`)."""

    @property
    def done_split_ids(self) -> set[str]:
        return {sid for sid, cp in self.checkpoints.items() if cp.split_done}

    @property
    def records_done(self) -> int:
        return sum(cp.records for cp in self.checkpoints.values())


class CheckpointStore(Protocol):
    """Persistence of run state, keyed by pipeline name."""

    def load(self, pipeline: str) -> RunState | None: ...

    def begin(
        self,
        pipeline: str,
        fingerprint: str,
        splits: list[Split],
        next_state: dict[str, JSONValue] | None = None,
    ) -> None: ...

    def save(self, pipeline: str, checkpoints: Iterable[Checkpoint]) -> None: ...

    def complete(self, pipeline: str, state: dict[str, JSONValue] | None = None) -> None:
        """Forget the finished run and, when `state` is given, commit it."""
        ...

    def load_state(self, pipeline: str) -> dict[str, JSONValue] | None:
        """The state committed by the last successful run, or None."""
        ...


class SqliteCheckpointStore:
    """Run state in a local SQLite file (WAL, one writer per process)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS runs (
                    pipeline TEXT PRIMARY KEY,
                    fingerprint TEXT NOT NULL,
                    splits TEXT NOT NULL,
                    started_at REAL NOT NULL
                );
                CREATE TABLE IF NOT EXISTS checkpoints (
                    pipeline TEXT NOT NULL,
                    split_id TEXT NOT NULL,
                    checkpoint TEXT NOT NULL,
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (pipeline, split_id)
                );
                CREATE TABLE IF NOT EXISTS states (
                    pipeline TEXT PRIMARY KEY,
                    state TEXT NOT NULL,
                    updated_at REAL NOT NULL
                );
                """
            )
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
            if "next_state" not in columns:  # a store written before input states existed
                self._db.execute("ALTER TABLE runs ADD COLUMN next_state TEXT")
        except (sqlite3.Error, OSError) as exc:
            raise TerminalError(
                f"Cannot open the checkpoint store `{self.path}`: {exc}. "
                "Check `settings.checkpoint.path` and that its folder is writable."
            ) from exc
        self._lock = threading.Lock()

    def load(self, pipeline: str) -> RunState | None:
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint, splits, started_at, next_state FROM runs WHERE pipeline = ?",
                (pipeline,),
            ).fetchone()
            if row is None:
                return None
            rows = self._db.execute(
                "SELECT checkpoint FROM checkpoints WHERE pipeline = ?", (pipeline,)
            ).fetchall()
        checkpoints = [Checkpoint.from_json(json.loads(r[0])) for r in rows]
        return RunState(
            pipeline=pipeline,
            fingerprint=row[0],
            splits=[Split.from_json(s) for s in json.loads(row[1])],
            checkpoints={cp.split_id: cp for cp in checkpoints},
            started_at=row[2],
            next_state=json.loads(row[3]) if row[3] is not None else None,
        )

    def begin(
        self,
        pipeline: str,
        fingerprint: str,
        splits: list[Split],
        next_state: dict[str, JSONValue] | None = None,
    ) -> None:
        plan = json.dumps([s.to_json() for s in splits])
        pending = json.dumps(next_state) if next_state is not None else None
        with self._transaction() as db:
            db.execute("DELETE FROM checkpoints WHERE pipeline = ?", (pipeline,))
            db.execute(
                "INSERT OR REPLACE INTO runs (pipeline, fingerprint, splits, started_at, "
                "next_state) VALUES (?, ?, ?, ?, ?)",
                (pipeline, fingerprint, plan, time.time(), pending),
            )

    def save(self, pipeline: str, checkpoints: Iterable[Checkpoint]) -> None:
        now = time.time()
        rows = [(pipeline, cp.split_id, json.dumps(cp.to_json()), now) for cp in checkpoints]
        if not rows:
            return
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO checkpoints (pipeline, split_id, checkpoint, updated_at) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )

    def complete(self, pipeline: str, state: dict[str, JSONValue] | None = None) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM checkpoints WHERE pipeline = ?", (pipeline,))
            db.execute("DELETE FROM runs WHERE pipeline = ?", (pipeline,))
            if state is not None:
                db.execute(
                    "INSERT OR REPLACE INTO states (pipeline, state, updated_at) VALUES (?, ?, ?)",
                    (pipeline, json.dumps(state), time.time()),
                )

    def load_state(self, pipeline: str) -> dict[str, JSONValue] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM states WHERE pipeline = ?", (pipeline,)
            ).fetchone()
        return json.loads(row[0]) if row is not None else None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


class MemoryCheckpointStore:
    """Run state in memory: for tests and for runs with checkpoints disabled."""

    def __init__(self) -> None:
        self._runs: dict[str, RunState] = {}
        self._states: dict[str, dict[str, JSONValue]] = {}

    def load(self, pipeline: str) -> RunState | None:
        state = self._runs.get(pipeline)
        return copy.deepcopy(state) if state is not None else None

    def begin(
        self,
        pipeline: str,
        fingerprint: str,
        splits: list[Split],
        next_state: dict[str, JSONValue] | None = None,
    ) -> None:
        self._runs[pipeline] = RunState(
            pipeline, fingerprint, list(splits), {}, time.time(), copy.deepcopy(next_state)
        )

    def save(self, pipeline: str, checkpoints: Iterable[Checkpoint]) -> None:
        state = self._runs[pipeline]
        for cp in checkpoints:
            state.checkpoints[cp.split_id] = cp

    def complete(self, pipeline: str, state: dict[str, JSONValue] | None = None) -> None:
        self._runs.pop(pipeline, None)
        if state is not None:
            self._states[pipeline] = copy.deepcopy(state)

    def load_state(self, pipeline: str) -> dict[str, JSONValue] | None:
        state = self._states.get(pipeline)
        return copy.deepcopy(state) if state is not None else None
