"""Connections of the postgresql input against the real server: the per-run pool, reading
on after backends are terminated, `fetch.timeout`, TLS settings and read-only sessions."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import ValidationError

from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.postgresql import PostgresqlInput, PostgresqlInputConfig
from tests.databases import PG_CONNECTION, PG_DSN, pg, pg_schema, sqlite_rows
from tests.pipeline_runs import run_yaml
from tests.plugins.inputs.reading import read_splits

pytestmark = pytest.mark.integration

ROWS = 300_000


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("rc") as name:
        yield name


def make(query: dict[str, Any], *, pipeline: str = "pipeline", **config: Any) -> PostgresqlInput:
    connection = {**PG_CONNECTION, **config.pop("connection", {})}
    model = PostgresqlInputConfig.model_validate(
        {"connection": connection, "query": query, **config}
    )
    return PostgresqlInput(model, PluginContext(pipeline_name=pipeline, component_path="input"))


def test_splits_share_the_runs_connections(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t AS SELECT g::bigint AS id FROM generate_series(1, 1000) g')
    plugin = make({"table": f"{schema}.t", "split_key": "id"}, fetch={"size": 100})
    batches = read_splits(plugin, 4)
    assert sum(b.num_rows for b in batches) == 1000
    assert len({b.metadata.split_id for b in batches}) >= 4
    # the discovery connection, and one reading connection reused by every split
    assert (plugin._pool.opened, plugin._pool.discarded) == (2, 0)
    assert plugin._pool.reused >= 3
    assert plugin._pool.closed and plugin._pool.open_connections == 0


def test_a_run_whose_reading_backends_are_terminated_finishes_with_every_row(
    schema: str, in_tmp_cwd: Path
) -> None:
    pg(
        f'CREATE TABLE "{schema}".source AS SELECT g::bigint AS id, md5(g::text) AS name, '
        f"(g % 1000)::numeric(12,2) AS amount FROM generate_series(1, {ROWS}) g"
    )
    pg(f'ALTER TABLE "{schema}".source ADD PRIMARY KEY (id)')
    pipeline = f"reconnect-{schema}"
    killed: list[int] = []
    stop = threading.Event()

    def terminate_readers() -> None:
        """Terminate the reading backends three times, once each is streaming rows."""
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            while len(killed) < 3 and not stop.is_set():
                found = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND "
                    "state = 'active' AND query LIKE 'COPY%%'",
                    (f"fustgo {pipeline} input",),
                ).fetchall()
                if found:
                    time.sleep(0.2)  # let it stream for a while first
                    terminated = admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = %s "
                        "AND state = 'active' AND query LIKE 'COPY%%'",
                        (found[0][0],),
                    ).fetchall()
                    if terminated:
                        killed.append(found[0][0])
                time.sleep(0.05)

    killer = threading.Thread(target=terminate_readers)
    killer.start()
    try:
        outcome = run_yaml(
            f"""
name: {pipeline}
settings:
  batch_size: 1000
  speed: {{records_per_sec: 75000}}
  retry: {{initial_delay: 0.05, max_retries: 5}}
input:
  type: postgresql
  connection: {{host: 127.0.0.1, database: test, user: postgres}}
  query: {{table: {schema}.source}}
  fetch: {{size: 1000}}
output:
  type: sqlite
  connection: {{database: target.db}}
  write: {{table: target}}
""",
            in_tmp_cwd,
        )
    finally:
        stop.set()
        killer.join()
    summary = outcome.summary
    assert summary.status == "succeeded", summary.error
    # the read may end before the third kill, and a kill landing as a stream ends may find
    # the client holding every row already: at least one re-read from a checkpoint
    assert killed and summary.retries >= 1, (killed, summary.retries)
    assert sqlite_rows(
        in_tmp_cwd / "target.db", "SELECT count(*), count(DISTINCT id), sum(id) FROM target"
    ) == [(ROWS, ROWS, ROWS * (ROWS + 1) // 2)]


def test_a_lost_discovery_connection_is_retryable_and_reopened(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t AS SELECT g AS id FROM generate_series(1, 10) g')
    pipeline = f"discovery-{schema}"
    plugin = make({"table": f"{schema}.t", "split_key": "id"}, pipeline=pipeline)

    async def run() -> int:
        await plugin.open()
        try:
            pg(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                f"application_name = 'fustgo {pipeline} input'"
            )
            with pytest.raises(RetryableError, match=r"connection to .* was lost"):
                await plugin.splits(1)
            splits = await plugin.splits(1)  # the runner's retry: a new connection
            return sum([b.num_rows for s in splits async for b in plugin.read(s, None)])
        finally:
            await plugin.close()

    assert asyncio.run(run()) == 10


def test_fetch_timeout_cancels_a_slow_query_and_names_the_field() -> None:
    plugin = make(
        {"sql": "SELECT 1 AS one FROM pg_sleep(5)"}, fetch={"timeout": "300ms"}, pipeline="slow"
    )
    started = time.monotonic()
    with pytest.raises(TerminalError, match=r"0\.3 s, the limit set by `input\.fetch\.timeout`"):
        read_splits(plugin, 1)
    assert time.monotonic() - started < 3
    still_running = pg(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fustgo slow input' "
        "AND query LIKE '%pg_sleep%' AND state = 'active'"
    )
    assert still_running == [(0,)]  # cancelled on the server, not just abandoned


def test_fetch_timeout_limits_each_wait_not_a_long_read(schema: str) -> None:
    """A split streamed to a slow consumer takes longer than the timeout in all (a server
    `statement_timeout` would cancel it); only waiting on the server counts."""
    rows = 400_000  # about 40 MB: several of ADBC's batches
    pg(
        f'CREATE TABLE "{schema}".t AS SELECT g AS id, md5(g::text) || md5(g::text) AS v '
        f"FROM generate_series(1, {rows}) g"
    )
    plugin = make({"table": f"{schema}.t"}, fetch={"timeout": "1s", "size": 100_000})

    async def run() -> int:
        await plugin.open()
        try:
            count = 0
            for split in await plugin.splits(1):
                async for batch in plugin.read(split, None):
                    count += batch.num_rows
                    await asyncio.sleep(0.5)  # a slow output
            return count
        finally:
            await plugin.close()

    started = time.monotonic()
    assert asyncio.run(run()) == rows
    assert time.monotonic() - started > 2


def test_sslmode_reaches_libpq_and_its_failure_names_the_field() -> None:
    plugin = make({"sql": "SELECT 1 AS one"}, connection={"sslmode": "require"})
    with pytest.raises(TerminalError, match=r"TLS .*`input\.connection\.sslmode`") as error:
        read_splits(plugin, 1)
    assert "server does not support SSL" in str(error.value)


@pytest.mark.parametrize(
    ("tls", "message"),
    [
        ({"sslmode": "disable", "sslrootcert": "ca.pem"}, "sslrootcert` would be ignored"),
        ({"sslmode": "verify-full"}, "set `sslrootcert`"),
        ({"sslkey": "client.key"}, "set `sslcert` too"),
        ({"sslmode": "sometimes"}, "sslmode"),
    ],
)
def test_inconsistent_tls_settings_are_config_errors(tls: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PostgresqlInputConfig.model_validate(
            {"connection": {**PG_CONNECTION, **tls}, "query": {"table": "t"}}
        )


def test_sessions_are_read_only_even_when_options_try_otherwise(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t (id int)')
    pg(
        f'CREATE FUNCTION "{schema}".sneaky() RETURNS int LANGUAGE sql AS '
        f'$$ INSERT INTO "{schema}".t VALUES (1) RETURNING id $$'
    )
    plugin = make(
        {"sql": f'SELECT "{schema}".sneaky() AS id'},
        connection={"options": {"options": "-c default_transaction_read_only=off"}},
    )
    with pytest.raises(TerminalError, match="sessions are read-only"):
        read_splits(plugin, 1)
    assert pg(f'SELECT count(*) FROM "{schema}".t') == [(0,)]
