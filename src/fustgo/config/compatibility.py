"""Compatibility checks: valid pieces that do not fit well together (warnings only).

Everything here is cheap and works without connecting anywhere: capabilities of the chosen
plugins against the settings, settings against each other, and generic fields the models
expose (`write.mode` / `write.conflict_key`). Plugin names are never hard-coded here.
"""

from __future__ import annotations

from collections.abc import Iterator

from fustgo.config.models import ComponentSpec, Diagnostic, PipelineSpec
from fustgo.config.positions import Loc, SourceMap

DEFAULT_DEAD_LETTER = ".fustgo/dead-letter/{name}.jsonl"
"""Where the runner writes failed records when the pipeline has no `dead_letter`."""


def compatibility_diagnostics(spec: PipelineSpec, source: SourceMap) -> list[Diagnostic]:
    """Warnings about a valid pipeline whose parts will not work together as meant."""
    return [
        _warning(loc, message, hint, source)
        for loc, message, hint in (
            *_settings_against_input(spec),
            *_settings_against_each_other(spec),
            *_upserts_without_key(spec),
        )
    ]


Finding = tuple[Loc, str, str | None]


def _settings_against_input(spec: PipelineSpec) -> Iterator[Finding]:
    settings, source = spec.settings, spec.input
    if settings.parallelism > 1 and "split" not in source.info.capabilities:
        yield (
            ("settings", "parallelism"),
            f"`settings.parallelism` is {settings.parallelism}, but the `{source.type}` input "
            "cannot split its source, so only one channel will be busy",
            "Set `parallelism: 1`, or read with an input that can split (see "
            "`fustgo plugins list`).",
        )
    limit = settings.error_limit
    tolerates = limit.records is None or limit.records > 0
    if spec.dead_letter is None and tolerates:
        path = DEFAULT_DEAD_LETTER.format(name=spec.name)
        yield (
            ("settings", "error_limit"),
            f"`settings.error_limit` tolerates failed records and there is no `dead_letter`, "
            f"so they will be written to `{path}`",
            "Set `dead_letter:` to an output (with `type:` and its fields) to choose where "
            "they go.",
        )
    if limit.records is None and limit.percentage and "streaming" in source.info.capabilities:
        yield (
            ("settings", "error_limit", "percentage"),
            f"`settings.error_limit.percentage` is checked when the run ends, but the "
            f"`{source.type}` input is a stream that does not end by itself",
            "Use `error_limit.records` to bound failures in a streaming pipeline.",
        )


def _settings_against_each_other(spec: PipelineSpec) -> Iterator[Finding]:
    settings = spec.settings
    if settings.retry.initial_delay > settings.retry.max_delay:
        yield (
            ("settings", "retry", "initial_delay"),
            f"`settings.retry.initial_delay` ({settings.retry.initial_delay:g}s) is longer than "
            f"`settings.retry.max_delay` ({settings.retry.max_delay:g}s), so every wait is "
            "`max_delay`",
            "Make `initial_delay` shorter than `max_delay`.",
        )
    if settings.batch_size > settings.queue.capacity_records:
        yield (
            ("settings", "batch_size"),
            f"`settings.batch_size` ({settings.batch_size}) is larger than "
            f"`settings.queue.capacity_records` ({settings.queue.capacity_records}), so each "
            "queue between stages holds less than one batch and the stages cannot overlap",
            "Raise `queue.capacity_records` to a few batches, or lower `batch_size`.",
        )


def _upserts_without_key(spec: PipelineSpec) -> Iterator[Finding]:
    # Both are top-level sections, so their path is also their location.
    outputs: list[ComponentSpec] = [spec.output]
    if spec.dead_letter is not None:
        outputs.append(spec.dead_letter)
    for output in outputs:
        write = getattr(output.config, "write", None)
        mode = getattr(write, "mode", None)
        mode = getattr(mode, "value", mode)
        if mode == "upsert" and hasattr(write, "conflict_key") and not write.conflict_key:
            yield (
                (output.path, "write", "mode"),
                f"`{output.path}.write.mode` is `upsert` but `{output.path}.write.conflict_key` "
                "is empty, so rows cannot be matched and replays will duplicate them",
                "List the key columns in `write.conflict_key`.",
            )


def _warning(loc: Loc, message: str, hint: str | None, source: SourceMap) -> Diagnostic:
    position = source.value_position(loc)
    return Diagnostic.at(
        position, level="compatibility", severity="warning", message=message, hint=hint, loc=loc
    )
