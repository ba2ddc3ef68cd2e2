"""`POST /api/v1/preview/run`: the run preview of unsaved pipeline YAML (the designer's work
in progress), the same run as a saved job's `run-preview`; YAML with errors is a 422 whose
details are its diagnostics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.unit

RUN = "/api/v1/preview/run"
DRAFT = """\
name: draft
input:
  type: generate
  count: 50
  fields: {id: {kind: sequence, start: 1}}
pipeline:
  processors:
    - type: filter
      condition: "id % 2 = 0"
output: {type: json, path: out.jsonl}
"""


def test_a_draft_runs_on_its_first_records_and_writes_nothing(client: Any, tmp_path: Path) -> None:
    response = client.post(RUN, json={"config_yaml": DRAFT, "limit": 10})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "job_id" not in body
    assert body["written"] is False and body["status"] == "succeeded"
    assert body["input"]["records"] == 10
    (filtered,) = body["stages"]
    assert filtered["plugin"] == "filter" and filtered["records_in"] == 10
    assert [row[0] for row in body["output"]["rows"]] == [2, 4, 6, 8, 10]
    assert not (tmp_path / "out.jsonl").exists()
    assert client.get("/api/v1/jobs").json()["total"] == 0  # nothing saved


def test_the_same_answer_as_a_saved_job(client: Any) -> None:
    job = client.post("/api/v1/jobs", json={"config_yaml": DRAFT}).json()
    saved = client.post(f"/api/v1/jobs/{job['job_id']}/run-preview", json={"limit": 6}).json()
    draft = client.post(RUN, json={"config_yaml": DRAFT, "limit": 6}).json()
    assert saved.pop("job_id") == job["job_id"]
    saved.pop("seconds"), draft.pop("seconds")
    assert draft == saved
    assert draft["output"]["rows"] == saved["output"]["rows"] == [[2], [4], [6]]


def test_yaml_bodies_take_the_limit_from_the_query(client: Any) -> None:
    response = client.post(
        f"{RUN}?limit=4", content=DRAFT, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["input"]["records"] == 4


def test_yaml_with_errors_is_a_422_with_its_diagnostics(client: Any) -> None:
    broken = DRAFT.replace("type: filter", "type: no_such_processor").replace(
        "count: 50", "count: many"
    )
    response = client.post(RUN, json={"config_yaml": broken})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "config_yaml"
    assert error["message"].startswith("Cannot preview the pipeline: ")
    details = error["details"]
    assert len(details) >= 2 and "more error(s)" in error["hint"]
    assert {detail["severity"] for detail in details} == {"error"}
    assert all(detail["field"] == "config_yaml" and detail["line"] for detail in details)
    assert any("no_such_processor" in detail["message"] for detail in details)
    paths = {detail["path"] for detail in details}
    assert "input.count" in paths


def test_unreadable_yaml_and_bad_requests(client: Any) -> None:
    response = client.post(RUN, json={"config_yaml": "input: [unclosed"})
    assert response.status_code == 422 and response.json()["error"]["details"]
    assert client.post(RUN, json={"config_yaml": ""}).status_code == 422
    assert client.post(RUN, json={"config_yaml": DRAFT, "limit": 0}).status_code == 422
    assert client.post(RUN, json={"config_yaml": DRAFT, "extra": 1}).status_code == 422
    assert client.post(RUN).status_code == 422
