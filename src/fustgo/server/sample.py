"""`fustgo serve --sample`: a saved connection and a job ready to run, on the shipped data.

The job is `examples/quickstart.yaml` (CSV files in `examples/data/` → filter, transform,
mapping → SQLite) with its paths made absolute: the input points at the checkout's
`examples/data/`, the SQLite target and the dead letters live in the server's data folder
(`.fustgo/sample/` of the main config's folder, else the working directory), which the
saved connection names too. Seeding is idempotent: what exists under the sample names is
left as it is (a user may have edited or run it), only what is missing is created.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import fustgo
from fustgo.engine.errors import ConfigError
from fustgo.scheduler.graph import on_job_saved
from fustgo.server.configs import check_config
from fustgo.server.settings import ServerSettings
from fustgo.store.db import Store
from fustgo.store.lifecycle import validated_status
from fustgo.store.repositories import connections, jobs
from fustgo.store.tables import ConnectionRow, JobRow, utc_now

SAMPLE_JOB = "sample-quickstart"
SAMPLE_CONNECTION = "sample-sqlite"
SAMPLE_DIR = Path(".fustgo/sample")
"""The sample's target database and dead letters, under the server's base folder."""
QUICKSTART = Path("examples/quickstart.yaml")
SEEDED_BY = "fustgo serve --sample"


@dataclass(frozen=True)
class SampleSeed:
    """What `seed_sample` found or created."""

    job_id: str
    job_status: str
    job_created: bool
    connection_id: str
    connection_created: bool
    database: Path
    """The SQLite file the job writes (and the connection opens)."""
    diagnostics: list[dict[str, Any]]
    """The job config's diagnostics when it was created (empty when it is `ready`)."""


def find_quickstart(cwd: Path | None = None) -> Path:
    """`examples/quickstart.yaml` of the checkout FustGo runs from (an editable install,
    as `make install` makes), else of the working directory."""
    package_root = Path(fustgo.__file__).resolve().parents[2]
    for root in (package_root, (cwd or Path.cwd()).resolve()):
        candidate = root / QUICKSTART
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"`--sample` needs `{QUICKSTART}` and its `examples/data/` from a FustGo checkout; "
        f"neither {package_root} nor the working directory has it. Run `make run` in the "
        "checkout, or start `fustgo serve` without `--sample`."
    )


def sample_config(quickstart: Path, data_dir: Path) -> str:
    """The quick start's YAML (comments kept) with absolute input, target and dead-letter
    paths, so it runs whatever folder the server resolves relative paths in."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    document = yaml.load(quickstart.read_text(encoding="utf-8"))
    examples = quickstart.parent.resolve()
    document["input"]["paths"] = [str(examples / path) for path in document["input"]["paths"]]
    document["output"]["connection"]["database"] = str(data_dir / "quickstart.db")
    document["dead_letter"]["path"] = str(data_dir / "quickstart-dead-letters.jsonl")
    out = io.StringIO()
    yaml.dump(document, out)
    header = f"# Seeded by `{SEEDED_BY}` from {quickstart} (paths made absolute).\n"
    return header + out.getvalue()


def seed_sample(settings: ServerSettings, *, quickstart: Path | None = None) -> SampleSeed:
    """Create the sample connection and job in the settings' store if they are missing
    (migrating the store first, as the server will)."""
    quickstart = quickstart or find_quickstart(settings.base_dir)
    data_dir = (settings.base_dir / SAMPLE_DIR).resolve()
    database = data_dir / "quickstart.db"
    store = Store(settings.db, base_dir=settings.base_dir)
    try:
        store.migrate()
        with store.session() as session:
            connection, connection_created = _connection(session, database)
            job, job_created = _job(session, quickstart, data_dir, settings)
            seed = SampleSeed(
                job_id=job.job_id,
                job_status=str(job.status),
                job_created=job_created,
                connection_id=connection.connection_id,
                connection_created=connection_created,
                database=database,
                diagnostics=list(job.diagnostics or []) if job_created else [],
            )
    finally:
        store.close()
    data_dir.mkdir(parents=True, exist_ok=True)
    return seed


def _connection(session: Session, database: Path) -> tuple[ConnectionRow, bool]:
    existing = session.scalars(
        select(ConnectionRow).where(ConnectionRow.name == SAMPLE_CONNECTION)
    ).one_or_none()
    if existing is not None:
        return existing, False
    row = connections.add_connection(
        session,
        name=SAMPLE_CONNECTION,
        type="sqlite",
        description=f"The SQLite database the `{SAMPLE_JOB}` job writes (seeded by {SEEDED_BY}).",
        config={"database": str(database)},
    )
    return row, True


def _job(
    session: Session, quickstart: Path, data_dir: Path, settings: ServerSettings
) -> tuple[JobRow, bool]:
    existing = session.scalars(select(JobRow).where(JobRow.job_name == SAMPLE_JOB)).one_or_none()
    if existing is not None:
        return existing, False
    text = sample_config(quickstart, data_dir)
    checked = check_config(text, settings)
    job = jobs.add_job(
        session,
        job_name=SAMPLE_JOB,
        job_type="ETL",
        description="The quick start: paid orders from two CSV files into SQLite, amounts "
        f"in cents. Press Start (or POST /api/v1/jobs/{{id}}/start); seeded by {SEEDED_BY}.",
        config_yaml=text,
        flow_diagram=None,
        scheduling_config=None,
        retry_policy=None,
        priority=0,
        enabled=True,
        created_by=SEEDED_BY,
        status=validated_status(checked.ok),
        source_type=checked.source_type,
        target_type=checked.target_type,
        diagnostics=checked.diagnostics(),
    )
    on_job_saved(session, job, now=utc_now(), reset=True)
    return job, True
