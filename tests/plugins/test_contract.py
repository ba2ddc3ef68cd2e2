"""Every registered plugin obeys the spec rules (walks the real registry)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from fustgo.plugins.api import Input, Output, Processor
from fustgo.plugins.registry import PluginInfo, default_registry

pytestmark = pytest.mark.unit

REGISTRY = default_registry()
PLUGINS = REGISTRY.all()
BASES = {"input": Input, "processor": Processor, "output": Output}
SECRET_WORDS = ("password", "secret", "token", "api_key", "private_key")


def ids(info: PluginInfo) -> str:
    return f"{info.kind}:{info.name}"


def test_the_issue_plugins_are_registered() -> None:
    assert set(REGISTRY.names("input")) >= {"csv", "json", "parquet", "sqlite", "generate"}
    assert set(REGISTRY.names("processor")) >= {"filter", "mapping", "transform"}
    assert set(REGISTRY.names("output")) >= {"csv", "json", "parquet", "sqlite", "stdout", "drop"}


@pytest.mark.parametrize("info", PLUGINS, ids=ids)
def test_plugin_is_described(info: PluginInfo) -> None:
    assert issubclass(info.cls, BASES[info.kind])
    assert info.description, f"{ids(info)} has no description"
    assert info.family
    assert info.examples, f"{ids(info)} has no example"


def walk_fields(model: type[BaseModel], path: str = "") -> list[tuple[str, Any]]:
    found = []
    for name, field in model.model_fields.items():
        found.append((f"{path}{name}", field))
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                found.extend(walk_fields(candidate, f"{path}{name}."))
    return found


@pytest.mark.parametrize("info", PLUGINS, ids=ids)
def test_every_field_is_documented_and_secrets_are_secret(info: PluginInfo) -> None:
    for path, field in walk_fields(info.config):
        assert field.description, f"{ids(info)}: field `{path}` has no docstring"
        if any(word in path.rsplit(".", 1)[-1] for word in SECRET_WORDS):
            assert SecretStr in (field.annotation, *getattr(field.annotation, "__args__", ())), (
                f"{ids(info)}: `{path}` looks secret and must be a SecretStr"
            )


@pytest.mark.parametrize("info", PLUGINS, ids=ids)
def test_examples_validate_and_schema_exports(info: PluginInfo) -> None:
    for example in info.examples:
        body = {k: v for k, v in example.items() if k != "type"}
        info.config.model_validate(body)
    schema = info.config_schema()
    assert schema["properties"]["type"] == {
        "const": info.name,
        "description": "Selects this plugin.",
    }


def test_registering_imports_no_driver() -> None:
    code = (
        "import sys; from fustgo.plugins.registry import default_registry; default_registry(); "
        "print(','.join(m for m in ('adbc_driver_sqlite', 'adbc_driver_manager') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "", f"listing plugins imported drivers: {loaded}"
