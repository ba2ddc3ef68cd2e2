"""The MySQL client: the type table, identifiers and error translation (real MariaDB)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import MySQLdb
import pytest

from fustgo.engine.errors import DataError, RetryableError, TerminalError
from fustgo.engine.types import LogicalType, parse_type
from fustgo.plugins.clients.mysql import (
    MysqlConnection,
    connect,
    described_type,
    logical_type,
    mysql_type,
    qualified,
    quote,
    quote_literal,
    translate_error,
)
from tests.databases import my_database

pytestmark = pytest.mark.integration


@pytest.fixture
def database() -> Iterator[str]:
    with my_database("client") as name:
        yield name


@pytest.mark.parametrize(
    ("declared", "logical"),
    [
        ("tinyint(1)", "bool"),
        ("tinyint(4)", "int8"),
        ("tinyint(3) unsigned", "uint8"),
        ("smallint(6)", "int16"),
        ("smallint unsigned", "uint16"),
        ("mediumint(9)", "int32"),
        ("mediumint unsigned", "uint32"),
        ("int(11)", "int32"),
        ("int(10) unsigned", "uint32"),
        ("bigint(20)", "int64"),
        ("bigint(20) unsigned zerofill", "uint64"),
        ("float", "float32"),
        ("double", "float64"),
        ("decimal(12,2)", "decimal(12,2)"),
        ("decimal(65,30)", "decimal(65,30)"),
        ("decimal(5)", "decimal(5,0)"),
        ("varchar(64)", "string"),
        ("char(2)", "string"),
        ("longtext", "string"),
        ("enum('a','b')", "string"),
        ("set('x','y')", "string"),
        ("varbinary(16)", "binary"),
        ("blob", "binary"),
        ("date", "date"),
        ("time(6)", "time"),
        ("datetime(6)", "timestamp"),
        ("timestamp(3)", "timestamp(UTC)"),
        ("year(4)", "int16"),
        ("bit(3)", "int64"),
        ("bit(64)", "binary"),
        ("uuid", "string"),
    ],
)
def test_logical_type_of_every_column_type(declared: str, logical: str) -> None:
    assert logical_type(declared) == parse_type(logical)
    assert logical_type("json") == LogicalType("json")


@pytest.mark.parametrize(
    ("logical", "declared"),
    [
        ("bool", "tinyint(1)"),
        ("int8", "tinyint"),
        ("uint64", "bigint unsigned"),
        ("int32", "int"),
        ("float32", "float"),
        ("decimal(38,10)", "decimal(38,10)"),
        ("decimal(70,2)", "longtext"),
        ("string", "longtext"),
        ("binary", "longblob"),
        ("time", "time(6)"),
        ("timestamp", "datetime(6)"),
        ("timestamp(Asia/Tokyo)", "datetime(6)"),
        ("list<int64>", "json"),
    ],
)
def test_mysql_type_of_every_logical_type(logical: str, declared: str) -> None:
    assert mysql_type(parse_type(logical)) == declared
    assert mysql_type(parse_type("string"), in_key=True) == "varchar(255)"


def test_identifiers_and_literals_are_quoted() -> None:
    assert quote("we`ird") == "`we``ird`"
    assert qualified("shop.orders") == "`shop`.`orders`"
    assert quote_literal("it's a \\ \n") == "'it\\'s a \\\\ \\n'"


def test_query_columns_are_described_from_result_metadata(database: str) -> None:
    connection = MySQLdb.connect(host="127.0.0.1", user="root", database=database)
    cursor = connection.cursor()
    cursor.execute(
        "CREATE TABLE t (a decimal(12,2), b int unsigned, c varchar(5), d varbinary(5), "
        "e tinyint(1), f bit(3), g decimal(7,0) unsigned)"
    )
    cursor.execute("SELECT * FROM t LIMIT 0")
    described = [
        described_type(item[1], flag, item[3], item[5])
        for item, flag in zip(cursor.description, cursor.description_flags, strict=True)
    ]
    connection.close()
    assert described == [
        "decimal(12,2)", "int unsigned", "text", "varbinary", "tinyint(1)", "bit(3)",
        "decimal(7,0)",
    ]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_port_is_retryable_and_names_host_and_port() -> None:
    port = _free_port()
    settings = MysqlConnection(host="127.0.0.1", port=port, database="test", user="root")
    with pytest.raises(RetryableError, match=rf"127\.0\.0\.1:{port}"):
        connect(settings, read_only=True, where="input.connection")


def test_wrong_database_and_user_are_terminal_with_the_field_to_fix() -> None:
    settings = MysqlConnection(host="127.0.0.1", database="fg_no_such_db", user="root")
    with pytest.raises(TerminalError, match=r"fg_no_such_db.*input\.connection\.database"):
        connect(settings, read_only=True, where="input.connection")
    settings = MysqlConnection(host="127.0.0.1", database="test", user="fg_no_user")
    with pytest.raises(TerminalError, match=r"fg_no_user.*output\.connection\.user"):
        connect(settings, read_only=False, where="output.connection")


def test_sessions_are_utc_strict_and_inputs_read_only(database: str) -> None:
    settings = MysqlConnection(host="127.0.0.1", database=database, user="root")
    writer = connect(settings, read_only=False, where="output.connection")
    cursor = writer.cursor()
    cursor.execute("SELECT @@session.time_zone, @@session.sql_mode")
    zone, mode = cursor.fetchone()
    assert zone == "+00:00" and "STRICT_ALL_TABLES" in mode
    cursor.execute("CREATE TABLE t (id int PRIMARY KEY, code varchar(2) NOT NULL)")
    cursor.execute("INSERT INTO t VALUES (1, 'ab')")
    errors = []
    bad_rows = ("(1, 'cd')", "(2, 'abc')", "(3, NULL)", "(99999999999, 'x')")
    for statement in (f"INSERT INTO t VALUES {values}" for values in bad_rows):
        with pytest.raises(MySQLdb.Error) as caught:
            cursor.execute(statement)
        errors.append(translate_error(caught.value, "Writing", settings, "output.connection"))
    assert all(isinstance(error, DataError) for error in errors), errors
    with pytest.raises(MySQLdb.Error) as caught:
        cursor.execute("SELECT nope FROM t")
    assert isinstance(translate_error(caught.value, "Reading", settings, "x"), TerminalError)
    writer.commit()
    writer.close()
    reader = connect(settings, read_only=True, where="input.connection")
    with pytest.raises(MySQLdb.Error):
        reader.cursor().execute("INSERT INTO t VALUES (5, 'zz')")
    reader.close()
