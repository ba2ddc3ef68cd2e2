"""Keyset pages read Arrow-natively with connectorx (Rust, MySQL binary protocol).

mysqlclient hands every value to Python, about 5 µs of client CPU per row of an 8-column
table; connectorx decodes the protocol straight into Arrow arrays, about 1 µs. It is used
for the keyset pages of a table split, one connectorx query per page.

Why pages and not one query per split: connectorx reads a result into an unbounded queue
as fast as the server sends it, so one query per split would buffer the whole split in
memory whenever the output is slower than the server (measured: 1,000,000 rows held after
five slow batches). A page of `fetch.size + 1` rows bounds that, at the same speed.

Each page opens its own session (connectorx keeps no connection between calls, about
2 ms locally) and runs, before the query: `time_zone = '+00:00'`, the strict `sql_mode`,
`SET SESSION TRANSACTION READ ONLY`, and for `fetch.timeout` the server's statement limit
(MariaDB `max_statement_time`, MySQL/TiDB `max_execution_time`). The query carries a
`/* fustgo <pipeline> <component> */` comment, so a DBA finds its sessions in the
processlist.

What connectorx cannot carry exactly is selected differently, per column (`plan`):
decimals, `time`, `json` and unknown types as text (parsed by Arrow as before: it rounds
decimals beyond 28 digits and re-serialises JSON), geometry as its bytes. Zero dates make
connectorx fail: the page is read again with dates and timestamps as text, whose bad values
go to the dead letter as before. Errors arrive as text (a Rust panic, whose message Rust
also prints on stderr); `translate` maps them by MySQL error number like mysqlclient's.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field

import pyarrow as pa

from fustgo.engine.errors import FustgoError, RetryableError, TerminalError
from fustgo.plugins.clients.mysql import SQL_MODE, MysqlConnection, translate_error

_MYSQL_ERROR = re.compile(r"ERROR (\d+) \([0-9A-Z]+\): (.*?) \}")
_CONNECTION = ("timed out waiting for connection",)
_LOST = ("CodecError", "IoError", "IO error", "DriverError", "os error", "Connection reset")
_TIMEOUT_CODES = (1969, 3024)


class ConversionFailed(Exception):
    """connectorx met a value it cannot convert (a zero date, a time beyond 24 h)."""


class ConnectFailed(Exception):
    """connectorx could not open a session (auth plugin, TLS, socket, server down)."""


@dataclass(frozen=True)
class ArrowSource:
    """Where connectorx connects and what each of its sessions runs first."""

    url: str = field(repr=False)
    """`mysql://user:password@host:port/database` (holds the password: not in the repr)."""
    session: tuple[str, ...]

    def read(self, sql: str, rows: int) -> pa.RecordBatch:
        """Every row of `sql` (at most `rows`) as one batch of connectorx's Arrow types.

        Raises `ConversionFailed`, `ConnectFailed`, or the driver's error as raised.
        """
        import connectorx as cx

        try:
            reader = cx.read_sql(
                self.url, sql, return_type="arrow_stream", batch_size=max(rows, 1),
                pre_execution_query=list(self.session),
            )  # fmt: skip
            batches = list(reader)
            schema = reader.schema
        except BaseException as exc:
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise  # KeyboardInterrupt, SystemExit
            text = str(exc)
            if "Couldn't convert the value" in text:
                raise ConversionFailed(_first_line(text)) from exc
            if text.startswith(_CONNECTION):
                raise ConnectFailed(_first_line(text)) from exc
            raise _DriverError(text) from exc
        if len(batches) == 1:
            return batches[0]
        if not batches:
            return pa.RecordBatch.from_pylist([], schema=schema)
        return pa.Table.from_batches(batches, schema).combine_chunks().to_batches()[0]


class _DriverError(Exception):
    """A connectorx error: its text, which names the MySQL error number when there is one."""


def source(
    settings: MysqlConnection,
    *,
    mariadb: bool,
    timeout: float | None,
    socket: str | None = None,
) -> ArrowSource:
    """The connectorx URL and session statements for `settings`."""
    user = urllib.parse.quote(settings.user, safe="")
    password = settings.password.get_secret_value() if settings.password is not None else ""
    credentials = user + (f":{urllib.parse.quote(password, safe='')}" if password else "")
    database = urllib.parse.quote(settings.database, safe="")
    url = f"mysql://{credentials}@{settings.host}:{settings.port}/{database}"
    if socket:
        url += f"?socket={urllib.parse.quote(socket, safe='/')}"
    session = [
        f"SET time_zone = '+00:00', sql_mode = '{SQL_MODE}'",
        "SET SESSION TRANSACTION READ ONLY",
    ]
    if timeout is not None:
        session.append(
            f"SET SESSION max_statement_time = {timeout:.6f}"
            if mariadb
            else f"SET SESSION max_execution_time = {max(1, round(timeout * 1000))}"
        )
    return ArrowSource(url, tuple(session))


def translate(
    exc: Exception, action: str, settings: MysqlConnection, where: str, timeout: str | None
) -> FustgoError:
    """The FustGo error for a connectorx error; `timeout` is the message of a statement
    stopped by `fetch.timeout` (None when no timeout is set)."""
    if isinstance(exc, FustgoError):
        return exc
    text = str(exc)
    match = _MYSQL_ERROR.search(text)
    if match:
        code = int(match.group(1))
        if timeout is not None and code in _TIMEOUT_CODES:
            return TerminalError(timeout)
        return translate_error(Exception(code, match.group(2)), action, settings, where)
    server = f"`{settings.host}:{settings.port}`"
    if isinstance(exc, ConnectFailed) or any(marker in text for marker in _LOST):
        return RetryableError(
            f"{action}: the connection to MySQL on {server} was lost or could not be opened "
            f"({_first_line(text)})."
        )
    return TerminalError(f"{action}: {_first_line(text)}.")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no message"
