"""Checks every enabled alert rule against the store and notifies, without spamming.

Each rule yields findings, one per subject (a job id, or `disk <path>`). A finding with no
open event opens one (`firing`); an open event whose finding is gone is `resolved`. A
notification for a subject goes out only if none went for it within the rule's
`cooldown_minutes` (a firing that comes back during the cooldown is recorded, silently;
one still firing after it is reminded); a resolution is sent when its firing was. The
clock is injected, so tests move time instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fustgo.server.alerts import rules as rule_models
from fustgo.server.alerts.notify import Notification, deliver
from fustgo.server.metrics.queries import job_series
from fustgo.store.db import Store
from fustgo.store.repositories.common import new_id
from fustgo.store.tables import AlertEventRow, AlertRuleRow, ExecutionRow, JobRow, utc_now

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
FAILED = ("failed", "error_limit_exceeded", "timed_out")
"""Execution statuses `job_failed` fires on (a run killed by its timeout failed too)."""
UNFINISHED = ("running", "queued")


@dataclass(frozen=True)
class Finding:
    subject: str
    message: str


@dataclass
class Transition:
    """What one evaluation did for one subject of one rule."""

    alert_id: str
    subject: str
    status: str
    """`firing` (new), `reminder` (still firing after the cooldown) or `resolved`."""
    event_id: str
    notification: Notification | None
    """None when the cooldown held it back."""
    channels: list[Any] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)


def _jobs(session: Session, job_id: str | None) -> list[JobRow]:
    if job_id is not None:
        job = session.get(JobRow, job_id)
        return [job] if job is not None else []
    return list(session.scalars(select(JobRow).order_by(JobRow.job_name)))


def _latest(session: Session, job_id: str, *conditions: Any) -> ExecutionRow | None:
    return session.scalars(
        select(ExecutionRow)
        .where(ExecutionRow.job_id == job_id, *conditions)
        .order_by(ExecutionRow.start_time.desc())
        .limit(1)
    ).first()


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.1f} min"


def find(session: Session, rule: AlertRuleRow, now: datetime, disk_path: Path) -> list[Finding]:
    """The subjects for which the rule's condition holds at `now`."""
    condition = rule_models.parse_condition(rule.alert_type, rule.condition)
    found: list[Finding] = []
    if isinstance(condition, rule_models.DiskSpaceCondition):
        import psutil

        path = condition.path or str(disk_path)
        usage = psutil.disk_usage(path)
        free = usage.free / usage.total * 100 if usage.total else 100.0
        if free < condition.min_free_percent:
            found.append(
                Finding(
                    f"disk {path}",
                    f"Free space on {path} is {free:.1f}% (below {condition.min_free_percent:g}%).",
                )
            )
        return found
    for job in _jobs(session, getattr(condition, "job_id", None)):
        name = f"Job `{job.job_name}`"
        if isinstance(condition, rule_models.JobFailedCondition):
            last = _latest(session, job.job_id, ExecutionRow.status.not_in(UNFINISHED))
            if last is not None and last.status in FAILED:
                error = (last.error_message or "").strip().splitlines()
                found.append(
                    Finding(
                        job.job_id,
                        f"{name} failed ({last.status}): {error[0] if error else 'no message'}",
                    )
                )
        elif isinstance(condition, rule_models.LongRunCondition):
            running = _latest(session, job.job_id, ExecutionRow.status == "running")
            limit = timedelta(minutes=condition.max_minutes)
            if running is not None and now - running.start_time > limit:
                found.append(
                    Finding(
                        job.job_id,
                        f"{name} has been running for {_minutes(now - running.start_time)} "
                        f"(longer than {condition.max_minutes:g} min).",
                    )
                )
        elif isinstance(condition, rule_models.NoRunSinceCondition):
            success = _latest(session, job.job_id, ExecutionRow.status == "succeeded")
            since = (success.end_time or success.start_time) if success else job.created_at
            if now - since > timedelta(minutes=condition.minutes):
                what = "succeeded" if success else "run successfully since it was created"
                found.append(
                    Finding(
                        job.job_id,
                        f"{name} has not {what} for {_minutes(now - since)} "
                        f"(limit {condition.minutes:g} min).",
                    )
                )
        elif isinstance(condition, rule_models.ErrorRateCondition):
            window = timedelta(minutes=condition.window_minutes)
            totals = job_series(session, job.job_id, now - window, now)["totals"]
            read, failed = totals["records_read"], totals["records_failed"]
            if read >= condition.min_records and failed * 100 / read > condition.threshold_percent:
                found.append(
                    Finding(
                        job.job_id,
                        f"{name}: {failed * 100 / read:.1f}% of the records read in the last "
                        f"{condition.window_minutes:g} min failed ({failed} of {read}; "
                        f"threshold {condition.threshold_percent:g}%).",
                    )
                )
        elif isinstance(condition, rule_models.LowThroughputCondition):
            window = timedelta(minutes=condition.for_minutes)
            running = _latest(session, job.job_id, ExecutionRow.status == "running")
            if running is None or now - running.start_time < window:
                continue
            totals = job_series(session, job.job_id, now - window, now)["totals"]
            rate = totals["records_per_second"] or 0.0
            if rate < condition.min_records_per_second:
                found.append(
                    Finding(
                        job.job_id,
                        f"{name} read {rate:.1f} records/s over the last "
                        f"{condition.for_minutes:g} min (below "
                        f"{condition.min_records_per_second:g}).",
                    )
                )
    return found


class AlertEvaluator:
    """Evaluates every enabled rule once per `evaluate()` call (see the module doc)."""

    def __init__(
        self,
        store: Store,
        *,
        disk_path: Path,
        clock: Clock = utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.store = store
        self.disk_path = disk_path
        self.clock = clock
        self.transport = transport

    async def evaluate(self) -> list[Transition]:
        now = self.clock()
        transitions = await asyncio.to_thread(self._plan, now)
        to_send = [t for t in transitions if t.notification is not None]
        if to_send:
            async with httpx.AsyncClient(transport=self.transport) as client:
                for transition in to_send:
                    assert transition.notification is not None
                    transition.deliveries = await deliver(
                        transition.channels, transition.notification, client
                    )
                    failed = [d for d in transition.deliveries if not d["ok"]]
                    for delivery in failed:
                        log.warning(
                            "Alert %s (%s) not delivered to %s: %s",
                            transition.notification.alert_name, transition.subject,
                            delivery["channel"], delivery["error"],
                        )  # fmt: skip
            await asyncio.to_thread(self._record, to_send)
        return transitions

    def _plan(self, now: datetime) -> list[Transition]:
        transitions: list[Transition] = []
        with self.store.session() as session:
            rules = list(session.scalars(select(AlertRuleRow).order_by(AlertRuleRow.created_at)))
            for rule in rules:
                open_events = {
                    event.subject: event
                    for event in session.scalars(
                        select(AlertEventRow).where(
                            AlertEventRow.alert_id == rule.alert_id,
                            AlertEventRow.status == "firing",
                        )
                    )
                }
                if not rule.enabled:
                    for event in open_events.values():  # nobody watches it: close quietly
                        event.status, event.resolved_at = "resolved", now
                    continue
                try:
                    findings = find(session, rule, now, self.disk_path)
                    action = rule_models.AlertAction.model_validate(rule.action)
                except (ValidationError, OSError) as exc:
                    log.error("Alert rule %s cannot be evaluated: %s", rule.alert_name, exc)
                    continue
                transitions += self._transitions(
                    session, rule=rule, action=action, findings=findings,
                    open_events=open_events, now=now,
                )  # fmt: skip
        return transitions

    def _transitions(
        self,
        session: Session,
        *,
        rule: AlertRuleRow,
        action: rule_models.AlertAction,
        findings: list[Finding],
        open_events: dict[str, AlertEventRow],
        now: datetime,
    ) -> list[Transition]:
        cooldown = timedelta(minutes=action.cooldown_minutes)
        result: list[Transition] = []

        def notification(event: AlertEventRow, status: str) -> Notification:
            return Notification(
                alert_id=rule.alert_id, alert_name=rule.alert_name, alert_type=rule.alert_type,
                subject=event.subject, status=status, message=event.message,
                started_at=event.started_at, at=now, resolved_at=event.resolved_at,
            )  # fmt: skip

        def quiet(subject: str) -> bool:
            last = session.scalar(
                select(func.max(AlertEventRow.notified_at)).where(
                    AlertEventRow.alert_id == rule.alert_id, AlertEventRow.subject == subject
                )
            )
            return last is not None and now - last < cooldown

        for finding in findings:
            event = open_events.pop(finding.subject, None)
            if event is None:
                event = AlertEventRow(
                    event_id=new_id(), alert_id=rule.alert_id, subject=finding.subject,
                    status="firing", message=finding.message, started_at=now,
                )  # fmt: skip
                session.add(event)
                status = "firing"
            else:
                event.message = finding.message
                if not cooldown or quiet(finding.subject):  # no cooldown: no reminders
                    continue
                status = "reminder"
            held = quiet(finding.subject)
            result.append(
                Transition(
                    rule.alert_id, finding.subject, status, event.event_id,
                    None if held else notification(event, "firing"), list(action.channels),
                )
            )  # fmt: skip
        for event in open_events.values():
            event.status, event.resolved_at = "resolved", now
            send = action.notify_resolved and event.notified_at is not None
            result.append(
                Transition(
                    rule.alert_id, event.subject, "resolved", event.event_id,
                    notification(event, "resolved") if send else None, list(action.channels),
                )
            )  # fmt: skip
        session.flush()
        return result

    def _record(self, sent: list[Transition]) -> None:
        with self.store.session() as session:
            for transition in sent:
                event = session.get(AlertEventRow, transition.event_id)
                if event is None:  # its rule was deleted meanwhile
                    continue
                assert transition.notification is not None
                if transition.status != "resolved":
                    event.notified_at = transition.notification.at
                event.deliveries = transition.deliveries
