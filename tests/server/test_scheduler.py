"""The scheduler and the worker pool with a clock the test moves: cron due times across
daylight saving time, missed runs, dependencies, the three overlap policies, timeouts,
retries, priorities and the concurrency limit, and the daily retention purge. Runs are
real pipelines (generated records into SQLite) in a real pool over a SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fustgo.config.app import DatabaseSettings
from fustgo.scheduler.core import Fire, Scheduler
from fustgo.scheduler.cron import due_times, next_times
from fustgo.scheduler.graph import find_cycle, on_job_saved
from fustgo.scheduler.settings import Scheduling
from fustgo.server.runs import RunManager
from fustgo.server.settings import ServerSettings
from fustgo.store import Store
from fustgo.store.repositories import executions, jobs, schedules
from fustgo.store.tables import ExecutionRow
from tests.server.pipelines import counted, endless

pytestmark = pytest.mark.integration

NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
FAILING = """\
name: failing
input:
  type: generate
  count: 10
  fields:
    id: {kind: sequence, start: 1}
pipeline:
  processors:
    - {type: filter, condition: "no_such_column > 1"}
output:
  type: sqlite
  connection: {database: "failing.db"}
  write: {table: t}
"""
"""Valid, and fails when it runs (the filter names a column the records lack)."""


class Clock:
    """The scheduler's and the pool's `now()`, moved by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


# due times


def test_cron_due_times_across_daylight_saving_time() -> None:
    spring = Scheduling(cron="30 2 * * *", timezone="America/New_York")
    times = next_times(spring, datetime(2024, 3, 8, 12, tzinfo=NEW_YORK), 3)
    # 02:30 does not exist on 10 March: the run is at 03:00 (EDT), then 02:30 again
    assert [t.isoformat() for t in times] == [
        "2024-03-09T02:30:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00",
    ]  # fmt: skip
    fall = Scheduling(cron="30 1 * * *", timezone="America/New_York")
    times = next_times(fall, datetime(2024, 11, 2, 12, tzinfo=NEW_YORK), 3)
    # 01:30 happens twice on 3 November: one run, the first (EDT)
    assert [t.isoformat() for t in times] == [
        "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00", "2024-11-05T01:30:00-05:00",
    ]  # fmt: skip
    # an instant inside the repeated hour does not bring the second 01:30 back
    after_first = datetime(2024, 11, 3, 5, 45, tzinfo=UTC)  # 01:45 EDT
    assert next_times(fall, after_first, 1)[0].isoformat() == "2024-11-04T01:30:00-05:00"
    every_15 = Scheduling(cron="*/15 * * * *", timezone="America/New_York")
    night = due_times(every_15, datetime(2024, 11, 3, 5, 50, tzinfo=UTC),
                      datetime(2024, 11, 3, 6, 50, tzinfo=UTC))  # fmt: skip
    assert len(night) == 4  # every quarter of an hour, the repeated hour included
    # a one-shot time without an offset is read in the schedule's zone
    once = Scheduling(run_at=datetime(2024, 7, 1, 9, 0), timezone="Asia/Shanghai")
    assert next_times(once, datetime(2024, 6, 1, tzinfo=UTC)) == [
        datetime(2024, 7, 1, 1, 0, tzinfo=UTC)
    ]
    assert next_times(once, datetime(2024, 8, 1, tzinfo=UTC)) == []


def test_cycles_are_found_with_their_path() -> None:
    edges = {"c": ["b"], "b": ["a"], "a": ["d"], "d": []}
    assert find_cycle(edges, "c") is None
    edges["a"] = ["d", "c"]
    assert find_cycle(edges, "c") == ["c", "b", "a", "c"]
    assert find_cycle({"x": ["x"]}, "x") == ["x", "x"]


# the pool and the scheduler over a real store


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """`run(test, max_concurrent=…)` runs `test(h)` in an event loop with a store, a pool
    and a scheduler sharing one `Clock`."""
    store = Store(DatabaseSettings(path=str(tmp_path / "fustgo.db")))
    store.migrate()

    def run(test: Callable[[Harness], Awaitable[None]], *, max_concurrent: int = 4) -> None:
        async def main() -> None:
            clock = Clock(T0)
            settings = ServerSettings(db=store.settings, base_dir=tmp_path)
            runs = RunManager(store, settings, max_concurrent=max_concurrent, now=clock)
            scheduler = Scheduler(store, runs, now=clock, retention_days=30)
            try:
                await test(Harness(store, runs, scheduler, clock, tmp_path))
            finally:
                await runs.shutdown()

        asyncio.run(main())

    try:
        yield run
    finally:
        store.close()


class Harness:
    def __init__(
        self, store: Store, runs: RunManager, scheduler: Scheduler, clock: Clock, path: Path
    ) -> None:
        self.store, self.runs, self.scheduler, self.clock, self.path = (
            store, runs, scheduler, clock, path,
        )  # fmt: skip

    def job(
        self, name: str, yaml_text: str, *, priority: int = 0, retry: dict[str, Any] | None = None,
        **scheduling: Any,
    ) -> str:  # fmt: skip
        with self.store.session() as session:
            job = jobs.add_job(
                session, job_name=name, job_type="ETL", config_yaml=yaml_text,
                scheduling_config=Scheduling(**scheduling).model_dump(mode="json"),
                retry_policy=retry, priority=priority, enabled=True, status="ready",
            )  # fmt: skip
            on_job_saved(session, job, now=self.clock(), reset=True)
            return job.job_id

    def executions(self, job_id: str) -> list[ExecutionRow]:
        with self.store.session() as session:
            rows, _total = executions.list_executions(session, job_id)
            session.expunge_all()
            return sorted(rows, key=lambda row: row.start_time)

    def status(self, job_id: str) -> str:
        with self.store.session() as session:
            return jobs.get_job(session, job_id).status

    async def until(self, condition: Callable[[], Any], what: str, timeout: float = 20) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            value = await asyncio.to_thread(condition)
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(f"Timed out waiting for {what}")

    async def ended(self, job_id: str, count: int = 1) -> list[ExecutionRow]:
        def done() -> list[ExecutionRow] | None:
            rows = self.executions(job_id)
            finished = [r for r in rows if r.status not in ("queued", "running")]
            return rows if len(finished) >= count and not self.runs.active.get(job_id) else None

        result: list[ExecutionRow] = await self.until(done, f"{count} end(s) of {job_id}")
        return result

    async def running(self, job_id: str) -> None:
        await self.until(
            lambda: any(r.status == "running" for r in self.executions(job_id)),
            f"a running execution of {job_id}",
        )


def test_cron_fires_when_due_and_missed_runs_follow_their_policy(harness: Any) -> None:
    async def test(h: Harness) -> None:
        job = h.job("hourly", counted("hourly.db"), cron="0 * * * *")
        assert await h.scheduler.tick() == []  # 12:00 was the save time, not due after it
        h.clock.advance(minutes=59)
        assert await h.scheduler.tick() == []
        h.clock.advance(minutes=1)
        (fired,) = await h.scheduler.tick()
        assert fired[0] == Fire(job, "cron") and fired[1].outcome == "started"
        (run,) = await h.ended(job)
        assert run.trigger == "cron" and run.status == "succeeded"
        assert await h.scheduler.tick() == []  # 13:00 is dealt with

        # the server was down from 13:00 to 16:30: 14:00, 15:00 and 16:00 were missed
        once = h.job("once", counted("once.db"), cron="0 * * * *", missed_runs="run_once")
        skip = h.job("skip", counted("skip.db"), cron="0 * * * *", missed_runs="skip")
        h.clock.advance(hours=3, minutes=30)
        restarted = Scheduler(h.store, h.runs, now=h.clock)
        fired = await restarted.tick()
        assert {(f.job_id, f.trigger) for f, _ in fired} == {(job, "missed"), (once, "missed")}
        assert len(await h.ended(once)) == 1 and len(await h.ended(job, 2)) == 2
        with h.store.session() as session:
            state = schedules.get_state(session, skip)
            assert state is not None and state.last_due_at == T0 + timedelta(hours=4)
        assert h.executions(skip) == []
        h.clock.advance(minutes=30)  # 17:00: a normal run for each
        fired = await restarted.tick()
        assert {(f.job_id, f.trigger) for f, _ in fired} == {
            (job, "cron"), (once, "cron"), (skip, "cron"),
        }  # fmt: skip

    harness(test)


def test_dependencies_fire_after_every_upstream_succeeded(harness: Any) -> None:
    async def test(h: Harness) -> None:
        upstream = h.job("extract", counted("extract.db"))
        failing = h.job("failing", FAILING)
        after_one = h.job("load", counted("load.db"), depends_on=[upstream])
        after_both = h.job("report", counted("report.db"), depends_on=[upstream, failing])
        await h.runs.start(failing)
        (failed,) = await h.ended(failing)
        assert failed.status == "failed"
        assert h.executions(after_one) == [] and h.executions(after_both) == []

        await h.runs.start(upstream)
        await h.ended(upstream)
        (dependent,) = await h.ended(after_one)
        assert dependent.trigger == "dependency" and dependent.status == "succeeded"
        # the listener fired the dependents before `load` could start: `report` was not
        assert h.executions(after_both) == []  # `failing` has not succeeded

    harness(test)


def test_overlap_serial_discard_and_cancel(harness: Any) -> None:
    async def test(h: Harness) -> None:
        serial = h.job("serial", endless("serial.db"), overlap="serial")
        discard = h.job("discard", endless("discard.db"), overlap="discard")
        cancel = h.job("cancel", endless("cancel.db"), overlap="cancel")
        for job in (serial, discard, cancel):
            await h.runs.start(job)
            await h.running(job)

        assert (await h.scheduler.fire(Fire(serial, "webhook"))).outcome == "waiting"
        assert (await h.scheduler.fire(Fire(discard, "webhook"))).outcome == "discarded"
        assert (await h.scheduler.fire(Fire(cancel, "webhook"))).outcome == "replacing"

        # cancel: the old run drains and is recorded `cancelled`; the new one runs
        await h.until(lambda: len(h.executions(cancel)) == 2, "the replacing run")
        old, new = h.executions(cancel)
        assert old.status == "cancelled" and new.trigger == "webhook"
        await h.running(cancel)
        # serial: the waiting run starts when the one going on ends
        assert len(h.executions(serial)) == 1
        await h.runs.stop(serial)
        await h.until(lambda: len(h.executions(serial)) == 2, "the waiting run")
        first, second = h.executions(serial)
        assert first.status == "stopped" and second.trigger == "webhook"
        # discard: nothing else ran
        await h.runs.stop(discard)
        (only,) = await h.ended(discard)
        assert only.status == "stopped" and only.trigger == "start"

    harness(test)


def test_a_run_over_its_timeout_is_stopped_and_recorded_timed_out(harness: Any) -> None:
    async def test(h: Harness) -> None:
        job = h.job("slow", endless("slow.db"), timeout_seconds=30)
        await h.runs.start(job)
        await h.running(job)
        h.clock.advance(seconds=29)
        await h.scheduler.tick()
        assert h.executions(job)[0].status == "running"
        h.clock.advance(seconds=1)
        await h.scheduler.tick()
        (run,) = await h.ended(job)
        assert (
            run.status == "timed_out" and "30 s (scheduling.timeout_seconds)" in run.error_message
        )
        assert run.records_written > 0  # drained, not killed
        assert h.status(job) == "failed"

    harness(test)


def test_failed_runs_are_retried_after_their_delay(harness: Any) -> None:
    async def test(h: Harness) -> None:
        job = h.job("flaky", FAILING, retry={"max_retries": 2, "delay_seconds": 10})
        await h.runs.start(job)
        await h.ended(job)
        due, fire = await h.until(lambda: h.scheduler.retries.get(job), "the first retry")
        assert due == T0 + timedelta(seconds=10) and fire == Fire(job, "retry", 1)
        h.clock.advance(seconds=9)
        await h.scheduler.tick()
        assert len(h.executions(job)) == 1
        h.clock.advance(seconds=1)
        await h.scheduler.tick()
        await h.ended(job, 2)
        await h.until(lambda: h.scheduler.retries.get(job), "the second retry")
        h.clock.advance(seconds=10)
        await h.scheduler.tick()
        runs = await h.ended(job, 3)
        assert [(r.trigger, r.status) for r in runs] == [
            ("start", "failed"), ("retry", "failed"), ("retry", "failed"),
        ]  # fmt: skip
        assert job not in h.scheduler.retries  # two retries, no more
        h.clock.advance(seconds=60)
        await h.scheduler.tick()
        assert len(h.executions(job)) == 3

    harness(test)


def test_priority_order_and_the_concurrency_limit(harness: Any) -> None:
    async def test(h: Harness) -> None:
        first = h.job("first", endless("first.db"))
        second = h.job("second", endless("second.db"))
        low = h.job("low", endless("low.db"), priority=1)
        high = h.job("high", endless("high.db"), priority=9)
        dropped = h.job("dropped", endless("dropped.db"), priority=5)
        for job in (first, second):
            await h.runs.start(job)
            await h.running(job)
        for job in (low, dropped, high):
            await h.runs.start(job)
        assert h.runs.queued_job_ids() == [high, dropped, low]
        assert h.runs.status() == {"active": 2, "queued": 3, "max_concurrent": 2}
        assert h.executions(low)[0].status == "queued"

        await h.runs.stop(dropped)  # leaves the queue at once, without a slot
        (gone,) = await h.ended(dropped)
        assert gone.status == "stopped" and h.status(dropped) == "stopped"
        await h.runs.stop(first)
        await h.running(high)
        assert h.runs.status() == {"active": 2, "queued": 1, "max_concurrent": 2}
        assert h.executions(low)[0].status == "queued"
        await h.runs.stop(second)
        await h.running(low)
        for job in (high, low):
            await h.runs.stop(job)
            await h.ended(job)

    harness(test, max_concurrent=2)


def test_retention_purge_runs_once_a_day(harness: Any) -> None:
    async def test(h: Harness) -> None:
        job = h.job("old", counted("old.db"))

        def old_execution() -> None:
            with h.store.session() as session:
                row = executions.start_execution(session, job)
                row.start_time = h.clock() - timedelta(days=31)
                row.status = "succeeded"

        old_execution()
        await h.scheduler.tick()
        assert h.executions(job) == []
        old_execution()
        h.clock.advance(hours=23)
        await h.scheduler.tick()
        assert len(h.executions(job)) == 1
        h.clock.advance(hours=1)
        await h.scheduler.tick()
        assert h.executions(job) == []

    harness(test)
