"""Read YAML into plain data, following `!include`, substituting `${VAR}`, keeping positions.

ruamel.yaml's round-trip loader gives every key and value its line and column; this module
converts its nodes to plain dicts, lists and scalars and records those positions in a
`SourceMap`, so every later finding can point at the exact spot, also inside included files.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import YAMLError

from fustgo.config.models import Diagnostic, ValidationLevel
from fustgo.config.positions import Loc, Position, SourceMap
from fustgo.config.syntax import syntax_diagnostic
from fustgo.config.variables import substitute

INCLUDE_TAG = "!include"
_SURROGATE = re.compile("[\ud800-\udfff]")
_CORE_TAG_PREFIX = "tag:yaml.org,2002:"


def plain_scalar(value: Any) -> Any:
    """A YAML scalar as a plain JSON-friendly value; dates become ISO strings."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    text = str(value)
    if _SURROGATE.search(text):
        # `"\ud83d\ude00"` escapes arrive as two surrogates: join the pair; a lone one
        # (invalid anywhere outside Python) becomes U+FFFD.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def key_text(key: Any) -> str:
    """Mapping keys are strings in a pipeline file; `true: x` is the key `true`."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(plain_scalar(key))


@dataclass(frozen=True)
class _File:
    """A file being read: the name diagnostics use and the folder includes resolve against."""

    label: str
    directory: Path
    real_path: Path | None

    def include_label(self, relative: str) -> str:
        folder = Path(self.label).parent if self.real_path is not None else self.directory
        return os.path.normpath(folder / relative)


class DocumentReader:
    """Reads one document and everything it includes; collects diagnostics, never raises."""

    def __init__(
        self, *, env: Mapping[str, str], source: SourceMap, include_root: Path | None = None
    ) -> None:
        self.env = env
        self.source = source
        self.include_root = include_root.resolve() if include_root is not None else None
        """When set, `!include` may only read files inside this folder (text from the API)."""
        self.diagnostics: list[Diagnostic] = []
        self.unresolved: set[Loc] = set()
        """Locations whose value had a variable problem; findings there are noise."""
        self._including: list[tuple[Path, str]] = []

    def read(self, text: str, *, label: str, directory: Path, real_path: Path | None) -> Any:
        """The plain data of a document given as text (`real_path` is None for text input)."""
        file = _File(label=label, directory=directory, real_path=real_path)
        if real_path is not None:
            self._including.append((real_path, label))
        try:
            return self._read(text, file, ())
        finally:
            if real_path is not None:
                self._including.pop()

    def _read(self, text: str, file: _File, loc: Loc) -> Any:
        self.source.texts[file.label] = text
        try:
            node = _yaml().load(text)
        except YAMLError as error:
            self.diagnostics.append(syntax_diagnostic(error, file=file.label, text=text))
            return None
        if isinstance(node, CommentedMap | CommentedSeq):
            position = Position(file.label, node.lc.line + 1, node.lc.col + 1)
        else:
            position = Position(file.label, 1, 1)
        return self._convert(node, loc, position, file)

    def _convert(self, node: Any, loc: Loc, position: Position, file: _File) -> Any:
        self.source.values[loc] = position
        tag = _tag_of(node)
        if tag == INCLUDE_TAG and isinstance(node, TaggedScalar):
            return self._include(str(node.value), loc, position, file)
        if tag is not None and not tag.startswith(_CORE_TAG_PREFIX):
            self._problem("syntax", _tag_message(tag), loc, position, _tag_hint(tag))
            return None
        if isinstance(node, CommentedMap):
            result: dict[str, Any] = {}
            for key, value in node.items():
                child = (*loc, key_text(key))
                key_position = _mark(node.lc.key, key, file.label, position)
                self.source.keys[child] = key_position
                value_position = _mark(node.lc.value, key, file.label, key_position)
                result[key_text(key)] = self._convert(value, child, value_position, file)
            return result
        if isinstance(node, CommentedSeq):
            items = []
            for index, item in enumerate(node):
                item_position = _mark(node.lc.item, index, file.label, position)
                items.append(self._convert(item, (*loc, index), item_position, file))
            return items
        if isinstance(node, TaggedScalar):
            node = node.value
        if isinstance(node, str):
            value, problems = substitute(node, self.env)
            for message in problems:
                self.unresolved.add(loc)
                self._problem("semantic", message, loc, position)
            return plain_scalar(value)
        return plain_scalar(node)

    def _include(self, raw: str, loc: Loc, position: Position, file: _File) -> Any:
        relative, problems = substitute(raw, self.env)
        for message in problems:
            self._problem("syntax", message, loc, position)
        if problems:
            return None
        if not relative.strip():
            self._problem(
                "syntax",
                "`!include` needs a file path",
                loc,
                position,
                "Write `!include parts/input.yaml` (relative to this file).",
            )
            return None
        target = file.directory / relative
        label = file.include_label(relative)
        real_path = target.resolve()
        paths = [path for path, _ in self._including]
        if real_path in paths:
            chain = [name for _, name in self._including[paths.index(real_path) :]]
            cycle = " → ".join([*chain, label])
            self._problem(
                "syntax",
                f"Include cycle: {cycle}",
                loc,
                position,
                "Remove one of the `!include`s so no file includes itself.",
            )
            return None
        if self.include_root is not None and not real_path.is_relative_to(self.include_root):
            self._problem(
                "syntax",
                f"Included file `{label}` is outside `{self.include_root}`",
                loc,
                position,
                "A pipeline given as text may include only files inside its base folder.",
            )
            return None
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._problem(
                "syntax",
                f"Included file `{label}` does not exist",
                loc,
                position,
                "Include paths are relative to the file that includes them.",
            )
            return None
        except (OSError, UnicodeDecodeError) as error:
            self._problem("syntax", f"Cannot read included file `{label}`: {error}", loc, position)
            return None
        self._including.append((real_path, label))
        try:
            return self._read(text, _File(label, target.parent, real_path), loc)
        finally:
            self._including.pop()

    def _problem(
        self,
        level: ValidationLevel,
        message: str,
        loc: Loc,
        position: Position,
        hint: str | None = None,
    ) -> None:
        self.diagnostics.append(
            Diagnostic.at(position, level=level, message=message, hint=hint, loc=loc)
        )


def _tag_of(node: Any) -> str | None:
    tag = getattr(node, "tag", None)
    return getattr(tag, "value", None) if tag is not None else None


def _tag_message(tag: str) -> str:
    if tag == INCLUDE_TAG:
        return "`!include` takes a file path, not a mapping or a list"
    return f"Unknown tag `{tag}`; the only tag FustGo understands is `!include`"


def _tag_hint(tag: str) -> str:
    if tag == INCLUDE_TAG:
        return "Write `!include parts/input.yaml`."
    return (
        "Remove the tag, or quote the value if the `!` belongs to it; use `${VAR}` for variables."
    )


def _mark(
    lookup: Callable[[Any], tuple[int, int]], key: Any, file: str, fallback: Position
) -> Position:
    """The 1-based position ruamel recorded for `key`; merged (`<<`) keys have none."""
    try:
        line, column = lookup(key)
    except (KeyError, IndexError, TypeError):
        return fallback
    return Position(file, line + 1, column + 1)


class _TextTimestamps(RoundTripConstructor):
    """Unquoted dates stay text: pydantic parses them where a field wants a date, and an
    impossible one (`2026-02-30`) becomes a field error with a position, not a crash."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        return self.construct_scalar(node)


_TextTimestamps.add_constructor(
    "tag:yaml.org,2002:timestamp", _TextTimestamps.construct_yaml_timestamp
)


def _yaml() -> YAML:
    """A round-trip loader (keeps positions) that leaves timestamps as text."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _TextTimestamps
    return yaml
