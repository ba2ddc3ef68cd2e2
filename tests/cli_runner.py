"""Running `fustgo` as a user does: a real subprocess, its exit code, output and summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    summary: dict[str, Any] | None


def fustgo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "fustgo.cli", *args]


def run_fustgo(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    summary_path: Path | None = None,
) -> CliResult:
    """Run `fustgo ARGS` in `cwd`; with `summary_path`, also ask for the JSON summary."""
    command = fustgo_command(*args)
    if summary_path is not None:
        command += ["--summary-json", str(summary_path)]
    completed = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    summary = None
    if summary_path is not None and summary_path.exists():
        summary = json.loads(summary_path.read_text())
        summary_path.unlink()
    return CliResult(completed.returncode, completed.stdout, completed.stderr, summary)


def run_until_signalled(
    pipeline: Path,
    *,
    cwd: Path,
    until: Callable[[], bool],
    signal_number: int,
    within: float = 60,
    poll: float = 0.05,
) -> int:
    """Start `fustgo run PIPELINE --quiet` in `cwd`, send it `signal_number` once `until()`
    holds, and return its exit code (minus the signal's number when it killed the run).

    Fails if the run ends first or `until()` does not hold within `within` s; the process
    never outlives the call, whatever happens."""
    process = subprocess.Popen(
        fustgo_command("run", str(pipeline), "--quiet"),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + within
        while not until():
            assert process.poll() is None, "the run ended before it could be signalled"
            assert time.monotonic() < deadline, f"the run was not far enough within {within} s"
            time.sleep(poll)
        process.send_signal(signal_number)
        return process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
