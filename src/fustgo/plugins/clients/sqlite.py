"""What the SQLite input and output share: connection, the type table, identifiers, values.

The type table is the one mapping between SQLite's declared column types and FustGo's
logical types (`sqlite_type` one way, `logical_type` the other; documented with examples in
`docs/plugins/sqlite.md`). SQLite stores
every value in one of five storage classes whatever the column declares, so the declared
type is what keeps a schema stable across batches, and values are written in documented
representations that the input reads back to the same logical type:

    logical type      declared type         stored as
    int8 … int64      TINYINT … INTEGER     integer
    uint8 … uint64    UNSIGNED TINYINT …    integer (uint64 above 2^63-1 is rejected)
    float32/float64   FLOAT / REAL          real
    bool              BOOLEAN               integer 0 or 1
    string            TEXT                  text
    binary            BLOB                  blob
    date              DATE                  text `YYYY-MM-DD`
    time              TIME                  text `HH:MM:SS.ffffff`
    timestamp         TIMESTAMP             text `YYYY-MM-DD HH:MM:SS.ffffff`
    timestamp(tz)     TIMESTAMPTZ           text in UTC `YYYY-MM-DD HH:MM:SS.ffffffZ`
    decimal(p,s)      DECIMAL_TEXT(p,s)     text `-123.45` (TEXT affinity keeps every digit)
    json, list, struct JSON                 text (JSON)

Drivers (ADBC) are imported inside functions so that listing plugins imports none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from fustgo.engine.errors import DataError, FustgoError, RetryableError, TerminalError
from fustgo.engine.types import LogicalType, from_arrow
from fustgo.engine.units import Duration
from fustgo.plugins.clients.sql import nested_json_text
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    from adbc_driver_manager.dbapi import Connection

Storage = Literal["integer", "real", "text", "blob"]


class SqliteConnection(PluginConfig):
    """Which SQLite database file to use."""

    database: str = Field(min_length=1, json_schema_extra=ui(placeholder="data/shop.db"))
    """Path of the database file, relative to the pipeline file (`:memory:` is not useful here)."""
    busy_timeout: Duration = Field(default=5.0, json_schema_extra=ui(advanced=True))
    """How long to wait for another connection's lock before the operation is retried."""


@dataclass(frozen=True)
class SqliteType:
    """How one logical type is declared and stored in SQLite."""

    declared: str
    storage: Storage


_SIMPLE_TYPES: dict[str, SqliteType] = {
    "int8": SqliteType("TINYINT", "integer"),
    "int16": SqliteType("SMALLINT", "integer"),
    "int32": SqliteType("INT", "integer"),
    "int64": SqliteType("INTEGER", "integer"),
    "uint8": SqliteType("UNSIGNED TINYINT", "integer"),
    "uint16": SqliteType("UNSIGNED SMALLINT", "integer"),
    "uint32": SqliteType("UNSIGNED INT", "integer"),
    "uint64": SqliteType("UNSIGNED BIGINT", "integer"),
    "float32": SqliteType("FLOAT", "real"),
    "float64": SqliteType("REAL", "real"),
    "bool": SqliteType("BOOLEAN", "integer"),
    "string": SqliteType("TEXT", "text"),
    "binary": SqliteType("BLOB", "blob"),
    "date": SqliteType("DATE", "text"),
    "time": SqliteType("TIME", "text"),
    "json": SqliteType("JSON", "text"),
    "list": SqliteType("JSON", "text"),
    "struct": SqliteType("JSON", "text"),
}

# Declared names (upper case, without arguments) read as a logical type other than the one
# SQLite's affinity rules would suggest.
_NAMED_TYPES: dict[str, LogicalType] = {
    "BOOLEAN": LogicalType("bool"),
    "BOOL": LogicalType("bool"),
    "DATE": LogicalType("date"),
    "TIME": LogicalType("time"),
    "DATETIME": LogicalType("timestamp"),
    "TIMESTAMP": LogicalType("timestamp"),
    "TIMESTAMPTZ": LogicalType("timestamp", timezone="UTC"),
    "TIMESTAMP WITH TIME ZONE": LogicalType("timestamp", timezone="UTC"),
    "JSON": LogicalType("json"),
}
_DECIMAL_NAMES = ("DECIMAL_TEXT", "DECIMAL", "NUMERIC")
_DRIVER_NOISE = re.compile(
    r"^(?:[A-Z_]+: )?(?:\[SQLite\] )?(?:failed to (?:execute|prepare|step) query: )?", re.I
)
_DECLARED = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$"
)


def sqlite_type(logical: LogicalType) -> SqliteType:
    """The declared type and storage class that keep `logical` when read back."""
    if logical.kind == "decimal":
        return SqliteType(f"DECIMAL_TEXT({logical.precision},{logical.scale})", "text")
    if logical.kind == "timestamp":
        return SqliteType("TIMESTAMPTZ" if logical.timezone else "TIMESTAMP", "text")
    return _SIMPLE_TYPES[logical.kind]


def logical_type(declared: str) -> LogicalType | None:
    """The logical type of a declared column type; None when nothing is declared.

    Names the table does not know follow SQLite's affinity rules (a name containing INT is
    an integer, CHAR/CLOB/TEXT text, BLOB binary, REAL/FLOA/DOUB a float); any other name
    (`UUID`, `ENUM`, …) is read as text. Every integer is int64 because SQLite stores every
    integer in 64 bits whatever the declaration says.
    """
    text = " ".join(declared.upper().split())
    if not text:
        return None
    match = _DECLARED.match(text)
    base = match.group(1).strip() if match else text
    if base in _NAMED_TYPES:
        return _NAMED_TYPES[base]
    if base in _DECIMAL_NAMES:
        if match and match.group(2):
            precision = max(1, min(int(match.group(2)), 76))
            scale = min(int(match.group(3) or 0), precision)
            return LogicalType("decimal", precision=precision, scale=scale)
        return LogicalType("float64")  # a bare NUMERIC holds integers and reals
    if "INT" in text:
        return LogicalType("int64")
    if any(word in text for word in ("CHAR", "CLOB", "TEXT")):
        return LogicalType("string")
    if "BLOB" in text:
        return LogicalType("binary")
    if any(word in text for word in ("REAL", "FLOA", "DOUB")):
        return LogicalType("float64")
    return LogicalType("string")


def has_text_affinity(declared: str) -> bool:
    """True when SQLite keeps whatever is stored in the column as text (or blob)."""
    text = declared.upper()
    return "INT" not in text and any(word in text for word in ("CHAR", "CLOB", "TEXT"))


def quote(identifier: str) -> str:
    """An identifier quoted for SQLite (`"my ""odd"" name"`), safe for any name."""
    return '"' + identifier.replace('"', '""') + '"'


def connect(path: Path, *, read_only: bool, busy_timeout_seconds: float) -> Connection:
    """An ADBC connection in autocommit mode; transactions are explicit (`BEGIN …`)."""
    import adbc_driver_sqlite.dbapi

    uri = f"file:{path}?mode=ro" if read_only else str(path)
    try:
        connection = adbc_driver_sqlite.dbapi.connect(uri, autocommit=True)
    except Exception as exc:
        raise TerminalError(f"Cannot open the SQLite database `{path}`: {exc}.") from exc
    with cursor(connection) as cur:
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_seconds * 1000)}")
        cur.fetchall()
    return connection


@contextmanager
def cursor(connection: Connection, batch_rows: int | None = None) -> Iterator[Any]:
    """A cursor that is closed after use (ADBC refuses to close a connection with open ones).

    `batch_rows` sets how many rows ADBC puts in one Arrow batch; ADBC infers each batch's
    column types from its own rows, so a query read as one batch is typed consistently.
    """
    cur = connection.cursor()
    try:
        if batch_rows is not None:
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
        yield cur
    finally:
        cur.close()


def query_rows(
    connection: Connection, sql: str, params: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """All rows of a small metadata query as Python tuples."""
    with cursor(connection) as cur:
        cur.execute(sql, params or None)
        return list(cur.fetchall())


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a table as `PRAGMA table_xinfo` describes it."""

    name: str
    declared: str
    not_null: bool
    has_default: bool
    primary_key_position: int
    generated: bool


def table_columns(connection: Connection, table: str, schema: str = "main") -> list[ColumnInfo]:
    """The columns of `table` (generated ones included), in order; empty if it does not exist."""
    rows = query_rows(connection, f"PRAGMA {schema}.table_xinfo({quote(table)})")
    return [
        ColumnInfo(
            name=str(row[1]),
            declared=str(row[2] or ""),
            not_null=bool(row[3]),
            has_default=row[4] is not None,
            primary_key_position=int(row[5]),
            generated=int(row[6]) in (2, 3),
        )
        for row in rows
        if int(row[6]) != 1  # 1: hidden column of a virtual table
    ]


def table_names(connection: Connection) -> list[str]:
    """Names of the tables and views of the main database, sorted."""
    rows = query_rows(
        connection,
        "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    return [str(row[0]) for row in rows]


def missing_table_error(table: str, existing: list[str], where: str) -> TerminalError:
    """'Table X does not exist' with the tables that do, when there are few of them."""
    if not existing:
        listing = "the database has no tables"
    elif len(existing) <= 20:
        listing = "existing tables: " + ", ".join(f"`{name}`" for name in existing)
    else:
        listing = f"it has {len(existing)} other tables"
    return TerminalError(f"Table `{table}` does not exist in {where}; {listing}.")


def driver_message(exc: Exception) -> str:
    """The useful part of a driver error: SQLite's own words, without ADBC's wrapping."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _DRIVER_NOISE.sub("", message).rstrip(".")


def translate_error(exc: Exception, action: str) -> FustgoError:
    """The FustGo error for a driver error: bad data, a lock to wait for, or terminal."""
    if isinstance(exc, FustgoError):
        return exc
    message = driver_message(exc)
    lowered = message.lower()
    if type(exc).__name__ == "IntegrityError" or "constraint failed" in lowered:
        return DataError(f"{action}: {message}.")
    if any(w in lowered for w in ("out of range", "datatype mismatch", "too big")):
        return DataError(f"{action}: {message}.")
    if "is locked" in lowered or "database is busy" in lowered:
        return RetryableError(f"{action}: the database is locked by another connection.")
    return TerminalError(f"{action}: {message}.")


# ---------------------------------------------------------------------------------------
# Values: Arrow → SQLite representations (write) and SQLite text → Arrow (read)


def to_sqlite_values(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with every column in its SQLite representation (see the module table).

    Every column comes out as int64, float64, string or binary, which ADBC binds directly.
    Raises `DataError` for values SQLite cannot hold (a uint64 above 2^63-1).
    """
    arrays = [
        _to_sqlite_array(column, field)
        for column, field in zip(batch.columns, batch.schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _to_sqlite_array(array: pa.Array, field: pa.Field) -> pa.Array:
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), pa.string())
    logical = from_arrow(array.type, field.metadata)
    kind = logical.kind
    storage = sqlite_type(logical).storage
    try:
        if storage == "integer":
            return pc.cast(array, pa.int64())
        if storage == "real":
            return pc.cast(array, pa.float64())
        if storage == "blob":
            return pc.cast(array, pa.binary())
    except pa.ArrowInvalid as exc:
        raise DataError(f"Column `{field.name}` has a value SQLite cannot store: {exc}.") from exc
    if kind in ("list", "struct"):
        return nested_json_text(array)
    if kind == "time":
        return pc.cast(pc.cast(array, pa.time64("us")), pa.string())
    if kind == "timestamp":  # microseconds; zoned values in UTC, written with a `Z`
        zone = "UTC" if logical.timezone else None
        return pc.cast(pc.cast(array, pa.timestamp("us", tz=zone), safe=False), pa.string())
    return pc.cast(array, pa.string())
