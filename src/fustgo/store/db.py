"""Opening the metadata store: the engine for `db:` of the main config, and its migrations.

SQLite gets WAL (readers never wait for the writer), a busy timeout (a second writer waits
instead of failing) and foreign keys on. PostgreSQL goes through psycopg 3 and MySQL/MariaDB
through mysqlclient, the drivers FustGo's plugins already use, so the URL's driver part is
chosen here: `postgresql://…` and `mysql://…` are enough in the config.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from fustgo.config.app import DatabaseSettings
from fustgo.engine.errors import ConfigError, TerminalError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
_DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+mysqldb"}


def database_url(settings: DatabaseSettings, *, base_dir: Path | None = None) -> URL:
    """The SQLAlchemy URL of `settings`, with FustGo's driver for each database type."""
    if settings.type == "sqlite":
        path = Path(settings.path).expanduser()
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        return URL.create("sqlite+pysqlite", database=str(path.resolve()))
    assert settings.url is not None  # DatabaseSettings requires it for these types
    try:
        url = make_url(settings.url)
    except ArgumentError as exc:
        raise ConfigError(f"`db.url` is not a database URL: {exc}.") from exc
    driver = _DRIVERS[settings.type]
    url = url.set(drivername=driver)
    if settings.type == "mysql" and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url


def create_store_engine(settings: DatabaseSettings, *, base_dir: Path | None = None) -> Engine:
    """An engine for the store (nothing connects yet); the SQLite folder is created."""
    url = database_url(settings, base_dir=base_dir)
    options: dict[str, Any] = {"pool_pre_ping": True}
    if settings.type == "sqlite":
        assert url.database is not None
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # Sessions are used from the server's thread pool and from run tasks.
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        options.update(pool_size=5, max_overflow=10, pool_recycle=3600)
    engine = create_engine(url, **options)
    if settings.type == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: Engine) -> str | None:
    """Bring the store's schema to the newest migration; returns that revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise TerminalError(
            f"Cannot migrate the metadata store at {_describe(engine)}: {_reason(exc)}. "
            "Check `db:` in the main config and that the database is reachable."
        ) from exc
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    """The migration the store is at; None before the first one."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@dataclass(frozen=True)
class StoreStatus:
    """What `/health` reports about the store."""

    ok: bool
    type: str
    revision: str | None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "type": self.type, "revision": self.revision, "error": self.error}


class Store:
    """The metadata store of one server: an engine, its sessions, and its migrations."""

    def __init__(self, settings: DatabaseSettings, *, base_dir: Path | None = None) -> None:
        self.settings = settings
        self.engine = create_store_engine(settings, base_dir=base_dir)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def migrate(self) -> str | None:
        revision = migrate(self.engine)
        log.info("Metadata store ready at %s (revision %s).", _describe(self.engine), revision)
        return revision

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed when the block ends normally, rolled back otherwise."""
        with self._sessions.begin() as session:
            yield session

    def status(self) -> StoreStatus:
        """Whether the store answers, and at which migration."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return StoreStatus(True, self.settings.type, current_revision(self.engine))
        except SQLAlchemyError as exc:
            return StoreStatus(False, self.settings.type, None, _reason(exc))

    def close(self) -> None:
        self.engine.dispose()


def _describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _reason(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    return str(original or exc).strip().splitlines()[0]
