"""The base of every plugin config model, and the hints that drive the console's forms.

A plugin's config model is the single source of truth: it validates pipeline files, it is
exported as JSON Schema (`fustgo plugins show NAME`), it drives the console's forms and it
generates the plugin reference. Field docstrings become the schema's descriptions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema
from pydantic_core import PydanticCustomError


class PluginConfig(BaseModel):
    """Base of every plugin's config: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        populate_by_name=True,
    )


def ui(
    *,
    advanced: bool = False,
    group: str | None = None,
    unit: str | None = None,
    widget: str | None = None,
    placeholder: str | None = None,
) -> dict[str, Any]:
    """JSON Schema extras (`x-advanced`, `x-group`, `x-unit`, `x-widget`) for console forms.

    Use as `Field(..., json_schema_extra=ui(advanced=True, unit="rows"))`.
    """
    extra: dict[str, Any] = {}
    if advanced:
        extra["x-advanced"] = True
    if group:
        extra["x-group"] = group
    if unit:
        extra["x-unit"] = unit
    if widget:
        extra["x-widget"] = widget
    if placeholder:
        extra["x-placeholder"] = placeholder
    return extra


def _check_sql_expression(value: str) -> str:
    from fustgo.engine.expressions import ExpressionError, compile_expression

    try:
        compile_expression(value)
    except ExpressionError as exc:
        raise PydanticCustomError("sql_syntax", "{reason}", {"reason": str(exc)}) from exc
    return value


SqlExpression = Annotated[
    str,
    AfterValidator(_check_sql_expression),
    WithJsonSchema({"type": "string", "x-widget": "sql-expression"}),
]
"""A SQL expression, parsed when the config is validated (error type `sql_syntax`)."""


def _check_type_name(value: str) -> str:
    from fustgo.engine.errors import ConfigError
    from fustgo.engine.types import parse_type

    try:
        parse_type(value)
    except ConfigError as exc:
        raise PydanticCustomError("type_name", "{reason}", {"reason": str(exc)}) from exc
    return value


TypeName = Annotated[
    str,
    AfterValidator(_check_type_name),
    WithJsonSchema({"type": "string", "x-widget": "logical-type"}),
]
"""A logical type as `engine.types.parse_type` reads it (`int64`, `decimal(10,2)`, `date`)."""


@dataclass(frozen=True)
class ComponentSlot:
    """Marks a config field holding nested components (a branch's processors, a case's output).

    The plugin's own model accepts them as plain mappings; the config layer validates each
    one as a component (its `type` names a plugin, its body fits that plugin's model), with
    positions, and the runtime builds them through `PluginContext.build`.
    """

    kind: Literal["processor", "output"]
    many: bool


NestedProcessors = Annotated[
    list[dict[str, Any]],
    ComponentSlot("processor", many=True),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "object", "required": ["type"]},
            "x-component": "processor",
        }
    ),
]
"""A list of processor components, written like `pipeline.processors`."""

NestedOutputs = Annotated[
    list[dict[str, Any]],
    ComponentSlot("output", many=True),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "object", "required": ["type"]},
            "x-component": "output",
        }
    ),
]
"""A list of output components, each written like the top-level `output`."""

NestedOutput = Annotated[
    dict[str, Any],
    ComponentSlot("output", many=False),
    WithJsonSchema({"type": "object", "required": ["type"], "x-component": "output"}),
]
"""One output component, written like the top-level `output`."""


def nested_components(config: BaseModel) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """Every nested component of a validated config: (location below it, kind, mapping).

    Walks sub-models and lists of sub-models, so `branches[1].processors[0]` is found in
    a `conditional` processor's config.
    """
    for name, field in type(config).model_fields.items():
        value = getattr(config, name)
        slot = next((m for m in field.metadata if isinstance(m, ComponentSlot)), None)
        if slot is not None:
            if slot.many:
                for index, item in enumerate(value or []):
                    yield (name, index), slot.kind, item
            elif value is not None:
                yield (name,), slot.kind, value
        elif isinstance(value, BaseModel):
            for loc, kind, item in nested_components(value):
                yield (name, *loc), kind, item
        elif isinstance(value, list | tuple):
            for index, element in enumerate(value):
                if isinstance(element, BaseModel):
                    for loc, kind, item in nested_components(element):
                        yield (name, index, *loc), kind, item
