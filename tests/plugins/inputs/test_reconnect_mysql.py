"""Connections of the mysql input against the real MariaDB server: the per-run pool,
reading on after sessions are killed, `fetch.timeout`, TLS settings, read-only sessions."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import MySQLdb
import pytest
from pydantic import ValidationError

from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.mysql import MysqlInput, MysqlInputConfig
from tests.databases import my, my_database, sqlite_rows
from tests.pipeline_runs import run_yaml
from tests.plugins.inputs.reading import read_splits

pytestmark = pytest.mark.integration

ROWS = 300_000


@pytest.fixture
def database() -> Iterator[str]:
    with my_database("rc") as name:
        yield name


def make(database: str, query: dict[str, Any], **config: Any) -> MysqlInput:
    connection = {"host": "127.0.0.1", "database": database, "user": "root"}
    model = MysqlInputConfig.model_validate(
        {"connection": {**connection, **config.pop("connection", {})}, "query": query, **config}
    )
    return MysqlInput(model, PluginContext(component_path="input"))


def sessions(database: str) -> list[int]:
    """Ids of the sessions connected to `database`, other than the one asking."""
    return [
        int(row[0])
        for row in my(
            "SELECT id FROM information_schema.processlist WHERE db = %s AND id <> connection_id()",
            (database,),
        )
    ]


def no_sessions_left(database: str) -> bool:
    """True once every session on `database` has ended (the server ends them a moment after
    the client closes)."""
    deadline = time.monotonic() + 3
    while sessions(database):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("connectorx", [True, False], ids=["connectorx", "mysqlclient"])
def test_splits_share_the_runs_connections(database: str, connectorx: bool) -> None:
    """mysqlclient splits borrow the pool's connections; connectorx pages open their own
    sessions, so only discovery uses the pool (`options` make the input use mysqlclient)."""
    my(f"CREATE TABLE `{database}`.t (id bigint PRIMARY KEY)")
    my(f"INSERT INTO `{database}`.t SELECT seq FROM `{database}`.seq_1_to_1000")
    options = {} if connectorx else {"connection": {"options": {"read_timeout": 600}}}
    for query in ({"table": "t", "split_key": "id"}, {"sql": "SELECT id FROM t ORDER BY id"}):
        plugin = make(database, query, fetch={"size": 100}, **options)
        assert sum(b.num_rows for b in read_splits(plugin, 4)) == 1000
        splits = 1 if "sql" in query else 4
        if connectorx and "table" in query:
            assert (plugin._pool.opened, plugin._pool.reused) == (1, 0)
        else:
            assert (plugin._pool.opened, plugin._pool.reused) == (2, splits - 1)
        assert plugin._pool.discarded == 0
    assert no_sessions_left(database)  # every connection closed with the input


def kill_readers(database: str, stop: Any, found: Any) -> None:
    """KILL a session running a connectorx page query (found by the comment it carries),
    three times, once reading is under way. A page is short, so every 25,000th row sleeps
    0.2 s (the run's `where`) and only a sleeping query is killed, so the KILL lands
    mid-page; a session that ended before the KILL does not count. Each kill is put on
    `found`."""
    killed: list[int] = []
    admin = MySQLdb.connect(host="127.0.0.1", user="root")
    try:
        cursor = admin.cursor()
        while len(killed) < 3 and not stop.is_set():
            cursor.execute(
                "SELECT id FROM information_schema.processlist WHERE db = %s AND "
                "info LIKE 'SELECT /* fustgo reconnect-mariadb input */%%' "
                "AND id <> connection_id() AND state = 'User sleep'",
                (database,),
            )
            ids = [int(row[0]) for row in cursor.fetchall() if int(row[0]) not in killed]
            if ids:
                try:
                    cursor.execute(f"KILL {ids[0]}")
                except MySQLdb.OperationalError as exc:
                    if exc.args[0] != 1094:  # unknown thread: the page had ended
                        raise
                    continue
                killed.append(ids[0])
                found.put(ids[0])
                time.sleep(0.3)
            time.sleep(0.002)
    finally:
        admin.close()


def test_a_run_whose_reading_sessions_are_killed_finishes_with_every_row(
    database: str, in_tmp_cwd: Path
) -> None:
    my(
        f"CREATE TABLE `{database}`.source (id bigint PRIMARY KEY, name varchar(40), "
        "amount decimal(12,2))"
    )
    my(
        f"INSERT INTO `{database}`.source SELECT seq, md5(seq), seq % 1000 "
        f"FROM `{database}`.seq_1_to_{ROWS}"
    )
    # connectorx holds the GIL while it waits for rows, so the killer is a process of its own
    context = multiprocessing.get_context("fork")
    stop, found = context.Event(), context.Queue()
    killer = context.Process(target=kill_readers, args=(database, stop, found))
    killer.start()
    try:
        outcome = run_yaml(
            f"""
name: reconnect-mariadb
settings:
  batch_size: 1000
  speed: {{records_per_sec: 75000}}
  retry: {{initial_delay: 0.05, max_retries: 5}}
input:
  type: mariadb
  connection: {{host: 127.0.0.1, database: {database}, user: root}}
  query: {{table: source, where: "id % 25000 <> 5000 OR sleep(0.2) = 0"}}
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
        killer.join(10)
    killed = [found.get(timeout=1) for _ in range(found.qsize())]
    summary = outcome.summary
    assert summary.status == "succeeded", summary.error
    assert len(killed) == 3 and summary.retries == 3, (killed, summary.retries)
    assert sqlite_rows(
        in_tmp_cwd / "target.db", "SELECT count(*), count(DISTINCT id), sum(id) FROM target"
    ) == [(ROWS, ROWS, ROWS * (ROWS + 1) // 2)]


def test_a_killed_discovery_session_is_retryable_and_reopened(database: str) -> None:
    my(f"CREATE TABLE `{database}`.t (id int PRIMARY KEY)")
    my(f"INSERT INTO `{database}`.t SELECT seq FROM `{database}`.seq_1_to_10")
    plugin = make(database, {"table": "t", "split_key": "id"})

    async def run() -> int:
        await plugin.open()
        try:
            for session in sessions(database):
                my(f"KILL {session}")
            with pytest.raises(RetryableError, match=r"connection to MySQL .* was lost"):
                await plugin.splits(1)
            splits = await plugin.splits(1)  # the runner's retry: a new connection
            return sum([b.num_rows for s in splits async for b in plugin.read(s, None)])
        finally:
            await plugin.close()

    assert asyncio.run(run()) == 10


@pytest.mark.parametrize("read", ["connectorx pages", "view", "one stream"])
def test_fetch_timeout_kills_a_slow_query_and_names_the_field(database: str, read: str) -> None:
    my(f"CREATE TABLE `{database}`.t (id int PRIMARY KEY)")
    my(f"INSERT INTO `{database}`.t SELECT seq FROM `{database}`.seq_1_to_20")
    query: dict[str, Any]
    if read == "connectorx pages":  # the server's statement limit, set on the session
        query = {"table": "t", "where": "sleep(id = 15) = 0"}
    elif read == "view":  # no primary key to page by: one mysqlclient stream, KILL QUERY
        my(f"CREATE VIEW `{database}`.slow AS SELECT id, sleep(id = 15) AS s FROM `{database}`.t")
        query = {"table": "slow", "split_key": "id"}
    else:
        query = {"sql": "SELECT id, sleep(id = 15) AS s FROM t ORDER BY id"}
    plugin = make(database, query, fetch={"timeout": 0.3, "size": 5})
    started = time.monotonic()
    with pytest.raises(TerminalError, match=r"0\.3 s, the limit set by `input\.fetch\.timeout`"):
        read_splits(plugin, 1)
    assert time.monotonic() - started < 0.9  # killed on the server, not waited out
    assert no_sessions_left(database)


def test_ssl_mode_required_is_enforced_and_names_the_field(database: str) -> None:
    plugin = make(database, {"sql": "SELECT 1 AS one"}, connection={"ssl_mode": "required"})
    with pytest.raises(TerminalError, match=r"did not set up TLS.*`input\.connection\.ssl_mode`"):
        read_splits(plugin, 1)


def test_a_tls_failure_names_the_field(database: str) -> None:
    plugin = make(
        database,
        {"sql": "SELECT 1 AS one"},
        connection={"ssl_mode": "VERIFY_CA", "ssl_ca": "/etc/ssl/certs/ca-certificates.crt"},
    )
    with pytest.raises(TerminalError, match=r"TLS .*failed.*`input\.connection\.ssl_mode`"):
        read_splits(plugin, 1)


@pytest.mark.parametrize(
    ("tls", "message"),
    [
        ({"ssl_mode": "DISABLED", "ssl_ca": "ca.pem"}, "ssl_ca` would be ignored"),
        ({"ssl_mode": "VERIFY_IDENTITY"}, "set `ssl_ca`"),
        ({"ssl_cert": "client.pem"}, "both `ssl_cert` and `ssl_key`"),
        ({"ssl_mode": "SOMETIMES"}, "ssl_mode"),
    ],
)
def test_inconsistent_tls_settings_are_config_errors(tls: dict[str, str], message: str) -> None:
    connection = {"host": "127.0.0.1", "database": "d", "user": "u", **tls}
    with pytest.raises(ValidationError, match=message):
        MysqlInputConfig.model_validate({"connection": connection, "query": {"table": "t"}})


def test_sessions_are_read_only(database: str) -> None:
    my(f"CREATE TABLE `{database}`.t (id int)")
    my(
        f"CREATE FUNCTION `{database}`.sneaky() RETURNS int MODIFIES SQL DATA "
        f"BEGIN INSERT INTO `{database}`.t VALUES (1); RETURN 1; END"
    )
    plugin = make(database, {"sql": "SELECT sneaky() AS id"})
    with pytest.raises(TerminalError, match="sessions are read-only"):
        read_splits(plugin, 1)
    assert my(f"SELECT count(*) FROM `{database}`.t") == [(0,)]
