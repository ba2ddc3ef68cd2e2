"""`fustgo schema`: prints or writes the pipeline JSON Schema."""

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
    return plugins


def test_prints_the_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "FustGo pipeline"
    assert "output.postgresql" in schema["$defs"]


def test_writes_the_schema_to_a_file(in_tmp_cwd: Path) -> None:
    result = runner.invoke(app, ["schema", "--output", "schemas/pipeline.json"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "Wrote the pipeline JSON Schema to schemas/pipeline.json." in result.stderr
    schema = json.loads((in_tmp_cwd / "schemas" / "pipeline.json").read_text(encoding="utf-8"))
    assert schema["required"] == ["input", "output"]


def test_disabled_plugins_are_left_out() -> None:
    Path("main.yaml").write_text("plugins: {enabled: {output: [jsonl]}}\n", encoding="utf-8")
    result = runner.invoke(app, ["schema", "--config", "main.yaml"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["$defs"]["output"]["properties"]["type"]["enum"] == ["jsonl"]


def test_bad_main_config_exits_two() -> None:
    Path("main.yaml").write_text("plugins: [\n", encoding="utf-8")
    result = runner.invoke(app, ["schema", "--config", "main.yaml"])
    assert result.exit_code == 2
    assert "main.yaml:2:1: error[syntax]" in result.stdout
