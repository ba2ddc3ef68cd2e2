"""connectorx's error texts (captured from MariaDB 10.11) become FustGo's errors."""

from __future__ import annotations

import re

import pytest

from fustgo.engine.errors import FustgoError, RetryableError, TerminalError
from fustgo.plugins.clients.mysql import MysqlConnection
from fustgo.plugins.inputs.mysql.arrow import ConnectFailed, source, translate

SETTINGS = MysqlConnection(host="db", port=3306, database="shop", user="etl", password="p@ss:/")


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("cx writer failed: Source(MySQLError(CodecError { IO error: `bytes remaining on "
         "stream' }))", RetryableError, "was lost or could not be opened"),
        ("cx writer failed: Source(MySQLError(MySqlError { ERROR 1317 (70100): Query "
         "execution was interrupted }))", RetryableError, "was killed"),
        ("MySqlError { ERROR 1054 (42S22): Unknown column 'nope' in 'SELECT' }",
         TerminalError, "Unknown column 'nope'.*check the column names"),
        ("timed out waiting for connection: MySqlError { ERROR 1698 (28000): Access denied "
         "for user 'etl'@'h' }", TerminalError, "refused the credentials"),
        ("cx writer failed: Source(MySQLError(MySqlError { ERROR 1969 (70100): Query "
         "execution was interrupted (max_statement_time exceeded) }))", TerminalError,
         "limit set by `input.fetch.timeout`"),
        ("not implemented: MYSQL_TYPE_NULL", TerminalError, "Reading: not implemented"),
    ],
)  # fmt: skip
def test_connectorx_errors_are_translated(text: str, kind: type[FustgoError], message: str) -> None:
    timeout = "Reading: the limit set by `input.fetch.timeout`"
    error = translate(RuntimeError(text), "Reading", SETTINGS, "input.connection", timeout)
    assert isinstance(error, kind)
    assert re.search(message, str(error)), str(error)


def test_a_failed_connect_is_retryable_and_names_the_server() -> None:
    error = translate(
        ConnectFailed("timed out waiting for connection: DriverError { Could not connect }"),
        "Reading", SETTINGS, "input.connection", None,
    )  # fmt: skip
    assert isinstance(error, RetryableError) and "`db:3306`" in str(error)


def test_the_url_quotes_credentials_and_sessions_set_fustgos_settings() -> None:
    maria = source(SETTINGS, mariadb=True, timeout=1.5, socket="/run/my.sock")
    assert maria.url == "mysql://etl:p%40ss%3A%2F@db:3306/shop?socket=/run/my.sock"
    assert maria.session[0].startswith("SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES")
    assert maria.session[1:] == (
        "SET SESSION TRANSACTION READ ONLY",
        "SET SESSION max_statement_time = 1.500000",
    )
    mysql = source(SETTINGS, mariadb=False, timeout=0.25)
    assert mysql.session[-1] == "SET SESSION max_execution_time = 250"
