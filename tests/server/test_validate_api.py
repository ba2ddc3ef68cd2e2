"""`POST /api/v1/validate` answers what `fustgo validate --format json` prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from fustgo.cli.main import app as cli

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

BROKEN = """\
name: broken
settings: {parallelism: 0}
input:
  type: generate
  fields: {id: {kind: sequence}}
output:
  type: sqlite
  connection: {database: out.db}
  write: {table: t, mode: upsrt}
"""


def test_the_diagnostics_are_the_cli_s(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "job.yaml").write_text(BROKEN)
    printed = CliRunner().invoke(cli, ["validate", str(tmp_path / "job.yaml"), "--format", "json"])
    assert printed.exit_code == 2, printed.output
    expected = json.loads(printed.output)
    for body, headers in [
        ({"json": {"config_yaml": BROKEN}}, {}),
        ({"content": BROKEN}, {"Content-Type": "application/yaml"}),
    ]:
        response = client.post("/api/v1/validate", headers=headers, **body)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["ok"] is False and answer["pipeline"] is None
        strip = [{**d, "file": None} for d in expected["diagnostics"]]
        assert [{**d, "file": None} for d in answer["diagnostics"]] == strip
        assert {d["path"] for d in answer["diagnostics"]} >= {
            "settings.parallelism", "output.write.mode",
        }  # fmt: skip


def test_a_valid_pipeline_with_its_connections_checked(client: TestClient) -> None:
    valid = BROKEN.replace("parallelism: 0", "parallelism: 1").replace("upsrt", "insert")
    answer = client.post(
        "/api/v1/validate", json={"config_yaml": valid, "check_connections": True}
    ).json()
    assert answer["ok"] is True and answer["pipeline"]["name"] == "broken"
    assert answer["diagnostics"] == []
    output = next(check for check in answer["connections"] if check["path"] == "output")
    assert output["ok"] is True and output["error"] is None
