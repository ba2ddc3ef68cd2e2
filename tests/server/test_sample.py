"""`fustgo serve --sample` (what `make run` starts): a real server in a clean folder seeds a
saved connection and the quick-start job, the job runs through the API with the quick
start's counts, and a second start seeds nothing twice."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli_runner import REPO, fustgo_command
from tests.server.test_serve import free_port, wait_healthy

pytestmark = pytest.mark.integration

# The shipped sample (tests/integration/test_quickstart.py): 1,250 well-formed orders, 790
# paid with a positive amount, one malformed row.
ROWS, PAID, MALFORMED = 1_250, 790, 1


def start_server(folder: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        fustgo_command("serve", "--sample", "--port", str(port)),
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def stop_server(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode in (0, -signal.SIGTERM), err
    assert "Traceback" not in err, err
    return out, err


def seeds(base: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    jobs = httpx.get(f"{base}/api/v1/jobs").json()["items"]
    connections = httpx.get(f"{base}/api/v1/connections").json()["items"]
    return jobs, connections


def finished_execution(base: str, job_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = httpx.get(f"{base}/api/v1/jobs/{job_id}/executions").json()["items"]
        if items and items[0]["status"] not in ("queued", "running"):
            return items[0]
        time.sleep(0.2)
    raise AssertionError(f"the sample job did not finish within {timeout:.0f} s")


def test_sample_job_runs_and_seeds_once(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_server(tmp_path, port)
    try:
        wait_healthy(base, process)
        jobs, connections = seeds(base)
        assert [(job["job_name"], job["status"]) for job in jobs] == [
            ("sample-quickstart", "ready")
        ]
        assert [(c["name"], c["type"]) for c in connections] == [("sample-sqlite", "sqlite")]
        database = Path(connections[0]["config"]["database"])
        assert database == tmp_path / ".fustgo" / "sample" / "quickstart.db"
        job_id = jobs[0]["job_id"]

        started = httpx.post(f"{base}/api/v1/jobs/{job_id}/start")
        assert started.status_code == 202, started.text
        execution = finished_execution(base, job_id)
        assert execution["status"] == "succeeded", execution["error_message"]
        assert execution["records_read"] == ROWS
        assert execution["records_written"] == PAID
        assert execution["records_filtered"] == ROWS - PAID
        assert execution["records_failed"] == MALFORMED

        # The saved connection opens the database the job wrote.
        tested = httpx.post(f"{base}/api/v1/connections/{connections[0]['connection_id']}/test")
        assert tested.json()["ok"] is True, tested.text
    finally:
        out, _err = stop_server(process)
    assert f"{base}/api/v1/docs" in out
    assert f"curl -X POST {base}/api/v1/jobs/{job_id}/start" in out
    assert "(created" in out
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(DISTINCT order_id) FROM paid_orders").fetchone() == (PAID,)
    dead = tmp_path / ".fustgo" / "sample" / "quickstart-dead-letters.jsonl"
    assert len(dead.read_text().splitlines()) == MALFORMED

    # A second start keeps what is there: same ids, nothing added, the job's state kept.
    process = start_server(tmp_path, port)
    try:
        wait_healthy(base, process)
        jobs_again, connections_again = seeds(base)
    finally:
        out, _err = stop_server(process)
    assert [(job["job_id"], job["status"]) for job in jobs_again] == [(job_id, "succeeded")]
    assert [c["connection_id"] for c in connections_again] == [connections[0]["connection_id"]]
    assert "already there, kept" in out and "(created" not in out


def test_quickstart_found_in_the_checkout_else_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fustgo
    from fustgo.engine.errors import ConfigError
    from fustgo.server.sample import find_quickstart

    assert find_quickstart(tmp_path) == REPO / "examples" / "quickstart.yaml"
    # Installed from elsewhere (no checkout around the package): ./examples/, else a reason.
    monkeypatch.setattr(fustgo, "__file__", str(tmp_path / "site" / "fustgo" / "__init__.py"))
    with pytest.raises(ConfigError, match=r"needs `examples/quickstart\.yaml`"):
        find_quickstart(tmp_path)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "quickstart.yaml").write_text("name: quickstart\n")
    assert find_quickstart(tmp_path) == (tmp_path / "examples" / "quickstart.yaml").resolve()
