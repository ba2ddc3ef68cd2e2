"""Database copies: FustGo against the raw COPY pipes and Sling, in the same run.

Four cases over one generated table (`bench.db_sources`): PostgreSQL → PostgreSQL
straight; PostgreSQL → PostgreSQL with a filter and a mapping; MariaDB → PostgreSQL;
CSV → PostgreSQL. Each case runs `fustgo run` on its pipeline in `bench/pipelines/`
and the references a user would otherwise script:

    psql -c "COPY … TO STDOUT (FORMAT binary)" | psql -c "COPY … FROM STDIN (FORMAT binary)"
    the same in text format
    mariadb --batch --quick -e "SELECT …" | psql -c "COPY … FROM STDIN"   (MariaDB)
    psql -c "\\copy … FROM 'file' (FORMAT csv)"                          (CSV)
    sling run …                                                          (PyPI sling-linux-amd64)

Before every run the target table is dropped and created again with the source's exact
DDL (no index), and the server is checkpointed, so each method starts from the same
state. Printed per method: rows/s (source rows), client CPU seconds (user + system of the
client processes, from the kernel when they exit) and per row, client peak RSS, the
whole database server's CPU seconds (includes any other sessions on it), and the target's
row count. FustGo's copies are also checked column by column (`fustgo.runtime.verify`),
and Sling's target column types are compared with the source's.

    make bench                                         # 5,000,000 rows
    .venv/bin/python -m bench.database_copy --rows 200000 --cases pg,csv
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.db_sources import DATABASE, MARIADB, PG, PG_COLUMNS, Sources, mariadb, prepare, psql
from bench.harness import OUT, PIPELINES, CommandFailed, Measured, run_fustgo, run_measured

PG_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}?sslmode=disable"
MARIADB_URL = f"mysql://root@127.0.0.1:3306/{DATABASE}"
PG_CONNECTION = {"host": "127.0.0.1", "database": DATABASE, "user": "postgres"}
MARIADB_CONNECTION = {"host": "127.0.0.1", "port": 3306, "database": DATABASE, "user": "root"}
TARGET = "public.bench_target"
SLING_TARGET = "public.bench_target_sling"
KEEP = "status <> 'cancelled'"
MAPPED_COLUMNS = (
    "order_id bigint NOT NULL, customer_id integer, email text, amount numeric(12,2), "
    "status text, created_at timestamptz, payload jsonb"
)
MAPPED_SELECT = "id AS order_id, user_id AS customer_id, email, amount, status, created_at, payload"
GOAL_RSS_MB = 200


@dataclass
class Result:
    """One method's best run in one case."""

    method: str
    measured: Measured
    target_rows: int
    server_cpu: float
    notes: list[str] = field(default_factory=list)
    summary: dict | None = None
    """FustGo's summary event."""

    @property
    def ok(self) -> bool:
        return self.target_rows >= 0

    def worse_than(self, other: Result) -> bool:
        """True when `other` is a better run of the same method (it worked, and faster)."""
        return other.ok and (not self.ok or other.measured.seconds < self.measured.seconds)


@dataclass(frozen=True)
class Method:
    """A way to do a case's copy, and the table it writes."""

    name: str
    run: Callable[[], Measured]
    target: str = TARGET
    create_target: bool = True
    """False when the tool creates its own table (Sling, whose types are compared)."""


@dataclass(frozen=True)
class Case:
    """One copy job and the methods that do it."""

    key: str
    title: str
    target_columns: str
    expected_rows: int
    methods: list[Method]
    reference: str
    """The method FustGo's goal is a ratio to."""
    goal: float
    verify: tuple[dict, dict, dict[str, str]] | None
    """Source and target input specs and the column renames, for FustGo's checksum."""


# -- references -------------------------------------------------------------------------


def pg_pipe(select: str, fmt: str) -> Callable[[], Measured]:
    """psql COPY TO STDOUT | psql COPY FROM STDIN, in `fmt` (binary or text)."""
    psql = ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c"]
    export = f"COPY {select} TO STDOUT (FORMAT {fmt})"
    load = f"COPY {TARGET} FROM STDIN (FORMAT {fmt})"
    return lambda: run_measured([[*psql, export], [*psql, load]], PG)


def mariadb_pipe(table: str) -> Callable[[], Measured]:
    """mariadb --batch | psql COPY FROM STDIN: the batch output is PostgreSQL's text format
    (tabs, backslash escapes) except NULL, which it spells `NULL`."""
    select = f"SELECT id, user_id, name, email, amount, status, created_at, payload FROM {table}"
    return lambda: run_measured(
        [
            [*MARIADB, "--batch", "--skip-column-names", "--quick",
             "--init-command=SET time_zone = '+00:00'", "-e", select, DATABASE],
            ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c",
             f"COPY {TARGET} FROM STDIN (FORMAT text, NULL 'NULL')"],
        ],
        PG,
    )  # fmt: skip


def csv_copy(path: Path) -> Callable[[], Measured]:
    """psql \\copy of the file (psql reads it and streams it to the server)."""
    sql = f"\\copy {TARGET} FROM '{path}' (FORMAT csv, HEADER)"
    return lambda: run_measured([["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", sql]], PG)


def fustgo(pipeline: str, env: dict[str, str], summaries: list[dict]) -> Callable[[], Measured]:
    """`fustgo run` of a benchmark pipeline; its summary events are kept for the report."""

    def run() -> Measured:
        summary, measured = run_fustgo(
            PIPELINES / pipeline,
            {"BENCH_DB": DATABASE, **env},
            OUT / "db-summary.json",
            exit_on_failure=False,  # reported in the case's table; the other cases still run
        )
        summaries.append(summary)
        return measured

    return run


def sling_binary() -> tuple[str | None, str]:
    """Sling's executable and its version, or None and why it cannot run."""
    try:
        from sling_linux_amd64 import SLING_BIN  # type: ignore[import-not-found]
    except ImportError:
        return None, (
            "Sling is not installed: `make bench` installs it (uv group `bench`, PyPI "
            "sling-linux-amd64), or run `.tools/bin/uv sync --inexact --group bench`"
        )
    try:
        done = subprocess.run(
            [SLING_BIN, "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            env=sling_env(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"Sling's binary {SLING_BIN} does not run: {exc}"
    if done.returncode != 0:
        return None, f"Sling's binary does not run: {done.stderr.strip()[-300:]}"
    return SLING_BIN, done.stdout.strip().splitlines()[-1]


def sling_env() -> dict[str, str]:
    home = OUT / "sling"
    home.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "SLING_HOME_DIR": str(home),
        "SLING_DISABLE_TELEMETRY": "true",
        "BENCH_PG": PG_URL,
        "BENCH_MARIADB": MARIADB_URL,
    }


def sling(binary: str, source: list[str]) -> Callable[[], Measured]:
    """`sling run` from `source` (connection + stream arguments) into its own target table."""
    command = [binary, "run", *source, "--tgt-conn", "BENCH_PG", "--tgt-object", SLING_TARGET,
               "--mode", "full-refresh"]  # fmt: skip
    return lambda: run_measured([command], sling_env())


# -- cases ------------------------------------------------------------------------------


def cases(sources: Sources, sling_bin: str | None, summaries: list[dict]) -> list[Case]:
    table, maria, csv_path = sources.pg_table, sources.mariadb_table, sources.csv_path
    kept = int(psql(f"SELECT count(*) FROM {table} WHERE {KEEP}", tuples=True))
    filtered = f"(SELECT {MAPPED_SELECT} FROM {table} WHERE {KEEP})"

    def ours(pipeline: str, **env: str) -> Method:
        return Method("fustgo run", fustgo(pipeline, {"BENCH_TARGET": TARGET, **env}, summaries))

    def theirs(*source: str) -> list[Method]:
        if sling_bin is None:
            return []
        return [Method("Sling", sling(sling_bin, list(source)), SLING_TARGET, False)]

    def pg_input(table: str, **query: object) -> dict:
        query = {"table": table, "split_key": "id", **query}
        return {"type": "postgresql", "connection": PG_CONNECTION, "query": query}

    pg_pipes = [
        Method("binary COPY pipe", pg_pipe(table, "binary")),
        Method("text COPY pipe", pg_pipe(table, "text")),
    ]
    filtered_pipes = [
        Method("binary COPY pipe", pg_pipe(filtered, "binary")),
        Method("text COPY pipe", pg_pipe(filtered, "text")),
    ]
    same = (pg_input(table), pg_input(TARGET), {})
    mapped_columns = ["id", "user_id", "email", "amount", "status", "created_at", "payload"]
    return [
        Case(
            key="pg",
            title="PostgreSQL → PostgreSQL, straight copy",
            target_columns=PG_COLUMNS,
            expected_rows=sources.rows,
            methods=[
                *pg_pipes,
                ours("pg_to_pg.yaml", BENCH_SOURCE=table),
                *theirs("--src-conn", "BENCH_PG", "--src-stream", table),
            ],
            reference="binary COPY pipe",
            goal=0.9,
            verify=same,
        ),
        Case(
            key="pg-filter",
            title="PostgreSQL → filter + mapping → PostgreSQL",
            target_columns=MAPPED_COLUMNS,
            expected_rows=kept,
            methods=[
                *filtered_pipes,
                ours("pg_to_pg_filter_mapping.yaml", BENCH_SOURCE=table),
                *theirs("--src-conn", "BENCH_PG", "--src-stream", filtered[1:-1]),
            ],
            reference="binary COPY pipe",
            goal=0.7,
            verify=(
                pg_input(table, where=KEEP, columns=mapped_columns),
                pg_input(TARGET, split_key="order_id"),
                {"id": "order_id", "user_id": "customer_id"},
            ),
        ),
        Case(
            key="mariadb",
            title="MariaDB → PostgreSQL",
            target_columns=PG_COLUMNS,
            expected_rows=sources.rows,
            methods=[
                Method("mariadb --batch | psql COPY", mariadb_pipe(maria)),
                ours("mariadb_to_pg.yaml", BENCH_SOURCE=maria),
                *theirs("--src-conn", "BENCH_MARIADB", "--src-stream", f"{DATABASE}.{maria}"),
            ],
            reference="mariadb --batch | psql COPY",
            goal=0.9,
            verify=(
                {
                    "type": "mariadb",
                    "connection": MARIADB_CONNECTION,
                    "query": {"table": maria, "split_key": "id"},
                },
                pg_input(TARGET),
                {},
            ),
        ),
        Case(
            key="csv",
            title="CSV → PostgreSQL",
            target_columns=PG_COLUMNS,
            expected_rows=sources.rows,
            methods=[
                Method("psql \\copy CSV", csv_copy(csv_path)),
                ours("csv_to_pg.yaml", BENCH_CSV=str(csv_path)),
                *theirs("--src-stream", f"file://{csv_path}"),
            ],
            reference="psql \\copy CSV",
            goal=0.9,
            verify=same,  # the file is the table's CSV COPY: compare with the table
        ),
    ]


# -- measuring --------------------------------------------------------------------------


def _ticks(pid: int, children: bool) -> int:
    """utime + stime (and, for a parent that reaps its workers, cutime + cstime) of `pid`."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    own = int(fields[11]) + int(fields[12])
    return own + (int(fields[13]) + int(fields[14]) if children else 0)


def server_cpu() -> float:
    """CPU seconds the two database servers have used so far: PostgreSQL's postmaster, its
    live processes and the backends it has reaped; MariaDB's one process (all threads)."""
    total = 0
    try:
        data = psql("SHOW data_directory", tuples=True)
        postmaster = int((Path(data) / "postmaster.pid").read_text().split()[0])
        total += _ticks(postmaster, children=True)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == postmaster:
                total += _ticks(int(stat.parent.name), children=False)
        pid_file = mariadb("SELECT @@pid_file", database=None)
        total += _ticks(int(Path(pid_file).read_text().split()[0]), children=False)
    except (OSError, ValueError, RuntimeError):
        return float("nan")  # not on this machine, or not readable: not measured
    return total / os.sysconf("SC_CLK_TCK")


def reset_target(case: Case, method: Method) -> None:
    psql(f"DROP TABLE IF EXISTS {TARGET}; DROP TABLE IF EXISTS {SLING_TARGET}")
    if method.create_target:
        psql(f"CREATE TABLE {TARGET} ({case.target_columns})")
    psql("CHECKPOINT")  # every method starts without the previous one's dirty pages


def run_method(case: Case, method: Method, summaries: list[dict], *, verify: bool) -> Result:
    """Run `method` on a fresh target; check the row count, and FustGo's or Sling's output."""
    reset_target(case, method)
    cpu_before = server_cpu()
    runs = len(summaries)
    try:
        measured = method.run()
    except CommandFailed as exc:
        failed = Measured(float("nan"), float("nan"), float("nan"))
        return Result(method.name, failed, -1, float("nan"), [f"failed: {str(exc)[:600]}"])
    result = Result(method.name, measured, 0, server_cpu() - cpu_before)
    result.target_rows = int(psql(f"SELECT count(*) FROM {method.target}", tuples=True))
    if len(summaries) > runs:
        result.summary = summaries[-1]
        if verify:
            result.notes.append(verify_copy(case))
    if method.target == SLING_TARGET:
        issues = sling_types(case)
        result.notes.append(
            "types differ from the source: " + "; ".join(issues)
            if issues
            else "types match the source"
        )
    return result


def sling_types(case: Case) -> list[str]:
    """Columns whose type Sling's table does not keep from the case's target DDL."""
    declared = {}
    for definition in case.target_columns.split(", "):
        name, rest = definition.split(" ", 1)
        declared[name] = rest.removesuffix(" NOT NULL")
    found = psql(
        "SELECT attname || '|' || format_type(atttypid, atttypmod) FROM pg_attribute "
        f"WHERE attrelid = '{SLING_TARGET}'::regclass AND attnum > 0 AND NOT attisdropped",
        tuples=True,
    )
    actual = dict(line.split("|", 1) for line in found.splitlines())
    aliases = {
        "timestamptz": "timestamp with time zone",
        "jsonb": "jsonb",
        "text": "text",
        "bigint": "bigint",
        "integer": "integer",
    }
    issues = []
    for name, want in declared.items():
        got = actual.get(name.lower())
        if got != aliases.get(want, want):
            issues.append(f"{name} {want} → {got or 'missing'}")
    return issues


def verify_copy(case: Case) -> str:
    """FustGo's target against its source: row counts and a checksum of every column."""
    from fustgo.runtime.verify import verify

    assert case.verify is not None
    source, target, renames = case.verify
    started = time.perf_counter()
    report = asyncio.run(verify(source, target, column_map=renames))
    seconds = time.perf_counter() - started
    verdict = "match" if report.ok else "DIFFER"
    detail = "" if report.ok else f": {report}"
    return f"rows and every column {verdict} (fustgo.runtime.verify, {seconds:.1f} s){detail}"


# -- report -----------------------------------------------------------------------------


def rate(rows: int, result: Result) -> float:
    return rows / result.measured.seconds if result.ok else float("nan")


def print_case(case: Case, rows: int, results: dict[str, Result]) -> None:
    print(f"  {'method':<30}{'rows/s':>11}{'wall s':>9}{'client CPU s':>14}{'µs/row':>8}"
          f"{'peak RSS MB':>13}{'server CPU s':>14}{'target rows':>13}")  # fmt: skip
    for result in results.values():
        m = result.measured
        print(f"  {result.method:<30}{rate(rows, result):>11,.0f}{m.seconds:>9.2f}"
              f"{m.cpu_seconds:>14.2f}{m.cpu_seconds / rows * 1e6:>8.2f}{m.peak_rss_mb:>13.0f}"
              f"{result.server_cpu:>14.2f}{result.target_rows:>13,}")  # fmt: skip
        if result.ok and result.target_rows != case.expected_rows:
            print(
                f"    ✗ {result.method} wrote {result.target_rows:,} rows, "
                f"expected {case.expected_rows:,}"
            )
        for note in result.notes:
            print(f"    {result.method}: {note}")
    ours = results.get("fustgo run")
    if ours is None or not ours.ok:
        return
    ratios = []
    for name, other in results.items():
        if name == "fustgo run" or not other.ok:
            continue
        ratio = rate(rows, ours) / rate(rows, other)
        goal = case.goal if name == case.reference else (4.0 if name == "Sling" else None)
        mark = (
            "" if goal is None else f" (goal ≥ {goal:g}: {'met' if ratio >= goal else 'NOT met'})"
        )
        ratios.append(f"{ratio:.2f}× {name}{mark}")
    print(f"  FustGo throughput = {'; '.join(ratios)}")
    cpu = [
        f"{ours.measured.cpu_seconds / other.measured.cpu_seconds:.1f}× {name}'s"
        for name, other in results.items()
        if name != "fustgo run" and other.ok and other.measured.cpu_seconds > 0
    ]
    print(f"  FustGo client CPU = {'; '.join(cpu)}")
    rss = ours.measured.peak_rss_mb
    rss_ok = "met" if rss <= GOAL_RSS_MB else "NOT met"
    summary = ours.summary
    print(f"  FustGo peak RSS {rss:.0f} MB (goal ≤ {GOAL_RSS_MB} MB at 5,000,000 rows: {rss_ok})")
    if summary:
        stages = ", ".join(
            f"{stage['name']} {stage['seconds']:.2f} s"
            for stage in summary["stages"]
            if stage["records_in"]
        )
        print(
            f"  FustGo run {summary['elapsed_seconds']:.2f} s of {ours.measured.seconds:.2f} s "
            f"wall (the rest is start-up); bottleneck {summary['bottleneck']}, writer waited "
            f"{summary['writer_waited_on_reader_seconds']:.2f} s on readers, readers "
            f"{summary['reader_waited_on_writer_seconds']:.2f} s on the writer; "
            f"stages: {stages}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=int(os.environ.get("DB_ROWS", "5000000")),
        help="source rows (default 5,000,000 or $DB_ROWS)",
    )
    parser.add_argument(
        "--cases",
        default="pg,pg-filter,mariadb,csv",
        help="comma-separated subset of pg, pg-filter, mariadb, csv",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per method; the best counts")
    parser.add_argument("--no-sling", action="store_true", help="skip the Sling reference")
    parser.add_argument("--no-verify", action="store_true", help="skip FustGo's checksum")
    args = parser.parse_args(argv)

    print(
        f"Database copies, {args.rows:,} rows (id bigint, user_id int, name text, email text, "
        "amount numeric(12,2), status text, created_at timestamptz, payload jsonb)"
    )
    print(
        f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; the servers "
        "and any other work on this machine share them, so numbers are noisy."
    )
    wanted = args.cases.split(",")
    sources = prepare(args.rows, with_mariadb="mariadb" in wanted, with_csv="csv" in wanted)
    sling_bin, sling_note = (None, "skipped (--no-sling)") if args.no_sling else sling_binary()
    print(f"Sling: {sling_note}")
    summaries: list[dict] = []
    selected = [case for case in cases(sources, sling_bin, summaries) if case.key in wanted]
    if not selected:
        sys.exit(f"--cases: none of {wanted} is a case (pg, pg-filter, mariadb, csv)")
    for number, case in enumerate(selected, 1):
        print(f"\n[{number}/{len(selected)}] {case.title} ({case.expected_rows:,} rows written)")
        best: dict[str, Result] = {}
        for _ in range(args.repeat):
            for method in case.methods:
                result = run_method(case, method, summaries, verify=not args.no_verify)
                previous = best.get(method.name)
                if previous is None or previous.worse_than(result):
                    best[method.name] = result
        print_case(case, args.rows, best)
    psql(f"DROP TABLE IF EXISTS {TARGET}; DROP TABLE IF EXISTS {SLING_TARGET}")


if __name__ == "__main__":
    main()
