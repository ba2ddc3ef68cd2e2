"""Checking a job's YAML the way `fustgo validate` does, and what the job keeps of it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fustgo.config.connections import connection_warnings, probe_connections
from fustgo.config.loader import load_pipeline_text
from fustgo.config.models import PipelineSpec, ValidationReport
from fustgo.config.render import render_json
from fustgo.server.settings import ServerSettings

JOB_FILE = "job.yaml"
"""How diagnostics name a job's config (the API has no file)."""


@dataclass(frozen=True)
class CheckedConfig:
    """A job config after validation: the diagnostics, and the plugins it names."""

    report: ValidationReport
    name: str | None
    """The pipeline's `name:`, when the document has one."""
    source_type: str | None
    target_type: str | None

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def pipeline(self) -> PipelineSpec | None:
        return self.report.pipeline

    def diagnostics(self) -> list[dict[str, Any]]:
        return [diagnostic.to_json() for diagnostic in self.report.diagnostics]


def check_config(text: str, settings: ServerSettings) -> CheckedConfig:
    """Validate `text` with the server's plugins; never raises for a bad config."""
    report = load_pipeline_text(
        text, filename=JOB_FILE, base_dir=settings.base_dir, registry=settings.registry
    )
    document = _document(report, text)
    return CheckedConfig(
        report=report,
        name=_string(document.get("name")),
        source_type=_plugin(document.get("input")),
        target_type=_plugin(document.get("output")),
    )


async def validate_payload(
    text: str, settings: ServerSettings, *, check_connections: bool = False
) -> dict[str, Any]:
    """The JSON `fustgo validate --format json` prints for the same text."""
    checked = await asyncio.to_thread(check_config, text, settings)
    report = checked.report
    checks = []
    if check_connections and report.pipeline is not None:
        checks = await probe_connections(report.pipeline)
        report.diagnostics.extend(connection_warnings(checks, report.pipeline, report.source))
    payload = render_json(report, file=JOB_FILE)
    if checks:
        payload["connections"] = [check.to_json() for check in checks]
    return payload


def _document(report: ValidationReport, text: str) -> dict[str, Any]:
    """The resolved document when valid; else the raw YAML's top level, read leniently
    (a draft still shows its name and plugins)."""
    if report.pipeline is not None:
        return report.pipeline.document
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        document = YAML(typ="safe").load(text)
    except (YAMLError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _plugin(section: Any) -> str | None:
    return _string(section.get("type")) if isinstance(section, dict) else None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
