"""`fustgo serve`: the server (REST API, metadata store, runs) on one host and port."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from fustgo.cli.diagnostics import EXIT_INVALID, MainConfigOption
from fustgo.cli.run import EXIT_FAILED
from fustgo.config.app import app_config_path
from fustgo.engine.errors import ConfigError, FustgoError
from fustgo.server.settings import DEFAULT_HOST, DEFAULT_PORT, ServerSettings

if TYPE_CHECKING:
    from fustgo.server.sample import SampleSeed


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = DEFAULT_PORT,
    config: MainConfigOption = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
    sample: Annotated[
        bool,
        typer.Option(
            "--sample",
            help="Seed (if absent) a saved SQLite connection and the quick-start job, "
            "ready to start.",
        ),
    ] = False,
) -> None:
    """Start the server: REST API at /api/v1 (docs at /api/v1/docs), /health.

    The metadata store is the main config's `db:` (default: SQLite `.fustgo/fustgo.db`);
    its migrations are applied on start. Ctrl-C stops running jobs with a checkpoint.
    With --sample (what `make run` does), the job `sample-quickstart` (examples/quickstart.yaml
    on the shipped CSV files) and the connection `sample-sqlite` are created if missing.
    """
    import uvicorn

    from fustgo.server.app import create_app

    try:
        settings = ServerSettings.from_main_config(app_config_path(config))
        seed = _seed(settings) if sample else _check_store(settings)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise typer.Exit(EXIT_INVALID) from exc
    except FustgoError as exc:  # a store that cannot be reached or migrated
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_FAILED) from exc
    base = f"http://{_display_host(host)}:{port}"
    typer.echo(f"FustGo server on {base}/ (API docs: {base}/api/v1/docs)")
    if seed is not None:
        _print_sample(seed, base)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


def _check_store(settings: ServerSettings) -> None:
    """Reach and migrate the metadata store before uvicorn starts, so a store that is down
    is one line saying so, not a traceback from the app's start-up (which then finds the
    store at its newest revision and has nothing left to do)."""
    from fustgo.store.db import Store

    store = Store(settings.db, base_dir=settings.base_dir)
    try:
        store.migrate()
    finally:
        store.close()


def _seed(settings: ServerSettings) -> SampleSeed:
    """The sample seeded before the server starts (its store migrated on the way); a store
    that cannot be opened is a ConfigError here (the server itself would fail the same way)."""
    from sqlalchemy.exc import SQLAlchemyError

    from fustgo.server.sample import seed_sample

    try:
        return seed_sample(settings)
    except SQLAlchemyError as exc:
        raise ConfigError(f"Cannot seed the sample in the metadata store: {exc}") from exc


def _display_host(host: str) -> str:
    """Where a browser on this machine reaches a server listening on every address."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _print_sample(seed: SampleSeed, base: str) -> None:
    from fustgo.server.sample import SAMPLE_CONNECTION, SAMPLE_JOB

    def state(created: bool) -> str:
        return "created" if created else "already there, kept"

    jobs = f"{base}/api/v1/jobs/{seed.job_id}"
    connection = f"`{SAMPLE_CONNECTION}` ({state(seed.connection_created)})"
    typer.echo(f"Sample connection {connection}: {seed.database}")
    typer.echo(
        f"Sample job `{SAMPLE_JOB}` ({state(seed.job_created)}, status {seed.job_status}): {jobs}"
    )
    for diagnostic in seed.diagnostics:
        typer.echo(f"  {diagnostic.get('severity', '')}: {diagnostic.get('message', '')}")
    typer.echo(f"Start it in the console ({base}/jobs/{seed.job_id}), or with curl:")
    typer.echo(f"  curl -X POST {jobs}/start")
    typer.echo(f"  curl {jobs}/executions")
