"""Compiler-style text and JSON renderings of a report."""

from __future__ import annotations

import pytest

from fustgo.config.loader import load_pipeline_text
from fustgo.config.models import Diagnostic, ValidationReport
from fustgo.config.positions import SourceMap
from fustgo.config.render import render_diagnostic, render_json, render_text
from fustgo.plugins.registry import Registry

pytestmark = pytest.mark.unit


def test_text_has_location_line_caret_and_hint(registry: Registry) -> None:
    text = (
        "settings:\n  parallelism: four\n"
        "input: {type: csv, paths: [a]}\noutput: {type: jsonl, path: o}\n"
    )
    report = load_pipeline_text(text, filename="p.yaml", registry=registry)
    assert render_text(report, file="p.yaml").plain == (
        "p.yaml:2:16: error[structure]: `settings.parallelism` must be an integer, got `four`\n"
        "  2 |   parallelism: four\n"
        "    |                ^\n"
        "\n"
        "1 error\n"
    )


def test_caret_under_wide_characters_and_tabs() -> None:
    diagnostic = Diagnostic(level="structure", message="m", file="f", line=1, column=5, hint="h")
    rendered = render_diagnostic(diagnostic, "名前: 値\n").plain.splitlines()
    assert rendered[1] == "  1 | 名前: 値"
    assert rendered[2] == "    | " + " " * 6 + "^"  # two wide characters, a colon, a space
    assert rendered[3] == "  hint: h"
    tabbed = render_diagnostic(
        Diagnostic(level="syntax", message="m", file="f", line=1, column=2), "\tx"
    ).plain.splitlines()
    assert tabbed[1:] == ["  1 |     x", "    |     ^"]


def test_diagnostic_without_position_or_text() -> None:
    diagnostic = Diagnostic(level="syntax", message="Override bad", file="--set a=b")
    assert render_diagnostic(diagnostic, None).plain == "--set a=b: error[syntax]: Override bad\n"
    lone = Diagnostic(level="structure", message="m", line=3, column=1)
    assert render_diagnostic(lone, "one line\n").plain == "<pipeline>:3:1: error[structure]: m\n"


def test_summary_lines() -> None:
    warning = Diagnostic(level="compatibility", severity="warning", message="w")
    error = Diagnostic(level="structure", message="e")
    assert render_text(ValidationReport(), file="p.yaml").plain == "p.yaml is valid\n"
    assert render_text(ValidationReport([warning]), file="p.yaml").plain.endswith(
        "p.yaml is valid, with 1 warning\n"
    )
    both = ValidationReport([error, error, warning], source=SourceMap())
    assert render_text(both, file="p.yaml").plain.endswith("\n2 errors, 1 warning\n")


def test_json_twin(registry: Registry) -> None:
    bad = load_pipeline_text(
        "input: {type: csv}\noutput: {type: jsonl, path: o}\n", filename="p.yaml", registry=registry
    )
    assert render_json(bad, file="p.yaml") == {
        "file": "p.yaml",
        "ok": False,
        "diagnostics": [
            {
                "level": "structure",
                "severity": "error",
                "path": "input.paths",
                "file": "p.yaml",
                "line": 1,
                "column": 1,
                "message": "Missing required field `paths` in `input`",
                "hint": "`paths`: Files to read.",
            }
        ],
        "pipeline": None,
    }
    good = load_pipeline_text(
        "input: {type: csv, paths: [a]}\noutput: {type: jsonl, path: o}\n", registry=registry
    )
    rendered = render_json(good, file="p.yaml")
    assert rendered["ok"] is True
    assert rendered["pipeline"]["fingerprint"] == good.pipeline.fingerprint  # type: ignore[union-attr]
