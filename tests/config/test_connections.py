"""Level-5 validation: connection checks become warnings naming the component."""

from __future__ import annotations

import asyncio

import pytest

from fustgo.config.connections import check_connections
from fustgo.config.loader import load_pipeline_text
from fustgo.config.models import ValidationReport
from fustgo.plugins.registry import Registry

pytestmark = pytest.mark.unit


def load(output: str, registry: Registry) -> ValidationReport:
    text = f"input: {{type: csv, paths: [a]}}\noutput:\n  type: {output}\n  path: o\n"
    report = load_pipeline_text(text, filename="p.yaml", registry=registry)
    assert report.pipeline is not None
    return report


def test_reachable_components_give_nothing(registry: Registry) -> None:
    report = load("jsonl", registry)
    assert report.pipeline is not None
    assert asyncio.run(check_connections(report.pipeline, source=report.source)) == []


def test_terminal_error_is_a_located_warning(registry: Registry) -> None:
    report = load("unreachable", registry)
    assert report.pipeline is not None
    [warning] = asyncio.run(check_connections(report.pipeline, source=report.source))
    assert warning.level == "connection"
    assert warning.severity == "warning"
    assert warning.path == "output"
    assert warning.message == (
        "`output` (`unreachable`) cannot connect: Connection refused by 127.0.0.1:1; "
        "start the server."
    )
    assert (warning.file, warning.line, warning.column) == ("p.yaml", 2, 1)


def test_unexpected_exception_names_its_type(registry: Registry) -> None:
    report = load("buggy", registry)
    assert report.pipeline is not None
    [warning] = asyncio.run(check_connections(report.pipeline))
    assert warning.message == (
        "`output` (`buggy`) failed its connection check with KeyError: 'oops'"
    )
    assert warning.line is None


def test_a_check_that_never_answers_times_out(registry: Registry) -> None:
    report = load("hanging", registry)
    assert report.pipeline is not None
    [warning] = asyncio.run(check_connections(report.pipeline, timeout_seconds=0.01))
    assert (
        warning.message == "`output` (`hanging`) did not answer its connection check within 0.01s"
    )
