"""Failures before a run starts are one line that says what happened, never a traceback."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from fustgo.cli.run import _print_error
from fustgo.engine.errors import TerminalError

pytestmark = pytest.mark.unit


def printed(exc: Exception) -> str:
    buffer = io.StringIO()
    _print_error(Console(file=buffer, width=200), exc)
    return buffer.getvalue()


def test_a_fustgo_error_is_its_message_with_brackets_kept() -> None:
    text = printed(TerminalError("Table `t` lacks [id]; add it."))
    assert text == "error: Table `t` lacks [id]; add it.\n"


def test_an_unexpected_error_names_its_type_and_what_to_do() -> None:
    text = printed(KeyError("connection"))
    assert text.startswith("error: unexpected KeyError: 'connection'.")
    assert "--log-level debug" in text
    assert "Traceback" not in text
