"""What the MySQL input and output share: connection, errors, the type table.

The type table is the one mapping between MySQL/MariaDB types and FustGo's logical types
(`logical_type` one way, `mysql_type` the other; documented in `docs/plugins/mysql.md`):

    MySQL                                   logical type        back to MySQL
    tinyint(1), bool                        bool                tinyint(1)
    tinyint / smallint / mediumint / int / bigint
                                            int8 / int16 / int32 / int32 / int64   same
    … unsigned                              uint8 / uint16 / uint32 / uint32 / uint64  same
    float / double                          float32 / float64   same
    decimal(p,s)                            decimal(p,s)        decimal(p,s) (p ≤ 65, s ≤ 30)
    char, varchar, *text, enum, set         string              longtext (varchar(255) in a key)
    binary, varbinary, *blob, geometry      binary              longblob (varbinary(255) in a key)
    date / time                             date / time         date / time(6)
    datetime                                timestamp (naive)   datetime(6)
    timestamp                               timestamp(UTC)      datetime(6), as UTC (years
                                                                1000–9999; MySQL's own
                                                                `timestamp` ends in 2038)
    json (MariaDB: longtext + json_valid)   json                json (lists, structs too)
    year                                    int16               —
    bit(n ≤ 63) / bit(64)                   int64 / binary      —
    uuid, inet6, others                     string              —

Sessions run with `time_zone='+00:00'` and a strict `sql_mode`, so a value a column
cannot hold is an error (never truncated) and timestamps are UTC. mysqlclient (the C
driver) is imported inside functions so that listing plugins imports none.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import Field, SecretStr, model_validator

from fustgo.engine.errors import DataError, FustgoError, RetryableError, TerminalError
from fustgo.engine.types import LogicalType
from fustgo.engine.units import Duration
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    from MySQLdb.connections import Connection

SslMode = Literal["DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"]
SQL_MODE = (
    "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION"
)
_INTEGERS = {"tinyint": 8, "smallint": 16, "mediumint": 32, "int": 32, "integer": 32, "bigint": 64}
_SIMPLE: dict[str, LogicalType] = {
    "float": LogicalType("float32"),
    "double": LogicalType("float64"),
    "real": LogicalType("float64"),
    "bool": LogicalType("bool"),
    "boolean": LogicalType("bool"),
    "binary": LogicalType("binary"),
    "varbinary": LogicalType("binary"),
    "tinyblob": LogicalType("binary"),
    "blob": LogicalType("binary"),
    "mediumblob": LogicalType("binary"),
    "longblob": LogicalType("binary"),
    "geometry": LogicalType("binary"),
    "date": LogicalType("date"),
    "time": LogicalType("time"),
    "datetime": LogicalType("timestamp"),
    "timestamp": LogicalType("timestamp", timezone="UTC"),
    "json": LogicalType("json"),
    "year": LogicalType("int16"),
}
_TO_MYSQL = {
    "int8": "tinyint",
    "int16": "smallint",
    "int32": "int",
    "int64": "bigint",
    "uint8": "tinyint unsigned",
    "uint16": "smallint unsigned",
    "uint32": "int unsigned",
    "uint64": "bigint unsigned",
    "float32": "float",
    "float64": "double",
    "string": "longtext",
    "binary": "longblob",
    "bool": "tinyint(1)",
    "date": "date",
    "time": "time(6)",
    "json": "json",
    "list": "json",
    "struct": "json",
}
# Which MySQL error numbers are transient, mistakes in the pipeline, or bad records.
_RETRYABLE = {1040, 1053, 1205, 1213, 1927, 2002, 2003, 2005, 2006, 2013, 2055, 4031}
# The session was killed, the server went away or restarted, or the network dropped: an
# open connection is lost (a subset of `_RETRYABLE`); 1317: the statement was killed.
_LOST = {1053, 1927, 2006, 2013, 2055, 4031}
_TLS = {2026}
_BAD_RECORD = {
    1048,
    1062,
    1216,
    1217,
    1263,
    1264,
    1265,
    1292,
    1300,
    1366,
    1367,
    1406,
    1411,
    1451,
    1452,
    1557,
    1586,
    1690,
    1761,
    1762,
    1918,
    3140,
    3156,
    3819,
    4025,
}  # fmt: skip (constraints, foreign keys, values a column cannot hold, invalid JSON)
_MISSING_OBJECT = {1054: "column", 1146: "table", 1049: "database"}
_ARGUMENTS = re.compile(r"\(([^)]*)\)")


class MysqlConnection(PluginConfig):
    """Where MySQL, MariaDB or TiDB is and who connects."""

    host: str = Field(default="localhost", min_length=1)
    """Server host name or address."""
    port: int = Field(default=3306, ge=1, le=65535)
    """Server port (TiDB listens on 4000)."""
    database: str = Field(min_length=1)
    """Database (schema) name; tables without a `db.` prefix are looked up here."""
    user: str = Field(min_length=1)
    """User to connect as."""
    password: SecretStr | None = None
    """The user's password (write `${MYSQL_PASSWORD}` to keep it out of the file)."""
    charset: str = Field(default="utf8mb4", json_schema_extra=ui(advanced=True))
    """Connection character set; keep `utf8mb4` so that emoji survive."""
    ssl_mode: SslMode | None = Field(default=None, json_schema_extra=ui(group="tls"))
    """TLS requirement: `DISABLED`, `PREFERRED`, `REQUIRED`, `VERIFY_CA` (the server's
    certificate must be signed by `ssl_ca`) or `VERIFY_IDENTITY` (and name `host`); the
    driver's default (TLS when the server offers it) when omitted. With `REQUIRED` and
    stronger, a session that did not get TLS is refused."""
    ssl_ca: str | None = Field(default=None, json_schema_extra=ui(group="tls", advanced=True))
    """CA certificate file that verifies the server."""
    ssl_cert: str | None = Field(default=None, json_schema_extra=ui(group="tls", advanced=True))
    """Client certificate file, when the server authenticates clients by certificate."""
    ssl_key: str | None = Field(default=None, json_schema_extra=ui(group="tls", advanced=True))
    """Private key file of `ssl_cert`."""
    connect_timeout: Duration = Field(default=10.0, json_schema_extra=ui(advanced=True))
    """How long to wait for the server when connecting (whole seconds, at least 1)."""
    options: dict[str, str | int | bool] = Field(
        default_factory=dict, json_schema_extra=ui(advanced=True)
    )
    """Other mysqlclient `connect()` arguments, e.g. `{read_timeout: 600}`."""

    @property
    def server(self) -> str:
        """`host:port/database`, as messages name the server."""
        return f"{self.host}:{self.port}/{self.database}"

    @model_validator(mode="before")
    @classmethod
    def _upper_ssl_mode(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("ssl_mode"), str):
            return {**data, "ssl_mode": data["ssl_mode"].upper()}
        return data

    @model_validator(mode="after")
    def _tls_consistent(self) -> Self:
        files = [name for name in ("ssl_ca", "ssl_cert", "ssl_key") if getattr(self, name)]
        if self.ssl_mode == "DISABLED" and files:
            raise ValueError(
                f"`ssl_mode: DISABLED` turns TLS off, so `{'`, `'.join(files)}` would be "
                "ignored; remove them or choose another `ssl_mode`"
            )
        if bool(self.ssl_cert) != bool(self.ssl_key):
            raise ValueError("a client certificate needs both `ssl_cert` and `ssl_key`")
        if self.ssl_mode in ("VERIFY_CA", "VERIFY_IDENTITY") and not self.ssl_ca:
            raise ValueError(
                f"`ssl_mode: {self.ssl_mode}` verifies the server against a CA certificate; "
                "set `ssl_ca` to its file"
            )
        return self


def connect(
    settings: MysqlConnection, *, read_only: bool, where: str, local_infile: bool = False
) -> Connection:
    """A mysqlclient connection (autocommit off) with UTC and strict mode set.

    Read-only sessions make every transaction `READ ONLY` and allow slow consumers of a
    streamed result (`net_write_timeout`); `where` names the config in errors.
    """
    import MySQLdb

    arguments: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "database": settings.database,
        "user": settings.user,
        "charset": settings.charset,
        "connect_timeout": max(1, round(settings.connect_timeout)),
        "conv": decoders(),
        "autocommit": False,
        "local_infile": local_infile,
    }
    if settings.password is not None:
        arguments["password"] = settings.password.get_secret_value()
    tls = {"ca": settings.ssl_ca, "cert": settings.ssl_cert, "key": settings.ssl_key}
    if any(tls.values()):
        arguments["ssl"] = {name: value for name, value in tls.items() if value}
    if settings.ssl_mode is not None:
        arguments["ssl_mode"] = settings.ssl_mode
    arguments.update(settings.options)
    statements = [f"SET time_zone = '+00:00', sql_mode = '{SQL_MODE}'"]
    if read_only:
        statements += ["SET SESSION TRANSACTION READ ONLY", "SET SESSION net_write_timeout = 3600"]
    try:
        connection = MySQLdb.connect(**arguments)
    except Exception as exc:
        raise translate_error(exc, f"Connecting to {settings.server}", settings, where) from exc
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            if settings.ssl_mode in ("REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"):
                # MariaDB's client library can ignore `ssl_mode`: check the session itself
                cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
                cipher = cursor.fetchone()
                if not cipher or not cipher[1]:
                    raise TerminalError(
                        f"MySQL on `{settings.host}:{settings.port}` did not set up TLS, but "
                        f"`{where}.ssl_mode` is {settings.ssl_mode}; enable TLS on the server "
                        f"or lower `{where}.ssl_mode`."
                    )
    except Exception as exc:
        connection.close()
        raise translate_error(exc, f"Setting up {settings.server}", settings, where) from exc
    return connection


def kill_query(settings: MysqlConnection, thread_id: int, *, where: str) -> None:
    """Stop the statement a session is running (`KILL QUERY`), from a connection of its own."""
    connection = connect(settings, read_only=True, where=where)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"KILL QUERY {int(thread_id)}")
    finally:
        connection.close()


def decoders() -> dict[Any, Any]:
    """mysqlclient conversions: numbers as Python numbers, everything else as sent.

    Decimals, dates and times stay text (bytes) so that Arrow parses whole columns at once
    (no `Decimal`/`datetime` per value); the encoders of parameters are mysqlclient's.
    """
    from MySQLdb.constants import FIELD_TYPE
    from MySQLdb.converters import conversions

    kept = {key: value for key, value in conversions.items() if not isinstance(key, int)}
    for code in (FIELD_TYPE.TINY, FIELD_TYPE.SHORT, FIELD_TYPE.INT24, FIELD_TYPE.LONG,
                 FIELD_TYPE.LONGLONG, FIELD_TYPE.YEAR):  # fmt: skip
        kept[code] = int
    kept[FIELD_TYPE.FLOAT] = kept[FIELD_TYPE.DOUBLE] = float
    return kept


def error_code(exc: BaseException) -> int | None:
    """The MySQL error number of a mysqlclient error, if it has one."""
    arguments = getattr(exc, "args", ())
    return arguments[0] if arguments and isinstance(arguments[0], int) else None


def translate_error(
    exc: Exception, action: str, settings: MysqlConnection, where: str
) -> FustgoError:
    """The FustGo error for a mysqlclient error, by MySQL error number.

    Unreachable servers, lost connections, lock waits and deadlocks are retryable; wrong
    credentials and missing objects are terminal and name the field to fix; constraint
    violations and values a column cannot hold are bad records (`DataError`).
    """
    if isinstance(exc, FustgoError):
        return exc
    code = error_code(exc)
    arguments = getattr(exc, "args", ())
    message = str(arguments[1] if len(arguments) > 1 else exc).strip().rstrip(".")
    server = f"`{settings.host}:{settings.port}`"
    if code in _BAD_RECORD:
        return DataError(f"{action}: {message}.")
    if code in _LOST:
        return RetryableError(
            f"{action}: the connection to MySQL on {server} was lost ({code}: {message})."
        )
    if code == 1317:
        return RetryableError(f"{action}: the query was killed on {server} ({message}).")
    if code in (1969, 3024):
        return TerminalError(
            f"{action}: {message}; the server's statement time limit (`max_statement_time` "
            f"or `max_execution_time`, set for the user or in `{where}.options`) is shorter "
            "than the query needs."
        )
    if code == 1792:
        return TerminalError(
            f"{action}: {message}; `{where}` sessions are read-only, so the query must not "
            "write (no functions that modify data)."
        )
    if code in _TLS:
        return TerminalError(
            f"TLS with MySQL on {server} failed: {message}; check `{where}.ssl_mode` and the "
            "certificate files (`ssl_ca`, `ssl_cert`, `ssl_key`)."
        )
    if code in _RETRYABLE:
        return RetryableError(
            f"{action}: MySQL on {server} is unavailable or busy ({code}: {message}); check "
            f"that the server is running and `{where}.host` / `port` are right."
        )
    if code in (1044, 1045, 1698):
        return TerminalError(
            f"MySQL on {server} refused the credentials of `{settings.user}`: {message}; "
            f"check `{where}.user` and `{where}.password` and the user's grants."
        )
    if code == 1049:
        return TerminalError(
            f"Database `{settings.database}` does not exist on {server}; check "
            f"`{where}.database` or create it."
        )
    if code in _MISSING_OBJECT:
        return TerminalError(f"{action}: {message}; check the {_MISSING_OBJECT[code]} names "
                             "in the pipeline.")  # fmt: skip
    return TerminalError(f"{action}: {message}.")


def quote(identifier: str) -> str:
    """An identifier quoted for MySQL (`` `my``odd` `` for my`odd), safe for any name."""
    return "`" + identifier.replace("`", "``") + "`"


def qualified(table: str) -> str:
    """`db.table` (or `table`) quoted part by part; a part may contain no dot."""
    return ".".join(quote(part) for part in table.split(".", 1))


def split_table(table: str, database: str) -> tuple[str, str]:
    """(database, table) of `db.table`, or of `table` in the connection's database."""
    schema, _, name = table.rpartition(".")
    return (schema or database), name


_ESCAPES = str.maketrans(
    {"\\": "\\\\", "'": "\\'", "\0": "\\0", "\n": "\\n", "\r": "\\r", "\x1a": "\\Z"}
)


def quote_literal(value: str) -> str:
    """A string literal with backslash escapes (our sessions never set NO_BACKSLASH_ESCAPES)."""
    return "'" + value.translate(_ESCAPES) + "'"


# ---------------------------------------------------------------------------------------
# The type table


def parse_declared(declared: str) -> tuple[str, tuple[str, ...], bool]:
    """(lower-case name, arguments, unsigned) of a column type as `COLUMN_TYPE` spells it."""
    text = " ".join(declared.strip().lower().split())
    unsigned = " unsigned" in text
    match = _ARGUMENTS.search(text)
    arguments = tuple(a.strip() for a in match.group(1).split(",")) if match else ()
    name = _ARGUMENTS.sub("", text).replace("unsigned", "").replace("zerofill", "").strip()
    return name, arguments, unsigned


def logical_type(declared: str) -> LogicalType:
    """The logical type of a MySQL column type (`int(10) unsigned`, `decimal(12,2)`, …)."""
    name, arguments, unsigned = parse_declared(declared)
    if name == "tinyint" and arguments == ("1",) and not unsigned:
        return LogicalType("bool")
    if name in _INTEGERS:
        bits = _INTEGERS[name]
        return LogicalType(f"{'u' if unsigned else ''}int{bits}")
    if name in ("decimal", "numeric", "dec", "fixed"):
        precision = int(arguments[0]) if arguments else 10
        scale = int(arguments[1]) if len(arguments) > 1 else 0
        return LogicalType("decimal", precision=precision, scale=scale)
    if name == "bit":
        return (
            LogicalType("binary") if arguments and int(arguments[0]) > 63 else LogicalType("int64")
        )
    return _SIMPLE.get(name, LogicalType("string"))


def mysql_type(logical: LogicalType, *, in_key: bool = False) -> str:
    """The column type a created table declares for `logical` (key columns need a length)."""
    if logical.kind == "decimal":
        assert logical.precision is not None and logical.scale is not None
        if logical.precision > 65 or logical.scale > 30:
            return "varchar(80)" if in_key else "longtext"  # exact digits, as text
        return f"decimal({logical.precision},{logical.scale})"
    if logical.kind == "timestamp":
        return "datetime(6)"  # zoned values are written as UTC (sessions run at +00:00)
    if in_key and logical.kind in ("string", "binary"):
        return "varchar(255)" if logical.kind == "string" else "varbinary(255)"
    return _TO_MYSQL[logical.kind]


def described_type(type_code: int, flags: int, length: int, scale: int) -> str:
    """A `COLUMN_TYPE` spelling for a query's column from its result metadata.

    String columns flagged binary (`varbinary`, blobs, but also `*_bin` collations, which
    the metadata cannot tell apart) are spelled `varbinary`.
    """
    from MySQLdb.constants import FIELD_TYPE

    unsigned = " unsigned" if flags & 32 else ""
    names = {
        FIELD_TYPE.SHORT: "smallint", FIELD_TYPE.INT24: "mediumint", FIELD_TYPE.LONG: "int",
        FIELD_TYPE.LONGLONG: "bigint", FIELD_TYPE.FLOAT: "float", FIELD_TYPE.DOUBLE: "double",
        FIELD_TYPE.DATE: "date", FIELD_TYPE.TIME: "time", FIELD_TYPE.DATETIME: "datetime",
        FIELD_TYPE.TIMESTAMP: "timestamp", FIELD_TYPE.YEAR: "year", FIELD_TYPE.JSON: "json",
        FIELD_TYPE.GEOMETRY: "geometry",
    }  # fmt: skip
    if type_code == FIELD_TYPE.TINY:
        return "tinyint(1)" if length == 1 and not unsigned else f"tinyint{unsigned}"
    if type_code in names:
        return names[type_code] + (unsigned if names[type_code].endswith("int") else "")
    if type_code in (FIELD_TYPE.DECIMAL, FIELD_TYPE.NEWDECIMAL):
        precision = length - (1 if scale else 0) - (0 if unsigned else 1)
        return f"decimal({precision},{scale})"
    if type_code == FIELD_TYPE.BIT:
        return f"bit({length})"
    if flags & 128 and not flags & (256 | 2048):  # BINARY_FLAG; not ENUM or SET
        return "varbinary"
    return "text"
