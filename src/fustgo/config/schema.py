"""The JSON Schema of a whole pipeline file, for editors (yaml-language-server) and the console.

Generated from the same models that validate files: `settings` from `RunSettings`, each
component as a `oneOf` of every enabled plugin's config schema, told apart by the `type`
const. Each plugin's own `$defs` are moved under the root's `$defs` with the plugin's name
as a prefix (`output.postgresql.Connection`), so two plugins may both have a `Connection`.
Numbers, booleans and fixed choices also accept a `${VAR}` string, as the loader does.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from fustgo.config.validate import PipelineFile
from fustgo.engine.settings import RunSettings
from fustgo.plugins.registry import PluginKind, Registry

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_VARIABLE = {"type": "string", "pattern": r"\$\{[A-Za-z_][A-Za-z0-9_]*(:[^}]*)?\}"}
_ANNOTATIONS = ("title", "description", "default", "examples", "deprecated", "readOnly")
_KIND_TITLES = {"input": "Input", "processor": "Processor", "output": "Output"}


def pipeline_json_schema(registry: Registry) -> dict[str, Any]:
    """The schema of a pipeline file with every enabled plugin of `registry`."""
    defs: dict[str, Any] = {}
    defs["settings"] = _hoist(RunSettings.model_json_schema(), "settings", defs)
    for kind in ("input", "processor", "output"):
        defs[kind] = _component_union(kind, registry, defs)
    fields = PipelineFile.model_fields
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "FustGo pipeline",
        "description": "A pipeline file: `input` → `pipeline.processors` → `output`.",
        "type": "object",
        "additionalProperties": False,
        "required": ["input", "output"],
        "properties": {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 128,
                "description": fields["name"].description,
            },
            "description": {"type": "string", "description": fields["description"].description},
            "settings": {"$ref": "#/$defs/settings", "description": fields["settings"].description},
            "input": {"$ref": "#/$defs/input", "description": fields["input"].description},
            "pipeline": {
                "type": "object",
                "additionalProperties": False,
                "description": fields["pipeline"].description,
                "properties": {
                    "processors": {
                        "type": "array",
                        "items": {"$ref": "#/$defs/processor"},
                        "description": "Processors applied to each batch, in order.",
                    }
                },
            },
            "output": {"$ref": "#/$defs/output", "description": fields["output"].description},
            "dead_letter": {
                "anyOf": [{"$ref": "#/$defs/output"}, {"type": "null"}],
                "description": fields["dead_letter"].description,
            },
        },
        "$defs": defs,
    }


def _component_union(kind: PluginKind, registry: Registry, defs: dict[str, Any]) -> dict[str, Any]:
    """`oneOf` the enabled plugins of one kind, each a `$def` of its own."""
    names: list[str] = []
    branches: list[dict[str, Any]] = []
    for info in registry.all(kind):
        if not registry.is_enabled(kind, info.name):
            continue
        schema = info.config_schema()
        selector = schema["properties"]["type"]
        schema = _allow_variables(_hoist(schema, f"{kind}.{info.name}", defs))
        schema["properties"]["type"] = selector  # the discriminator stays a plain const
        defs[f"{kind}.{info.name}"] = schema
        names.append(info.name)
        branches.append({"$ref": f"#/$defs/{kind}.{info.name}"})
    return {
        "title": _KIND_TITLES[kind],
        "description": f"One {kind} plugin, selected by `type`.",
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": names, "description": f"The {kind} plugin."}},
        "oneOf": branches,
    }


def _link_nested_component(node: dict[str, Any]) -> None:
    """Point a nested component slot (`x-component`) at the union of that kind's plugins."""
    kind = node.get("x-component")
    if kind not in ("processor", "output"):
        return
    target = {"$ref": f"#/$defs/{kind}"}
    if node.get("type") == "array":
        node["items"] = target
    else:
        node.pop("type", None)
        node.pop("required", None)
        node.update(target)


def _hoist(schema: dict[str, Any], namespace: str, defs: dict[str, Any]) -> dict[str, Any]:
    """Move `schema`'s `$defs` into `defs` under `namespace.`, rewriting its `$ref`s."""
    schema = copy.deepcopy(schema)
    local = schema.pop("$defs", {})
    renamed = {name: f"{namespace}.{name}" for name in local}

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            _link_nested_component(node)
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                target = reference.removeprefix("#/$defs/")
                node["$ref"] = f"#/$defs/{renamed.get(target, target)}"
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)
        return node

    for name, definition in local.items():
        defs[renamed[name]] = _allow_variables(rewrite(definition))
    return rewrite(schema)


def _allow_variables(schema: dict[str, Any]) -> dict[str, Any]:
    """Let numbers, booleans, enums and consts also be a `${VAR}` string."""
    result = dict(schema)
    for key in ("properties", "patternProperties"):
        if isinstance(result.get(key), dict):
            result[key] = {name: _allow_variables(sub) for name, sub in result[key].items()}
    for key in ("items", "additionalProperties", "not"):
        if isinstance(result.get(key), dict):
            result[key] = _allow_variables(result[key])
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if isinstance(result.get(key), list):
            result[key] = [_allow_variables(sub) for sub in result[key]]
    typed = result.get("type") in ("integer", "number", "boolean")
    if not (typed or "enum" in result or "const" in result):
        return result
    outer = {key: result.pop(key) for key in _ANNOTATIONS if key in result}
    outer.update({key: result.pop(key) for key in list(result) if key.startswith("x-")})
    return {**outer, "anyOf": [result, _VARIABLE]}


@dataclass(frozen=True)
class ConfigField:
    """One row of a plugin's field reference (`fustgo plugins show`, generated docs)."""

    path: str
    """Dotted path below the component (`query.table`)."""
    type: str
    required: bool
    default: str
    """The default as JSON, or empty when the field is required or has none."""
    description: str


def config_fields(schema: dict[str, Any]) -> list[ConfigField]:
    """The fields of a config schema, nested objects flattened (`connection.host`)."""
    rows: list[ConfigField] = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        required = set(node.get("required", []))
        for name, prop in node.get("properties", {}).items():
            if not prefix and name == "type":
                continue  # the plugin selector, not a field
            resolved = _resolve(prop, schema)
            members = [resolved, *(_resolve(item, schema) for item in resolved.get("anyOf", []))]
            nested = next((member for member in members if member.get("properties")), None)
            description = prop.get("description") or resolved.get("description") or ""
            # A nested object's default is spelled out by the rows of its fields.
            default = "" if nested or "default" not in prop else json.dumps(prop["default"])
            rows.append(
                ConfigField(
                    path=f"{prefix}{name}",
                    type=_type_name(prop, schema),
                    required=name in required,
                    default=default,
                    description=description.strip().split("\n\n")[0].replace("\n", " "),
                )
            )
            if nested is not None:
                walk(nested, f"{prefix}{name}.")

    walk(schema, "")
    return rows


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        return root.get("$defs", {}).get(reference.removeprefix("#/$defs/"), {})
    return node


def _type_name(node: dict[str, Any], root: dict[str, Any]) -> str:
    """A short type for people: `string`, `list of string`, `integer | null`, `duration`."""
    node = _resolve(node, root)
    unit = node.get("x-unit")
    if unit in ("duration", "bytes"):
        return "duration" if unit == "duration" else "size"
    if node.get("writeOnly") or node.get("format") == "password":
        return "secret"
    if "enum" in node:
        return " | ".join(json.dumps(value) for value in node["enum"])
    if "const" in node:
        return json.dumps(node["const"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in node:
            names = [_type_name(member, root) for member in node[combinator]]
            return " | ".join(dict.fromkeys(names))
    kind = node.get("type")
    if kind == "array":
        items = node.get("items")
        return f"list of {_type_name(items, root)}" if isinstance(items, dict) else "list"
    if kind == "object":
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and not node.get("properties"):
            return f"map of {_type_name(extra, root)}"
        return "object"
    return str(kind) if kind else "any"
