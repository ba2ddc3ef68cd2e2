"""Saved connections: secrets stored but never returned, the connection test against the
real PostgreSQL, and errors that name the field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text

from tests.databases import PG_CONNECTION, pg, pg_schema

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

CONNECTIONS = "/api/v1/connections"


def stored_config(client: TestClient, connection_id: str) -> dict[str, Any]:
    """What the store holds, read past the API."""
    store = client.app.state.fustgo.store  # type: ignore[attr-defined]
    with store.engine.connect() as connection:
        row = connection.execute(
            text("SELECT config FROM connections WHERE connection_id = :id"), {"id": connection_id}
        ).scalar_one()
    import json

    return row if isinstance(row, dict) else json.loads(row)


def test_passwords_are_kept_but_never_returned(any_store_client: TestClient) -> None:
    client = any_store_client
    body = {"name": "warehouse", "type": "postgresql",
            "config": {**PG_CONNECTION, "password": "s3cret"}}  # fmt: skip
    created = client.post(CONNECTIONS, json=body)
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["config"]["password"] == "********" and "s3cret" not in created.text
    connection_id = saved["connection_id"]
    for response in (client.get(f"{CONNECTIONS}/{connection_id}"), client.get(CONNECTIONS)):
        assert "s3cret" not in response.text and "********" in response.text
    assert stored_config(client, connection_id)["password"] == "s3cret"

    # the form sends the mask back: the password stays; a new one replaces it
    edited = {**saved["config"], "port": 5432, "host": "127.0.0.1"}
    updated = client.put(f"{CONNECTIONS}/{connection_id}", json={"config": edited})
    assert updated.status_code == 200, updated.text
    assert stored_config(client, connection_id)["password"] == "s3cret"
    client.put(f"{CONNECTIONS}/{connection_id}", json={"config": {**edited, "password": "new"}})
    assert stored_config(client, connection_id)["password"] == "new"
    masked_new = client.post(CONNECTIONS, json={**body, "name": "other",
                                                "config": saved["config"]})  # fmt: skip
    assert masked_new.status_code == 422
    assert masked_new.json()["error"]["field"] == "config.password"

    assert client.post(CONNECTIONS, json=body).status_code == 409
    assert client.delete(f"{CONNECTIONS}/{connection_id}").status_code == 204
    assert client.get(f"{CONNECTIONS}/{connection_id}").status_code == 404


def test_the_connection_test_reaches_the_server_or_says_why_not(client: TestClient) -> None:
    saved = client.post(
        CONNECTIONS, json={"name": "pg", "type": "postgresql", "config": PG_CONNECTION}
    ).json()
    tested = client.post(f"{CONNECTIONS}/{saved['connection_id']}/test")
    assert tested.status_code == 200, tested.text
    answer = tested.json()
    assert answer["ok"] is True and answer["server"]["product"] == "PostgreSQL"
    assert answer["server"]["address"] == "127.0.0.1:5432/test"

    nowhere = {"host": "127.0.0.1", "port": 1, "database": "x", "user": "u"}
    unreachable = {"name": "nowhere", "type": "mysql", "config": nowhere}
    failed = client.post(f"{CONNECTIONS}/test", json=unreachable).json()
    assert failed["ok"] is False and failed["server"] is None
    assert "127.0.0.1:1" in failed["error"]


def test_invalid_settings_name_the_field(any_store_client: TestClient) -> None:
    client = any_store_client
    wrong_port = {"name": "x", "type": "postgresql",
                  "config": {**PG_CONNECTION, "port": "five"}}  # fmt: skip
    error = client.post(CONNECTIONS, json=wrong_port).json()["error"]
    assert error["field"] == "config.port" and "integer" in error["message"]
    missing = {"name": "x", "type": "mysql", "config": {"host": "h"}}
    response = client.post(CONNECTIONS, json=missing)
    assert response.status_code == 422
    fields = {detail["field"] for detail in response.json()["error"]["details"]}
    assert {"config.database", "config.user"} <= fields
    unknown = client.post(CONNECTIONS, json={"name": "x", "type": "postgres", "config": {}})
    error = unknown.json()["error"]
    assert unknown.status_code == 422 and error["field"] == "type"
    assert "Did you mean `postgresql`?" in error["message"]


def test_the_tables_of_a_saved_connection_are_listed(client: TestClient) -> None:
    saved = client.post(
        CONNECTIONS, json={"name": "pg-tables", "type": "postgresql", "config": PG_CONNECTION}
    ).json()
    with pg_schema("tables") as schema:
        pg(f'CREATE TABLE "{schema}".orders (id int primary key); '
           f'CREATE VIEW "{schema}".paid AS SELECT id FROM "{schema}".orders')  # fmt: skip
        listed = client.get(f"{CONNECTIONS}/{saved['connection_id']}/tables",
                            params={"schema": schema})  # fmt: skip
        assert listed.status_code == 200, listed.text
        answer = listed.json()
        assert answer["schema"] == schema
        assert {(item["name"], item["kind"]) for item in answer["items"]} == {
            ("orders", "table"), ("paid", "view"),
        }  # fmt: skip
    default = client.get(f"{CONNECTIONS}/{saved['connection_id']}/tables").json()
    assert default["schema"] == "public"

    nowhere = {"host": "127.0.0.1", "port": 1, "database": "x", "user": "u"}
    gone = client.post(CONNECTIONS, json={"name": "gone", "type": "postgresql",
                                          "config": nowhere}).json()  # fmt: skip
    failed = client.get(f"{CONNECTIONS}/{gone['connection_id']}/tables")
    assert failed.status_code in (422, 503) and "127.0.0.1:1" in failed.json()["error"]["message"]
    assert client.get(f"{CONNECTIONS}/nope/tables").status_code == 404
