"""The database benchmark's source data: one generated table in PostgreSQL, MariaDB and CSV.

PostgreSQL generates it server-side (`INSERT … SELECT … FROM generate_series`, no client
round trips), deterministic (arithmetic on the row number, no `random()`), so every run of
a given size holds the same rows. MariaDB gets a copy with `LOAD DATA LOCAL INFILE` from
PostgreSQL's text COPY, and the CSV file is PostgreSQL's CSV COPY. Each is made once per
row count and generator version and reused (a marker row / the file name says it is
complete), so reruns start measuring at once.

    id bigint, user_id int, name text, email text (2 % NULL), amount numeric(12,2),
    status text (4 values, 25 % 'cancelled'), created_at timestamptz, payload jsonb
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.harness import OUT

VERSION = 1
"""Bump when the generated rows change, so cached sources are rebuilt."""
DATABASE = "fustgo_bench"
PG = {"PGHOST": "127.0.0.1", "PGPORT": "5432", "PGUSER": "postgres", "PGDATABASE": DATABASE,
      "PGTZ": "UTC", "PGOPTIONS": "-c client_min_messages=warning"}  # fmt: skip
MARIADB = ["mariadb", "--host=127.0.0.1", "--port=3306", "--user=root"]

PG_COLUMNS = (
    "id bigint NOT NULL, user_id integer, name text, email text, amount numeric(12,2), "
    "status text, created_at timestamptz, payload jsonb"
)
MARIADB_COLUMNS = (
    "id BIGINT NOT NULL PRIMARY KEY, user_id INT, name TEXT, email TEXT, amount DECIMAL(12,2), "
    "status TEXT, created_at TIMESTAMP(6) NULL DEFAULT NULL, payload JSON"
)
_GENERATE = """
INSERT INTO {table}
SELECT g,
       1 + (g * 7919) % 200000,
       (ARRAY['Anna','Björn','Chen','Dmitri','Élodie','Fatima','Grzegorz','Hiroshi 浩'])
           [1 + g % 8] || ' ' || g,
       CASE WHEN g % 50 = 0 THEN NULL ELSE 'user' || g || '@example.com' END,
       ((g * 104729) % 10000000)::numeric / 100,
       (ARRAY['paid','pending','refunded','cancelled'])[1 + (g * 31) % 4],
       timestamptz '2024-01-01 00:00:00+00' + (g * 6123457) * interval '1 microsecond',
       jsonb_build_object('n', g % 97, 'tags', jsonb_build_array('t' || g % 5, 'x'),
                          'ok', g % 3 = 0)
FROM generate_series(1, {rows}::bigint) AS g
"""


@dataclass(frozen=True)
class Sources:
    """Names of the generated sources of one row count."""

    rows: int
    pg_table: str
    mariadb_table: str
    csv_path: Path


def psql(sql: str, *, tuples: bool = False, database: str = DATABASE) -> str:
    """Run SQL with psql (stops at the first error) and return what it printed."""
    command = ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql]
    if tuples:
        command[1:1] = ["-A", "-t"]
    done = subprocess.run(command, env=_env(PG), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}\n  SQL: {sql[:300]}")
    return done.stdout.strip()


def mariadb(sql: str, *, database: str | None = DATABASE) -> str:
    """Run SQL with the mariadb client and return what it printed (tab-separated rows)."""
    command = [*MARIADB, "--batch", "--skip-column-names", "-e", sql]
    if database:
        command.append(database)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"mariadb failed: {done.stderr.strip()}\n  SQL: {sql[:300]}")
    return done.stdout.strip()


def prepare(rows: int, *, with_mariadb: bool = True, with_csv: bool = True) -> Sources:
    """Make (or reuse) the sources of `rows` rows; prints what it does and how long it took.

    The MariaDB table and the CSV file are copies of the PostgreSQL table, made only when
    asked for.
    """
    import time

    name = f"source_v{VERSION}_{rows}"
    sources = Sources(rows, f"public.{name}", name, OUT / f"db-{name}.csv")
    if not psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'", tuples=True,
                database="postgres"):  # fmt: skip
        psql(f"CREATE DATABASE {DATABASE}", database="postgres")
    mariadb(f"CREATE DATABASE IF NOT EXISTS {DATABASE} CHARACTER SET utf8mb4", database=None)
    psql("CREATE TABLE IF NOT EXISTS bench_sources (name text PRIMARY KEY)")
    mariadb("CREATE TABLE IF NOT EXISTS bench_sources (name VARCHAR(100) PRIMARY KEY)")
    for label, made, make in (
        ("PostgreSQL table", _pg_done(name), lambda: _make_pg(name, rows)),
        ("MariaDB table", not with_mariadb or _mariadb_done(name), lambda: _make_mariadb(name)),
        (
            "CSV file",
            not with_csv or sources.csv_path.exists(),
            lambda: _make_csv(name, sources.csv_path),
        ),
    ):
        if made:
            continue
        started = time.perf_counter()
        make()
        print(f"  generated the {label} of {rows:,} rows in {time.perf_counter() - started:.1f} s")
    return sources


def _pg_done(name: str) -> bool:
    return bool(psql(f"SELECT 1 FROM bench_sources WHERE name = '{name}'", tuples=True))


def _mariadb_done(name: str) -> bool:
    return bool(mariadb(f"SELECT 1 FROM bench_sources WHERE name = '{name}'"))


def _make_pg(name: str, rows: int) -> None:
    psql(f"DROP TABLE IF EXISTS {name}; CREATE TABLE {name} ({PG_COLUMNS})")
    psql(_GENERATE.format(table=name, rows=rows))
    psql(f"ALTER TABLE {name} ADD PRIMARY KEY (id)")
    # frozen and analyzed: no method pays for hint bits, and the row estimate is right
    psql(f"VACUUM (FREEZE, ANALYZE) {name}")
    psql(f"INSERT INTO bench_sources VALUES ('{name}')")


def _make_mariadb(name: str) -> None:
    mariadb(f"DROP TABLE IF EXISTS {name}; CREATE TABLE {name} ({MARIADB_COLUMNS}) "
            "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")  # fmt: skip
    export = (
        "COPY (SELECT id, user_id, name, email, amount, status, "
        "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), payload "
        f"FROM {name} ORDER BY id) TO STDOUT"
    )  # PostgreSQL's text format is LOAD DATA's default format (tabs, \N, backslashes)
    load = (
        "SET time_zone = '+00:00', unique_checks = 0, foreign_key_checks = 0; "
        f"LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE {name} CHARACTER SET utf8mb4; "
        f"ANALYZE TABLE {name}"
    )
    exporter = subprocess.Popen(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", export],
        env=_env(PG),
        stdout=subprocess.PIPE,
    )
    loaded = subprocess.run(
        [*MARIADB, "--local-infile=1", DATABASE, "-e", load],
        stdin=exporter.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert exporter.stdout is not None
    exporter.stdout.close()
    if exporter.wait() != 0 or loaded.returncode != 0:
        raise RuntimeError(f"Loading MariaDB's copy failed: {loaded.stderr.strip()}")
    mariadb(f"INSERT INTO bench_sources VALUES ('{name}')")


def _make_csv(name: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    psql(f"\\copy (SELECT * FROM {name} ORDER BY id) TO '{tmp}' (FORMAT csv, HEADER)")
    tmp.rename(path)


def _env(extra: dict[str, str]) -> dict[str, str]:
    import os

    return {**os.environ, **extra}
