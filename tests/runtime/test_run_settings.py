"""The settings a run uses: a stream input's default error limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from fustgo.config.loader import load_pipeline_text
from fustgo.runtime.execute import run_settings

pytestmark = pytest.mark.unit

PIPELINE = """
name: p
{settings}
input: {input}
output: {{type: drop}}
"""
KAFKA = '{type: kafka, connection: {brokers: ["127.0.0.1:9"]}, topics: [t], group: g}'
GENERATE = "{type: generate, count: 10, fields: {id: {kind: sequence}}}"


@pytest.mark.parametrize(
    ("source", "settings", "records"),
    [
        (KAFKA, "", None),  # runs until stopped: a poison message must not end it
        (KAFKA, "settings: {error_limit: {records: 3}}", 3),
        (GENERATE, "", 0),  # a bounded input keeps DataX's 0
    ],
)
def test_a_stream_tolerates_failed_records_unless_told_otherwise(
    source: str, settings: str, records: int | None, tmp_path: Path
) -> None:
    text = PIPELINE.format(settings=settings, input=source)
    report = load_pipeline_text(text, base_dir=tmp_path)
    assert report.pipeline is not None, report.diagnostics
    assert run_settings(report.pipeline).error_limit.records == records
