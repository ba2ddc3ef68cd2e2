"""`fustgo run FILE`: validate, then run a pipeline with a live bar and a final summary."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fustgo.cli.diagnostics import MainConfigOption, OutputFormat, OverridesOption, load_or_exit
from fustgo.cli.progress import LogProgress, TerminalProgress
from fustgo.config.models import PipelineSpec
from fustgo.engine.errors import FustgoError
from fustgo.engine.runner import RunObserver
from fustgo.engine.stats import RunSummary
from fustgo.observability.logging import configure_logging
from fustgo.runtime.execute import build_parts, committed_state, run_pipeline

log = logging.getLogger("fustgo.events")


class LogLevel(StrEnum):
    """Log levels a user can pick."""

    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_ERROR_LIMIT = 3


def register(app: typer.Typer) -> None:
    app.command(name="run")(run)


def run(
    file: Annotated[Path, typer.Argument(help="The pipeline file (YAML).")],
    set_: OverridesOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and show the split plan; touch nothing.")
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Ignore the checkpoint of an interrupted run; start over."),
    ] = False,
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh",
            help="Also ignore what earlier runs read (incremental high-water marks): read "
            "everything again.",
        ),
    ] = False,
    summary_json: Annotated[
        Path | None,
        typer.Option(help="Also write the summary event as JSON to this file (`-` = stdout)."),
    ] = None,
    config: MainConfigOption = None,
    log_format: Annotated[
        OutputFormat, typer.Option(help="Log lines on stderr as text or JSON.")
    ] = OutputFormat.text,
    log_level: Annotated[LogLevel, typer.Option(help="Least important log level shown.")] = (
        LogLevel.info
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run a pipeline; an interrupted run of the same pipeline resumes from its checkpoint.

    Exit codes: 0 succeeded, 1 failed, 2 invalid pipeline file, 3 error limit exceeded,
    130 / 143 stopped by SIGINT / SIGTERM (after draining and saving the checkpoint).
    """
    configure_logging(log_level.value, log_format.value)
    spec = load_or_exit(file, overrides=set_ or [], main_config=config)
    console = Console(stderr=True)
    if dry_run:
        raise typer.Exit(_dry_run(spec, console, full_refresh=full_refresh))

    observer: RunObserver
    if quiet:
        observer = RunObserver()
    elif console.is_terminal:
        observer = TerminalProgress(console, spec.name)
    else:
        observer = LogProgress(spec.settings.progress_interval)
    try:
        outcome = asyncio.run(
            run_pipeline(spec, fresh=fresh, full_refresh=full_refresh, observer=observer)
        )
    except Exception as exc:  # failures before the run starts (checkpoint store, plugins)
        _print_error(console, exc)
        raise typer.Exit(EXIT_FAILED) from exc
    summary = outcome.summary
    _report(summary, summary_json, json_logs=log_format is OutputFormat.json)
    if summary.status == "interrupted":
        signum = outcome.signal_received
        raise typer.Exit(128 + int(signum) if signum else EXIT_FAILED)
    raise typer.Exit(
        {"succeeded": EXIT_OK, "error_limit_exceeded": EXIT_ERROR_LIMIT}.get(
            summary.status, EXIT_FAILED
        )
    )


def _report(summary: RunSummary, summary_json: Path | None, *, json_logs: bool) -> None:
    """The text summary on stdout; the JSON event in JSON logs and in `--summary-json`."""
    event = summary.to_json()
    if json_logs:
        log.log(
            logging.INFO if summary.status == "succeeded" else logging.ERROR,
            "Run %s.",
            summary.status.replace("_", " "),
            extra={"fields": event},
        )
    sys.stdout.write(summary.render_text() + "\n")
    sys.stdout.flush()
    if summary_json is not None:
        text = json.dumps(event, default=str, indent=2)
        if str(summary_json) == "-":
            sys.stdout.write(text + "\n")
        else:
            summary_json.parent.mkdir(parents=True, exist_ok=True)
            summary_json.write_text(text + "\n", encoding="utf-8")


def _dry_run(spec: PipelineSpec, console: Console, *, full_refresh: bool) -> int:
    """Open the input read-only, cut the splits (from the committed state) and print them."""
    parts = build_parts(spec, resume=False)

    async def plan() -> list:
        await parts.input.open()
        try:
            parts.input.restore_state(None if full_refresh else committed_state(spec))
            return await parts.input.splits(spec.settings.parallelism)
        finally:
            await parts.input.close()

    try:
        splits = asyncio.run(plan())
    except Exception as exc:
        _print_error(console, exc)
        return EXIT_FAILED
    out = Console()
    out.print(f"[bold]Pipeline[/bold] {spec.name}: valid")
    out.print(
        f"  input  {spec.input.type}  →  "
        + "".join(f"{p.type}  →  " for p in spec.processors)
        + f"output {spec.output.type}"
    )
    out.print(
        f"  parallelism {spec.settings.parallelism}, batch size {spec.settings.batch_size:,}, "
        f"queue {spec.settings.queue.capacity_records:,} records"
    )
    table = Table("split", "description", "est. records", "est. bytes", title="Split plan")
    for split in splits:
        table.add_row(
            split.id,
            split.description,
            f"{split.estimated_records:,}" if split.estimated_records is not None else "?",
            f"{split.estimated_bytes:,}" if split.estimated_bytes is not None else "?",
        )
    out.print(table)
    out.print("Dry run: nothing was written.")
    return EXIT_OK


def _print_error(console: Console, exc: Exception) -> None:
    """A failure outside the run's own reporting: its message, never a traceback."""
    message = Text("error: ", style="red")
    if isinstance(exc, FustgoError):
        message.append(str(exc))
    else:
        log.debug("Unexpected error", exc_info=exc)
        message.append(
            f"unexpected {type(exc).__name__}: {exc}. Run again with `--log-level debug` "
            "for the details, and report it."
        )
    console.print(message)
