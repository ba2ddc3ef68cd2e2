"""`fustgo inspect` and `validate --check-connections` against the real PostgreSQL server and
a SQLite file: one run in a subprocess as a user runs it, the others in-process (faster)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fustgo.cli.main import app
from tests import databases
from tests.cli_runner import run_fustgo
from tests.databases import pg

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_schema() -> Iterator[str]:
    with databases.pg_schema("insp") as name:
        pg(
            f'CREATE TABLE "{name}".orders (id bigint PRIMARY KEY, amount numeric(12,2) '
            f"NOT NULL, note text); INSERT INTO \"{name}\".orders SELECT g, g / 4.0, 'n' || g "
            f'FROM generate_series(1, 300) g; ANALYZE "{name}".orders'
        )
        yield name


def fustgo(*args: str) -> Result:
    """`fustgo ARGS` in this process, in the test's working directory."""
    return CliRunner().invoke(app, list(args))


def pipeline(tmp_path: Path, schema: str, *, table: str = "orders") -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(
        "input:\n  type: postgresql\n"
        "  connection: {host: 127.0.0.1, database: test, user: postgres}\n"
        f"  query: {{table: {schema}.{table}}}\n"
        "output:\n  type: sqlite\n  connection: {database: out.db}\n"
        "  write: {table: copied}\n",
        encoding="utf-8",
    )
    return path


def test_describes_the_inputs_table_and_previews_rows(tmp_path: Path, pg_schema: str) -> None:
    pipeline(tmp_path, pg_schema)
    result = run_fustgo("inspect", "p.yaml", "--preview", "3", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "input (postgresql): PostgreSQL " in out and "as postgres, read-write" in out
    assert f"{pg_schema}.orders: table, 300 rows (estimate)" in out
    assert "numeric(12,2)" in out and "decimal(12,2)" in out and "PK 1" in out
    assert "Primary key: id" in out
    assert "first 3 rows" in out


def test_json_output_lists_tables_and_preview(
    in_tmp_cwd: Path, tmp_path: Path, pg_schema: str
) -> None:
    pipeline(tmp_path, pg_schema)
    listed = fustgo("inspect", "p.yaml", "--schema", pg_schema, "--json")
    assert listed.exit_code == 0, listed.output
    payload = json.loads(listed.stdout)
    assert payload["component"] == "input" and payload["plugin"] == "postgresql"
    assert payload["server"]["product"] == "PostgreSQL"
    assert pg_schema in payload["schemas"] and payload["schema"] == pg_schema
    assert payload["tables"] == [
        {"schema": pg_schema, "name": "orders", "kind": "table", "rows_estimate": 300,
         "comment": None}
    ]  # fmt: skip

    described = fustgo("inspect", "p.yaml", "--preview", "2", "--format", "json")
    payload = json.loads(described.stdout)
    assert payload["primary_key"] == ["id"]
    assert [c["logical"] for c in payload["columns"]] == ["int64", "decimal(12,2)", "string"]
    preview = payload["preview"]
    assert [c["type"] for c in preview["columns"]] == ["int64", "decimal(12,2)", "string"]
    assert len(preview["rows"]) == 2 and preview["rejected"] == 0
    assert all(isinstance(row[1], str) for row in preview["rows"])


def test_output_side_and_errors(in_tmp_cwd: Path, tmp_path: Path, pg_schema: str) -> None:
    pipeline(tmp_path, pg_schema, table="missing")
    missing = fustgo("inspect", "p.yaml")
    assert missing.exit_code == 1
    assert f"error: Table `{pg_schema}.missing` does not exist on 127.0.0.1:5432/test" in (
        missing.stderr
    )
    assert "Did you mean" in missing.stderr and "Traceback" not in missing.stderr
    # the output's SQLite file does not exist until the first run
    absent = fustgo("inspect", "p.yaml", "--component", "output")
    assert absent.exit_code == 1
    assert "does not exist; check `output.connection.database`" in absent.stderr
    database = sqlite3.connect(tmp_path / "out.db")
    database.execute("CREATE TABLE copied (id INTEGER PRIMARY KEY, amount DECIMAL_TEXT(12,2))")
    database.close()
    output = fustgo("inspect", "p.yaml", "--component", "output", "--json")
    assert output.exit_code == 0, output.stderr
    payload = json.loads(output.stdout)
    assert payload["component"] == "output" and payload["table"]["name"] == "copied"
    assert [c["name"] for c in payload["columns"]] == ["id", "amount"]


def test_a_component_without_a_catalog_is_a_usage_error(in_tmp_cwd: Path, tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "input: {type: csv, paths: [a.csv]}\noutput: {type: json, path: o.jsonl}\n",
        encoding="utf-8",
    )
    result = fustgo("inspect", "p.yaml")
    assert result.exit_code == 2
    assert "`input` (`csv`) is not a database `inspect` knows" in result.stderr


def test_validate_check_connections_reports_what_answered(
    in_tmp_cwd: Path, tmp_path: Path, pg_schema: str
) -> None:
    pipeline(tmp_path, pg_schema)
    text = fustgo("validate", "p.yaml", "--check-connections")
    assert text.exit_code == 0, text.stdout
    assert "`input` (`postgresql`): PostgreSQL " in text.stdout
    assert "`output` (`sqlite`): connected" in text.stdout  # created by the run
    assert "p.yaml is valid" in text.stdout
    as_json = fustgo("validate", "p.yaml", "--check-connections", "--format", "json")
    payload = json.loads(as_json.stdout)
    assert payload["ok"] is True and payload["diagnostics"] == []
    first, second = payload["connections"]
    assert first["path"] == "input" and first["ok"] is True
    assert first["server"]["user"] == "postgres" and first["server"]["latency_ms"] > 0
    assert second == {
        "path": "output", "type": "sqlite", "ok": True, "error": None, "server": None
    }  # fmt: skip
    plain = fustgo("validate", "p.yaml", "--format", "json")
    assert "connections" not in json.loads(plain.stdout)
