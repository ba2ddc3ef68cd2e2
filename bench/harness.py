"""What every benchmark shares: run client processes and measure them, run `fustgo run`.

A benchmark times whole client processes from start to exit and reads their resource use
from the kernel when they are reaped (`os.wait4`): user + system CPU seconds and peak RSS
of each process (and of any children it waited for). Pipes (`a | b`) are started as
separate processes connected by an OS pipe, so each side is measured on its own; their CPU
adds up, and so does their peak RSS (both are alive for the whole copy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
PIPELINES = ROOT / "pipelines"


@dataclass(frozen=True)
class Measured:
    """Wall time and resource use of a client (one process or a pipe of several)."""

    seconds: float
    cpu_seconds: float
    """User + system CPU of the client processes."""
    peak_rss_mb: float
    """Sum of the processes' peak resident set sizes."""
    stdout: str = ""
    """What the last process printed."""


class CommandFailed(RuntimeError):
    """A measured command exited non-zero; the message holds its stderr."""


def run_measured(
    commands: list[list[str]],
    env: dict[str, str] | None = None,
    stdin_path: Path | None = None,
) -> Measured:
    """Run `commands` as a pipe (each one's stdout into the next one's stdin) and measure it.

    Raises `CommandFailed` when any process exits non-zero.
    """
    environment = {**os.environ, **(env or {})}
    with tempfile.TemporaryDirectory(prefix="fustgo-bench-") as folder:
        logs = [Path(folder) / f"stderr-{index}" for index in range(len(commands))]
        out_path = Path(folder) / "stdout"
        processes: list[subprocess.Popen[bytes]] = []
        started = time.perf_counter()
        previous = stdin_path.open("rb") if stdin_path else subprocess.DEVNULL
        try:
            for index, command in enumerate(commands):
                last = index == len(commands) - 1
                with logs[index].open("wb") as err:
                    stdout = out_path.open("wb") if last else subprocess.PIPE
                    process = subprocess.Popen(
                        command, stdin=previous, stdout=stdout, stderr=err, env=environment
                    )
                    if last:
                        stdout.close()  # type: ignore[union-attr]
                if not isinstance(previous, int):
                    previous.close()  # the child holds its own copy
                processes.append(process)
                previous = process.stdout if process.stdout is not None else subprocess.DEVNULL
            peaks = {process.pid: 0 for process in processes}
            done = threading.Event()
            sampler = threading.Thread(target=_sample_peaks, args=(peaks, done), daemon=True)
            sampler.start()
            cpu, failures = 0.0, []
            for index, process in enumerate(processes):
                _, status, usage = os.wait4(process.pid, 0)
                process.returncode = os.waitstatus_to_exitcode(status)
                cpu += usage.ru_utime + usage.ru_stime
                if process.returncode != 0:
                    error = logs[index].read_text(errors="replace").strip()
                    if index == len(processes) - 1:  # fustgo prints its summary on stdout
                        error = f"{out_path.read_text(errors='replace').strip()}\n{error}"
                    failures.append(f"`{' '.join(commands[index])}` exited "
                                    f"{process.returncode}: {error[-2000:]}")  # fmt: skip
            seconds = time.perf_counter() - started
            done.set()
            sampler.join()
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    process.wait()
        if failures:
            raise CommandFailed("\n".join(failures))
        rss_mb = sum(peaks.values()) / 1024
        return Measured(seconds, cpu, rss_mb, out_path.read_text(errors="replace"))


def _sample_peaks(peaks: dict[int, int], done: threading.Event) -> None:
    """Keep the largest `VmHWM` (kB) seen of each process until `done` is set."""
    while True:
        for pid, peak in peaks.items():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = max(peak, int(line.split()[1]))
                    break
        if done.wait(0.02):
            return


def run_fustgo(
    pipeline: Path,
    env: dict[str, str],
    summary_path: Path,
    *extra: str,
    exit_on_failure: bool = True,
) -> tuple[dict, Measured]:
    """`fustgo run` of a pipeline in a subprocess: its summary event and its measurements.

    When the run fails, exits the benchmark with fustgo's output, or raises `CommandFailed`
    (`exit_on_failure=False`).
    """
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "fustgo.cli", "run", str(pipeline),
        "--quiet", "--fresh", "--summary-json", str(summary_path), *extra,
    ]  # fmt: skip
    try:
        measured = run_measured([command], env)
    except CommandFailed as exc:
        if not exit_on_failure:
            raise
        sys.exit(f"fustgo run failed:\n{exc}")
    return json.loads(summary_path.read_text()), measured
