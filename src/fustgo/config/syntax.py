"""YAML syntax errors turned into diagnostics a person can act on.

ruamel.yaml reports problems in parser terms (`expected <block end>, but found '?'`); this
module says what that usually means in a config file (bad indentation, a tab, an unclosed
quote, a duplicate key) and where to look, with the mark converted to 1-based positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ruamel.yaml.error import MarkedYAMLError, YAMLError

from fustgo.config.models import Diagnostic

_DUPLICATE_KEY = re.compile(r'found duplicate key "(?P<key>[^"]*)"')
_UNDEFINED_ALIAS = re.compile(r"found undefined alias '?(?P<name>[^' ]+)'?")


@dataclass(frozen=True)
class _Spot:
    line: int
    column: int


def _first_non_space(text: str, line: int) -> int:
    """1-based column of the first non-blank character on a 1-based line (1 if none)."""
    lines = text.split("\n")
    if 0 < line <= len(lines):
        content = lines[line - 1]
        return len(content) - len(content.lstrip(" ")) + 1
    return 1


def syntax_diagnostic(error: YAMLError, *, file: str, text: str) -> Diagnostic:
    """One `syntax` diagnostic for a YAML error, located at the spot to fix."""
    if not isinstance(error, MarkedYAMLError) or error.problem_mark is None:
        return Diagnostic(level="syntax", message=f"Invalid YAML: {error}", file=file)
    problem = error.problem or ""
    context = error.context or ""
    mark = _Spot(error.problem_mark.line + 1, error.problem_mark.column + 1)
    opening = (
        _Spot(error.context_mark.line + 1, error.context_mark.column + 1)
        if error.context_mark is not None
        else mark
    )
    message, hint, spot = _explain(problem, context, mark, opening, text)
    return Diagnostic(
        level="syntax", message=message, hint=hint, file=file, line=spot.line, column=spot.column
    )


def _explain(
    problem: str, context: str, mark: _Spot, opening: _Spot, text: str
) -> tuple[str, str | None, _Spot]:
    if "'\\t'" in problem or "\t" in problem:
        return (
            "Tab character in indentation; YAML indents with spaces only",
            "Replace the tab with spaces.",
            mark,
        )
    if "mapping values are not allowed here" in problem:
        return (
            "Bad indentation: YAML cannot read `key: value` here, because this line is "
            "indented deeper than the keys of its mapping (or a value contains `: `)",
            "Line the key up with its sibling keys, or quote a value that contains `: `.",
            _Spot(mark.line, _first_non_space(text, mark.line)),
        )
    if "expected <block end>" in problem:
        return (
            f"Bad indentation: this line does not line up with the block that starts at "
            f"line {opening.line}",
            "Indent it with the same number of spaces as its sibling keys or list items.",
            mark,
        )
    if "scanning a quoted scalar" in context:
        return (
            "Unclosed quote: the string that starts here never ends",
            "Add the closing quote, or escape the quote characters inside the string.",
            opening,
        )
    if "flow sequence" in context or "flow mapping" in context:
        bracket = "[" if "sequence" in context else "{"
        closing = "]" if bracket == "[" else "}"
        return (
            f"Unclosed `{bracket}`: the inline {'list' if bracket == '[' else 'mapping'} "
            f"that starts here is not closed where line {mark.line} expects it",
            f"Close it with `{closing}` and separate its items with `, `.",
            opening,
        )
    duplicate = _DUPLICATE_KEY.search(problem)
    if duplicate:
        return (
            f"Duplicate key `{duplicate['key']}`: it is already set earlier in this mapping",
            "Keep one of them; YAML does not merge repeated keys.",
            mark,
        )
    if "expected a single document" in context or "another document" in problem:
        return (
            "A pipeline file holds one YAML document, but a second `---` starts another here",
            "Remove the second `---` or move that document to its own file.",
            mark,
        )
    alias = _UNDEFINED_ALIAS.search(problem)
    if alias:
        return (
            f"Alias `*{alias['name']}` refers to no anchor",
            f"Define `&{alias['name']}` on a value above it, or fix the alias name.",
            mark,
        )
    if "could not find expected ':'" in problem:
        return (
            "A key is missing its `:`, or a quote or bracket above is not closed",
            "Write keys as `key: value`.",
            opening,
        )
    detail = f"{context}: {problem}" if context else problem
    return f"Invalid YAML: {detail}", None, mark
