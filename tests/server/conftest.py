"""Fixtures of the server tests: a metadata store on SQLite, PostgreSQL or MariaDB (each
test its own file, schema or database), and a client of an app over it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fustgo.config.app import DatabaseSettings
from fustgo.server.settings import ServerSettings
from fustgo.store import Store
from tests.databases import my_database, pg_schema

DATABASE_TYPES = ["sqlite", "postgresql", "mysql"]


@contextmanager
def database_settings(kind: str, tmp_path: Path) -> Iterator[DatabaseSettings]:
    """`db:` settings for a fresh, empty store of `kind`, dropped afterwards."""
    if kind == "sqlite":
        yield DatabaseSettings(path=str(tmp_path / "store" / "fustgo.db"))
    elif kind == "postgresql":
        with pg_schema("store") as schema:
            yield DatabaseSettings(
                type="postgresql",
                url=f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}",
            )
    else:
        with my_database("store") as database:
            yield DatabaseSettings(type="mysql", url=f"mysql://root@127.0.0.1:3306/{database}")


def head_revision() -> str:
    """The newest migration, which a migrated store is at."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from fustgo.store.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


@pytest.fixture(params=DATABASE_TYPES)
def db_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseSettings]:
    """A fresh store of each type."""
    with database_settings(request.param, tmp_path) as settings:
        yield settings


@pytest.fixture(params=["postgresql", "mysql"])
def server_db_settings(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[DatabaseSettings]:
    """A fresh store on each database server."""
    with database_settings(request.param, tmp_path) as settings:
        yield settings


@pytest.fixture
def store(db_settings: DatabaseSettings) -> Iterator[Store]:
    """A migrated store."""
    opened = Store(db_settings)
    opened.migrate()
    try:
        yield opened
    finally:
        opened.close()


def make_client(settings: ServerSettings):  # type: ignore[no-untyped-def]
    """A TestClient that runs the app's startup (migrations) and shutdown (runs drained)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette: "install httpx2" (not in our lock)
        from fastapi.testclient import TestClient

        from fustgo.server.app import create_app

    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture
def server_settings(tmp_path: Path) -> ServerSettings:
    """A server on SQLite in `tmp_path`, resolving job paths there."""
    return ServerSettings(db=DatabaseSettings(path=str(tmp_path / "fustgo.db")), base_dir=tmp_path)


@pytest.fixture
def client(server_settings: ServerSettings):  # type: ignore[no-untyped-def]
    with make_client(server_settings) as test_client:
        yield test_client


@pytest.fixture(params=DATABASE_TYPES)
def any_store_client(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A client of an app whose store is each of SQLite, PostgreSQL and MariaDB (job
    paths still resolved in `tmp_path`): the API tests that hold on every `db.type`."""
    with (
        database_settings(request.param, tmp_path) as settings,
        make_client(ServerSettings(db=settings, base_dir=tmp_path)) as test_client,
    ):
        yield test_client
