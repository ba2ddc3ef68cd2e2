"""The test servers and files the SQL tests share: the local PostgreSQL and MariaDB (see
TEST-PEERS), one statement at a time on a fresh autocommit session, and a uniquely named
schema or database per test, dropped afterwards whatever the test did."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_CONNECTION = {"host": "127.0.0.1", "database": "test", "user": "postgres"}
"""The postgresql plugins' `connection` section for the same server."""


def unique_name(prefix: str) -> str:
    """`fg_<prefix>_<10 hex>`: tests running at once never share a schema or database."""
    return f"fg_{prefix}_{uuid.uuid4().hex[:10]}"


def pg(statement: str, params: Any = None, *, many: bool = False) -> list[tuple[Any, ...]]:
    """Run `statement` on the test PostgreSQL (autocommit); its rows, none for DDL/DML.

    Without `params` several statements separated by `;` may run at once."""
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        cursor = connection.cursor()
        if many:
            cursor.executemany(statement, params)  # type: ignore[arg-type]
        else:
            cursor.execute(statement, params)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []


@contextmanager
def pg_schema(prefix: str) -> Iterator[str]:
    """A new schema `fg_<prefix>_<hex>`, dropped with everything in it on the way out."""
    name = unique_name(prefix)
    pg(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        pg(f'DROP SCHEMA "{name}" CASCADE')


def my(
    statement: str, params: Any = None, *, many: bool = False, database: str | None = None
) -> list[tuple[Any, ...]]:
    """Run `statement` on the test MariaDB as root (utf8mb4, committed); its rows.

    `database` is the session's default database, for statements with unqualified names."""
    import MySQLdb

    connection = MySQLdb.connect(
        host="127.0.0.1", user="root", charset="utf8mb4", database=database or ""
    )
    try:
        cursor = connection.cursor()
        (cursor.executemany if many else cursor.execute)(statement, params)
        found = list(cursor.fetchall()) if cursor.description else []
        connection.commit()
        return found
    finally:
        connection.close()


@contextmanager
def my_database(prefix: str, *, local_infile: bool = False) -> Iterator[str]:
    """A new database `fg_<prefix>_<hex>`, dropped on the way out. `local_infile` lets the
    server accept `LOAD DATA LOCAL INFILE` (the mysql output's fast path)."""
    name = unique_name(prefix)
    if local_infile:
        my("SET GLOBAL local_infile = 1")
    my(f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        my(f"DROP DATABASE `{name}`")


def make_sqlite(
    path: Path, *scripts: str, rows: dict[str, list[tuple[Any, ...]]] | None = None
) -> Path:
    """Create a SQLite file: run each script (`;`-separated statements), insert `rows` by
    table, commit and close (no connection stays open on a file a plugin will use)."""
    connection = sqlite3.connect(path)
    try:
        for script in scripts:
            connection.executescript(script)
        for table, values in (rows or {}).items():
            if values:
                marks = ", ".join("?" for _ in values[0])
                connection.executemany(f'INSERT INTO "{table}" VALUES ({marks})', values)
        connection.commit()
    finally:
        connection.close()
    return path


def sqlite_rows(path: Path, statement: str) -> list[tuple[Any, ...]]:
    """The rows of `statement` on the SQLite file at `path` (a pipeline's target), read on a
    connection closed before returning."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(statement).fetchall()
    finally:
        connection.close()


def sqlite_ids(path: Path, table: str = "t") -> list[int]:
    """The `id`s in `table` of the SQLite file at `path`; none while the table is not there
    yet (a pipeline still starting)."""
    try:
        return [row[0] for row in sqlite_rows(path, f'SELECT id FROM "{table}"')]
    except sqlite3.OperationalError:
        return []
