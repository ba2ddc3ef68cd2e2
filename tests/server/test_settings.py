"""The main config's `db:` section and the URL the store is opened with."""

from __future__ import annotations

from pathlib import Path

import pytest

from fustgo.config.app import DatabaseSettings
from fustgo.engine.errors import ConfigError
from fustgo.server.settings import ServerSettings
from fustgo.store.db import database_url

pytestmark = pytest.mark.unit


def test_the_db_section_with_its_defaults_and_its_paths(tmp_path: Path) -> None:
    (tmp_path / "fustgo.yaml").write_text("db: {path: meta/store.db}\n")
    settings = ServerSettings.from_main_config(tmp_path / "fustgo.yaml")
    assert settings.base_dir == tmp_path.resolve()
    assert settings.db.type == "sqlite" and settings.db.execution_retention_days == 30
    url = database_url(settings.db, base_dir=settings.base_dir)
    assert url.drivername == "sqlite+pysqlite"
    assert url.database == str(tmp_path.resolve() / "meta" / "store.db")
    defaults = ServerSettings.from_main_config(None)
    assert defaults.db == DatabaseSettings() and defaults.config_file is None


def test_urls_get_fustgo_s_drivers() -> None:
    pg = DatabaseSettings(type="postgresql", url="postgresql://u:p%40ss@h:5433/meta")
    assert database_url(pg).drivername == "postgresql+psycopg"
    assert database_url(pg).password == "p@ss" and database_url(pg).port == 5433
    my = database_url(DatabaseSettings(type="mysql", url="mariadb://root@h/meta"))
    assert my.drivername == "mysql+mysqldb" and my.query["charset"] == "utf8mb4"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("db: {type: postgresql}", "`db.type: postgresql` needs `db.url`"),
        ("db: {type: mysql, url: 'postgresql://h/x'}", "starts with `postgresql://`"),
        ("db: {url: 'mysql://h/x'}", "`db.url` is for `postgresql` and `mysql`"),
        ("db: {type: oracle}", "db.type"),
        ("db: {execution_retention_days: 0}", "db.execution_retention_days"),
        ("db: {pth: x.db}", "pth"),
    ],
)
def test_a_wrong_db_section_is_refused_with_its_line(
    tmp_path: Path, section: str, message: str
) -> None:
    (tmp_path / "fustgo.yaml").write_text(f"plugins: {{}}\n{section}\n")
    with pytest.raises(ConfigError) as raised:
        ServerSettings.from_main_config(tmp_path / "fustgo.yaml")
    assert message in str(raised.value) and "fustgo.yaml:2:" in str(raised.value)
