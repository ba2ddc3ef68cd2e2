"""The PostgreSQL client: the type table, identifiers and error translation."""

from __future__ import annotations

import socket

import pytest

from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.engine.types import LogicalType, parse_type
from fustgo.plugins.clients.postgresql import (
    PostgresConnection,
    connect,
    connect_adbc,
    logical_type,
    postgres_type,
    qualified,
    quote,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("declared", "logical"),
    [
        ("smallint", "int16"),
        ("int2", "int16"),
        ("integer", "int32"),
        ("bigint", "int64"),
        ("real", "float32"),
        ("double precision", "float64"),
        ("numeric(12,2)", "decimal(12,2)"),
        ("numeric(5)", "decimal(5,0)"),
        ("numeric", "string"),
        ("numeric(100,2)", "string"),
        ("character varying(3)", "string"),
        ("varchar(3)", "string"),
        ("character(2)", "string"),
        ("bytea", "binary"),
        ("boolean", "bool"),
        ("date", "date"),
        ("time(3) without time zone", "time"),
        ("timestamp without time zone", "timestamp"),
        ("timestamp(6) with time zone", "timestamp(UTC)"),
        ("timestamptz", "timestamp(UTC)"),
        ("jsonb", "json"),
        ("json", "json"),
        ("interval", "string"),
        ("uuid", "string"),
        ("integer[]", "list<int32>"),
        ("_int8", "list<int64>"),
        ("text[]", "list<string>"),
        ("integer[][]", "string"),  # nested arrays arrive as their text
        ("my_schema.mood", "string"),
    ],
)
def test_logical_type_of_every_spelling(declared: str, logical: str) -> None:
    expected = LogicalType("json") if logical == "json" else parse_type(logical)
    assert logical_type(declared) == expected


@pytest.mark.parametrize(
    ("logical", "declared"),
    [
        ("int8", "smallint"),
        ("int16", "smallint"),
        ("int32", "integer"),
        ("int64", "bigint"),
        ("uint32", "bigint"),
        ("uint64", "numeric(20,0)"),
        ("float32", "real"),
        ("float64", "double precision"),
        ("decimal(12,2)", "numeric(12,2)"),
        ("string", "text"),
        ("binary", "bytea"),
        ("bool", "boolean"),
        ("date", "date"),
        ("time", "time"),
        ("timestamp", "timestamp"),
        ("timestamp(Europe/Paris)", "timestamptz"),
        ("list<int64>", "bigint[]"),
        ("list<list<int64>>", "jsonb"),
        ("struct<a: int64>", "jsonb"),
    ],
)
def test_postgres_type_of_every_logical_type(logical: str, declared: str) -> None:
    assert postgres_type(parse_type(logical)) == declared
    assert postgres_type(LogicalType("json")) == "jsonb"


def test_identifiers_are_quoted_part_by_part() -> None:
    assert quote('we"ird') == '"we""ird"'
    assert qualified("sales.orders") == '"sales"."orders"'
    assert qualified("orders") == '"orders"'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_port_is_retryable_and_names_host_and_port() -> None:
    port = _free_port()
    settings = PostgresConnection(host="127.0.0.1", port=port, database="test", user="postgres")
    with pytest.raises(RetryableError, match=rf"127\.0\.0\.1:{port}"):
        connect(settings, read_only=True, autocommit=True, where="input.connection")
    with pytest.raises(RetryableError, match=rf"127\.0\.0\.1:{port}"):
        connect_adbc(settings, where="input.connection")


def test_missing_database_and_role_are_terminal_with_the_field_to_fix() -> None:
    settings = PostgresConnection(host="127.0.0.1", database="fustgo_no_such_db", user="postgres")
    with pytest.raises(TerminalError, match=r"fustgo_no_such_db.*input\.connection\.database"):
        connect(settings, read_only=True, autocommit=True, where="input.connection")
    settings = PostgresConnection(host="127.0.0.1", database="test", user="fustgo_no_role")
    with pytest.raises(TerminalError, match=r"fustgo_no_role.*output\.connection\.user"):
        connect_adbc(settings, where="output.connection")
