"""What loading a pipeline file produces: a validated `PipelineSpec`, or diagnostics.

The loader (`config.loader`) turns YAML into these; the CLI, the server and the worker
consume them. Diagnostics are values, never exceptions, so every consumer can show all of
them at once: the CLI with a caret under the spot, the API as JSON, the designer on a node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fustgo.config.positions import Loc, Position, SourceMap, format_loc
from fustgo.engine.settings import RunSettings
from fustgo.plugins.registry import PluginInfo, PluginKind
from fustgo.plugins.spec import PluginConfig

ValidationLevel = Literal["syntax", "structure", "semantic", "compatibility", "connection"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a pipeline file, located as precisely as the YAML allows."""

    level: ValidationLevel
    message: str
    severity: Severity = "error"
    path: str = ""
    """Dotted path into the document: `output.write.mode`, `pipeline.processors[1].condition`."""
    file: str | None = None
    line: int | None = None
    """1-based line in `file`."""
    column: int | None = None
    """1-based column in `file`."""
    hint: str | None = None
    """What to do about it (`Did you mean `postgresql`?`)."""

    @classmethod
    def at(
        cls,
        position: Position | None,
        *,
        level: ValidationLevel,
        message: str,
        loc: Loc | str = (),
        severity: Severity = "error",
        hint: str | None = None,
        file: str | None = None,
    ) -> Diagnostic:
        """A diagnostic at `position` (when known) about the value at `loc`."""
        return cls(
            level=level,
            message=message,
            severity=severity,
            hint=hint,
            path=loc if isinstance(loc, str) else format_loc(loc),
            file=position.file if position else file,
            line=position.line if position else None,
            column=position.column if position else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "severity": self.severity,
            "path": self.path,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class ComponentSpec:
    """One validated plugin in the pipeline: which plugin, where, with what config."""

    kind: PluginKind
    type: str
    path: str
    """Where it sits in the document (`input`, `pipeline.processors[0]`, `dead_letter`)."""
    config: PluginConfig
    info: PluginInfo


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline file after variables, includes, overrides and validation."""

    name: str
    settings: RunSettings
    input: ComponentSpec
    processors: tuple[ComponentSpec, ...]
    output: ComponentSpec
    dead_letter: ComponentSpec | None
    base_dir: Path
    """Relative paths in plugin configs resolve against this (the file's directory)."""
    fingerprint: str
    """Hash of the resolved document; keys checkpoints so a changed pipeline starts fresh."""
    source_file: Path | None = None
    document: dict[str, Any] = field(default_factory=dict)
    """The resolved document as plain data (for display and the API)."""


@dataclass
class ValidationReport:
    """Diagnostics, plus the spec when no error was found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    pipeline: PipelineSpec | None = None
    source: SourceMap | None = None
    """Positions and file texts, to quote offending lines and locate later findings."""

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]
