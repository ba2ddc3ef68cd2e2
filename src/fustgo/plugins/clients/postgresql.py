"""What the PostgreSQL input, output and lookup share: connection, errors, the type table.

The type table is the one mapping between PostgreSQL types and FustGo's logical types
(`logical_type` one way, `postgres_type` the other; documented in `docs/plugins/postgresql.md`):

    PostgreSQL                          logical type        back to PostgreSQL
    smallint / integer / bigint         int16 / int32 / int64   same
    (int8, uint8 →)                     —                   smallint; uint16 → integer;
                                                            uint32 → bigint; uint64 → numeric(20,0)
    real / double precision             float32 / float64   same
    numeric(p,s), p ≤ 76                decimal(p,s)        numeric(p,s)
    numeric (no precision), p > 76      string (exact digits)   —
    text, varchar(n), char(n), name     string              text
    bytea                               binary              bytea
    boolean                             bool                boolean
    date / time                         date / time         date / time
    timestamp                           timestamp           timestamp
    timestamptz                         timestamp(UTC)      timestamptz
    json / jsonb                        json                jsonb (list, struct → jsonb too)
    T[] (one dimension)                 list<T>             T[]
    interval                            string, ISO 8601 (`P1DT2H`)  —
    uuid, timetz, inet, enums, others   string (PostgreSQL's text)   —

Sessions run with `TimeZone=UTC`, `IntervalStyle=iso_8601` and `DateStyle=ISO`, so text
renderings do not depend on the server's settings. Drivers (psycopg 3, ADBC) are imported
inside functions so that listing plugins imports none.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

from pydantic import Field, SecretStr, model_validator

from fustgo.engine.errors import DataError, FustgoError, RetryableError, TerminalError
from fustgo.engine.types import LogicalType
from fustgo.engine.units import Duration
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import psycopg
    from adbc_driver_manager.dbapi import Connection as AdbcConnection

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

# Names as `format_type`, psycopg's `type_display` and `pg_type.typname` spell them.
_ALIASES = {
    "smallint": "int2",
    "integer": "int4",
    "int": "int4",
    "bigint": "int8",
    "real": "float4",
    "double precision": "float8",
    "decimal": "numeric",
    "character varying": "varchar",
    "character": "bpchar",
    "char": "bpchar",
    "boolean": "bool",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
}
_SIMPLE: dict[str, LogicalType] = {
    "int2": LogicalType("int16"),
    "int4": LogicalType("int32"),
    "int8": LogicalType("int64"),
    "oid": LogicalType("int64"),
    "float4": LogicalType("float32"),
    "float8": LogicalType("float64"),
    "text": LogicalType("string"),
    "varchar": LogicalType("string"),
    "bpchar": LogicalType("string"),
    "name": LogicalType("string"),
    "bytea": LogicalType("binary"),
    "bool": LogicalType("bool"),
    "date": LogicalType("date"),
    "time": LogicalType("time"),
    "timestamp": LogicalType("timestamp"),
    "timestamptz": LogicalType("timestamp", timezone="UTC"),
    "json": LogicalType("json"),
    "jsonb": LogicalType("json"),
}
_TO_POSTGRES = {
    "int8": "smallint",
    "int16": "smallint",
    "int32": "integer",
    "int64": "bigint",
    "uint8": "smallint",
    "uint16": "integer",
    "uint32": "bigint",
    "uint64": "numeric(20,0)",
    "float32": "real",
    "float64": "double precision",
    "string": "text",
    "binary": "bytea",
    "bool": "boolean",
    "date": "date",
    "time": "time",
    "json": "jsonb",
    "struct": "jsonb",
}
_ARGUMENTS = re.compile(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")
_TRANSIENT_STATES = ("40001", "40P01", "53300", "57P01", "57P02", "57P03", "55P03")
_TRANSIENT_FATAL = ("starting up", "shutting down", "too many")
_UNREACHABLE = ("refused", "timeout", "timed out", "could not translate host", "no route")
# How libpq, psycopg and ADBC say that an open connection went away (the backend was
# terminated, the server restarted, the network dropped): the split is read again.
_LOST = (
    "server closed the connection", "terminating connection", "no connection to the server",
    "connection is closed", "connection not open", "consuming input failed",
    "could not receive data", "could not send data", "connection reset", "broken pipe",
    "ssl syscall error", "ssl connection has been closed", "eof detected",
    "lost synchronization",
)  # fmt: skip


class PostgresConnection(PluginConfig):
    """Where PostgreSQL is and who connects."""

    host: str = Field(default="localhost", min_length=1)
    """Server host name or address."""
    port: int = Field(default=5432, ge=1, le=65535)
    """Server port."""
    database: str = Field(min_length=1)
    """Database name."""
    user: str = Field(min_length=1)
    """Role to connect as."""
    password: SecretStr | None = None
    """The role's password (write `${PG_PASSWORD}` to keep it out of the file)."""
    sslmode: SslMode | None = Field(default=None, json_schema_extra=ui(group="tls"))
    """TLS requirement (libpq `sslmode`); libpq's default (`prefer`) when omitted."""
    sslrootcert: str | None = Field(default=None, json_schema_extra=ui(group="tls", advanced=True))
    """CA certificate file that verifies the server (`verify-ca`, `verify-full`)."""
    sslcert: str | None = Field(default=None, json_schema_extra=ui(group="tls", advanced=True))
    """Client certificate file, when the server authenticates clients by certificate."""
    sslkey: str | None = Field(default=None, json_schema_extra=ui(group="tls", advanced=True))
    """Private key file of `sslcert`."""
    connect_timeout: Duration = Field(default=10.0, json_schema_extra=ui(advanced=True))
    """How long to wait for the server when connecting (whole seconds, at least 2)."""
    options: dict[str, str] = Field(default_factory=dict, json_schema_extra=ui(advanced=True))
    """Other libpq connection parameters, e.g. `{application_name: etl}`; an `options`
    entry (`-c work_mem=64MB`) adds to the session settings FustGo makes, never replaces
    them."""

    @model_validator(mode="after")
    def _tls_consistent(self) -> Self:
        files = [name for name in ("sslrootcert", "sslcert", "sslkey") if getattr(self, name)]
        if self.sslmode == "disable" and files:
            raise ValueError(
                f"`sslmode: disable` turns TLS off, so `{'`, `'.join(files)}` would be "
                "ignored; remove them or choose another `sslmode`"
            )
        if self.sslkey and not self.sslcert:
            raise ValueError("`sslkey` is the key of a client certificate; set `sslcert` too")
        if self.sslmode in ("verify-ca", "verify-full") and not self.sslrootcert:
            raise ValueError(
                f"`sslmode: {self.sslmode}` verifies the server against a CA certificate; "
                "set `sslrootcert` to its file"
            )
        return self

    @property
    def server(self) -> str:
        """`host:port/database`, as messages name the server."""
        return f"{self.host}:{self.port}/{self.database}"

    def parameters(self, *, read_only: bool, application: str = "fustgo") -> dict[str, str]:
        """libpq connection parameters; sessions get fixed time zone and text styles.

        `application` is the session's `application_name` (what `pg_stat_activity` shows)
        unless `options` sets one. The user's own `options` settings come first, so the
        ones FustGo needs (read-only sessions above all) win.
        """
        extra = self.options.get("options", "")
        settings = f"{extra} -c TimeZone=UTC -c IntervalStyle=iso_8601 -c DateStyle=ISO"
        if read_only:
            settings += " -c default_transaction_read_only=on"
        parameters = {
            "host": self.host,
            "port": str(self.port),
            "dbname": self.database,
            "user": self.user,
            "connect_timeout": str(max(2, round(self.connect_timeout))),
            "application_name": application[:63],
        }
        if self.password is not None:
            parameters["password"] = self.password.get_secret_value()
        for name in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
            value = getattr(self, name)
            if value is not None:
                parameters[name] = value
        return {**parameters, **self.options, "options": settings.strip()}


def connect(
    settings: PostgresConnection, *, read_only: bool, autocommit: bool, where: str
) -> psycopg.Connection[Any]:
    """A psycopg 3 connection; `where` names the config (`output.connection`) in errors."""
    import psycopg

    try:
        return psycopg.connect(autocommit=autocommit, **settings.parameters(read_only=read_only))
    except psycopg.Error as exc:
        raise translate_error(exc, f"Connecting to {settings.server}", settings, where) from exc


def connect_adbc(
    settings: PostgresConnection, *, where: str, application: str = "fustgo"
) -> AdbcConnection:
    """A read-only ADBC connection (autocommit: each query is its own read-only snapshot)."""
    import adbc_driver_postgresql.dbapi

    parameters = settings.parameters(read_only=True, application=application)
    user = url_quote(parameters.pop("user"), safe="")
    secret = parameters.pop("password", None)
    password = f":{url_quote(secret, safe='')}" if secret is not None else ""
    host, port = parameters.pop("host"), parameters.pop("port")
    database = url_quote(parameters.pop("dbname"), safe="")
    uri = f"postgresql://{user}{password}@{url_quote(host, safe='')}:{port}/{database}"
    try:
        return adbc_driver_postgresql.dbapi.connect(
            f"{uri}?{urlencode(parameters, quote_via=url_quote)}", autocommit=True
        )
    except Exception as exc:
        raise translate_error(exc, f"Connecting to {settings.server}", settings, where) from exc


def translate_error(
    exc: Exception, action: str, settings: PostgresConnection, where: str
) -> FustgoError:
    """The FustGo error for a psycopg or ADBC error, by SQLSTATE first, then by message.

    Unreachable servers and transient states are retryable; credentials, missing objects
    and SQL errors are terminal; integrity and data exceptions are bad records.
    """
    if isinstance(exc, FustgoError):
        return exc
    text = str(exc).strip()
    message = _first_line(text)
    state = str(getattr(exc, "sqlstate", None) or "")
    server = f"`{settings.host}:{settings.port}`"
    if state.startswith(("23", "22")) or state == "21000":
        return DataError(f"{action}: {message}.")
    if state in ("42P01", "3F000", "42703"):
        return TerminalError(f"{action}: {message}; check the table and column names in the "
                             f"pipeline and the role's search_path.")  # fmt: skip
    if state.startswith("28") or "password authentication failed" in text:
        return TerminalError(
            f"PostgreSQL on {server} refused the credentials of `{settings.user}`: {message}; "
            f"check `{where}.user` and `{where}.password`."
        )
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return TerminalError(
            f"Database `{settings.database}` does not exist on {server}; check "
            f"`{where}.database` or create it."
        )
    if "role" in text and "does not exist" in text:
        return TerminalError(
            f"Role `{settings.user}` does not exist on {server}; check `{where}.user`."
        )
    lowered = text.lower()
    if state == "25006" or "in a read-only transaction" in lowered:
        return TerminalError(
            f"{action}: {message}; `{where}` sessions are read-only, so the query must not "
            "write (no data-modifying functions or sequences)."
        )
    if state == "57014" or (not state and "canceling statement" in lowered):
        if "statement timeout" in lowered:
            return TerminalError(
                f"{action}: {message}; the server's `statement_timeout` (set for the role "
                f"or database, or in `{where}.options`) is shorter than the query needs."
            )
        return RetryableError(f"{action}: the query was cancelled on {server}: {message}.")
    if state in ("57P01", "57P02") or (not state and any(w in lowered for w in _LOST)):
        return RetryableError(f"{action}: the connection to {server} was lost: {message}.")
    if state.startswith("08") or state in _TRANSIENT_STATES:
        return RetryableError(f"{action}: PostgreSQL on {server} is unavailable: {message}.")
    if not state and ("ssl" in lowered or "certificate" in lowered):
        return TerminalError(
            f"TLS with PostgreSQL on {server} failed: {_connect_detail(message)}; check "
            f"`{where}.sslmode` and the certificate files (`sslrootcert`, `sslcert`, `sslkey`)."
        )
    if not state and "FATAL:" in text and not any(w in lowered for w in _TRANSIENT_FATAL):
        fatal = _first_line(text.split("FATAL:", 1)[1].strip())
        return TerminalError(
            f"PostgreSQL on {server} refused the connection: {fatal}; check `{where}`."
        )
    if not state and any(word in lowered for word in _UNREACHABLE):
        return RetryableError(
            f"Cannot reach PostgreSQL on {server}: {message}; check that the server is "
            f"running and `{where}.host` / `port` are right."
        )
    return TerminalError(f"{action}: {message}.")


def _connect_detail(message: str) -> str:
    """libpq's reason without its `connection to server at … failed:` preamble."""
    return re.sub(r"^.*?connection to server at .*? failed: ", "", message)


def _first_line(text: str) -> str:
    """PostgreSQL's own words: the first line, without ADBC's `IO: [libpq]` wrapping."""
    line = text.splitlines()[0] if text else "unknown error"
    return re.sub(r"^(?:[A-Z_]+: )?(?:\[libpq\] )?", "", line).rstrip(".")


def quote(identifier: str) -> str:
    """An identifier quoted for PostgreSQL (`"my ""odd"" name"`), safe for any name."""
    return '"' + identifier.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A string literal (`'it''s'`); standard_conforming_strings is on since PostgreSQL 9.1."""
    return "'" + value.replace("'", "''") + "'"


def qualified(table: str) -> str:
    """`schema.table` (or `table`) quoted part by part; a part may contain no dot."""
    return ".".join(quote(part) for part in table.split(".", 1))


# ---------------------------------------------------------------------------------------
# The type table


def base_name(declared: str) -> tuple[str, int, tuple[int, ...]]:
    """(canonical name, array dimensions, modifiers) of a type as any of its spellings."""
    text = " ".join(declared.strip().lower().split())
    dimensions = 0
    while text.endswith("[]"):
        text, dimensions = text[:-2].rstrip(), dimensions + 1
    if text.startswith("_"):  # pg_type.typname of an array type
        text, dimensions = text[1:], dimensions + 1
    match = _ARGUMENTS.search(text)
    arguments = tuple(int(g) for g in match.groups() if g is not None) if match else ()
    name = " ".join(_ARGUMENTS.sub("", text).split())
    return _ALIASES.get(name, name), dimensions, arguments


def logical_type(declared: str) -> LogicalType:
    """The logical type of a PostgreSQL type, spelled as `format_type`, psycopg or typname."""
    name, dimensions, arguments = base_name(declared)
    item = _scalar_logical(name, arguments)
    if dimensions == 1:
        return LogicalType("list", item=item)
    if dimensions > 1:  # nested arrays arrive as their text, e.g. `{{1,2},{3,4}}`
        return LogicalType("string")
    return item


def _scalar_logical(name: str, arguments: tuple[int, ...]) -> LogicalType:
    if name == "numeric":
        if arguments and arguments[0] <= 76:
            precision = arguments[0]
            scale = arguments[1] if len(arguments) > 1 else 0
            if 0 <= scale <= precision:
                return LogicalType("decimal", precision=precision, scale=scale)
        return LogicalType("string")  # unconstrained: any number of digits, kept exact
    return _SIMPLE.get(name, LogicalType("string"))


def reads_natively(declared: str) -> bool:
    """True when ADBC returns the type as its logical type; else it is selected as text."""
    name, dimensions, _ = base_name(declared)
    if dimensions > 1:
        return False
    if name == "numeric":  # ADBC returns numeric as text; arrays of it are selected as text[]
        return dimensions == 0
    return name in _SIMPLE


def numeric_typmod(typmod: int) -> tuple[int, ...]:
    """(precision, scale) packed in a numeric's type modifier; () for unconstrained."""
    if typmod < 4:
        return ()
    return ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF


def postgres_type(logical: LogicalType) -> str:
    """The column type a created table declares for `logical`."""
    if logical.kind == "decimal":
        return f"numeric({logical.precision},{logical.scale})"
    if logical.kind == "timestamp":
        return "timestamptz" if logical.timezone else "timestamp"
    if logical.kind == "list":
        assert logical.item is not None
        if logical.item.kind in ("list", "struct", "json"):
            return "jsonb"  # PostgreSQL arrays are rectangular; nested lists are JSON
        return postgres_type(logical.item) + "[]"
    return _TO_POSTGRES[logical.kind]
