"""`fustgo serve`: the server (REST API, metadata store, runs) on one host and port."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from fustgo.cli.diagnostics import EXIT_INVALID, MainConfigOption
from fustgo.config.app import app_config_path
from fustgo.engine.errors import ConfigError
from fustgo.server.settings import DEFAULT_HOST, DEFAULT_PORT, ServerSettings


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = DEFAULT_PORT,
    config: MainConfigOption = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Start the server: REST API at /api/v1 (docs at /api/v1/docs), /health.

    The metadata store is the main config's `db:` (default: SQLite `.fustgo/fustgo.db`);
    its migrations are applied on start. Ctrl-C stops running jobs with a checkpoint.
    """
    import uvicorn

    from fustgo.server.app import create_app

    try:
        settings = ServerSettings.from_main_config(app_config_path(config))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise typer.Exit(EXIT_INVALID) from exc
    typer.echo(f"FustGo server on http://{host}:{port} (API docs: /api/v1/docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)
