"""`fustgo plugins list|show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fustgo.cli.main import app
from fustgo.plugins.registry import Registry
from tests.config.sample_plugins import sample_registry

pytestmark = pytest.mark.unit

runner = CliRunner()


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch, in_tmp_cwd: Path) -> Registry:
    plugins = sample_registry()
    monkeypatch.setattr("fustgo.config.app.default_registry", lambda: plugins)
    monkeypatch.delenv("FUSTGO_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return plugins


def test_list_as_a_table() -> None:
    result = runner.invoke(app, ["plugins", "list"])
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout  # no colour when not on a terminal
    header = next(line for line in result.stdout.splitlines() if "kind" in line)
    assert [word for word in header.replace("┃", " ").replace("|", " ").split()] == [
        "kind",
        "name",
        "family",
        "capabilities",
        "title",
    ]
    row = next(
        line for line in result.stdout.splitlines() if " postgresql " in line and "input" in line
    )
    assert "split, incremental" in row or "incremental, split" in row


def test_list_one_kind_as_json(registry: Registry) -> None:
    result = runner.invoke(app, ["plugins", "list", "--kind", "processor", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {
            "kind": "processor",
            "name": name,
            "family": "transform",
            "capabilities": [],
            "title": name.title(),
            "enabled": True,
            "source": "tests",
        }
        for name in ("filter", "mapping")
    ]


def test_list_marks_disabled_plugins() -> None:
    Path("main.yaml").write_text("plugins: {disabled: {input: [kafka]}}\n", encoding="utf-8")
    text = runner.invoke(app, ["plugins", "list", "--config", "main.yaml"]).stdout
    assert "kafka (disabled)" in text
    listed = runner.invoke(
        app, ["plugins", "list", "--kind", "input", "--format", "json", "--config", "main.yaml"]
    )
    assert {p["name"]: p["enabled"] for p in json.loads(listed.stdout)}["kafka"] is False


def test_show_describes_fields_examples_and_schema() -> None:
    result = runner.invoke(app, ["plugins", "show", "filter"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("filter  processor plugin, family transform: Filter\n")
    assert "Keeps the records matching a condition." in out
    assert "condition" in out and "SQL condition a record must meet to be kept." in out
    assert '"keep" | "drop"' in out
    assert (
        "Example 1:\npipeline:\n  processors:\n    - type: filter\n      condition: amount > 0\n"
        in out
    )
    schema_text = out[out.index("JSON Schema:\n") + len("JSON Schema:\n") :]
    assert json.loads(schema_text)["properties"]["type"] == {
        "const": "filter",
        "description": "Selects this plugin.",
    }


def test_show_a_name_used_by_two_kinds() -> None:
    both = runner.invoke(app, ["plugins", "show", "postgresql"])
    assert both.exit_code == 0
    assert "postgresql  input plugin" in both.stdout and "postgresql  output plugin" in both.stdout
    one = runner.invoke(
        app, ["plugins", "show", "postgresql", "--kind", "output", "--format", "json"]
    )
    details = json.loads(one.stdout)
    assert details["kind"] == "output"
    assert details["config_schema"]["required"] == ["type", "write"]
    assert details["examples"] == [
        {"type": "postgresql", "write": {"table": "t", "mode": "upsert", "conflict_key": ["id"]}}
    ]


def test_show_unknown_plugin_suggests_a_name() -> None:
    result = runner.invoke(app, ["plugins", "show", "postgress"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Unknown plugin `postgress`. Did you mean `postgresql`?" in result.stderr
    wrong_kind = runner.invoke(app, ["plugins", "show", "filter", "--kind", "input"])
    assert wrong_kind.exit_code == 2
    assert "Unknown input plugin `filter`." in wrong_kind.stderr
