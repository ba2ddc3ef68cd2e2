"""Metrics as the API answers them: a job's series over a time range, system figures, and
the workers (the in-process one)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fustgo.server.runs import RUNNING, RunManager
from fustgo.store.tables import MetricSampleRow

LOOKBACK = timedelta(minutes=5)
"""Samples before the range are read this far back, so the first point in the range has
the sample before it (thinned samples are a minute apart)."""


@dataclass
class _Previous:
    time: datetime | None
    elapsed: float
    read: int
    written: int
    filtered: int
    failed: int
    bytes_read: int
    batches: float
    batch_seconds: float


_START = _Previous(None, 0.0, 0, 0, 0, 0, 0, 0.0, 0.0)
"""A run's counters before its first sample: all zero at elapsed 0."""


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _thin(rows: list[MetricSampleRow], step: float | None) -> list[MetricSampleRow]:
    """The last sample of each `step`-second slot of each run (all of them without a step)."""
    if not step:
        return rows
    kept: dict[tuple[str, int], MetricSampleRow] = {}
    for row in rows:
        kept[(row.execution_id, int(row.recorded_at.timestamp() // step))] = row
    return sorted(kept.values(), key=lambda row: (row.recorded_at, row.sample_id))


def job_series(
    session: Session,
    job_id: str,
    start: datetime,
    end: datetime,
    *,
    step_seconds: float | None = None,
) -> dict[str, Any]:
    """Points (one per kept sample) with rates over the time since the previous sample of
    the same run, and totals over the range."""
    rows = list(
        session.scalars(
            select(MetricSampleRow)
            .where(
                MetricSampleRow.job_id == job_id,
                MetricSampleRow.recorded_at >= start - LOOKBACK,
                MetricSampleRow.recorded_at <= end,
            )
            .order_by(MetricSampleRow.recorded_at, MetricSampleRow.sample_id)
        )
    )
    rows = _thin(rows, step_seconds)
    previous: dict[str, _Previous] = {}
    points: list[dict[str, Any]] = []
    totals = {"read": 0, "written": 0, "filtered": 0, "failed": 0, "batches": 0.0, "seconds": 0.0}
    busy = 0.0
    executions: set[str] = set()
    for row in rows:
        before = previous.get(row.execution_id, _START)
        previous[row.execution_id] = _Previous(
            row.recorded_at, row.elapsed_seconds, row.records_read, row.records_written,
            row.records_filtered, row.records_failed, row.bytes_read, row.batches,
            row.batch_seconds,
        )  # fmt: skip
        if row.recorded_at < start:
            continue
        seconds = max(row.elapsed_seconds - before.elapsed, 0.0)
        read = row.records_read - before.read
        written = row.records_written - before.written
        failed = row.records_failed - before.failed
        batches = row.batches - before.batches
        batch_seconds = row.batch_seconds - before.batch_seconds
        latency = _ratio(batch_seconds, batches)
        error_rate = _ratio(failed, read)
        points.append(
            {
                "time": row.recorded_at,
                "execution_id": row.execution_id,
                "elapsed_seconds": row.elapsed_seconds,
                "final": row.final,
                "records_read": row.records_read,
                "records_written": row.records_written,
                "records_filtered": row.records_filtered,
                "records_failed": row.records_failed,
                "bytes_read": row.bytes_read,
                "records_per_second": _ratio(read, seconds),
                "written_per_second": _ratio(written, seconds),
                "error_rate_percent": error_rate * 100 if error_rate is not None else None,
                "batch_latency_ms": latency * 1000 if latency is not None else None,
            }
        )
        executions.add(row.execution_id)
        busy += seconds
        totals["read"] += read
        totals["written"] += written
        totals["filtered"] += row.records_filtered - before.filtered
        totals["failed"] += failed
        totals["batches"] += batches
        totals["seconds"] += batch_seconds
    error_rate = _ratio(totals["failed"], totals["read"])
    latency = _ratio(totals["seconds"], totals["batches"])
    return {
        "job_id": job_id,
        "start": start,
        "end": end,
        "step_seconds": step_seconds,
        "points": points,
        "totals": {
            "executions": len(executions),
            "records_read": totals["read"],
            "records_written": totals["written"],
            "records_filtered": totals["filtered"],
            "records_failed": totals["failed"],
            "records_per_second": _ratio(totals["read"], busy),
            "error_rate_percent": error_rate * 100 if error_rate is not None else None,
            "batch_latency_ms": latency * 1000 if latency is not None else None,
        },
    }


def system_metrics(runs: RunManager, disk_path: Path) -> dict[str, Any]:
    """CPU, memory and disk of the host, this process's share, and the runs going on.

    CPU percentages are measured over 0.2 s (psutil needs an interval): call in a thread."""
    import psutil

    process = psutil.Process(os.getpid())
    with process.oneshot():
        rss = process.memory_info().rss
        threads = process.num_threads()
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(str(disk_path))
    cpu = psutil.cpu_percent(interval=0.2)
    going = [active for active in runs.active.values() if active.state == RUNNING]
    draining = sum(1 for active in going if active.ending is not None)
    pool = runs.status()
    return {
        "hostname": socket.gethostname(),
        "cpu": {"percent": cpu, "cores": psutil.cpu_count() or 0, "load": _load()},
        "memory": {
            "total_mb": memory.total // 2**20,
            "used_mb": (memory.total - memory.available) // 2**20,
            "percent": memory.percent,
        },
        "disk": {
            "path": str(disk_path),
            "total_mb": disk.total // 2**20,
            "free_mb": disk.free // 2**20,
            "free_percent": round(disk.free / disk.total * 100, 2) if disk.total else None,
        },
        "process": {"rss_mb": rss // 2**20, "threads": threads, "pid": os.getpid()},
        "jobs": {
            "running": len(going) - draining,
            "draining": draining,
            "queued": pool["queued"],
            "max_concurrent": pool["max_concurrent"],
        },
    }


def _load() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def workers(runs: RunManager, now: datetime) -> list[dict[str, Any]]:
    """The workers: in standalone mode, the server process itself runs every job, at most
    `max_concurrent` at once (`slots`); the others wait in its queue."""
    import psutil

    going = [active for active in runs.active.values() if active.state == RUNNING]
    pool = runs.status()
    return [
        {
            "worker_id": runs.worker_id,
            "hostname": socket.gethostname(),
            "mode": "in-process",
            "status": "busy" if going else "online",
            "slots": pool["max_concurrent"],
            "queued": pool["queued"],
            "cpu_cores": psutil.cpu_count() or 0,
            "memory_mb": psutil.virtual_memory().total // 2**20,
            "last_heartbeat": now,
            "jobs": [
                {
                    "job_id": active.job_id,
                    "execution_id": active.execution_id,
                    "state": "draining" if active.ending is not None else "running",
                }
                for active in going
            ],
        }
    ]
