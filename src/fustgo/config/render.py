"""Diagnostics rendered like a compiler's, or as JSON.

Text form, one block per finding:

    pipeline.yaml:12:5: error[structure]: Missing required field `table` in `input.query`
      12 |   query:
         |   ^
      hint: `table`: Table to read.

The quoted line comes from the text the loader read (the included file's text for a finding
in an included file), so it is exactly what was validated. Styles are rich styles; the
console decides whether to show colour (only on a terminal).
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text

from fustgo.config.models import Diagnostic, ValidationReport

_TAB_WIDTH = 4
_SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow"}


def render_text(report: ValidationReport, *, file: str) -> Text:
    """Every diagnostic with its source line and caret, then a one-line summary."""
    texts = report.source.texts if report.source is not None else {}
    output = Text()
    for diagnostic in report.diagnostics:
        output.append_text(render_diagnostic(diagnostic, texts.get(diagnostic.file or "")))
        output.append("\n")
    output.append_text(summary(report, file=file))
    return output


def render_diagnostic(diagnostic: Diagnostic, source_text: str | None) -> Text:
    """One finding: `file:line:column: severity[level]: message`, the line, a caret, a hint."""
    style = _SEVERITY_STYLE[diagnostic.severity]
    output = Text()
    output.append(_location(diagnostic), style="bold")
    output.append(": ")
    output.append(f"{diagnostic.severity}[{diagnostic.level}]", style=style)
    output.append(": ")
    output.append(diagnostic.message, style="bold")
    output.append("\n")
    line = _source_line(source_text, diagnostic.line)
    if line is not None and diagnostic.line is not None:
        number = str(diagnostic.line)
        gutter = " " * len(number)
        output.append(f"  {number} | ", style="blue")
        output.append(line.expandtabs(_TAB_WIDTH))
        output.append("\n")
        output.append(f"  {gutter} | ", style="blue")
        column = max((diagnostic.column or 1) - 1, 0)
        output.append(" " * cell_len(line[:column].expandtabs(_TAB_WIDTH)))
        output.append("^", style=style)
        output.append("\n")
    if diagnostic.hint:
        output.append("  hint: ", style="cyan")
        output.append(diagnostic.hint)
        output.append("\n")
    return output


def summary(report: ValidationReport, *, file: str) -> Text:
    """`2 errors, 1 warning`, or that the file is valid."""
    errors = sum(1 for item in report.diagnostics if item.severity == "error")
    warnings = len(report.diagnostics) - errors
    if errors:
        counts = _plural(errors, "error") + (
            f", {_plural(warnings, 'warning')}" if warnings else ""
        )
        return Text(f"{counts}\n", style="bold red")
    if warnings:
        return Text(f"{file} is valid, with {_plural(warnings, 'warning')}\n", style="bold yellow")
    return Text(f"{file} is valid\n", style="bold green")


def render_json(report: ValidationReport, *, file: str) -> dict[str, Any]:
    """`{"file", "ok", "diagnostics", "pipeline"}`, the machine-readable twin of the text."""
    pipeline = report.pipeline
    return {
        "file": file,
        "ok": report.ok,
        "diagnostics": [diagnostic.to_json() for diagnostic in report.diagnostics],
        "pipeline": (
            {"name": pipeline.name, "fingerprint": pipeline.fingerprint} if pipeline else None
        ),
    }


def _location(diagnostic: Diagnostic) -> str:
    location = diagnostic.file or "<pipeline>"
    if diagnostic.line is not None:
        location += f":{diagnostic.line}"
        if diagnostic.column is not None:
            location += f":{diagnostic.column}"
    return location


def _source_line(text: str | None, line: int | None) -> str | None:
    if text is None or line is None:
        return None
    lines = text.split("\n")  # the loader counts lines by `\n` only, so must this
    return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
