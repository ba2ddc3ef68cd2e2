"""The catalogs against the real PostgreSQL and MariaDB servers and a SQLite file.

Each test creates and drops its own schema (PostgreSQL), database (MariaDB) or file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pytest

from fustgo.engine.errors import ConfigError, RetryableError, TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA, LogicalType
from fustgo.plugins.api import PluginContext
from fustgo.plugins.catalog import Catalog, catalog_for, catalog_of, find_family
from fustgo.plugins.inputs.postgresql import PostgresqlInput, PostgresqlInputConfig
from fustgo.plugins.outputs.files.json import JsonOutput, JsonOutputConfig
from fustgo.plugins.outputs.sqlite import SqliteOutput, SqliteOutputConfig
from tests import databases
from tests.databases import PG_CONNECTION as PG
from tests.databases import my, my_database, pg

pytestmark = pytest.mark.integration

T = TypeVar("T")


def run(catalog: Catalog, action: Callable[[Catalog], Coroutine[Any, Any, T]]) -> T:
    async def go() -> T:
        async with catalog:
            return await action(catalog)

    return asyncio.run(go())


# -- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture
def pg_schema() -> Iterator[str]:
    with databases.pg_schema("cat") as name:
        yield name


def test_postgresql_test_reports_server_user_and_timings() -> None:
    info = run(catalog_of("postgresql", PG), lambda c: c.test())
    assert info.product == "PostgreSQL"
    assert info.version.split(".")[0].isdigit()
    assert (info.address, info.user, info.read_only) == ("127.0.0.1:5432/test", "postgres", False)
    assert 0 < info.connect_ms < 10_000 and 0 < info.latency_ms < 10_000
    assert info.describe().startswith(f"PostgreSQL {info.version} at 127.0.0.1:5432/test as ")


def test_postgresql_lists_schemas_tables_kinds_and_estimates(pg_schema: str) -> None:
    pg(
        f'CREATE TABLE "{pg_schema}".orders (id bigint PRIMARY KEY, amount numeric(12,2)); '
        f'INSERT INTO "{pg_schema}".orders SELECT g, g FROM generate_series(1, 500) g; '
        f'ANALYZE "{pg_schema}".orders; '
        f'CREATE TABLE "{pg_schema}".fresh (id int); '
        f'CREATE VIEW "{pg_schema}".big AS SELECT * FROM "{pg_schema}".orders WHERE id > 10; '
        f'CREATE MATERIALIZED VIEW "{pg_schema}".mat AS SELECT id FROM "{pg_schema}".orders; '
        f'CREATE TABLE "{pg_schema}".parts (id int, day date) PARTITION BY RANGE (day); '
        f'CREATE TABLE "{pg_schema}".parts_1 PARTITION OF "{pg_schema}".parts '
        "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'); "
        f"INSERT INTO \"{pg_schema}\".parts SELECT g, '2024-03-01' FROM generate_series(1, 40) g; "
        f'ANALYZE "{pg_schema}".parts_1; ANALYZE "{pg_schema}".mat; '
        f"COMMENT ON TABLE \"{pg_schema}\".orders IS 'one row per order'"
    )

    async def look(catalog: Catalog) -> tuple[list[str], list[Any], str]:
        return (
            await catalog.schemas(),
            await catalog.tables(pg_schema),
            await catalog.default_schema(),
        )

    schemas, tables, default = run(catalog_of("postgresql", PG), look)
    assert pg_schema in schemas and "public" in schemas
    assert not [s for s in schemas if s.startswith("pg_") or s == "information_schema"]
    assert default == "public"
    listed = {t.name: (t.kind, t.rows_estimate, t.comment) for t in tables}
    assert listed == {
        "big": ("view", None, None),
        "fresh": ("table", None, None),  # never analyzed: no estimate rather than a guess
        "mat": ("materialized view", 500, None),
        "orders": ("table", 500, "one row per order"),
        "parts": ("partitioned table", 40, None),  # partitions are listed under their parent
    }
    assert [t.qualified for t in tables][:1] == [f"{pg_schema}.big"]


def test_postgresql_columns_types_defaults_and_primary_key(pg_schema: str) -> None:
    pg(
        f'CREATE TABLE "{pg_schema}".t (tenant int, id bigint GENERATED ALWAYS AS IDENTITY, '
        "amount numeric(12,2) NOT NULL DEFAULT 0, note text, created timestamptz DEFAULT now(), "
        "tags text[], doc jsonb, PRIMARY KEY (tenant, id)); "
        f"COMMENT ON COLUMN \"{pg_schema}\".t.note IS 'free text'"
    )

    async def look(catalog: Catalog) -> tuple[list[Any], list[str]]:
        table = f"{pg_schema}.t"
        return await catalog.columns(table), await catalog.primary_key(table)

    columns, key = run(catalog_of("postgresql", PG), look)
    assert key == ["tenant", "id"]
    assert [(c.name, c.declared, str(c.logical), c.nullable, c.primary_key) for c in columns] == [
        ("tenant", "integer", "int32", False, 1),
        ("id", "bigint", "int64", False, 2),
        ("amount", "numeric(12,2)", "decimal(12,2)", False, None),
        ("note", "text", "string", True, None),
        ("created", "timestamp with time zone", "timestamp(UTC)", True, None),
        ("tags", "text[]", "list<string>", True, None),
        ("doc", "jsonb", "json", True, None),
    ]
    defaults = {c.name: c.default for c in columns}
    assert defaults["id"] == "GENERATED ALWAYS AS IDENTITY"
    assert defaults["amount"] == "0" and defaults["created"] == "now()"
    assert defaults["note"] is None
    assert columns[3].comment == "free text"


def test_postgresql_preview_has_the_tables_logical_types_and_stops_at_the_limit(
    pg_schema: str,
) -> None:
    pg(
        f'CREATE TABLE "{pg_schema}".t (id bigint PRIMARY KEY, amount numeric(12,2), '
        "doc jsonb, tags int[], at timestamptz); "
        f"INSERT INTO \"{pg_schema}\".t SELECT g, g / 4.0, jsonb_build_object('n', g), "
        "ARRAY[g, g + 1], '2024-05-01 12:00+02' FROM generate_series(1, 2000) g"
    )
    catalog = catalog_of("postgresql", PG)
    preview = run(catalog, lambda c: c.preview(table=f"{pg_schema}.t", limit=7))
    assert preview.data.num_rows == 7 and preview.rejected == 0
    schema = preview.data.schema
    assert schema.field("amount").type == pa.decimal128(12, 2)
    assert schema.field("doc").metadata == JSON_FIELD_METADATA
    assert schema.field("tags").type == pa.list_(pa.int32())
    assert schema.field("at").type == pa.timestamp("us", tz="UTC")
    row = preview.data.filter(pa.compute.equal(preview.data["id"], 2)).to_pylist()
    if row:  # which 7 rows come first is the server's choice
        assert str(row[0]["amount"]) == "0.50" and row[0]["tags"] == [2, 3]
    payload = preview.to_json()
    assert payload["columns"][1] == {"name": "amount", "type": "decimal(12,2)"}
    assert all(isinstance(r[1], str) for r in payload["rows"])  # decimals stay exact text
    assert payload["rows"][0][4].endswith("+00:00")

    query = f'SELECT id * 2 AS twice FROM "{pg_schema}".t ORDER BY id DESC'
    by_sql = run(catalog_of("postgresql", PG), lambda c: c.preview(sql=query + ";", limit=3))
    assert by_sql.data.column("twice").to_pylist() == [4000, 3998, 3996]


def test_postgresql_missing_table_names_close_ones(pg_schema: str) -> None:
    pg(f'CREATE TABLE "{pg_schema}".orders (id int)')
    with pytest.raises(TerminalError) as caught:
        run(catalog_of("postgresql", PG), lambda c: c.columns(f"{pg_schema}.order"))
    message = str(caught.value)
    assert f"Table `{pg_schema}.order` does not exist on 127.0.0.1:5432/test" in message
    assert f"Did you mean `{pg_schema}.orders`?" in message
    with pytest.raises(TerminalError, match="does not exist"):
        run(catalog_of("postgresql", PG), lambda c: c.table("no_such_schema.t"))


def test_postgresql_connection_errors_name_server_and_field() -> None:
    with pytest.raises(TerminalError) as caught:
        run(catalog_of("postgresql", {**PG, "database": "fg_no_such_db"}), lambda c: c.test())
    assert "`fg_no_such_db` does not exist on `127.0.0.1:5432`" in str(caught.value)
    assert "`connection.database`" in str(caught.value)
    unreachable = {**PG, "port": 1, "connect_timeout": 2}
    with pytest.raises(RetryableError, match=r"127\.0\.0\.1:1"):
        run(catalog_of("postgresql", unreachable, where="input.connection"), lambda c: c.test())


def test_catalog_for_an_input_plugin_uses_its_connection_and_path() -> None:
    config = PostgresqlInputConfig.model_validate({"connection": PG, "query": {"table": "x"}})
    plugin = PostgresqlInput(config, PluginContext(component_path="input"))
    catalog = catalog_for(plugin)
    assert catalog is not None and catalog.family == "postgresql"
    assert catalog.where == "input.connection"
    assert run(catalog, lambda c: c.test()).user == "postgres"


def test_saved_connections_are_validated_by_the_family_model() -> None:
    assert find_family("mariadb").name == "mysql"
    with pytest.raises(ConfigError, match="Did you mean `postgresql`"):
        catalog_of("postgres", PG)
    with pytest.raises(ConfigError, match=r"`connection\.port`: Input should be less"):
        catalog_of("postgresql", {**PG, "port": 70000})


def test_a_plugin_without_a_database_has_no_catalog(tmp_path: Path) -> None:
    config = JsonOutputConfig.model_validate({"path": str(tmp_path / "o.jsonl")})
    assert catalog_for(JsonOutput(config)) is None


# -- MariaDB ------------------------------------------------------------------------------


@pytest.fixture
def maria_db() -> Iterator[str]:
    with my_database("cat") as name:
        yield name


def mysql_settings(database: str) -> dict[str, Any]:
    return {"host": "127.0.0.1", "database": database, "user": "root"}


def test_mariadb_test_and_listing(maria_db: str) -> None:
    my(
        "CREATE TABLE orders (id int PRIMARY KEY, amount decimal(12,2)) COMMENT 'the orders'",
        database=maria_db,
    )
    my(
        "INSERT INTO orders VALUES " + ",".join(f"({i}, {i})" for i in range(1, 101)),
        database=maria_db,
    )
    my("ANALYZE TABLE orders", database=maria_db)
    my("CREATE VIEW recent AS SELECT id FROM orders WHERE id > 50", database=maria_db)

    async def look(catalog: Catalog) -> tuple[Any, list[str], list[Any], str]:
        return (
            await catalog.test(),
            await catalog.schemas(),
            await catalog.tables(),
            await catalog.default_schema(),
        )

    info, schemas, tables, default = run(catalog_of("mariadb", mysql_settings(maria_db)), look)
    assert info.product == "MariaDB" and info.version[:2].isdigit() and "-" not in info.version
    assert info.user is not None and info.user.startswith("root@")
    assert info.read_only is False
    assert maria_db in schemas and "mysql" not in schemas and "information_schema" not in schemas
    assert default == maria_db
    listed = {t.name: (t.kind, t.rows_estimate, t.comment) for t in tables}
    assert listed == {"orders": ("table", 100, "the orders"), "recent": ("view", None, None)}


def test_mariadb_columns_json_defaults_and_primary_key(maria_db: str) -> None:
    my(
        "CREATE TABLE t (tenant int NOT NULL, id bigint unsigned NOT NULL AUTO_INCREMENT, "
        "name varchar(20) NOT NULL DEFAULT 'x', ok tinyint(1), doc json, "
        "at datetime(6) DEFAULT CURRENT_TIMESTAMP(6) COMMENT 'when', "
        "PRIMARY KEY (tenant, id), KEY (id))",
        database=maria_db,
    )

    async def look(catalog: Catalog) -> tuple[list[Any], list[str]]:
        return await catalog.columns(f"{maria_db}.t"), await catalog.primary_key("t")

    columns, key = run(catalog_of("mysql", mysql_settings(maria_db)), look)
    assert key == ["tenant", "id"]
    assert [(c.name, c.declared, str(c.logical), c.nullable, c.primary_key) for c in columns] == [
        ("tenant", "int(11)", "int32", False, 1),
        ("id", "bigint(20) unsigned", "uint64", False, 2),
        ("name", "varchar(20)", "string", False, None),
        ("ok", "tinyint(1)", "bool", True, None),
        ("doc", "json", "json", True, None),  # MariaDB's longtext + json_valid check
        ("at", "datetime(6)", "timestamp", True, None),
    ]
    defaults = {c.name: c.default for c in columns}
    assert defaults["name"] == "'x'" and defaults["ok"] is None
    assert defaults["at"] is not None and "current_timestamp" in defaults["at"].lower()
    assert columns[-1].comment == "when"


def test_mariadb_preview_of_a_table_and_a_query(maria_db: str) -> None:
    my(
        "CREATE TABLE t (id int PRIMARY KEY, amount decimal(12,2), doc json, ok tinyint(1), "
        "name varchar(10) COLLATE utf8mb4_bin)",
        database=maria_db,
    )
    my(
        "INSERT INTO t VALUES "
        + ",".join(f"({i}, {i}.25, '{{\"n\": {i}}}', {i % 2}, 'n{i}')" for i in range(1, 51)),
        database=maria_db,
    )
    settings = mysql_settings(maria_db)
    preview = run(catalog_of("mysql", settings), lambda c: c.preview(table="t", limit=5))
    assert preview.data.num_rows == 5
    schema = preview.data.schema
    assert schema.field("amount").type == pa.decimal128(12, 2)
    assert schema.field("doc").metadata == JSON_FIELD_METADATA  # longtext in the result
    assert schema.field("ok").type == pa.bool_()
    assert schema.field("name").type == pa.string()  # a *_bin collation looks binary
    query = "SELECT id, name FROM t WHERE id > 40 ORDER BY id"
    by_sql = run(catalog_of("mysql", settings), lambda c: c.preview(sql=query, limit=3))
    assert by_sql.data.to_pylist() == [
        {"id": 41, "name": b"n41"},
        {"id": 42, "name": b"n42"},
        {"id": 43, "name": b"n43"},
    ]


def test_mariadb_errors_name_server_and_field(maria_db: str) -> None:
    with pytest.raises(TerminalError) as caught:
        run(catalog_of("mysql", mysql_settings(maria_db)), lambda c: c.columns("nope"))
    assert f"Table `nope` does not exist on 127.0.0.1:3306/{maria_db}" in str(caught.value)
    wrong_user = {**mysql_settings(maria_db), "user": "fg_nobody", "password": "x"}
    with pytest.raises(TerminalError, match=r"refused the credentials of `fg_nobody`"):
        run(catalog_of("mysql", wrong_user, where="output.connection"), lambda c: c.test())


# -- SQLite -------------------------------------------------------------------------------


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x', "
        "amount DECIMAL_TEXT(12,2), at TIMESTAMPTZ, extra);"
        "CREATE TABLE pairs (a TEXT, b INT, PRIMARY KEY (b, a)) WITHOUT ROWID;"
        "CREATE VIEW named AS SELECT id, name FROM orders;"
    )
    connection.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
        [(i, f"n{i}", f"{i}.50", "2024-01-02 03:04:05.000000Z", i) for i in range(1, 31)],
    )
    connection.execute("INSERT INTO orders (id, name, amount) VALUES (31, 'bad', 'abc')")
    connection.commit()
    connection.close()
    return path


def test_sqlite_listing_estimates_and_columns(sqlite_file: Path) -> None:
    settings = {"database": sqlite_file.name}

    async def look(catalog: Catalog) -> tuple[Any, ...]:
        return (
            await catalog.test(),
            await catalog.schemas(),
            await catalog.tables(),
            await catalog.columns("main.orders"),
            await catalog.primary_key("pairs"),
        )

    catalog = catalog_of("sqlite", settings, base_dir=sqlite_file.parent)
    info, schemas, tables, columns, key = run(catalog, look)
    assert info.product == "SQLite" and info.address == str(sqlite_file)
    assert (info.user, info.read_only) == (None, False)
    assert schemas == ["main"]
    assert {t.name: (t.kind, t.rows_estimate) for t in tables} == {
        "named": ("view", None),
        "orders": ("table", 31),  # the largest rowid: an index seek, not a count
        "pairs": ("table", None),
    }
    assert [(c.name, c.declared, c.logical, c.nullable, c.primary_key) for c in columns] == [
        ("id", "INTEGER", LogicalType("int64"), False, 1),
        ("name", "TEXT", LogicalType("string"), False, None),
        ("amount", "DECIMAL_TEXT(12,2)", LogicalType("decimal", precision=12, scale=2), True, None),
        ("at", "TIMESTAMPTZ", LogicalType("timestamp", timezone="UTC"), True, None),
        ("extra", "", None, True, None),
    ]
    assert columns[1].default == "'x'"
    assert key == ["b", "a"]

    sqlite = sqlite3.connect(sqlite_file)
    sqlite.execute("ANALYZE")
    sqlite.close()
    estimates = run(
        catalog_of("sqlite", settings, base_dir=sqlite_file.parent), lambda c: c.tables()
    )
    assert {t.name: t.rows_estimate for t in estimates}["pairs"] is None  # empty: no stat row
    assert {t.name: t.rows_estimate for t in estimates}["orders"] == 31


def test_sqlite_preview_reports_values_the_input_rejects(sqlite_file: Path) -> None:
    catalog = catalog_of("sqlite", {"database": str(sqlite_file)})
    preview = run(catalog, lambda c: c.preview(table="orders", limit=40))
    assert preview.data.num_rows == 30  # row 31's amount is not a decimal
    assert preview.rejected == 1
    assert preview.errors == (
        "Column `amount` (DECIMAL_TEXT(12,2)) holds `abc`, which is not a valid decimal(12,2)",
    )
    assert preview.data.schema.field("amount").type == pa.decimal128(12, 2)
    assert preview.data.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert preview.to_json()["rejected"] == 1


def test_sqlite_missing_file_and_bad_limits(tmp_path: Path) -> None:
    with pytest.raises(
        TerminalError, match=r"does not exist; check `output\.connection\.database`"
    ):
        run(
            catalog_of(
                "sqlite", {"database": "nope.db"}, where="output.connection", base_dir=tmp_path
            ),
            lambda c: c.test(),
        )
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with pytest.raises(TerminalError, match="1 to 10000 rows"):
        run(
            catalog_of("sqlite", {"database": str(path)}),
            lambda c: c.preview(sql="SELECT 1", limit=0),
        )


def test_catalog_for_a_sqlite_output_resolves_paths_against_the_pipeline(
    sqlite_file: Path,
) -> None:
    config = SqliteOutputConfig.model_validate(
        {"connection": {"database": sqlite_file.name}, "write": {"table": "orders"}}
    )
    plugin = SqliteOutput(
        config, PluginContext(component_path="output", base_dir=sqlite_file.parent)
    )
    catalog = catalog_for(plugin)
    assert catalog is not None and catalog.where == "output.connection"
    assert [c.name for c in run(catalog, lambda c: c.columns("orders"))][:2] == ["id", "name"]
