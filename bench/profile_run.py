"""Where a pipeline's client CPU goes: `fustgo run` in-process under cProfile, every thread.

The runner does its blocking work (driver reads, encoding, COPY writes) in the event
loop's default executor, so a plain `cProfile` of the main thread sees only the event
loop waiting. This installs a default executor whose threads each run their own
profiler, runs the pipeline, and prints the merged profile (C extensions such as ADBC,
pgpq and psycopg are charged to the Python call that entered them) plus the process's
CPU seconds. By default the profilers count each thread's CPU time (`time.thread_time`),
so waiting on a server or a queue costs nothing and the profile adds up to the client's
CPU; `--clock wall` counts elapsed time instead. Profiling adds overhead to every Python
call, so compare shares, not seconds, with an unprofiled run.

    BENCH_DB=fustgo_bench BENCH_SOURCE=public.source_v1_1000000 BENCH_TARGET=public.t \\
        .venv/bin/python -m bench.profile_run bench/pipelines/pg_to_pg.yaml --top 30

The target table must exist when the pipeline says `create_table: false`
(`bench.database_copy` creates it before each run; here, create it yourself).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import resource
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


async def _run(
    pipeline: Path, profiles: list[cProfile.Profile], clock: Callable[[], float]
) -> dict:
    from fustgo.config.loader import load_pipeline
    from fustgo.runtime.execute import run_pipeline

    def start_profiling() -> None:
        profile = cProfile.Profile(clock)
        profiles.append(profile)
        profile.enable()

    executor = ThreadPoolExecutor(max_workers=8, initializer=start_profiling)
    asyncio.get_running_loop().set_default_executor(executor)
    report = load_pipeline(pipeline)
    if report.pipeline is None or not report.ok:
        raise SystemExit(f"{pipeline} is invalid: {report.errors}")
    outcome = await run_pipeline(report.pipeline, fresh=True, handle_signals=False)
    executor.shutdown(wait=True)  # no thread records anything after this
    return outcome.summary.to_json()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pipeline", type=Path)
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumtime)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu", help="what to count")
    parser.add_argument("--save", type=Path, help="also write the merged stats to this file")
    args = parser.parse_args(argv)

    profiles: list[cProfile.Profile] = []
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    main_profile = cProfile.Profile(clock)
    cpu_before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    main_profile.enable()
    summary = asyncio.run(_run(args.pipeline, profiles, clock))
    main_profile.disable()
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    stats = pstats.Stats(main_profile)
    for profile in profiles:
        stats.add(profile)
    if args.save:
        stats.dump_stats(args.save)
    records = summary["records_read"]
    print(
        f"{summary['status']}: {records:,} records read, {summary['records_written']:,} written "
        f"in {seconds:.2f} s (profiled); process CPU {cpu:.2f} s = "
        f"{cpu / max(records, 1) * 1e6:.2f} µs/record; {len(profiles)} worker threads"
    )
    stats.sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
