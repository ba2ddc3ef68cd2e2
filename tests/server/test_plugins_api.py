"""The plugins API: lists and their filters, details, config schemas, switches persisted in
the store (on SQLite, PostgreSQL and MariaDB) and applied to validation and runs, and the
install/uninstall endpoints that say why they are not offered."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from fustgo.config.app import DatabaseSettings
from fustgo.plugins.registry import default_registry
from fustgo.server.settings import ServerSettings
from tests.server.conftest import make_client

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

PLUGINS = "/api/v1/plugins"

CSV_PIPELINE = """\
name: from_csv
input: {type: csv, paths: [in.csv]}
output: {type: json, path: out.jsonl}
"""


def names(client: TestClient, query: str) -> list[tuple[str, str]]:
    response = client.get(f"{PLUGINS}?{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return [(item["kind"], item["name"]) for item in body["items"]]


def test_lists_filter_by_kind_family_capability_enabled_and_name(client: TestClient) -> None:
    everything = names(client, "")
    registry = default_registry()
    assert len(everything) == len(registry.all())
    assert set(names(client, "kind=output")) == {
        ("output", info.name) for info in registry.all("output")
    }
    split_streams = names(client, "kind=input&capability=split&capability=streaming")
    assert ("input", "rabbitmq") in split_streams
    assert ("input", "kafka") not in split_streams and ("input", "csv") not in split_streams
    for kind, name in split_streams:
        assert {"split", "streaming"} <= registry.get(kind, name).capabilities
    assert {kind for kind, _ in names(client, "family=transform")} == {"processor"}
    assert names(client, "q=POSTGRES") == [("input", "postgresql"), ("output", "postgresql")]
    assert names(client, "enabled=false") == []
    assert client.get(f"{PLUGINS}?kind=sink").status_code == 422


def test_details_and_config_schema(client: TestClient) -> None:
    ambiguous = client.get(f"{PLUGINS}/postgresql")
    assert ambiguous.status_code == 422
    assert ambiguous.json()["error"]["field"] == "kind"
    assert "?kind=input" in ambiguous.json()["error"]["message"]

    details = client.get(f"{PLUGINS}/postgresql", params={"kind": "output"}).json()
    assert details["kind"] == "output" and details["family"] == "rdb"
    assert details["capabilities"] == ["upsert"]
    assert details["enabled"] is True and details["switched_by"] == "default"
    assert details["examples"] and all(e["type"] == "postgresql" for e in details["examples"])

    schema = client.get(details["config_schema_url"])
    assert schema.status_code == 200
    expected = default_registry().get("output", "postgresql").config_schema()
    assert schema.json() == expected
    assert schema.json()["properties"]["type"] == {
        "const": "postgresql",
        "description": "Selects this plugin.",
    }
    # a name used by one kind only needs no `kind`
    assert client.get(f"{PLUGINS}/filter/config-schema").json()["required"][0] == "type"

    missing = client.get(f"{PLUGINS}/postgrs")
    assert missing.status_code == 404
    assert "`postgresql`" in missing.json()["error"]["message"]
    assert client.get(f"{PLUGINS}/filter", params={"kind": "input"}).status_code == 404


def test_install_and_uninstall_are_not_offered(client: TestClient) -> None:
    for response in (client.post(PLUGINS, json={"url": "x"}), client.delete(f"{PLUGINS}/csv")):
        assert response.status_code == 501
        error = response.json()["error"]
        assert "not offered" in error["message"]
        assert "pip install" in error["hint"]


@pytest.mark.integration
def test_switches_are_persisted_and_applied_to_validation(
    db_settings: DatabaseSettings, tmp_path: Path
) -> None:
    settings = ServerSettings(db=db_settings, base_dir=tmp_path)
    with make_client(settings) as client:
        assert client.post("/api/v1/validate", json={"config_yaml": CSV_PIPELINE}).json()["ok"]
        off = client.post(f"{PLUGINS}/csv/disable", params={"kind": "input"})
        assert off.status_code == 200, off.text
        assert off.json()["enabled"] is False and off.json()["switched_by"] == "api"
        report = client.post("/api/v1/validate", json={"config_yaml": CSV_PIPELINE}).json()
        assert not report["ok"]
        assert any("csv" in d["message"] for d in report["diagnostics"])
        job = client.post("/api/v1/jobs", json={"config_yaml": CSV_PIPELINE}).json()
        assert job["status"] == "draft"
        assert names(client, "enabled=false") == [("input", "csv")]
        # the output named csv is another plugin and stays on
        assert client.get(f"{PLUGINS}/csv", params={"kind": "output"}).json()["enabled"]
    # the process-wide registry (the CLI's) is not touched by a server's switch
    assert default_registry().is_enabled("input", "csv")

    with make_client(ServerSettings(db=db_settings, base_dir=tmp_path)) as client:
        assert names(client, "enabled=false") == [("input", "csv")]
        on = client.post(f"{PLUGINS}/csv/enable", params={"kind": "input"})
        assert on.json()["enabled"] is True and on.json()["switched_by"] == "api"
        assert client.post("/api/v1/validate", json={"config_yaml": CSV_PIPELINE}).json()["ok"]
        assert client.post(f"{PLUGINS}/csv/enable", params={"kind": "input"}).status_code == 200


def test_the_api_switch_wins_over_the_main_config(tmp_path: Path) -> None:
    # as `plugins: {disabled: {input: [csv]}}` in fustgo.yaml does, on a copy: the main
    # config's loader switches the process-wide registry, which other tests share
    registry = default_registry().copy()
    registry.apply_switches(disabled={"input": ["csv"]})
    settings = ServerSettings(db=DatabaseSettings(path=str(tmp_path / "f.db")),
                              base_dir=tmp_path, registry=registry)  # fmt: skip
    with make_client(settings) as client:
        details = client.get(f"{PLUGINS}/csv", params={"kind": "input"}).json()
        assert details["enabled"] is False and details["switched_by"] == "main_config"
        client.post(f"{PLUGINS}/csv/enable", params={"kind": "input"})
        assert client.post("/api/v1/validate", json={"config_yaml": CSV_PIPELINE}).json()["ok"]
        assert names(client, "enabled=false") == []
