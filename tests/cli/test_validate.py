"""`fustgo validate`: one located diagnostic per problem, caret, exit codes, JSON twin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fustgo.cli.main import app
from fustgo.plugins.registry import Registry, default_registry
from tests.cli_runner import REPO
from tests.config.sample_plugins import sample_registry

pytestmark = pytest.mark.unit

runner = CliRunner()


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch, in_tmp_cwd: Path) -> Registry:
    """The sample plugins instead of the built-in ones; no main config from the machine."""
    plugins = sample_registry()
    monkeypatch.setattr("fustgo.config.app.default_registry", lambda: plugins)
    monkeypatch.delenv("FUSTGO_CONFIG", raising=False)
    return plugins


def write(name: str, text: str) -> str:
    Path(name).write_text(text, encoding="utf-8")
    return name


BROKEN = {
    "indentation": (
        "input:\n  type: csv\n   paths: [a.csv]\noutput: {type: jsonl, path: o}\n",
        "indentation.yaml:3:4: error[syntax]: Bad indentation",
        "  3 |    paths: [a.csv]\n    |    ^\n",
    ),
    "unknown-plugin": (
        "input: {type: csv, paths: [a]}\noutput:\n  type: postgress\n  write: {table: t}\n",
        "unknown-plugin.yaml:3:9: error[semantic]: Unknown output plugin `postgress`",
        "  3 |   type: postgress\n    |         ^\n  hint: Did you mean `postgresql`?\n",
    ),
    "missing-field": (
        "input:\n  type: postgresql\n  query: {columns: [id]}\noutput: {type: jsonl, path: o}\n",
        "missing-field.yaml:3:3: error[structure]: Missing required field `table` in `input.query`",
        "  3 |   query: {columns: [id]}\n    |   ^\n  hint: `table`: Table to read.\n",
    ),
    "wrong-type": (
        "settings:\n  parallelism: four\n"
        "input: {type: csv, paths: [a]}\noutput: {type: jsonl, path: o}\n",
        "wrong-type.yaml:2:16: error[structure]: "
        "`settings.parallelism` must be an integer, got `four`",
        "  2 |   parallelism: four\n    |                ^\n",
    ),
    "bad-sql": (
        "input: {type: csv, paths: [a]}\npipeline:\n  processors:\n"
        "    - type: filter\n      condition: amount > 0 AND\noutput: {type: jsonl, path: o}\n",
        "bad-sql.yaml:5:18: error[semantic]: `pipeline.processors[0].condition` is not a valid SQL",
        "  5 |       condition: amount > 0 AND\n    |                  ^\n",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_file_gives_one_diagnostic_with_a_caret(case: str) -> None:
    text, header, snippet = BROKEN[case]
    file = write(f"{case}.yaml", text)
    result = runner.invoke(app, ["validate", file])
    assert result.exit_code == 2, result.output
    lines = result.stdout.splitlines()
    assert sum(": error[" in line for line in lines) == 1, result.stdout
    assert lines[0].startswith(header), lines[0]
    assert snippet in result.stdout
    assert result.stdout.endswith("\n1 error\n")


@pytest.mark.parametrize("case", list(BROKEN))
def test_json_is_the_same_finding(case: str) -> None:
    text, header, _ = BROKEN[case]
    file = write(f"{case}.yaml", text)
    result = runner.invoke(app, ["validate", file, "--format", "json"])
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["file"] == file and payload["ok"] is False and payload["pipeline"] is None
    [diagnostic] = payload["diagnostics"]
    location, severity_level, message = header.split(": ", 2)
    _, line, column = location.split(":")
    assert (diagnostic["line"], diagnostic["column"]) == (int(line), int(column))
    assert f"{diagnostic['severity']}[{diagnostic['level']}]" == severity_level
    assert diagnostic["message"].startswith(message)
    assert diagnostic["file"] == file


def test_valid_file_exits_zero(registry: Registry) -> None:
    file = write("ok.yaml", "input: {type: csv, paths: [a]}\noutput: {type: jsonl, path: o}\n")
    result = runner.invoke(app, ["validate", file])
    assert result.exit_code == 0
    assert result.stdout == "ok.yaml is valid\n"


def test_warnings_do_not_fail_validation() -> None:
    file = write(
        "warn.yaml",
        "settings: {parallelism: 4}\ninput: {type: sqlite, query: {table: t}}\n"
        "output: {type: jsonl, path: o}\n",
    )
    result = runner.invoke(app, ["validate", file])
    assert result.exit_code == 0
    assert "warn.yaml:1:25: warning[compatibility]:" in result.stdout
    assert result.stdout.endswith("warn.yaml is valid, with 1 warning\n")


def test_several_problems_are_each_reported() -> None:
    file = write(
        "many.yaml",
        "settings: {parallelism: x}\ninput: {type: csv}\noutput: {type: postgress}\n",
    )
    result = runner.invoke(app, ["validate", file])
    assert result.exit_code == 2
    assert result.stdout.count(": error[") == 3
    assert result.stdout.endswith("\n3 errors\n")


def test_overrides_and_variables_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    file = write(
        "o.yaml", "input: {type: csv, paths: ['${DATA:a.csv}']}\noutput: {type: jsonl, path: o}\n"
    )
    result = runner.invoke(app, ["validate", file, "--set", "settings.parallelism=four"])
    assert result.exit_code == 2
    assert result.stdout.startswith(
        "--set settings.parallelism=four: error[structure]: `settings.parallelism` must be an "
        "integer, got `four`\n"
    )
    ok = runner.invoke(
        app, ["validate", file, "--set", "settings.parallelism=2", "--set", "input.paths[1]=b.csv"]
    )
    assert ok.exit_code == 0, ok.stdout


def test_missing_file() -> None:
    result = runner.invoke(app, ["validate", "nope.yaml"])
    assert result.exit_code == 2
    assert result.stdout.startswith(
        "nope.yaml: error[syntax]: Pipeline file `nope.yaml` does not exist"
    )


def test_check_connections_adds_warnings() -> None:
    file = write(
        "c.yaml", "input: {type: csv, paths: [a]}\noutput:\n  type: unreachable\n  path: o\n"
    )
    plain = runner.invoke(app, ["validate", file])
    assert plain.exit_code == 0 and "connection" not in plain.stdout
    checked = runner.invoke(app, ["validate", file, "--check-connections"])
    assert checked.exit_code == 0
    assert (
        "c.yaml:2:1: warning[connection]: `output` (`unreachable`) cannot connect" in checked.stdout
    )


def test_main_config_switches_plugins() -> None:
    write("main.yaml", "plugins: {disabled: {output: [jsonl]}}\n")
    file = write("p.yaml", "input: {type: csv, paths: [a]}\noutput: {type: jsonl, path: o}\n")
    result = runner.invoke(app, ["validate", file, "--config", "main.yaml"])
    assert result.exit_code == 2
    assert "disabled by `plugins` in the main config" in result.stdout


def test_main_config_from_the_environment_and_its_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    write("main.yaml", "plugins:\n  disabled: {output: [jsonll]}\n")
    monkeypatch.setenv("FUSTGO_CONFIG", "main.yaml")
    file = write("p.yaml", "input: {type: csv, paths: [a]}\noutput: {type: jsonl, path: o}\n")
    result = runner.invoke(app, ["validate", file])
    assert result.exit_code == 2
    assert result.stdout.startswith(
        "main.yaml:2:23: error[semantic]: `plugins.disabled.output` names an unknown output "
        "plugin `jsonll`"
    )
    assert "hint: Did you mean `jsonl`?" in result.stdout


def test_bad_format_is_a_usage_error() -> None:
    file = write("p.yaml", "{}\n")
    assert runner.invoke(app, ["validate", file, "--format", "xml"]).exit_code == 2


# The same checks with the built-in plugins, as a user runs them.
BUILTIN = {
    "indentation": (
        "input:\n  type: csv\n   paths: [a.csv]\noutput: {type: json, path: o.jsonl}\n",
        "indentation.yaml:3:4: error[syntax]: Bad indentation",
    ),
    "unknown-plugin": (
        "input: {type: csv, paths: [a.csv]}\noutput:\n  type: sqlit\n  path: o\n",
        "unknown-plugin.yaml:3:9: error[semantic]: Unknown output plugin `sqlit`",
    ),
    "missing-field": (
        "input:\n  type: csv\n  delimiter: ';'\noutput: {type: json, path: o.jsonl}\n",
        "missing-field.yaml:1:1: error[structure]: Missing required field `paths` in `input`",
    ),
    "wrong-type": (
        "settings:\n  batch_size: lots\ninput: {type: csv, paths: [a.csv]}\n"
        "output: {type: json, path: o.jsonl}\n",
        "wrong-type.yaml:2:15: error[structure]: `settings.batch_size` must be an integer, "
        "got `lots`",
    ),
    "bad-sql": (
        "input: {type: csv, paths: [a.csv]}\npipeline:\n  processors:\n"
        '    - type: filter\n      condition: "status = \'paid"\noutput: {type: json, path: o}\n',
        "bad-sql.yaml:5:18: error[semantic]: `pipeline.processors[0].condition` is not a valid "
        "SQL expression",
    ),
}


@pytest.fixture
def builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo the sample registry: use the real built-in plugins."""
    monkeypatch.setattr("fustgo.config.app.default_registry", default_registry)


@pytest.mark.usefixtures("builtin")
@pytest.mark.parametrize("case", list(BUILTIN))
def test_builtin_plugins_broken_files(case: str) -> None:
    text, header = BUILTIN[case]
    file = write(f"{case}.yaml", text)
    result = runner.invoke(app, ["validate", file])
    assert result.exit_code == 2, result.output
    assert result.stdout.count(": error[") == 1, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith(header), lines[0]
    column = int(header.split(":")[2])
    assert lines[2].endswith("|" + " " * column + "^"), lines[:3]
    payload = json.loads(runner.invoke(app, ["validate", file, "--format", "json"]).stdout)
    [diagnostic] = payload["diagnostics"]
    assert (
        f"{diagnostic['file']}:{diagnostic['line']}:{diagnostic['column']}" == header.split(": ")[0]
    )


@pytest.mark.usefixtures("builtin")
def test_builtin_quickstart_example_is_valid() -> None:
    result = runner.invoke(app, ["validate", str(REPO / "examples" / "quickstart.yaml")])
    assert result.exit_code == 0, result.stdout
    assert result.stdout.endswith("quickstart.yaml is valid\n")
