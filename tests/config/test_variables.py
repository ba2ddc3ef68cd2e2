"""`${VAR}`, `${VAR:default}` and `$${` in string values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fustgo.config.variables import substitute

pytestmark = pytest.mark.unit

ENV = {"HOST": "db.internal", "EMPTY": "", "PORT": "5432", "UNICODE": "数据库"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${HOST}", "db.internal"),
        ("postgres://${HOST}:${PORT}/shop", "postgres://db.internal:5432/shop"),
        ("${MISSING:fallback}", "fallback"),
        ("${MISSING:}", ""),
        ("${EMPTY:fallback}", "fallback"),
        ("${EMPTY}", ""),
        ("${HOST:ignored}", "db.internal"),
        ("${MISSING:a:b}", "a:b"),
        ("${UNICODE}-表", "数据库-表"),
        ("$${HOST}", "${HOST}"),
        ("cost: $5 and $$", "cost: $5 and $$"),
        ("no variables", "no variables"),
    ],
)
def test_substitution(text: str, expected: str) -> None:
    assert substitute(text, ENV) == (expected, [])


def test_unset_variable_is_a_problem_naming_it() -> None:
    value, problems = substitute("pw=${PG_PASSWORD}", ENV)
    assert value == "pw="
    assert problems == [
        "Environment variable `PG_PASSWORD` is not set; export it or write `${PG_PASSWORD:default}`"
    ]


def test_every_unset_variable_is_reported() -> None:
    _, problems = substitute("${A}/${B}", {})
    assert [p.split("`")[1] for p in problems] == ["A", "B"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("${1X}", "Invalid variable name `1X`"),
        ("${}", "Invalid variable name ``"),
        ("${HOST", "Unclosed"),
    ],
)
def test_malformed_references(text: str, fragment: str) -> None:
    _, problems = substitute(text, ENV)
    assert len(problems) == 1
    assert fragment in problems[0]


@given(st.text().filter(lambda text: "$" not in text))
def test_text_without_dollar_is_unchanged(text: str) -> None:
    assert substitute(text, {}) == (text, [])


@given(st.text(alphabet=st.characters(blacklist_characters="$}{")))
def test_escape_round_trip(body: str) -> None:
    assert substitute("$${" + body + "}", {}) == ("${" + body + "}", [])
