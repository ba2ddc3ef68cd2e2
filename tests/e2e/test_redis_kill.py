"""`kill -9` a Redis stream → PostgreSQL (upsert) run midway, run it again until the stream
is idle: every one of 100,000 entries arrives, each exactly once in the target, and the
rerun reports the replays (entries written but not acknowledged before the kill, which each
consumer re-reads from its pending list first)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from tests.cli_runner import fustgo_command, run_fustgo

pytestmark = pytest.mark.e2e

DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
MESSAGES = 100_000

PIPELINE = """
name: redis-kill
settings:
  parallelism: 2
  batch_size: 5000
  checkpoint: {{interval: 1s, path: state.db}}
input:
  type: redis
  connection: {{host: 127.0.0.1}}
  stream: {{keys: ["{key}"], group: loader}}
  batching: {{period: 0.2s}}
  {stop}
output:
  type: postgresql
  connection: {{host: 127.0.0.1, database: test, user: postgres}}
  write: {{table: {schema}.target, mode: upsert, conflict_key: [id]}}
"""


def pg(statement: str) -> list[tuple]:
    with psycopg.connect(DSN, autocommit=True) as connection:
        cursor = connection.execute(statement)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []


@pytest.fixture
def setup() -> Iterator[tuple[str, str, redis.Redis]]:
    suffix = uuid.uuid4().hex[:10]
    schema, key = f"fg_xkill_{suffix}", f"fg:xkill:{suffix}"
    pg(f'CREATE SCHEMA "{schema}"')
    pg(f'CREATE TABLE "{schema}".target (id bigint PRIMARY KEY, name text, amount float8)')
    client = redis.Redis(host="127.0.0.1", port=6379)
    for start in range(0, MESSAGES, 10_000):
        pipe = client.pipeline(transaction=False)
        for i in range(start, start + 10_000):
            body = json.dumps({"id": i, "name": f"name-{i}", "amount": i / 100})
            pipe.xadd(key, {"data": body})
        pipe.execute()
    assert client.xlen(key) == MESSAGES
    try:
        yield schema, key, client
    finally:
        pg(f'DROP SCHEMA "{schema}" CASCADE')
        client.delete(key)
        client.close()


def test_kill_9_then_rerun_delivers_every_entry_exactly_once_in_the_target(
    setup: tuple[str, str, redis.Redis], tmp_path: Path
) -> None:
    schema, key, client = setup
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(PIPELINE.format(schema=schema, key=key, stop=""))
    process = subprocess.Popen(
        fustgo_command("run", str(pipeline), "--quiet"),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while pg(f'SELECT count(*) FROM "{schema}".target')[0][0] < MESSAGES // 4:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "a quarter did not arrive in 60 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    before = pg(f'SELECT count(*) FROM "{schema}".target')[0][0]
    assert before < MESSAGES, "the run must be killed midway"
    assert int(client.xpending(key, "loader")["pending"]) > 0  # read, not acknowledged

    drain = tmp_path / "drain.yaml"
    drain.write_text(PIPELINE.format(schema=schema, key=key, stop="stop: {idle: 2s}"))
    again = run_fustgo("run", str(drain), "--quiet", cwd=tmp_path, summary_path=tmp_path / "s")
    assert again.exit_code == 0, again.stdout + again.stderr
    count, distinct = pg(f'SELECT count(*), count(DISTINCT id) FROM "{schema}".target')[0]
    assert count == distinct == MESSAGES
    assert pg(f'SELECT min(id), max(id) FROM "{schema}".target')[0] == (0, MESSAGES - 1)
    assert int(client.xpending(key, "loader")["pending"]) == 0  # everything acknowledged
    assert again.summary is not None
    # Written before the kill but not yet acknowledged: re-read first, found by the upsert.
    assert again.summary["records_updated"] > 0
    assert again.summary["records_written"] == MESSAGES - before + again.summary["records_updated"]
