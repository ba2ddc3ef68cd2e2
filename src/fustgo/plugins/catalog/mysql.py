"""The MySQL/MariaDB/TiDB catalog: `information_schema` over one read-only session.

Schemas are MySQL's databases (system ones left out). Row estimates are
`information_schema.tables.table_rows` (InnoDB samples it, so it can be off by tens of
percent; views have none). MariaDB stores JSON as `longtext` with a `json_valid` check,
which is read back as `json` as the input does.
"""

from __future__ import annotations

from typing import Any

from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import Input, PluginContext
from fustgo.plugins.catalog.contract import BlockingCatalog, ColumnInfo, ServerInfo, TableInfo
from fustgo.plugins.clients.mysql import (
    MysqlConnection,
    connect,
    logical_type,
    qualified,
    quote,
    split_table,
    translate_error,
)

SYSTEM_SCHEMAS = ("information_schema", "mysql", "performance_schema", "sys")
_KINDS = {
    "BASE TABLE": "table",
    "SYSTEM VERSIONED": "table",
    "VIEW": "view",
    "SYSTEM VIEW": "view",
    "SEQUENCE": "sequence",
}
_TABLES = (
    "SELECT table_schema, table_name, table_type, table_rows, table_comment "
    "FROM information_schema.tables WHERE table_schema = %s"
)


class MysqlCatalog(BlockingCatalog):
    """Databases, tables, columns and previews of one MySQL, MariaDB or TiDB server."""

    family = "mysql"
    settings: MysqlConnection

    @property
    def server(self) -> str:
        return self.settings.server

    def _connect(self) -> Any:
        return connect(self.settings, read_only=True, where=self.where)

    def _query(self, sql: str, action: str, *params: Any) -> list[tuple[Any, ...]]:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(sql, params or None)
                rows = list(cursor.fetchall())
            self.connection.commit()  # end the read-only transaction: no snapshot is held
            return rows
        except Exception as exc:
            raise translate_error(exc, action, self.settings, self.where) from exc

    # -- the contract -------------------------------------------------------------------

    async def test(self) -> ServerInfo:
        return await self._call(self._test)

    def _test(self) -> ServerInfo:
        latency = self._round_trip_ms()
        version, user, read_only = self._query(
            "SELECT VERSION(), CURRENT_USER(), @@read_only", f"Testing {self.server}"
        )[0]
        version = _text(version)
        product = "MariaDB" if "mariadb" in version.lower() else "MySQL"
        if "tidb" in version.lower():
            product = "TiDB"
        return ServerInfo(
            product=product,
            version=version.split("-")[0] if product == "MariaDB" else version,
            address=self.server,
            user=_text(user),
            read_only=bool(int(read_only)),
            connect_ms=self._connect_ms,
            latency_ms=latency,
        )

    async def default_schema(self) -> str:
        return self.settings.database

    async def schemas(self) -> list[str]:
        rows = await self._call(
            self._query,
            "SELECT schema_name FROM information_schema.schemata ORDER BY schema_name",
            "Listing the databases",
        )
        return [name for name in map(_text, (row[0] for row in rows)) if name not in SYSTEM_SCHEMAS]

    async def tables(self, schema: str | None = None) -> list[TableInfo]:
        return await self._call(self._tables, schema or self.settings.database)

    def _tables(self, schema: str) -> list[TableInfo]:
        rows = self._query(f"{_TABLES} ORDER BY table_name", f"Listing `{schema}`", schema)
        return [_table_info(row) for row in rows]

    async def table(self, table: str) -> TableInfo:
        return await self._call(self._table, table)

    def _table(self, table: str) -> TableInfo:
        schema, name = split_table(table, self.settings.database)
        found = self._query(f"{_TABLES} AND table_name = %s", "Reading the table", schema, name)
        if not found:
            raise self._not_found(table, schema)
        return _table_info(found[0])

    async def columns(self, table: str) -> list[ColumnInfo]:
        return await self._call(self._columns, table)

    def _columns(self, table: str) -> list[ColumnInfo]:
        schema, name = split_table(table, self.settings.database)
        rows = self._query(
            "SELECT c.column_name, c.column_type, c.is_nullable, c.column_default, "
            "c.column_comment, c.data_type, s.seq_in_index FROM information_schema.columns c "
            "LEFT JOIN information_schema.statistics s ON s.table_schema = c.table_schema AND "
            "s.table_name = c.table_name AND s.column_name = c.column_name AND "
            "s.index_name = 'PRIMARY' WHERE c.table_schema = %s AND c.table_name = %s "
            "ORDER BY c.ordinal_position",
            f"Reading the columns of `{table}`",
            schema,
            name,
        )
        if not rows:
            raise self._not_found(table, schema)
        json = self._json_columns(schema, name, [_text(r[0]) for r in rows if r[5] == "longtext"])
        columns = []
        for raw_name, raw_type, nullable, default, comment, _, position in rows:
            column = _text(raw_name)
            declared = "json" if column in json else _text(raw_type)
            columns.append(
                ColumnInfo(
                    name=column,
                    declared=declared,
                    logical=logical_type(declared),
                    nullable=_text(nullable) == "YES",
                    default=_default(default),
                    primary_key=None if position is None else int(position),
                    comment=_text(comment) or None,
                )
            )
        return columns

    def _json_columns(self, schema: str, table: str, longtext: list[str]) -> set[str]:
        """MariaDB's JSON columns: `longtext` with a `json_valid(col)` check constraint."""
        if not longtext:
            return set()
        try:
            checks = self._query(
                "SELECT check_clause FROM information_schema.check_constraints WHERE "
                "constraint_schema = %s AND table_name = %s",
                "Reading the checks",
                schema,
                table,
            )
        except TerminalError:  # MySQL has no table_name there, and a real JSON type
            return set()
        clauses = {_text(row[0]) for row in checks}
        return {name for name in longtext if f"json_valid({quote(name)})" in clauses}

    def _not_found(self, table: str, schema: str) -> Exception:
        prefix = "" if "." not in table else f"{schema}."
        known = [f"{prefix}{info.name}" for info in self._tables(schema)]
        return self._missing(table, self.server, known)

    def _quoted(self, table: str) -> str:
        return qualified(".".join(split_table(table, self.settings.database)))

    def _input(self, sql: str, limit: int) -> Input[Any]:
        from fustgo.plugins.inputs.mysql import MysqlInput, MysqlInputConfig

        config = MysqlInputConfig.model_validate(
            {"connection": self.settings, "query": {"sql": sql}, "fetch": {"size": limit}}
        )
        return MysqlInput(config, PluginContext(component_path=self.where.rpartition(".")[0]))


def _text(value: Any) -> str:
    """information_schema values arrive as bytes or str depending on the server."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _default(value: Any) -> str | None:
    """MariaDB spells "no default" of a nullable column as the text `NULL`."""
    if value is None:
        return None
    text = _text(value)
    return None if text == "NULL" else text


def _table_info(row: tuple[Any, ...]) -> TableInfo:
    schema, name, kind, estimate, comment = row
    kind = _KINDS.get(_text(kind), _text(kind).lower())
    remark = _text(comment) if comment is not None else ""
    return TableInfo(
        schema=_text(schema),
        name=_text(name),
        kind=kind,
        rows_estimate=None if estimate is None or kind == "view" else int(estimate),
        comment=None if not remark or (kind == "view" and remark == "VIEW") else remark,
    )
