"""The pipeline JSON Schema: complete, self-contained, and agreeing with the loader."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fustgo.config.loader import load_pipeline_text
from fustgo.config.schema import config_fields, pipeline_json_schema
from fustgo.plugins.registry import PluginInfo, Registry, default_registry

pytestmark = pytest.mark.unit


def references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in references(value)]
    return []


def as_component(info: PluginInfo, example: dict[str, Any]) -> dict[str, Any]:
    return {"type": info.name, **{k: v for k, v in example.items() if k != "type"}}


def in_place(registry: Registry, info: PluginInfo, example: dict[str, Any]) -> dict[str, Any]:
    """A whole pipeline document with `example` at its plugin's place.

    The other required sections are the first example of that kind in the registry.
    """

    def filler(kind: str) -> dict[str, Any]:
        other = next(each for each in registry.all(kind) if each.examples)  # type: ignore[arg-type]
        return as_component(other, other.examples[0])

    document: dict[str, Any] = {"input": filler("input"), "output": filler("output")}
    if info.kind == "processor":
        document["pipeline"] = {"processors": [as_component(info, example)]}
    else:
        document[info.kind] = as_component(info, example)
    return document


def test_every_reference_resolves(registry: Registry) -> None:
    schema = pipeline_json_schema(registry)
    json.dumps(schema)  # plain JSON, nothing pydantic-specific left
    defs = schema["$defs"]
    for ref in references(schema):
        assert ref.startswith("#/$defs/")
        assert ref.removeprefix("#/$defs/") in defs, ref


def test_components_are_one_of_every_enabled_plugin(registry: Registry) -> None:
    registry.apply_switches(disabled={"output": ["buggy"]})
    defs = pipeline_json_schema(registry)["$defs"]
    for kind in ("input", "processor", "output"):
        expected = [name for name in registry.names(kind) if registry.is_enabled(kind, name)]
        assert defs[kind]["properties"]["type"]["enum"] == expected
        assert [b["$ref"] for b in defs[kind]["oneOf"]] == [
            f"#/$defs/{kind}.{name}" for name in expected
        ]
        for name in expected:
            assert defs[f"{kind}.{name}"]["properties"]["type"]["const"] == name
    assert "output.buggy" not in defs


def test_same_named_defs_of_two_plugins_do_not_clash(registry: Registry) -> None:
    defs = pipeline_json_schema(registry)["$defs"]
    assert "input.postgresql.Connection" in defs and "output.postgresql.Connection" in defs
    assert defs["output.postgresql"]["properties"]["write"]["$ref"] == (
        "#/$defs/output.postgresql.WriteConfig"
    )


def test_numbers_and_choices_also_accept_variables(registry: Registry) -> None:
    defs = pipeline_json_schema(registry)["$defs"]
    port = defs["input.postgresql.Connection"]["properties"]["port"]
    assert port["description"] == "Server port."
    assert port["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 65535}
    assert port["anyOf"][1]["type"] == "string"
    mode = defs["output.postgresql.WriteConfig"]["properties"]["mode"]
    assert mode["anyOf"][0]["enum"] == ["insert", "upsert", "truncate"]


def test_top_level(registry: Registry) -> None:
    schema = pipeline_json_schema(registry)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["input", "output"]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {
        "name", "description", "settings", "input", "pipeline", "output", "dead_letter"
    }  # fmt: skip
    assert schema["properties"]["pipeline"]["properties"]["processors"]["items"] == {
        "$ref": "#/$defs/processor"
    }
    settings = schema["$defs"]["settings"]
    assert "parallelism" in settings["properties"]
    assert settings["properties"]["retry"]["$ref"] == "#/$defs/settings.RetryPolicy"


@pytest.fixture(params=["sample", "builtin"])
def any_registry(request: pytest.FixtureRequest, registry: Registry) -> Registry:
    """The sample plugins and the real built-in ones."""
    return registry if request.param == "sample" else default_registry()


def test_builtin_schema_references_resolve() -> None:
    schema = pipeline_json_schema(default_registry())
    for ref in references(schema):
        assert ref.removeprefix("#/$defs/") in schema["$defs"], ref
    assert {"csv", "sqlite"} <= set(schema["$defs"]["input"]["properties"]["type"]["enum"])


def test_every_example_validates_through_the_loader(any_registry: Registry) -> None:
    registry = any_registry
    for info in registry.all():
        for example in info.examples:
            text = json.dumps(in_place(registry, info, example))
            report = load_pipeline_text(text, registry=registry)
            assert report.errors == [], (info.name, [d.message for d in report.errors])


def test_every_example_validates_against_the_schema(any_registry: Registry) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    registry = any_registry
    schema = pipeline_json_schema(registry)
    validator = jsonschema.Draft202012Validator(schema)
    for info in registry.all():
        for example in info.examples:
            validator.validate(in_place(registry, info, example))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"input": {"type": "csv"}, "output": {"type": "jsonl", "path": "o"}})


def test_config_fields_flatten_nested_models(registry: Registry) -> None:
    info = registry.find("input", "postgresql")
    assert info is not None
    rows = {row.path: row for row in config_fields(info.config_schema())}
    assert list(rows)[:3] == ["connection", "connection.host", "connection.port"]
    assert rows["query.table"].required and rows["query.table"].type == "string"
    assert rows["query.table"].description == "Table to read."
    assert rows["connection.port"].default == "5432"
    assert rows["connection.password"].type == "secret | null"
    assert rows["query.columns"].type == "list of string"
    assert rows["fetch_timeout"].type == "duration"
    assert "type" not in rows
