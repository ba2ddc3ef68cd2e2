"""Entry point of the `fustgo` command; each sub-command lives in its own module."""

from __future__ import annotations

import typer

from fustgo import __version__
from fustgo.cli import inspect, plugins, run, schema, serve, test, validate

app = typer.Typer(
    name="fustgo",
    help="FustGo: move and transform data between systems, declared in one YAML file.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

run.register(app)
validate.register(app)
plugins.register(app)
schema.register(app)
test.register(app)
inspect.register(app)
serve.register(app)


@app.command()
def version() -> None:
    """Print the FustGo version."""
    typer.echo(f"fustgo {__version__}")


def main() -> None:
    app()
