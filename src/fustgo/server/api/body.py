"""Request bodies that come as JSON or as YAML (`Content-Type: application/yaml`).

A pipeline is YAML; the console sends JSON with the YAML in `config_yaml`. FastAPI parses
only one content type per body, so these endpoints read the body here and declare both
types in the OpenAPI document (`body_openapi`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from fustgo.store.errors import InvalidRequestError

M = TypeVar("M", bound=BaseModel)

YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
SCHEMA_REF = "#/components/schemas/{model}"


async def read_body(request: Request, model: type[M], *, yaml_field: str) -> M:
    """The body as `model`: JSON validated, or YAML text put into `yaml_field` (the other
    fields from the query string, e.g. `?job_name=orders`)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if content_type in YAML_TYPES:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRequestError("The YAML body is not UTF-8 text.", field=yaml_field) from exc
        data: dict[str, Any] = dict(request.query_params)
        data[yaml_field] = text
        return _validate(model, data)
    if content_type == "application/json" or content_type.endswith("+json") or not content_type:
        if not raw.strip():
            raise InvalidRequestError(
                "The request has no body.",
                hint=f"Send JSON with `{yaml_field}`, or the YAML with "
                "`Content-Type: application/yaml`.",
            )
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            raise RequestValidationError(exc.errors(include_url=False)) from exc
    raise InvalidRequestError(
        f"Cannot read a body of type `{content_type}`.",
        field="Content-Type",
        hint="Send `application/json`, or the pipeline YAML as `application/yaml`.",
    )


def _validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc


def body_openapi(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` declaring the JSON model and the YAML alternative."""
    return {
        "requestBody": {
            "required": required,
            "content": {
                "application/json": {"schema": {"$ref": SCHEMA_REF.format(model=model.__name__)}},
                "application/yaml": {
                    "schema": {"type": "string", "description": "The pipeline YAML."}
                },
            },
        }
    }
