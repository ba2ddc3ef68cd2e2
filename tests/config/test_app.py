"""The main config file: where it is found, its model, and plugin switches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fustgo.config.app import (
    AppConfig,
    app_config_path,
    apply_plugin_switches,
    configured_registry,
    load_app_config,
)
from fustgo.config.loader import load_pipeline_text
from fustgo.plugins.registry import Registry

pytestmark = pytest.mark.unit

Write = Callable[..., Path]


def test_path_precedence(in_tmp_cwd: Path) -> None:
    assert app_config_path(None, env={}) is None
    (in_tmp_cwd / "fustgo.yaml").write_text("{}\n", encoding="utf-8")
    assert app_config_path(None, env={}) == Path("fustgo.yaml")
    assert app_config_path(None, env={"FUSTGO_CONFIG": "/etc/f.yaml"}) == Path("/etc/f.yaml")
    assert app_config_path(Path("cli.yaml"), env={"FUSTGO_CONFIG": "x"}) == Path("cli.yaml")


def test_load_defaults_and_values(write: Write) -> None:
    config, report = load_app_config(write("{}\n", "empty.yaml"))
    assert report.diagnostics == [] and config == AppConfig()
    config, report = load_app_config(
        write("plugins:\n  disabled: {output: [jsonl, '${EXTRA:csv}']}\n"), env={}
    )
    assert report.diagnostics == []
    assert config is not None
    assert config.plugins.disabled.output == ["jsonl", "csv"]
    assert config.plugins.enabled.input is None


def test_invalid_main_config_is_located(write: Write) -> None:
    path = write("plugins:\n  enable: {input: [csv]}\nplugin: {}\n", "fustgo.yaml")
    config, report = load_app_config(path)
    assert config is None
    assert [(d.message, d.hint, d.line) for d in report.diagnostics] == [
        ("Unknown field `enable` in `plugins`", "Did you mean `enabled`?", 2),
        ("Unknown field `plugin` in the main config", "Did you mean `plugins`?", 3),
    ]


def test_missing_main_config(tmp_path: Path) -> None:
    config, report = load_app_config(tmp_path / "nope.yaml")
    assert config is None
    assert report.diagnostics[0].message == f"Main config `{tmp_path / 'nope.yaml'}` does not exist"


def test_switches_enable_and_disable(registry: Registry, write: Write) -> None:
    config, report = load_app_config(
        write("plugins:\n  enabled: {input: [csv]}\n  disabled: {output: [postgresql]}\n")
    )
    assert config is not None
    assert apply_plugin_switches(config, registry, report.source) == []
    assert registry.is_enabled("input", "csv")
    assert not registry.is_enabled("input", "sqlite")
    assert not registry.is_enabled("output", "postgresql")
    assert registry.is_enabled("processor", "filter") and registry.is_enabled("output", "jsonl")
    text = "input: {type: sqlite, query: {table: t}}\noutput: {type: jsonl, path: o}\n"
    [diagnostic] = load_pipeline_text(text, registry=registry).diagnostics
    assert "disabled" in diagnostic.message


def test_unknown_switch_names_are_located_errors(registry: Registry, write: Write) -> None:
    config, report = load_app_config(
        write("plugins:\n  disabled:\n    output: [jsonl, postgress]\n    input: [filter]\n")
    )
    assert config is not None
    found = apply_plugin_switches(config, registry, report.source)
    assert [(d.message, d.hint, d.line, d.column) for d in found] == [
        (
            "`plugins.disabled.output` names an unknown output plugin `postgress`",
            "Did you mean `postgresql`?",
            3,
            21,
        ),
        (
            "`plugins.disabled.input` names an unknown input plugin `filter`",
            "`filter` is a plugin of kind `processor`; list it under `processor:`.",
            4,
            13,
        ),
    ]
    # The known names still apply.
    assert not registry.is_enabled("output", "jsonl")


def test_configured_registry(registry: Registry, write: Write, in_tmp_cwd: Path) -> None:
    same, report, file = configured_registry(None, env={}, registry=registry)
    assert (same, report.diagnostics, file) == (registry, [], None)
    path = write("plugins: {disabled: {processor: [mapping]}}\n", "main.yaml")
    same, report, file = configured_registry(path, env={}, registry=registry)
    assert same is registry and report.ok and file == str(path)
    assert not registry.is_enabled("processor", "mapping")
