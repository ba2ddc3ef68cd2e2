"""`--set path=value` overrides applied to a loaded document.

A path is keys joined by dots with `[n]` for list items (`input.paths[0]`,
`output.write.mode`); the value is read as YAML (`8`, `upsert`, `[id, ts]`, `{a: 1}`).
Overridden values are located at the override itself (`--set settings.parallelism=four`),
so a diagnostic about them names the override rather than a line of the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from fustgo.config.document import key_text, plain_scalar
from fustgo.config.models import Diagnostic
from fustgo.config.positions import Loc, Position, SourceMap, format_loc, parse_loc

_EXAMPLE = "write it as `path=value`, e.g. `settings.parallelism=8` or `input.paths[0]=a.csv`"


class OverrideError(ValueError):
    """An override that cannot be parsed or applied; the message names the override."""


def parse_override(text: str) -> tuple[Loc, Any]:
    """The location and the YAML-parsed value of one `path=value` override."""
    path, equals, raw_value = text.partition("=")
    if not equals or not path.strip():
        raise OverrideError(f"Override `{text}` has no `=`; {_EXAMPLE}")
    loc = _parse_path(path.strip(), text)
    try:
        value = YAML(typ="safe", pure=True).load(raw_value)
    except YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise OverrideError(
            f"Override `{text}`: the value is not valid YAML ({problem}); quote it if it is "
            "meant as a string"
        ) from None
    return loc, _plain(value)


def apply_overrides(document: Any, overrides: Sequence[str], source: SourceMap) -> list[Diagnostic]:
    """Apply each override to `document` in place, in order; one diagnostic per bad one."""
    diagnostics: list[Diagnostic] = []
    for text in overrides:
        try:
            loc, value = parse_override(text)
            _assign(document, loc, value, text)
        except OverrideError as error:
            diagnostics.append(
                Diagnostic(level="syntax", message=str(error), file=f"--set {text}", hint=None)
            )
            continue
        source.forget(loc)
        source.values[loc] = source.keys[loc] = Position(file=f"--set {text}")
    return diagnostics


def _parse_path(path: str, text: str) -> Loc:
    loc = parse_loc(path)
    if loc is None:
        raise OverrideError(f"Override `{text}`: cannot read the path `{path}`; {_EXAMPLE}")
    return loc


def _assign(document: Any, loc: Loc, value: Any, text: str) -> None:
    if not isinstance(document, dict):
        raise OverrideError(f"Override `{text}`: the pipeline file is not a mapping")
    node: Any = document
    for depth, part in enumerate(loc):
        last = depth == len(loc) - 1
        where = format_loc(loc[:depth]) or "the pipeline file"
        if isinstance(part, int):
            if not isinstance(node, list):
                raise OverrideError(f"Override `{text}`: `{where}` is not a list")
            if part > len(node) or (part == len(node) and not last):
                raise OverrideError(
                    f"Override `{text}`: `{where}` has {len(node)} item(s); index {part} is "
                    "out of range"
                )
            if part == len(node):
                node.append(value)
                return
        elif not isinstance(node, dict):
            raise OverrideError(f"Override `{text}`: `{where}` is not a mapping")
        if last:
            node[part] = value
            return
        child = node[part] if isinstance(node, list) else node.get(part)
        if child is None:
            child = [] if isinstance(loc[depth + 1], int) else {}
            node[part] = child
        node = child


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key_text(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return plain_scalar(value)
