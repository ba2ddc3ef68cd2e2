"""Turn a `PipelineSpec` into plugin instances and run it with checkpoints and signals."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from fustgo.config.models import ComponentSpec, PipelineSpec
from fustgo.engine.batch import JSONValue
from fustgo.engine.checkpoint import CheckpointStore, RunState, SqliteCheckpointStore
from fustgo.engine.errors import ConfigError
from fustgo.engine.runner import PipelineParts, Runner, RunObserver
from fustgo.engine.settings import ErrorLimit, RunSettings
from fustgo.engine.stats import RunSummary
from fustgo.plugins.api import ComponentFactory, Input, Output, Plugin, PluginContext, Processor
from fustgo.plugins.registry import Registry, default_registry

log = logging.getLogger(__name__)

DEAD_LETTER_DIR = Path(".fustgo/dead-letter")


@dataclass
class RunOutcome:
    """A finished run: its summary and, if a signal stopped it, which one."""

    summary: RunSummary
    signal_received: signal.Signals | None = None


def run_fingerprint(spec: PipelineSpec) -> str:
    """What must not change for a resume to be safe: everything but `settings`.

    Parallelism or speed limits may change between an interrupted run and its resumption
    (the split plan is saved); the source, processors and target may not.
    """
    document = {k: v for k, v in spec.document.items() if k != "settings"}
    canonical = json.dumps(document, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def default_dead_letter(spec: PipelineSpec, registry: Registry) -> ComponentSpec:
    """Without a `dead_letter:` section, failed records go to a JSON Lines file."""
    info = registry.get("output", "json")
    path = (Path.cwd() / DEAD_LETTER_DIR / f"{spec.name}.jsonl").resolve()
    config = info.config.model_validate({"path": str(path)})
    return ComponentSpec(kind="output", type="json", path="dead_letter", config=config, info=info)


def build_parts(
    spec: PipelineSpec, *, resume: bool, registry: Registry | None = None
) -> PipelineParts:
    """Instantiate every plugin of the pipeline (nothing connects yet)."""
    registry = registry or default_registry()
    components = component_factory(spec, registry, resume=resume)

    def context(component: ComponentSpec, base_dir: Path | None = None) -> PluginContext:
        return PluginContext(
            pipeline_name=spec.name,
            component_path=component.path,
            base_dir=base_dir or spec.base_dir,
            batch_size=spec.settings.batch_size,
            resume=resume,
            components=components,
        )

    dead_letter = spec.dead_letter or default_dead_letter(spec, registry)
    dead_letter_base = spec.base_dir if spec.dead_letter else Path.cwd()
    source = spec.input.info.cls(spec.input.config, context(spec.input))
    processors = [c.info.cls(c.config, context(c)) for c in spec.processors]
    sink = spec.output.info.cls(spec.output.config, context(spec.output))
    dead_sink = dead_letter.info.cls(dead_letter.config, context(dead_letter, dead_letter_base))
    assert isinstance(source, Input) and isinstance(sink, Output)
    assert isinstance(dead_sink, Output)
    assert all(isinstance(p, Processor) for p in processors)
    return PipelineParts(
        name=spec.name,
        settings=run_settings(spec),
        input=source,
        processors=processors,  # type: ignore[arg-type]
        output=sink,
        dead_letter=dead_sink,
        fingerprint=run_fingerprint(spec),
        dead_letter_description=_describe(dead_letter, dead_letter_base),
    )


def run_settings(spec: PipelineSpec) -> RunSettings:
    """The pipeline's settings; an unbounded input without its own `error_limit` tolerates
    any number of failed records (each still goes to the dead letter and is counted), so
    one poison message does not end a stream that is meant to run until stopped."""
    settings = spec.settings
    if "streaming" in spec.input.info.capabilities and "error_limit" not in (
        settings.model_fields_set
    ):
        return settings.model_copy(update={"error_limit": ErrorLimit(records=None)})
    return settings


def component_factory(spec: PipelineSpec, registry: Registry, *, resume: bool) -> ComponentFactory:
    """Builds nested components (branch processors, case outputs) declared in plugin configs.

    The config layer has validated them with positions already; a failure here means the
    pipeline was not loaded through `config.loader`, so it is reported as a config error.
    """

    def build(
        kind: Literal["processor", "output"], config: Mapping[str, Any], path: str
    ) -> Plugin[Any]:
        name = config.get("type")
        if not isinstance(name, str):
            raise ConfigError(f"`{path}` needs a `type` naming a {kind} plugin.")
        info = registry.get(kind, name)
        body = {key: value for key, value in config.items() if key != "type"}
        try:
            model = info.config.model_validate(body)
        except ValidationError as exc:
            raise ConfigError(f"`{path}` ({name}) is invalid: {exc}") from exc
        context = PluginContext(
            pipeline_name=spec.name,
            component_path=path,
            base_dir=spec.base_dir,
            batch_size=spec.settings.batch_size,
            resume=resume,
            components=build,
        )
        return info.cls(model, context)

    return build


def open_checkpoint_store(spec: PipelineSpec) -> SqliteCheckpointStore | None:
    """The store of checkpoints and committed input states, unless checkpoints are off."""
    if not spec.settings.checkpoint.enabled:
        return None
    return SqliteCheckpointStore(Path(spec.settings.checkpoint.path).expanduser())


def committed_state(spec: PipelineSpec) -> dict[str, JSONValue] | None:
    """The input state the last successful run committed, read without creating a store."""
    path = Path(spec.settings.checkpoint.path).expanduser()
    if not spec.settings.checkpoint.enabled or not path.exists():
        return None
    store = SqliteCheckpointStore(path)
    try:
        return store.load_state(spec.name)
    finally:
        store.close()


def find_resume_state(
    spec: PipelineSpec, store: CheckpointStore | None, *, fresh: bool
) -> RunState | None:
    """The interrupted run to continue, if there is one and it is safe to continue."""
    if store is None:
        return None
    state = store.load(spec.name)
    if state is None:
        return None
    if fresh:
        log.info("Ignoring the checkpoint of an interrupted run of `%s` (--fresh).", spec.name)
        return None
    if not state.checkpoints:
        # Nothing was durably written (or nothing the checkpoint vouches for): resuming
        # would skip a truncating output's truncate and replan nothing. Start over.
        log.info("The interrupted run of `%s` saved no checkpoint; starting over.", spec.name)
        return None
    if state.fingerprint != run_fingerprint(spec):
        log.warning(
            "The pipeline `%s` changed since its interrupted run; starting over instead of "
            "resuming.",
            spec.name,
        )
        return None
    return state


async def run_pipeline(
    spec: PipelineSpec,
    *,
    fresh: bool = False,
    full_refresh: bool = False,
    observer: RunObserver | None = None,
    handle_signals: bool = True,
    registry: Registry | None = None,
    checkpoint_store: CheckpointStore | None = None,
    on_runner: Callable[[Runner], None] | None = None,
) -> RunOutcome:
    """Run a validated pipeline once, resuming an interrupted run of it unless `fresh`.

    `full_refresh` also ignores the state committed by earlier runs (an incremental
    input's high-water mark): everything is read again, and the new mark is committed.
    `checkpoint_store` replaces the file of `settings.checkpoint.path` (the server keeps
    checkpoints in its metadata store; the caller closes it); `on_runner` receives the
    runner before it starts, so a caller without signals can `request_stop` it.
    """
    owned = checkpoint_store is None
    store: CheckpointStore | None
    if not spec.settings.checkpoint.enabled:
        store = None
    else:
        store = open_checkpoint_store(spec) if owned else checkpoint_store
    try:
        state = find_resume_state(spec, store, fresh=fresh or full_refresh)
        parts = build_parts(spec, resume=state is not None, registry=registry)
        runner = Runner(
            parts,
            store=store,
            resume_state=state,
            observer=observer,
            full_refresh=full_refresh,
        )
        if on_runner is not None:
            on_runner(runner)
        received: list[signal.Signals] = []
        loop = asyncio.get_running_loop()

        def on_signal(signum: signal.Signals) -> None:
            if received:  # a second signal: the user does not want to wait for the drain
                log.error("Second %s: exiting at once without saving.", signum.name)
                os._exit(128 + int(signum))
            received.append(signum)
            runner.request_stop(f"received {signum.name}")

        installed: list[signal.Signals] = []
        if handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, on_signal, signum)
                installed.append(signum)
        try:
            summary = await runner.run()
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
        return RunOutcome(summary, received[0] if received else None)
    finally:
        if owned and isinstance(store, SqliteCheckpointStore):
            store.close()


def _describe(component: ComponentSpec, base_dir: Path) -> str:
    path = getattr(component.config, "path", None)
    if isinstance(path, str):
        resolved = Path(os.path.normpath(path if Path(path).is_absolute() else base_dir / path))
        try:
            return str(resolved.relative_to(Path.cwd()))
        except ValueError:
            return str(resolved)
    return f"the `{component.type}` dead-letter output"
