"""Structure and semantic validation of a loaded pipeline document (design doc §3.3).

Takes the plain document the loader produced and returns diagnostics, never raising: the
sections and `settings` are checked against their models, each component's `type` against
the registry, and each plugin's fields against its own config model. Every component is
checked even when another one is broken, so one run shows every problem. When nothing is
wrong the `PipelineSpec` is built and the compatibility checks add their warnings.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fustgo.config.compatibility import compatibility_diagnostics
from fustgo.config.model_errors import model_diagnostics
from fustgo.config.models import (
    ComponentSpec,
    Diagnostic,
    PipelineSpec,
    ValidationLevel,
    ValidationReport,
)
from fustgo.config.positions import Loc, SourceMap, format_loc
from fustgo.engine.settings import RunSettings
from fustgo.plugins.registry import PLUGIN_KINDS, PluginKind, Registry
from fustgo.plugins.spec import nested_components

_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f]")


class PipelineSection(BaseModel):
    """The `pipeline:` section: the processors every batch goes through, in order."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    processors: list[dict[str, Any]] | None = None
    """Processors applied to each batch in order; each is a mapping with `type:`."""


class PipelineFile(BaseModel):
    """The sections of a pipeline file; components are checked by their plugins' models."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str | None = Field(default=None, min_length=1, max_length=128)
    """Name of the pipeline (defaults to the file name without extension)."""
    description: str | None = None
    """What the pipeline is for, shown in listings."""
    settings: RunSettings | None = None
    """Run settings: parallelism, batch size, limits, retries, checkpoints."""
    input: dict[str, Any]
    """Where records come from: a mapping with the input plugin's `type:` and fields."""
    pipeline: PipelineSection | None = None
    """Processors between the input and the output."""
    output: dict[str, Any]
    """Where records go: a mapping with the output plugin's `type:` and fields."""
    dead_letter: dict[str, Any] | None = None
    """Where failed records go (an output); default `.fustgo/dead-letter/<name>.jsonl`."""

    @field_validator("name")
    @classmethod
    def _name_is_file_safe(cls, value: str | None) -> str | None:
        if value is not None and _UNSAFE_NAME.search(value):
            raise ValueError(
                "a pipeline name may not contain `/`, `\\` or control characters, because it "
                "names files such as the dead-letter file"
            )
        return value


_COMPONENT = re.compile(r"^(?:input|output|dead_letter|pipeline\.processors\[\d+\])$")
_COMPONENT_HINT = (
    "A component is a mapping: `type:` names the plugin and its fields follow, indented "
    "(`- type: filter` for a processor)."
)


_SECTION_OF = {
    "input": "as the `input`",
    "processor": "under `pipeline.processors`",
    "output": "as the `output` or the `dead_letter`",
}


def validate_document(
    document: Any,
    *,
    source: SourceMap,
    registry: Registry,
    default_name: str,
    base_dir: Path,
    fingerprint: str,
    source_file: Path | None = None,
    found: Sequence[Diagnostic] = (),
    unresolved: frozenset[Loc] = frozenset(),
) -> ValidationReport:
    """Structure, semantic and compatibility diagnostics, and the spec when there is no error.

    `found` are diagnostics the loader already has (unset variables); with an error among
    them no spec is built. Findings inside `unresolved` locations are left out.
    """
    checker = _Checker(source=source, registry=registry, unresolved=unresolved)
    checker.diagnostics.extend(found)
    report = ValidationReport(source=source)
    sections = checker.sections(document)
    if sections is None:
        report.diagnostics = checker.diagnostics
        return report
    input_spec = checker.component("input", document.get("input"), ("input",))
    processors = [
        checker.component("processor", node, ("pipeline", "processors", index))
        for index, node in enumerate((sections.pipeline and sections.pipeline.processors) or [])
    ]
    output_spec = checker.component("output", document.get("output"), ("output",))
    dead_letter = checker.component("output", document.get("dead_letter"), ("dead_letter",))
    report.diagnostics = checker.diagnostics
    if not report.ok or input_spec is None or output_spec is None:
        return report
    report.pipeline = PipelineSpec(
        name=sections.name or default_name,
        settings=sections.settings or RunSettings(),
        input=input_spec,
        processors=tuple(spec for spec in processors if spec is not None),
        output=output_spec,
        dead_letter=dead_letter,
        base_dir=base_dir,
        fingerprint=fingerprint,
        source_file=source_file,
        document=document,
    )
    report.diagnostics.extend(compatibility_diagnostics(report.pipeline, source))
    return report


class _Checker:
    """Collects the diagnostics of one document."""

    def __init__(self, *, source: SourceMap, registry: Registry, unresolved: frozenset[Loc]):
        self.source = source
        self.registry = registry
        self.unresolved = unresolved
        self.diagnostics: list[Diagnostic] = []

    def sections(self, document: Any) -> PipelineFile | None:
        """The top level checked against `PipelineFile`; None when it is unusable."""
        if document is None or document == {}:
            self._add(
                "structure",
                "The pipeline file is empty; it needs at least `input` and `output`",
                (),
                hint="See docs/configuration.md for the structure of a pipeline file.",
            )
            return None
        if not isinstance(document, dict):
            self._add(
                "structure",
                "A pipeline file is a mapping of sections (`input`, `pipeline`, `output`, ...), "
                f"not {'a list' if isinstance(document, list) else 'a single value'}",
                (),
            )
            return None
        try:
            return PipelineFile.model_validate(document)
        except ValidationError as error:
            found = model_diagnostics(
                error,
                model=PipelineFile,
                prefix=(),
                data=document,
                source=self.source,
                unresolved=self.unresolved,
            )
            self.diagnostics.extend(
                dataclasses.replace(item, hint=_COMPONENT_HINT)
                if _COMPONENT.match(item.path) and "must be a mapping" in item.message
                else item
                for item in found
            )
        # Keep going with what can be read, so each component is still checked.
        return PipelineFile.model_construct(
            name=None,
            settings=None,
            pipeline=_readable_section(document.get("pipeline")),
        )

    def component(self, kind: PluginKind, node: Any, loc: Loc) -> ComponentSpec | None:
        """One plugin's `type` and config checked; None if anything is wrong."""
        if not isinstance(node, dict):
            return None  # `sections` reported it (or the optional section is absent)
        name = node.get("type")
        path = format_loc(loc)
        if "type" not in node:
            typo = difflib.get_close_matches("type", [str(key) for key in node], n=1, cutoff=0.6)
            if typo:
                self._add(
                    "structure",
                    f"Unknown field `{typo[0]}` in `{path}`",
                    (*loc, typo[0]),
                    at="key",
                    hint="Did you mean `type`? It is required.",
                )
                return None
            names = ", ".join(f"`{name}`" for name in self.registry.names(kind)[:6])
            self._add(
                "structure",
                f"Missing required field `type` in `{path}`",
                loc,
                at="key",
                hint=f"Set `type:` to a {kind} plugin ({names}, ...); "
                f"`fustgo plugins list --kind {kind}` shows them all.",
            )
            return None
        type_loc = (*loc, "type")
        if not isinstance(name, str) or not name.strip():
            self._add("structure", f"`{path}.type` must be a plugin name", type_loc)
            return None
        info = self.registry.find(kind, name)
        if info is None:
            self._unknown_plugin(kind, name, type_loc)
            return None
        if not self.registry.is_enabled(kind, name):
            self._add(
                "semantic",
                f"The {kind} plugin `{name}` is disabled by `plugins` in the main config",
                type_loc,
                hint="Enable it in the main config (fustgo.yaml) to use it here.",
            )
        data = {key: value for key, value in node.items() if key != "type"}
        try:
            config = info.config.model_validate(data)
        except ValidationError as error:
            self.diagnostics.extend(
                model_diagnostics(
                    error,
                    model=info.config,
                    prefix=loc,
                    data=data,
                    source=self.source,
                    unresolved=self.unresolved,
                )
            )
            return None
        nested_ok = True
        for suffix, nested_kind, nested in nested_components(config):
            if self.component(nested_kind, nested, (*loc, *suffix)) is None:
                nested_ok = False
                if not isinstance(nested, dict):
                    self._add(
                        "structure",
                        f"`{format_loc((*loc, *suffix))}` must be a {nested_kind} component",
                        (*loc, *suffix),
                        hint=_COMPONENT_HINT,
                    )
        if not nested_ok:
            return None
        return ComponentSpec(kind=kind, type=name, path=path, config=config, info=info)

    def _unknown_plugin(self, kind: PluginKind, name: str, loc: Loc) -> None:
        elsewhere = [
            other for other in PLUGIN_KINDS if other != kind and self.registry.find(other, name)
        ]
        if elsewhere:
            other = elsewhere[0]
            self._add(
                "semantic",
                f"`{name}` is {_article(other)} {other} plugin, not {_article(kind)} {kind}",
                loc,
                hint=f"Use it {_SECTION_OF[other]}; `fustgo plugins list --kind {kind}` shows "
                f"the {kind} plugins.",
            )
            return
        suggestion = self.registry.suggest(kind, name)
        self._add(
            "semantic",
            f"Unknown {kind} plugin `{name}`",
            loc,
            hint=f"Did you mean `{suggestion}`?"
            if suggestion
            else f"`fustgo plugins list --kind {kind}` shows the available {kind}s.",
        )

    def _add(
        self,
        level: ValidationLevel,
        message: str,
        loc: Loc,
        *,
        at: str = "value",
        hint: str | None = None,
    ) -> None:
        position = self.source.key_position(loc) if at == "key" else self.source.value_position(loc)
        self.diagnostics.append(
            Diagnostic.at(position, level=level, message=message, hint=hint, loc=loc)
        )


def _readable_section(node: Any) -> PipelineSection | None:
    """The processors that are at least a list, for checking when the top level is broken."""
    if isinstance(node, dict) and isinstance(node.get("processors"), list):
        return PipelineSection.model_construct(processors=node["processors"])
    return None


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
