"""A SQL output whose server-side session is killed mid-run reconnects, writes the batch
again and the run ends with every row (PostgreSQL `pg_terminate_backend`, MariaDB `KILL`)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import my, my_database, pg, pg_schema
from tests.pipeline_runs import run_yaml

pytestmark = pytest.mark.integration

ROWS, BATCH = 40_000, 1_000


class Killer(threading.Thread):
    """Kills the output's sessions once the target holds `after` rows (polled); counts kills."""

    def __init__(self, count: Callable[[], int], kill: Callable[[], int], after: int) -> None:
        super().__init__(daemon=True)
        self.count, self.kill, self.after = count, kill, after
        self.killed = 0
        self.stop = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                if self.count() >= self.after:
                    self.killed += self.kill()
                    return
            except Exception:  # the table is not created yet
                pass
            time.sleep(0.02)


def csv_rows(folder: Path) -> None:
    lines = ["id,name"] + [f"{i},name {i}" for i in range(1, ROWS + 1)]
    (folder / "in.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def pipeline(output: dict[str, Any]) -> str:
    # paced so that the kill lands while rows are still being written
    return f"""
name: reconnect-{uuid.uuid4().hex[:6]}
settings:
  batch_size: {BATCH}
  speed: {{records_per_sec: 20000}}
  retry: {{initial_delay: 0.2, max_retries: 5}}
input: {{type: csv, paths: [in.csv], columns: {{id: int64, name: string}}}}
output: {json.dumps(output)}
"""


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("kill") as name:
        yield name


@pytest.mark.parametrize("mode", ["insert", "upsert"])
def test_postgresql_backend_terminated_mid_run(schema: str, mode: str, tmp_path: Path) -> None:
    csv_rows(tmp_path)
    application = f"fg-out-{schema}"
    output = {
        "type": "postgresql",
        "connection": {
            "host": "127.0.0.1",
            "database": "test",
            "user": "postgres",
            "options": {"application_name": application},
        },
        "write": {"table": f"{schema}.t", "mode": mode, "conflict_key": ["id"]},
    }

    def kill() -> int:
        return len(
            pg(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE application_name = '{application}'"
            )
        )

    killer = Killer(lambda: pg(f'SELECT count(*) FROM "{schema}".t')[0][0], kill, ROWS // 4)
    killer.start()
    try:
        outcome = run_yaml(pipeline(output), tmp_path)
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed >= 1, "the output's backend was never terminated"
    assert outcome.summary.status == "succeeded", outcome.summary.error
    assert outcome.summary.records_written == ROWS
    # every row, once (the created table's primary key would refuse a second copy)
    assert pg(f'SELECT count(*), count(DISTINCT id), max(id) FROM "{schema}".t') == [
        (ROWS, ROWS, ROWS)
    ]


@pytest.fixture
def database() -> Iterator[str]:
    with my_database("kill", local_infile=True) as name:
        yield name


def test_mariadb_connection_killed_mid_run(database: str, tmp_path: Path) -> None:
    csv_rows(tmp_path)
    output = {
        "type": "mariadb",
        "connection": {"host": "127.0.0.1", "database": database, "user": "root"},
        "write": {"table": "t", "mode": "merge", "conflict_key": ["id"]},
    }

    def kill() -> int:
        ids = my(
            "SELECT id FROM information_schema.processlist "
            f"WHERE db = '{database}' AND id <> CONNECTION_ID()"
        )
        for (session,) in ids:
            my(f"KILL {session}")
        return len(ids)

    killer = Killer(lambda: my(f"SELECT count(*) FROM `{database}`.t")[0][0], kill, ROWS // 4)
    killer.start()
    try:
        outcome = run_yaml(pipeline(output), tmp_path)
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed >= 1, "the output's connection was never killed"
    assert outcome.summary.status == "succeeded", outcome.summary.error
    assert outcome.summary.records_written == ROWS
    assert my(f"SELECT count(*), count(DISTINCT id), max(id) FROM `{database}`.t") == [
        (ROWS, ROWS, ROWS)
    ]
