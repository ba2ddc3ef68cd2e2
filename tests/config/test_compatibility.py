"""Compatibility warnings: valid pipelines whose parts do not fit together."""

from __future__ import annotations

import pytest

from fustgo.config.loader import load_pipeline_text
from fustgo.config.models import Diagnostic
from fustgo.plugins.registry import Registry

pytestmark = pytest.mark.unit

OUTPUT = "output: {type: jsonl, path: o.jsonl}\n"


def warnings(text: str, registry: Registry) -> list[Diagnostic]:
    report = load_pipeline_text(text, filename="p.yaml", registry=registry, env={})
    assert report.ok, [d.message for d in report.errors]
    assert report.pipeline is not None
    assert all(d.severity == "warning" and d.level == "compatibility" for d in report.diagnostics)
    return report.diagnostics


def test_clean_pipeline_has_no_warnings(registry: Registry) -> None:
    text = "settings: {parallelism: 4}\ninput: {type: csv, paths: [a]}\n" + OUTPUT
    assert warnings(text, registry) == []


def test_parallelism_without_split(registry: Registry) -> None:
    text = "settings:\n  parallelism: 4\ninput: {type: sqlite, query: {table: t}}\n" + OUTPUT
    [warning] = warnings(text, registry)
    assert warning.path == "settings.parallelism"
    assert (warning.line, warning.column) == (2, 16)
    assert "only one channel will be busy" in warning.message
    assert "`sqlite`" in warning.message


def test_tolerated_failures_without_dead_letter(registry: Registry) -> None:
    text = "name: nightly\nsettings: {error_limit: {records: 10}}\ninput: {type: csv, paths: [a]}\n"
    [warning] = warnings(text + OUTPUT, registry)
    assert warning.path == "settings.error_limit"
    assert "`.fustgo/dead-letter/nightly.jsonl`" in warning.message
    with_dead_letter = text + OUTPUT + "dead_letter: {type: jsonl, path: d.jsonl}\n"
    assert warnings(with_dead_letter, registry) == []


def test_percentage_limit_on_a_stream(registry: Registry) -> None:
    text = (
        "settings: {error_limit: {records: null, percentage: 0.1}}\n"
        "input: {type: kafka, topic: t}\n" + OUTPUT + "dead_letter: {type: jsonl, path: d}\n"
    )
    [warning] = warnings(text, registry)
    assert warning.path == "settings.error_limit.percentage"


def test_retry_delays_and_queue_capacity(registry: Registry) -> None:
    text = (
        "settings:\n"
        "  batch_size: 50000\n"
        "  retry: {initial_delay: 1m, max_delay: 10s}\n"
        "input: {type: csv, paths: [a]}\n" + OUTPUT
    )
    assert [w.path for w in warnings(text, registry)] == [
        "settings.batch_size",
        "settings.retry.initial_delay",
    ]


def test_upsert_without_conflict_key(registry: Registry) -> None:
    text = (
        "input: {type: csv, paths: [a]}\n"
        "output:\n  type: postgresql\n  write: {table: t, mode: upsert}\n"
    )
    [warning] = warnings(text, registry)
    assert warning.path == "output.write.mode"
    assert (warning.line, warning.column) == (4, 27)
    keyed = text.replace("mode: upsert", "mode: upsert, conflict_key: [id]")
    assert warnings(keyed, registry) == []
