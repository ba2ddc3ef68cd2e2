"""`lookup.type: sql`: what the SQLite and PostgreSQL lookups share.

The lookup reads a table or the result of a query; either way it is wrapped as a subquery
(`SELECT … FROM (<query>) AS q WHERE <q's key in the batch's keys>`), so the database
filters by key (a query over a simple view of a table keeps using its indexes) and one
statement per batch fetches the rows of every key the cache does not hold.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from typing import Any, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.processors.enrichment.base import (
    KeyNames,
    LookupColumns,
    RemoteSource,
    Retrier,
    check_fields_are_not_keys,
)
from fustgo.plugins.spec import PluginConfig, ui


class SqlLookupConfig(PluginConfig):
    """Options every SQL lookup has."""

    table: str | None = Field(default=None, json_schema_extra=ui(placeholder="customers"))
    """The table (or view) to look rows up in, optionally with its schema (`crm.customers`);
    set `table` or `query`."""
    query: str | None = Field(
        default=None,
        json_schema_extra=ui(widget="sql", placeholder="SELECT id, name, tier FROM customers"),
    )
    """A SELECT whose rows are looked up (it is filtered by key around it); set `table` or
    `query`."""
    key: KeyNames | None = None
    """The key column(s) of the table or query, in the order of the processor's `key`; by
    default the same names as the records' key fields."""

    @model_validator(mode="after")
    def _table_or_query(self) -> Self:
        if (self.table is None) == (self.query is None):
            raise ValueError("set exactly one of `table` and `query`")
        if self.query is not None and not self.query.strip().rstrip(";").strip():
            raise ValueError("`query` is empty")
        return self

    def rows_sql(self) -> str:
        """The table or the query, ready to follow `FROM`."""
        if self.table is not None:
            return ".".join(quote(part) for part in self.table.split("."))
        assert self.query is not None
        return f"({self.query.strip().rstrip(';').strip()})"

    @property
    def what(self) -> str:
        """The table or query as messages name it."""
        return f"table `{self.table}`" if self.table is not None else "`lookup.query`"


def quote(identifier: str) -> str:
    """An identifier quoted as both SQLite and PostgreSQL read it."""
    return '"' + identifier.replace('"', '""') + '"'


def check_columns(available: list[str], columns: LookupColumns, where: str) -> list[str]:
    """The field names to select (all non-key columns when `fields` is unset).

    Raises a `TerminalError` listing the columns when a key, field or typed name is missing.
    """
    wanted = [*columns.lookup_keys, *(columns.fields or ()), *columns.types]
    missing = list(dict.fromkeys(name for name in wanted if name not in available))
    if missing:
        raise TerminalError(
            f"{where} has no column {', '.join(f'`{n}`' for n in missing)}; its columns are "
            f"{', '.join(f'`{n}`' for n in available)}. Fix `key`, `lookup.key`, `fields` "
            "or `types`."
        )
    check_fields_are_not_keys(columns, where)
    if columns.fields is not None:
        return list(columns.fields)
    return [name for name in available if name not in columns.lookup_keys]


class SqlSource(RemoteSource):
    """A lookup over one database connection: opened at first use, one call at a time."""

    def __init__(self, columns: LookupColumns, context: PluginContext) -> None:
        super().__init__(columns, context)
        self._connection: Any = None
        self._lock = threading.Lock()

    @abstractmethod
    def _connect(self) -> Any:
        """The open connection (opening it, and describing the columns, at the first call)."""

    @abstractmethod
    def _query(self, keys: pa.Table) -> pa.Table:
        """The rows of `keys`, in one statement."""

    def check(self) -> None:
        with self._lock:
            self._connect()
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    async def fetch(self, keys: pa.Table, retry: Retrier) -> pa.Table:
        async def attempt() -> pa.Table:
            return self._query(keys)

        return await retry(attempt, f"querying {self.description}")
