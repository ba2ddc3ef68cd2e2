"""`fustgo serve` as a user starts it: a real uvicorn on a free loopback port, with the
store from the main config's `db:`; SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.cli_runner import fustgo_command, run_fustgo
from tests.server.conftest import head_revision
from tests.server.pipelines import counted

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(base: str, process: subprocess.Popen[str], *, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"fustgo serve exited: {process.communicate()}")
        try:
            return httpx.get(f"{base}/health", timeout=1.0).json()
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("fustgo serve did not answer /health in time")


def test_serve_on_loopback_with_the_main_config(tmp_path: Path) -> None:
    (tmp_path / "fustgo.yaml").write_text("db:\n  type: sqlite\n  path: meta/store.db\n")
    port = free_port()
    process = subprocess.Popen(
        [*fustgo_command("serve", "--port", str(port), "--config", "fustgo.yaml")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        health = wait_healthy(base, process)
        assert health["status"] == "ok" and health["store"]["revision"] == head_revision()
        assert (tmp_path / "meta" / "store.db").exists()
        created = httpx.post(
            f"{base}/api/v1/jobs",
            content=counted("out.db"),
            headers={"Content-Type": "application/yaml"},
        )
        assert created.status_code == 201 and created.json()["status"] == "ready"
        listed = httpx.get(f"{base}/api/v1/jobs").json()
        assert [job["job_name"] for job in listed["items"]] == ["counted"]
        missing = httpx.get(f"{base}/api/v1/jobs/nope")
        assert missing.status_code == 404 and missing.json()["error"]["message"]
        assert httpx.get(f"{base}/api/v1/openapi.json").json()["info"]["title"] == "FustGo"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _out, err = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    # uvicorn shuts down cleanly, then re-raises the signal it caught (exit by SIGTERM)
    assert process.returncode in (0, -signal.SIGTERM), err
    assert "Application shutdown complete." in err and "Traceback" not in err


def test_serve_refuses_an_invalid_main_config(tmp_path: Path) -> None:
    (tmp_path / "fustgo.yaml").write_text("db:\n  type: postgresql\n")
    result = subprocess.run(
        fustgo_command("serve", "--config", "fustgo.yaml"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "`db.type: postgresql` needs `db.url`" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("sample", [False, True])
def test_a_store_that_is_down_is_one_line_not_a_traceback(tmp_path: Path, sample: bool) -> None:
    (tmp_path / "fustgo.yaml").write_text(
        "db:\n  type: postgresql\n  url: postgresql://nobody@127.0.0.1:1/nowhere\n"
    )
    args = ["serve", "--port", str(free_port()), *(["--sample"] if sample else [])]
    result = run_fustgo(*args, cwd=tmp_path, timeout=60)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "Cannot migrate the metadata store" in result.stderr
    assert "Check `db:` in the main config" in result.stderr
