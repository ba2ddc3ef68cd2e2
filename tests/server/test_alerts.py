"""Alerts: rules CRUD and its validation errors over HTTP; every rule type firing and
resolving under an injected clock (on SQLite, PostgreSQL and MariaDB); the cooldown; the
webhook formats delivered to a local HTTP server and e-mail to a local SMTP server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from fustgo.server.alerts.evaluator import AlertEvaluator, Transition
from fustgo.store import Store
from fustgo.store.lifecycle import JobStatus
from fustgo.store.repositories import executions, jobs
from fustgo.store.repositories.common import new_id
from fustgo.store.tables import AlertRuleRow, ExecutionRow, MetricSampleRow, utc_now
from tests.server.test_jobs_api import assert_error

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

ALERTS = "/api/v1/alerts"


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """A local HTTP server that records every POST; `/refuse` answers like a robot that
    rejects the signature."""

    url: str
    requests: list[Received] = field(default_factory=list)

    def bodies(self, path: str) -> list[Any]:
        return [r.body for r in self.requests if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            parts = urlsplit(self.path)
            received.append(
                Received(
                    parts.path, parse_qs(parts.query), dict(self.headers),
                    json.loads(self.rfile.read(length)),
                )
            )  # fmt: skip
            answer = (
                {"errcode": 310000, "errmsg": "sign not match"}
                if parts.path == "/refuse"
                else {"errcode": 0, "errmsg": "ok"}
            )
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _job(store: Store, name: str) -> str:
    with store.session() as session:
        return jobs.add_job(
            session, job_name=name, job_type="ETL", config_yaml=f"name: {name}\n",
            status=JobStatus.ready, priority=0, enabled=True,
        ).job_id  # fmt: skip


def _execution(store: Store, job_id: str, start: datetime, status: str = "running", *,
               end: datetime | None = None, error: str | None = None) -> str:  # fmt: skip
    with store.session() as session:
        execution_id = executions.start_execution(session, job_id).execution_id
        if status != "running":
            executions.finish_execution(
                session, execution_id, status=status, summary=None, error=error
            )
        row = session.get(ExecutionRow, execution_id)
        assert row is not None
        row.start_time = start
        row.end_time = end
        return execution_id


def _rule(store: Store, alert_type: str, condition: dict[str, Any], url: str,
          *, cooldown: float = 0.0) -> str:  # fmt: skip
    with store.session() as session:
        row = AlertRuleRow(
            alert_id=new_id(), alert_name=f"{alert_type} rule", alert_type=alert_type,
            condition=condition, enabled=True, created_at=utc_now(),
            action={"channels": [{"type": "webhook", "url": url}],
                    "cooldown_minutes": cooldown, "notify_resolved": True},
        )  # fmt: skip
        session.add(row)
        return row.alert_id


def _evaluate(evaluator: AlertEvaluator) -> list[Transition]:
    return asyncio.run(evaluator.evaluate())


def _states(transitions: list[Transition]) -> set[tuple[str, str]]:
    return {(t.status, t.subject) for t in transitions}


def _sample(store: Store, job_id: str, execution_id: str, at: datetime, *, elapsed: float,
            read: int, failed: int = 0) -> None:  # fmt: skip
    with store.session() as session:
        session.add(
            MetricSampleRow(
                job_id=job_id, execution_id=execution_id, recorded_at=at,
                elapsed_seconds=elapsed, records_read=read, records_written=read - failed,
                records_filtered=0, records_failed=failed, bytes_read=read,
                batches=read / 100, batch_seconds=read / 10000, final=False,
            )
        )  # fmt: skip


def test_each_rule_type_fires_and_resolves(
    store: Store, receiver: Receiver, tmp_path: Path
) -> None:
    now = utc_now().replace(microsecond=0)
    clock = Clock(now)
    evaluator = AlertEvaluator(store, disk_path=tmp_path, clock=clock)
    hook = f"{receiver.url}/hook"
    failing, slow, idle, lossy = (_job(store, n) for n in ("failing", "slow", "idle", "lossy"))
    error = "DataError: row 7 refused\ntraceback…"
    _execution(store, failing, now - timedelta(minutes=9), "failed",
               end=now - timedelta(minutes=8), error=error)  # fmt: skip
    slow_run = _execution(store, slow, now - timedelta(minutes=30))
    _execution(store, idle, now - timedelta(hours=5), "succeeded", end=now - timedelta(hours=4))
    lossy_run = _execution(store, lossy, now - timedelta(minutes=4))
    for i in range(1, 11):  # slow: 2 records/s for the last 10 minutes
        _sample(
            store,
            slow,
            slow_run,
            now - timedelta(minutes=10 - i),
            elapsed=1200.0 + 60 * i,
            read=120 * i,
        )
    for i in range(1, 4):  # lossy: 10% of its records fail
        _sample(store, lossy, lossy_run, now - timedelta(minutes=3 - i),
                elapsed=60.0 * i, read=1000 * i, failed=100 * i)  # fmt: skip

    rules = {
        "job_failed": _rule(store, "job_failed", {}, hook),
        "long_run": _rule(store, "long_run", {"max_minutes": 20}, hook),
        "low_throughput": _rule(
            store, "low_throughput", {"min_records_per_second": 5, "for_minutes": 5}, hook
        ),
        "no_run_since": _rule(store, "no_run_since", {"job_id": idle, "minutes": 120}, hook),
        "error_rate": _rule(
            store, "error_rate", {"threshold_percent": 5, "window_minutes": 5}, hook
        ),
        "disk_space": _rule(store, "disk_space", {"min_free_percent": 99.999}, hook),
    }
    fired = _evaluate(evaluator)
    assert _states(fired) == {
        ("firing", failing), ("firing", slow), ("firing", idle), ("firing", lossy),
        ("firing", f"disk {tmp_path}"),
    }  # fmt: skip
    by_rule = {t.alert_id: t for t in fired}
    assert by_rule[rules["long_run"]].subject == slow
    assert by_rule[rules["low_throughput"]].subject == slow
    assert by_rule[rules["error_rate"]].subject == lossy
    assert all(t.deliveries == [{"channel": f"generic webhook {hook}", "ok": True, "error": None}]
               for t in fired)  # fmt: skip
    messages = {body["alert_type"]: body["message"] for body in receiver.bodies("/hook")}
    assert messages["job_failed"] == "Job `failing` failed (failed): DataError: row 7 refused"
    assert "running for 30.0 min" in messages["long_run"]
    assert "2.0 records/s" in messages["low_throughput"]
    assert "has not succeeded for 240.0 min" in messages["no_run_since"]
    assert "10.0% of the records read" in messages["error_rate"]
    assert "Free space on" in messages["disk_space"]
    assert _evaluate(evaluator) == []  # still firing: no reminders without a cooldown

    # each condition goes away
    _execution(store, failing, now - timedelta(minutes=1), "succeeded", end=now)
    _execution(store, idle, now - timedelta(minutes=2), "succeeded", end=now)
    with store.session() as session:
        for execution_id in (slow_run, lossy_run):
            row = session.get(ExecutionRow, execution_id)
            assert row is not None
            row.status, row.end_time = "succeeded", now
        session.get(AlertRuleRow, rules["disk_space"]).condition = {"min_free_percent": 0.0001}  # type: ignore[union-attr]
    clock.advance(minutes=6)  # the lossy window no longer holds the failures
    resolved = _evaluate(evaluator)
    assert _states(resolved) == {
        ("resolved", failing), ("resolved", slow), ("resolved", idle), ("resolved", lossy),
        ("resolved", f"disk {tmp_path}"),
    }  # fmt: skip
    assert len(resolved) == 6  # slow resolves for two rules
    statuses = [body["status"] for body in receiver.bodies("/hook")]
    assert statuses.count("firing") == 6 and statuses.count("resolved") == 6
    assert _evaluate(evaluator) == []


def test_the_cooldown_holds_back_repeats_and_reminds_after_it(
    store: Store, receiver: Receiver, tmp_path: Path
) -> None:
    now = utc_now().replace(microsecond=0)
    clock = Clock(now)
    evaluator = AlertEvaluator(store, disk_path=tmp_path, clock=clock)
    job = _job(store, "flaky")
    _execution(
        store,
        job,
        now - timedelta(minutes=2),
        "failed",
        end=now - timedelta(minutes=1),
        error="boom",
    )
    rule = _rule(store, "job_failed", {"job_id": job}, f"{receiver.url}/hook", cooldown=30)

    def sent() -> list[str]:
        return [f"{b['status']}: {b['message']}" for b in receiver.bodies("/hook")]

    assert [t.status for t in _evaluate(evaluator)] == ["firing"]
    clock.advance(minutes=10)
    assert _evaluate(evaluator) == []  # still firing, within the cooldown: silent
    clock.advance(minutes=21)
    reminder = _evaluate(evaluator)  # 31 minutes after the first message
    assert [(t.status, t.notification is not None) for t in reminder] == [("reminder", True)]
    # it succeeds: the resolution is sent at once; it fails again 5 minutes later, within
    # the cooldown of the reminder: recorded, not sent
    clock.advance(minutes=1)
    _execution(store, job, clock.now - timedelta(seconds=30), "succeeded", end=clock.now)
    assert [t.status for t in _evaluate(evaluator)] == ["resolved"]
    clock.advance(minutes=5)
    _execution(
        store, job, clock.now - timedelta(seconds=30), "failed", end=clock.now, error="boom again"
    )
    flapped = _evaluate(evaluator)
    assert [(t.status, t.notification) for t in flapped] == [("firing", None)]
    assert sent() == ["firing: Job `flaky` failed (failed): boom"] * 2 + [
        "resolved: Job `flaky` failed (failed): boom"
    ]
    # the quiet firing resolves without a message either (nobody was told it fired)
    clock.advance(minutes=1)
    _execution(store, job, clock.now - timedelta(seconds=30), "succeeded", end=clock.now)
    assert [(t.status, t.notification) for t in _evaluate(evaluator)] == [("resolved", None)]
    assert len(sent()) == 3
    with store.session() as session:
        history = session.query(AlertRuleRow).filter_by(alert_id=rule).one()
        assert history.enabled


def _verify_dingtalk(query: dict[str, list[str]], secret: str) -> None:
    timestamp, sign = query["timestamp"][0], query["sign"][0]
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    assert sign == base64.b64encode(digest.digest()).decode()


def _verify_feishu(body: dict[str, Any], secret: str) -> None:
    digest = hmac.new(f"{body['timestamp']}\n{secret}".encode(), b"", hashlib.sha256)
    assert body["sign"] == base64.b64encode(digest.digest()).decode()


def test_webhook_formats_and_e_mail_reach_local_servers(
    client: TestClient, receiver: Receiver, tmp_path: Path
) -> None:
    from aiosmtpd.controller import Controller

    class Mailbox:
        def __init__(self) -> None:
            self.messages: list[tuple[list[str], bytes]] = []

        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
            self.messages.append((list(envelope.rcpt_tos), envelope.content))
            return "250 Message accepted for delivery"

    mailbox = Mailbox()
    with socket.socket() as probe:  # a free loopback port (the controller needs a real one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(mailbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        channels = [
            {"type": "webhook", "url": f"{receiver.url}/generic", "headers": {"X-Token": "t"}},
            {"type": "webhook", "url": f"{receiver.url}/slack", "format": "slack"},
            {"type": "webhook", "url": f"{receiver.url}/dingtalk?access_token=abc",
             "format": "dingtalk", "secret": "SECding"},
            {"type": "webhook", "url": f"{receiver.url}/wecom?key=k", "format": "wecom"},
            {"type": "webhook", "url": f"{receiver.url}/feishu", "format": "feishu",
             "secret": "feishu-secret"},
            {"type": "webhook", "url": f"{receiver.url}/refuse", "format": "dingtalk"},
            {"type": "email", "to": ["ops@example.com"], "sender": "fustgo@example.com",
             "smtp_host": "127.0.0.1", "smtp_port": port},
        ]  # fmt: skip
        rule = client.post(
            ALERTS,
            json={
                "alert_name": "disk almost full",
                "alert_type": "disk_space",
                "condition": {"path": str(tmp_path), "min_free_percent": 99.999},
                "action": {"channels": channels, "cooldown_minutes": 0},
            },
        ).json()
        store = client.app.state.fustgo.store  # type: ignore[attr-defined]
        evaluator = AlertEvaluator(store, disk_path=tmp_path)
        [fired] = _evaluate(evaluator)
        results = {d["channel"]: d for d in fired.deliveries}
        assert all(d["ok"] for name, d in results.items() if "refuse" not in name), results
        refused = results[f"dingtalk webhook {receiver.url}/refuse"]
        assert refused == {
            "channel": f"dingtalk webhook {receiver.url}/refuse",
            "ok": False,
            "error": "the robot answered code 310000: sign not match",
        }
        assert "email to ops@example.com" in results
    finally:
        smtp.stop()

    title = "[FustGo] FIRING: disk almost full"
    [generic] = [r for r in receiver.requests if r.path == "/generic"]
    assert generic.headers["X-Token"] == "t"
    assert generic.body["alert_id"] == rule["alert_id"] and generic.body["status"] == "firing"
    assert generic.body["subject"] == f"disk {tmp_path}" and generic.body["title"] == title
    [slack] = receiver.bodies("/slack")
    assert slack["text"].startswith(title)
    assert [block["type"] for block in slack["blocks"]] == ["header", "section"]
    assert slack["blocks"][1]["text"]["type"] == "mrkdwn"
    [ding] = [r for r in receiver.requests if r.path == "/dingtalk"]
    assert ding.query["access_token"] == ["abc"]
    _verify_dingtalk(ding.query, "SECding")
    assert ding.body["msgtype"] == "markdown"
    assert ding.body["markdown"]["title"] == title and "Free space" in ding.body["markdown"]["text"]
    [wecom] = receiver.bodies("/wecom")
    assert wecom["msgtype"] == "markdown" and wecom["markdown"]["content"].startswith(
        f"### {title}"
    )
    [feishu] = receiver.bodies("/feishu")
    assert feishu["msg_type"] == "text" and feishu["content"]["text"].startswith(title)
    _verify_feishu(feishu, "feishu-secret")

    [(recipients, raw)] = mailbox.messages
    mail = message_from_bytes(raw)
    assert recipients == ["ops@example.com"] and mail["Subject"] == title
    assert mail["From"] == "fustgo@example.com"
    assert "Free space on" in mail.get_payload()

    # the rule shows it firing, its event records the deliveries, secrets are masked
    shown = client.get(f"{ALERTS}/{rule['alert_id']}").json()
    assert [event["subject"] for event in shown["firing"]] == [f"disk {tmp_path}"]
    assert shown["action"]["channels"][2]["secret"] == "********"
    events = client.get(f"{ALERTS}/{rule['alert_id']}/events").json()
    assert events["total"] == 1 and len(events["items"][0]["deliveries"]) == 7
    tested = client.post(f"{ALERTS}/{rule['alert_id']}/test").json()
    assert tested["ok"] is False  # the refusing robot
    assert receiver.bodies("/slack")[-1]["text"].startswith("[FustGo] TEST: disk almost full")


def test_rules_crud_and_validation_errors(client: TestClient, tmp_path: Path) -> None:
    hook = {"type": "webhook", "url": "http://127.0.0.1:9/hook", "format": "feishu",
            "secret": "s3cret"}  # fmt: skip
    job = client.post(
        "/api/v1/jobs", json={"config_yaml": "name: j\ninput: {type: generate, count: 1}\n"
                              "output: {type: stdout}\n"},
    ).json()  # fmt: skip
    body = {
        "alert_name": "orders failing",
        "alert_type": "job_failed",
        "condition": {"job_id": job["job_id"]},
        "action": {"channels": [hook]},
    }
    created = client.post(ALERTS, json=body)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["action"]["channels"][0]["secret"] == "********"
    assert rule["action"]["cooldown_minutes"] == 30 and rule["firing"] == []
    assert rule["enabled"] is True and rule["condition"] == {"job_id": job["job_id"]}

    def bad(change: dict[str, Any], field: str | None, says: str) -> None:
        assert_error(client.post(ALERTS, json={**body, **change}), 422, field=field, says=says)

    bad({"alert_type": "cpu_high"}, "alert_type", "Input should be")
    bad({"alert_type": "error_rate", "condition": {"threshold_percent": 500}},
        "condition.threshold_percent", "less than or equal to 100")  # fmt: skip
    bad({"alert_type": "no_run_since", "condition": {"minutes": 5}}, "condition.job_id",
        "Field required")  # fmt: skip
    bad({"condition": {"job_id": "nope"}}, "condition.job_id", "no job `nope`")
    bad({"condition": {"jobid": "x"}}, "condition.jobid", "Extra inputs")
    bad({"action": {"channels": []}}, "action.channels", "at least 1 item")
    bad({"action": {"channels": [{**hook, "url": "ftp://x/y"}]}},
        "action.channels.0.webhook.url", "http:// or https://")  # fmt: skip
    bad({"action": {"channels": [{**hook, "format": "teams"}]}},
        "action.channels.0.webhook.format", "Input should be")  # fmt: skip
    bad({"action": {"channels": [{"type": "email", "to": ["nobody"], "sender": "a@b",
                                  "smtp_host": "h"}]}},
        "action.channels.0.email.to", "`nobody` is not an e-mail address")  # fmt: skip
    bad({"action": {"channels": [{**hook, "secret": "********"}]}},
        "action.channels.0.secret", "is the mask")  # fmt: skip

    alert_id = rule["alert_id"]
    other = client.post(ALERTS, json={**body, "alert_name": "disk", "alert_type": "disk_space",
                                      "condition": {}, "enabled": False}).json()  # fmt: skip
    assert other["condition"] == {"path": None, "min_free_percent": 10.0}
    listed = client.get(ALERTS).json()
    assert listed["total"] == 2 and [r["alert_name"] for r in listed["items"]] == [
        "disk", "orders failing"
    ]  # fmt: skip
    assert client.get(ALERTS, params={"alert_type": "disk_space"}).json()["total"] == 1
    assert client.get(ALERTS, params={"enabled": True}).json()["items"][0]["alert_id"] == alert_id
    assert client.get(ALERTS, params={"firing": True}).json()["total"] == 0

    # an update keeps a masked secret, replaces a new one, and checks the type's condition
    masked = client.get(f"{ALERTS}/{alert_id}").json()["action"]
    updated = client.put(
        f"{ALERTS}/{alert_id}", json={"action": {**masked, "cooldown_minutes": 5}}
    ).json()
    assert updated["action"]["cooldown_minutes"] == 5
    store = client.app.state.fustgo.store  # type: ignore[attr-defined]
    with store.session() as session:
        assert session.get(AlertRuleRow, alert_id).action["channels"][0]["secret"] == "s3cret"  # type: ignore[union-attr]
    assert_error(
        client.put(f"{ALERTS}/{alert_id}", json={"alert_type": "long_run"}),
        422, field="condition", says="`condition` is needed",
    )  # fmt: skip
    assert_error(
        client.put(f"{ALERTS}/{alert_id}",
                   json={"alert_type": "long_run", "condition": {"max_minutes": -1}}),
        422, field="condition.max_minutes", says="greater than 0",
    )  # fmt: skip
    changed = client.put(
        f"{ALERTS}/{alert_id}",
        json={"alert_type": "long_run", "condition": {"max_minutes": 60}, "enabled": False},
    ).json()
    assert changed["alert_type"] == "long_run" and changed["enabled"] is False
    assert changed["condition"] == {"job_id": None, "max_minutes": 60.0}

    assert client.delete(f"{ALERTS}/{alert_id}").status_code == 204
    assert_error(client.get(f"{ALERTS}/{alert_id}"), 404, field=None, says="No alert rule")
    assert_error(client.put(f"{ALERTS}/{alert_id}", json={}), 404, field=None, says="No alert")
    assert client.get(ALERTS).json()["total"] == 1


def test_the_monitor_evaluates_in_the_background(
    store: Store, receiver: Receiver, tmp_path: Path
) -> None:
    from fustgo.server.alerts.monitor import Monitor
    from fustgo.server.runs import RunManager
    from fustgo.server.settings import ServerSettings

    _rule(store, "disk_space", {"path": str(tmp_path), "min_free_percent": 99.999},
          f"{receiver.url}/hook")  # fmt: skip
    settings = ServerSettings(db=store.settings, base_dir=tmp_path)

    async def run() -> None:
        monitor = Monitor(store, RunManager(store, settings), settings, evaluate_every=0.05)
        monitor.start()
        try:
            async with asyncio.timeout(10):
                while not receiver.bodies("/hook"):
                    await asyncio.sleep(0.05)
        finally:
            await monitor.stop()

    asyncio.run(run())
    assert receiver.bodies("/hook")[0]["status"] == "firing"
