"""YAML syntax errors become one located, readable diagnostic each."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from fustgo.config.models import Diagnostic
from fustgo.config.syntax import syntax_diagnostic

pytestmark = pytest.mark.unit


def diagnose(text: str) -> Diagnostic:
    try:
        YAML(typ="rt").load(text)
    except YAMLError as error:
        return syntax_diagnostic(error, file="p.yaml", text=text)
    raise AssertionError("the YAML was valid")


@pytest.mark.parametrize(
    ("text", "line", "column", "start"),
    [
        # a key indented deeper than its siblings: the caret goes to the start of the key
        ("input:\n  type: csv\n   paths: [a]\n", 3, 4, "Bad indentation"),
        # a key indented less than its siblings but more than its parent
        ("input:\n    type: csv\n  paths: [a]\n", 3, 3, "Bad indentation"),
        ("input:\n\ttype: csv\n", 2, 1, "Tab character"),
        ("a: 'unclosed\nb: 1\n", 1, 4, "Unclosed quote"),
        ("a: [1, 2\nb: 3\n", 1, 4, "Unclosed `[`"),
        ("a: {x: 1\nb: 3\n", 1, 4, "Unclosed `{`"),
        ("a: 1\nb: 2\na: 3\n", 3, 1, "Duplicate key `a`"),
        ("a: 1\n---\nb: 2\n", 2, 1, "A pipeline file holds one YAML document"),
        ("a: *nowhere\n", 1, 4, "Alias `*nowhere` refers to no anchor"),
    ],
)
def test_common_mistakes(text: str, line: int, column: int, start: str) -> None:
    diagnostic = diagnose(text)
    assert diagnostic.level == "syntax"
    assert diagnostic.severity == "error"
    assert diagnostic.message.startswith(start), diagnostic.message
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("p.yaml", line, column)
    assert diagnostic.hint


def test_unicode_lines_keep_character_columns() -> None:
    diagnostic = diagnose("名前: 表\n  键: 值\n")
    assert (diagnostic.line, diagnostic.column) == (2, 3)
