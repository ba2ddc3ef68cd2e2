"""Which catalog serves which connection: by family name (a saved connection) or from a
plugin instance (its `connection` config), so the CLI and the server find them alike."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fustgo.engine.errors import ConfigError
from fustgo.plugins.api import Plugin
from fustgo.plugins.catalog.contract import Catalog
from fustgo.plugins.catalog.mysql import MysqlCatalog
from fustgo.plugins.catalog.postgresql import PostgresCatalog
from fustgo.plugins.catalog.sqlite import SqliteCatalog
from fustgo.plugins.clients.mysql import MysqlConnection
from fustgo.plugins.clients.postgresql import PostgresConnection
from fustgo.plugins.clients.sqlite import SqliteConnection
from fustgo.plugins.spec import PluginConfig


@dataclass(frozen=True)
class CatalogFamily:
    """A database family with a catalog: its connection settings model and catalog class."""

    name: str
    title: str
    settings: type[PluginConfig]
    """The `connection` model its plugins share; its JSON Schema is the connection form."""
    catalog: type[Catalog]
    aliases: tuple[str, ...] = ()
    """Other plugin names of the same protocol (`mariadb`, `tidb`)."""


_FAMILIES: list[CatalogFamily] = [
    CatalogFamily("postgresql", "PostgreSQL", PostgresConnection, PostgresCatalog),
    CatalogFamily("mysql", "MySQL", MysqlConnection, MysqlCatalog, ("mariadb", "tidb")),
    CatalogFamily("sqlite", "SQLite", SqliteConnection, SqliteCatalog),
]


def register_catalog(family: CatalogFamily) -> None:
    """Add a family (a third-party plugin package with its own catalog)."""
    if any(family.name == known.name for known in _FAMILIES):
        raise ConfigError(f"A catalog family named `{family.name}` is already registered.")
    _FAMILIES.append(family)


def catalog_families() -> list[CatalogFamily]:
    """Every family with a catalog, built-ins first."""
    return list(_FAMILIES)


def find_family(name: str) -> CatalogFamily:
    """The family named `name` (or one of its aliases); a `ConfigError` suggests others."""
    for family in _FAMILIES:
        if name == family.name or name in family.aliases:
            return family
    names = [n for family in _FAMILIES for n in (family.name, *family.aliases)]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    raise ConfigError(f"No catalog for `{name}`; families: {', '.join(names)}.{hint}")


def catalog_of(
    family: str,
    connection: Mapping[str, Any] | PluginConfig,
    *,
    where: str = "connection",
    base_dir: Path | None = None,
) -> Catalog:
    """A catalog for a saved connection (not opened: use `async with`).

    `connection` is the family's connection config as a mapping (validated here) or a
    model instance; `where` is how error messages name it; `base_dir` resolves relative
    SQLite paths.
    """
    found = find_family(family)
    if isinstance(connection, found.settings):
        settings = connection
    else:
        try:
            settings = found.settings.model_validate(connection)
        except ValidationError as exc:
            problems = "; ".join(
                f"`{'.'.join([where, *map(str, error['loc'])])}`: {error['msg']}"
                for error in exc.errors()
            )
            raise ConfigError(f"Invalid {found.title} connection: {problems}.") from exc
    return found.catalog(settings, where=where, base_dir=base_dir)


def catalog_for(plugin: Plugin[Any]) -> Catalog | None:
    """The catalog of an input or output instance's `connection`; None when it has none."""
    settings = getattr(plugin.config, "connection", None)
    for family in _FAMILIES:
        if isinstance(settings, family.settings):
            path = plugin.context.component_path
            where = f"{path}.connection" if path else "connection"
            return family.catalog(settings, where=where, base_dir=plugin.context.base_dir)
    return None
