"""The preview API against real databases: source and target previews with column
statistics (PostgreSQL, MariaDB, SQLite), the §6.5 schema comparison (MariaDB source,
PostgreSQL target), and a job's run preview that reads N records and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.databases import PG_CONNECTION, make_sqlite, my, my_database, pg, pg_schema

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

PREVIEW = "/api/v1/preview"
MY_CONNECTION = {"host": "127.0.0.1", "user": "root"}


@pytest.fixture
def pg_people() -> Iterator[str]:
    """`<schema>.people`: 40 rows, every fourth name NULL, three distinct names."""
    with pg_schema("preview") as schema:
        pg(
            f'CREATE TABLE "{schema}".people (id int PRIMARY KEY, name varchar(100), '
            "score numeric(12,2), born date, seen timestamptz)"
        )
        pg(
            f'INSERT INTO "{schema}".people SELECT i, CASE WHEN i % 4 = 0 THEN NULL '
            "ELSE 'n' || (i % 3) END, i * 1.5, DATE '2020-01-01' + i, "
            "TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * interval '1 hour' "
            "FROM generate_series(1, 40) AS i"
        )
        yield f"{schema}.people"


def stats_of(body: dict[str, Any], column: str) -> dict[str, Any]:
    return next(stat for stat in body["stats"] if stat["name"] == column)


def test_source_preview_of_a_saved_postgresql_connection(
    client: TestClient, pg_people: str
) -> None:
    saved = client.post(
        "/api/v1/connections", json={"name": "pg", "type": "postgresql", "config": PG_CONNECTION}
    )
    connection_id = saved.json()["connection_id"]
    response = client.post(
        f"{PREVIEW}/source", json={"connection_id": connection_id, "table": pg_people, "limit": 20}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == {
        "kind": "connection",
        "connection_id": connection_id,
        "name": "pg",
        "type": "postgresql",
    }
    assert body["row_count"] == len(body["rows"]) == 20
    assert body["table"]["name"] == "people"
    declared = {c["name"]: (c["type"], c["logical"], c["nullable"]) for c in body["schema"]}
    assert declared["id"] == ("integer", "int32", False)
    assert declared["name"] == ("character varying(100)", "string", True)
    assert declared["score"][1] == "decimal(12,2)"
    assert declared["seen"][1] == "timestamp(UTC)"
    assert [c["name"] for c in body["columns"]] == ["id", "name", "score", "born", "seen"]

    ids = [row[0] for row in body["rows"]]
    names = stats_of(body, "name")
    nulls = sum(1 for i in ids if i % 4 == 0)
    assert names["null_count"] == nulls and names["null_ratio"] == round(nulls / 20, 4)
    assert names["distinct"] == 3
    counts = {top["value"]: top["count"] for top in names["top_values"]}
    assert sum(counts.values()) == 20 - nulls and set(counts) == {"n0", "n1", "n2"}
    assert names["min_length"] == names["max_length"] == 2
    born = stats_of(body, "born")
    assert (born["min"], born["max"]) == (
        f"2020-01-{1 + min(ids):02d}",
        f"2020-01-{1 + max(ids):02d}",
    )
    score = stats_of(body, "score")
    assert (score["min"], score["max"]) == (f"{min(ids) * 1.5:.2f}", f"{max(ids) * 1.5:.2f}")
    assert stats_of(body, "id")["null_ratio"] == 0.0


def test_source_preview_of_a_mariadb_query_and_errors(client: TestClient) -> None:
    with my_database("preview") as database:
        my(
            f"CREATE TABLE `{database}`.orders (id int PRIMARY KEY, amount decimal(10,2), "
            "status varchar(10))"
        )
        my(
            f"INSERT INTO `{database}`.orders VALUES (%s, %s, %s)",
            [(i, i * 10, "paid" if i % 3 else "open") for i in range(1, 31)],
            many=True,
        )
        connection = {"type": "mariadb", "config": {**MY_CONNECTION, "database": database}}
        sql = "SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status"
        response = client.post(f"{PREVIEW}/source", json={"connection": connection, "sql": sql})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["rows"] == [["open", 10], ["paid", 20]]
        assert body["table"] is None and body["sql"] == sql
        assert [c["name"] for c in body["schema"]] == ["status", "n"]

        missing = client.post(
            f"{PREVIEW}/source", json={"connection": connection, "table": "ordrs"}
        )
        assert missing.status_code == 422
        assert "`ordrs` does not exist" in missing.json()["error"]["message"]
        assert "`orders`" in missing.json()["error"]["message"]

    two = client.post(f"{PREVIEW}/source", json={"connection_id": "x", "config_yaml": "a: 1"})
    assert two.status_code == 422 and "exactly one" in two.json()["error"]["message"]
    unknown = client.post(f"{PREVIEW}/source", json={"connection_id": "nope", "table": "t"})
    assert unknown.status_code == 404
    no_table = client.post(
        f"{PREVIEW}/source", json={"connection": {"type": "sqlite", "config": {"database": "x.db"}}}
    )
    assert no_table.status_code == 422 and no_table.json()["error"]["field"] == "table"


def sqlite_pipeline(source: Path, target: Path, table: str = "t") -> str:
    return f"""\
name: people
input:
  type: sqlite
  connection: {{database: "{source}"}}
  query: {{table: people}}
pipeline:
  processors:
    - type: filter
      condition: "id % 2 = 0"
output:
  type: sqlite
  connection: {{database: "{target}"}}
  write: {{table: {table}}}
"""


def test_target_preview_of_a_pipeline_yaml_on_sqlite(client: TestClient, tmp_path: Path) -> None:
    source = make_sqlite(
        tmp_path / "source.db",
        "CREATE TABLE people (id integer PRIMARY KEY, name text)",
        rows={"people": [(i, f"p{i}") for i in range(1, 11)]},
    )
    target = make_sqlite(
        tmp_path / "target.db",
        "CREATE TABLE done (id bigint, name varchar(20) NOT NULL)",
        rows={"done": [(1, "a"), (2, "b"), (3, "a")]},
    )
    missing = client.post(
        f"{PREVIEW}/target", json={"config_yaml": sqlite_pipeline(source, target)}
    )
    assert missing.status_code == 200, missing.text
    assert missing.json()["exists"] is False and "`t`" in missing.json()["message"]

    body = client.post(
        f"{PREVIEW}/target", json={"config_yaml": sqlite_pipeline(source, target, "done")}
    ).json()
    assert body["exists"] is True
    assert body["target"] == {"kind": "pipeline", "component": "output", "plugin": "sqlite"}
    assert body["rows"] == [[1, "a"], [2, "b"], [3, "a"]]
    assert stats_of(body, "name")["top_values"][0] == {"value": "a", "count": 2}

    source_side = client.post(
        f"{PREVIEW}/source", json={"config_yaml": sqlite_pipeline(source, target), "limit": 3}
    ).json()
    assert source_side["rows"] == [[1, "p1"], [2, "p2"], [3, "p3"]]

    draft = client.post(f"{PREVIEW}/source", json={"config_yaml": "name: x\ninput: {type: nope}"})
    assert draft.status_code == 422 and draft.json()["error"]["field"] == "config_yaml"


def test_schema_compare_mariadb_source_against_postgresql_target(client: TestClient) -> None:
    """The design doc's §6.5 table, on real servers."""
    with my_database("compare") as database, pg_schema("compare") as schema:
        my(
            f"CREATE TABLE `{database}`.users (user_id int NOT NULL PRIMARY KEY, "
            "name varchar(100), created_at datetime, amount decimal(12,2), "
            "note text, big bigint)"
        )
        pg(
            f'CREATE TABLE "{schema}".users (user_id bigint NOT NULL, username varchar(50), '
            "create_time timestamp, updated_at timestamp, amount numeric(10,2), "
            "note varchar(20), big integer, extra int NOT NULL)"
        )
        body = client.post(
            f"{PREVIEW}/schema",
            json={
                "source": {
                    "connection": {
                        "type": "mariadb",
                        "config": {**MY_CONNECTION, "database": database},
                    },
                    "table": "users",
                },
                "target": {
                    "connection": {"type": "postgresql", "config": PG_CONNECTION},
                    "table": f"{schema}.users",
                },
            },
        )
    assert body.status_code == 200, body.text
    result = body.json()
    rows = {
        (row["source"] or {}).get("name") or row["target"]["name"]: row for row in result["columns"]
    }
    assert rows["user_id"]["status"] == "compatible"
    assert rows["user_id"]["target"]["type"] == "bigint"
    assert rows["name"]["target"]["name"] == "username"
    assert rows["name"]["match"] == "suggested" and rows["name"]["status"] == "warning"
    assert any("length mismatch" in m for m in rows["name"]["messages"])
    assert rows["created_at"]["target"]["name"] == "create_time"
    assert rows["created_at"]["status"] == "compatible"
    assert rows["amount"]["status"] == "warning"
    assert any("precision mismatch" in m for m in rows["amount"]["messages"])
    assert rows["note"]["status"] == "warning"  # text → varchar(20)
    assert rows["big"]["status"] == "warning"  # bigint → integer
    assert rows["updated_at"]["status"] == "missing_in_source"
    assert rows["extra"]["status"] == "missing_in_source"
    assert "NOT NULL" in rows["extra"]["messages"][0]
    assert result["mapping"] == {"name": "username", "created_at": "create_time"}
    assert result["target_exists"] is True


def test_run_preview_reads_n_records_and_writes_nothing(client: TestClient, pg_people: str) -> None:
    schema = pg_people.split(".", maxsplit=1)[0]
    config = f"""\
name: people_copy
input:
  type: postgresql
  connection: {{host: 127.0.0.1, database: test, user: postgres}}
  query: {{table: {pg_people}, split_key: id}}
pipeline:
  processors:
    - type: filter
      condition: "id % 2 = 0"
    - type: mapping
      field_mappings: {{id: person_id}}
output:
  type: postgresql
  connection: {{host: 127.0.0.1, database: test, user: postgres}}
  write: {{table: {schema}.copy}}
"""
    job = client.post("/api/v1/jobs", json={"job_name": "copy", "config_yaml": config}).json()
    assert job["status"] == "ready", job["diagnostics"]
    response = client.post(f"/api/v1/jobs/{job['job_id']}/run-preview", json={"limit": 10})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["written"] is False and body["status"] == "succeeded"
    read = body["input"]
    assert read["records"] == 10 and not read["timed_out"]
    read_ids = [row[0] for row in read["rows"]]
    assert len(set(read_ids)) == 10
    kept = sorted(i for i in read_ids if i % 2 == 0)
    filtered, renamed = body["stages"]
    assert filtered["plugin"] == "filter" and filtered["records_in"] == 10
    assert sorted(row[0] for row in filtered["rows"]) == kept
    assert renamed["columns"][0] == {"name": "person_id", "type": "int32"}
    assert sorted(row[0] for row in renamed["rows"]) == kept
    assert body["output"]["records"] == len(kept) and body["dead_letter"]["records"] == 0
    tables = pg(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
    )
    assert tables == [("people",)]  # the output's table was never created

    executions = client.get(f"/api/v1/jobs/{job['job_id']}/executions").json()
    assert (
        executions["total"] == 0
        and client.get(f"/api/v1/jobs/{job['job_id']}").json()["status"] == "ready"
    )
    assert client.post("/api/v1/jobs/nope/run-preview").status_code == 404


def test_run_preview_of_a_stream_stops_at_the_timeout(client: TestClient, tmp_path: Path) -> None:
    """An input that never ends (20 records a second) gives what it read by the timeout."""
    config = """\
name: slow
input: {type: generate, count: 0, rate_per_sec: 20, fields: {id: {kind: sequence, start: 1}}}
output: {type: json, path: out.jsonl}
"""
    job = client.post("/api/v1/jobs", json={"config_yaml": config}).json()
    response = client.post(
        f"/api/v1/jobs/{job['job_id']}/run-preview", json={"limit": 1000, "timeout_seconds": 1}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["input"]["timed_out"] is True
    assert 5 <= body["input"]["records"] < 1000
    assert body["output"]["records"] == body["input"]["records"]
    assert [row[0] for row in body["output"]["rows"]] == list(
        range(1, body["input"]["records"] + 1)
    )
    assert not (tmp_path / "out.jsonl").exists()
