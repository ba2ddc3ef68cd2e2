"""The engine's `CheckpointStore` over the metadata store, for the runs of one job.

`fustgo run` keeps checkpoints in a SQLite file beside the pipeline; a job run by the
server keeps them in `run_states` and `checkpoints`, keyed by job id, so a stopped or paused
job resumes from the store whichever worker picks it up, and deleting the job deletes them.
The pipeline name the runner passes is ignored: the job id is the key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fustgo.engine.batch import Checkpoint, JSONValue, Split
from fustgo.engine.checkpoint import RunState
from fustgo.store.db import Store
from fustgo.store.tables import CheckpointRow, RunStateRow, utc_now


class JobCheckpointStore:
    """Run state of the job `job_id` (implements `engine.checkpoint.CheckpointStore`)."""

    def __init__(self, store: Store, job_id: str) -> None:
        self.store = store
        self.job_id = job_id

    def load(self, pipeline: str) -> RunState | None:
        with self.store.session() as session:
            run = session.get(RunStateRow, self.job_id)
            if run is None or run.splits is None or run.fingerprint is None:
                return None
            rows = session.scalars(select(CheckpointRow).where(CheckpointRow.job_id == self.job_id))
            checkpoints = {row.split_id: Checkpoint.from_json(row.checkpoint) for row in rows}
            return RunState(
                pipeline=pipeline,
                fingerprint=run.fingerprint,
                splits=[Split.from_json(item) for item in run.splits],
                checkpoints=checkpoints,
                started_at=run.started_at.timestamp() if run.started_at else 0.0,
                next_state=run.next_state,
            )

    def begin(
        self,
        pipeline: str,
        fingerprint: str,
        splits: list[Split],
        next_state: dict[str, JSONValue] | None = None,
    ) -> None:
        with self.store.session() as session:
            session.execute(delete(CheckpointRow).where(CheckpointRow.job_id == self.job_id))
            run = self._run_state(session)
            run.fingerprint = fingerprint
            run.splits = _plain([split.to_json() for split in splits])
            run.next_state = next_state
            run.started_at = utc_now()
            run.updated_at = utc_now()

    def save(self, pipeline: str, checkpoints: Iterable[Checkpoint]) -> None:
        latest = {checkpoint.split_id: checkpoint for checkpoint in checkpoints}
        if not latest:
            return
        now = utc_now()
        with self.store.session() as session:
            existing = {
                row.split_id: row
                for row in session.scalars(
                    select(CheckpointRow).where(
                        CheckpointRow.job_id == self.job_id,
                        CheckpointRow.split_id.in_(list(latest)),
                    )
                )
            }
            for split_id, checkpoint in latest.items():
                data = _plain(checkpoint.to_json())
                row = existing.get(split_id)
                if row is None:
                    session.add(
                        CheckpointRow(
                            job_id=self.job_id, split_id=split_id, checkpoint=data, updated_at=now
                        )
                    )
                else:
                    row.checkpoint = data
                    row.updated_at = now

    def complete(self, pipeline: str, state: dict[str, JSONValue] | None = None) -> None:
        with self.store.session() as session:
            session.execute(delete(CheckpointRow).where(CheckpointRow.job_id == self.job_id))
            run = self._run_state(session)
            run.fingerprint = None
            run.splits = None
            run.next_state = None
            run.started_at = None
            run.updated_at = utc_now()
            if state is not None:
                run.committed_state = state

    def load_state(self, pipeline: str) -> dict[str, JSONValue] | None:
        with self.store.session() as session:
            run = session.get(RunStateRow, self.job_id)
            return run.committed_state if run is not None else None

    def close(self) -> None:
        """Nothing to release: sessions are opened per call."""

    def _run_state(self, session: Session) -> RunStateRow:
        run = session.get(RunStateRow, self.job_id)
        if run is None:
            run = RunStateRow(job_id=self.job_id, updated_at=utc_now())
            session.add(run)
        return run


def _plain(value: Any) -> Any:
    """JSON-safe data (checkpoint positions may hold tuples); same round trip as the file store."""
    return json.loads(json.dumps(value))
