"""The metadata store on SQLite, PostgreSQL and MariaDB: migrations, jobs and their state
machine, executions and retention, checkpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from fustgo.engine.batch import Checkpoint, Split
from fustgo.store import Store
from fustgo.store.checkpoints import JobCheckpointStore
from fustgo.store.errors import ConflictError, InvalidRequestError
from fustgo.store.lifecycle import JobStatus
from fustgo.store.repositories import executions, jobs
from fustgo.store.tables import Base, utc_now
from tests.server.conftest import head_revision

pytestmark = pytest.mark.integration


def _job(store: Store, name: str = "orders", **fields: object) -> str:
    values: dict[str, object] = {
        "job_name": name,
        "job_type": "ETL",
        "config_yaml": "name: x\n",
        "status": JobStatus.ready,
        "priority": 0,
        "enabled": True,
        **fields,
    }
    with store.session() as session:
        return jobs.add_job(session, **values).job_id


def test_migrations_create_what_the_models_declare(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    expected = {
        "jobs", "executions", "run_states", "checkpoints", "plugins", "workers",
        "alert_rules", "connections", "alembic_version",
    }  # fmt: skip
    assert expected <= tables
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, Base.metadata) == []
    assert store.migrate() == head_revision()  # a second start finds nothing to do
    assert store.status().ok and store.status().revision == head_revision()


def test_jobs_round_trip_with_unique_names_filters_and_sorting(store: Store) -> None:
    first = _job(store, "orders", source_type="mysql", target_type="postgresql", priority=5)
    _job(store, "Customers", source_type="postgresql", target_type="postgresql", priority=1)
    _job(store, "events", source_type="kafka", target_type="postgresql", status="draft")
    with pytest.raises(ConflictError, match="named `orders` already exists"):
        _job(store, "orders")
    with store.session() as session:
        job = jobs.get_job(session, first)
        assert job.created_at.tzinfo is not None and job.created_at <= utc_now()
        by_source, total = jobs.list_jobs(session, jobs.JobFilter(source="postgresql"))
        assert total == 1 and by_source[0].job_name == "Customers"
        ready, total = jobs.list_jobs(session, jobs.JobFilter(status="ready"), sort="-priority")
        assert [row.job_name for row in ready] == ["orders", "Customers"] and total == 2
        page, total = jobs.list_jobs(
            session, jobs.JobFilter(target="postgresql"), sort="job_name", offset=1, limit=1
        )
        assert total == 3 and len(page) == 1
        named, _ = jobs.list_jobs(session, jobs.JobFilter(name_contains="CUSTOM"))
        assert [row.job_name for row in named] == ["Customers"]
        with pytest.raises(InvalidRequestError, match="Cannot sort jobs by `color`"):
            jobs.list_jobs(session, jobs.JobFilter(), sort="color")


def test_the_state_machine_refuses_illegal_moves(store: Store) -> None:
    job_id = _job(store, status=JobStatus.draft)
    with store.session() as session:
        job = jobs.get_job(session, job_id)
        with pytest.raises(ConflictError, match="Cannot start it: job `orders` is `draft`"):
            jobs.transition(session, job, "start", JobStatus.running)
        job.status = JobStatus.ready
        jobs.transition(session, job, "start", JobStatus.running)
        with pytest.raises(ConflictError, match="Cannot resume it"):
            jobs.transition(session, job, "resume", JobStatus.running)
        with pytest.raises(ConflictError, match="Cannot delete it: job `orders` is `running`"):
            jobs.delete_job(session, job)
        with pytest.raises(ConflictError, match="Cannot edit it"):
            jobs.update_job(session, job, description="new")
        jobs.transition(session, job, "pause", JobStatus.paused)
        jobs.transition(session, job, "resume", JobStatus.running)
        jobs.transition(session, job, "finish", JobStatus.failed)
        jobs.transition(session, job, "start", JobStatus.running)  # a retry
        jobs.transition(session, job, "finish", JobStatus.succeeded)
        jobs.update_job(session, job, description="new")
        jobs.delete_job(session, job)


def test_executions_are_recorded_and_old_ones_purged(store: Store) -> None:
    job_id = _job(store)
    with store.session() as session:
        old = executions.start_execution(session, job_id)
        old.start_time = utc_now() - timedelta(days=31)
        executions.finish_execution(
            session, old.execution_id, status="succeeded", error=None,
            summary={"records_read": 10, "records_written": 9, "records_filtered": 1,
                     "records_failed": 0, "bytes_read": 123},
        )  # fmt: skip
        stale_running = executions.start_execution(session, job_id)
        stale_running.start_time = utc_now() - timedelta(days=40)
        recent = executions.start_execution(session, job_id)
        executions.finish_execution(
            session, recent.execution_id, status="failed", summary=None, error="boom"
        )
    with store.session() as session:
        rows, total = executions.list_executions(session, job_id)
        assert total == 3 and rows[0].execution_id == recent.execution_id  # newest first
        kept = executions.get_execution(session, old.execution_id)
        assert (kept.records_read, kept.records_written, kept.bytes_transferred) == (10, 9, 123)
        assert executions.purge_executions(session, older_than_days=30) == 1
    with store.session() as session:
        left = {row.execution_id for row in executions.list_executions(session, job_id)[0]}
        assert left == {stale_running.execution_id, recent.execution_id}  # running ones stay
        assert executions.abandon_running(session, reason="gone") == [job_id]
        assert executions.get_execution(session, stale_running.execution_id).status == "abandoned"
        assert executions.purge_executions(session, older_than_days=30) == 1


def test_checkpoints_round_trip_per_job_and_go_with_the_job(store: Store) -> None:
    job_id = _job(store)
    checkpoints = JobCheckpointStore(store, job_id)
    assert checkpoints.load("p") is None and checkpoints.load_state("p") is None
    splits = [Split(id="s0", params={"lo": 0, "hi": 10}), Split(id="s1", params={"lo": 10})]
    checkpoints.begin("p", "f" * 64, splits, next_state={"high": 7})
    checkpoints.save("p", [Checkpoint(split_id="s0", position={"id": 4}, records=5)])
    checkpoints.save("p", [Checkpoint(split_id="s0", position={"id": 9}, records=10,
                                      split_done=True)])  # fmt: skip
    state = checkpoints.load("p")
    assert state is not None and state.fingerprint == "f" * 64
    assert [split.id for split in state.splits] == ["s0", "s1"]
    assert state.checkpoints["s0"].position == {"id": 9} and state.done_split_ids == {"s0"}
    assert state.next_state == {"high": 7}
    checkpoints.complete("p", {"high": 7})
    assert checkpoints.load("p") is None and checkpoints.load_state("p") == {"high": 7}
    checkpoints.begin("p", "g" * 64, splits)
    checkpoints.save("p", [Checkpoint(split_id="s1", position={"id": 11}, records=1)])
    with store.session() as session:
        jobs.delete_job(session, jobs.get_job(session, job_id))
    with store.engine.connect() as connection:
        left = connection.execute(text("SELECT COUNT(*) FROM checkpoints")).scalar()
        assert left == 0
