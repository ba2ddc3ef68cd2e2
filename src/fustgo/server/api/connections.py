"""`/api/v1/connections`: saved data sources (CRUD) and their connection test.

Settings are validated with the family's `connection` model (the one its input and output
plugins use) and stored as given, secrets included; every response masks the secret
fields, and a masked value sent back keeps what is stored.
"""

from __future__ import annotations

import asyncio
import types
import typing
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, SecretStr, ValidationError

from fustgo.engine.errors import ConfigError, FustgoError, RetryableError
from fustgo.plugins.catalog import CatalogFamily, catalog_of, find_family
from fustgo.server.api.schemas.connections import (
    MASK,
    ConnectionCreate,
    ConnectionList,
    ConnectionResponse,
    ConnectionTest,
    ConnectionUpdate,
    TableItem,
    TableList,
)
from fustgo.server.api.schemas.paging import Page, PageSize
from fustgo.server.deps import ServerState
from fustgo.server.errors import ERROR_RESPONSES
from fustgo.store.errors import InvalidRequestError
from fustgo.store.repositories import connections
from fustgo.store.tables import ConnectionRow

router = APIRouter(prefix="/connections", tags=["connections"], responses=ERROR_RESPONSES)

TEST_TIMEOUT_SECONDS = 30.0


@router.post("", status_code=201, response_model=ConnectionResponse, summary="Save a connection")
def create_connection(body: ConnectionCreate, state: ServerState) -> ConnectionResponse:
    family = _family(body.type)
    config = _validated(family, body.config)
    with state.store.session() as session:
        row = connections.add_connection(
            session, name=body.name, type=body.type, description=body.description, config=config
        )
        return _response(row)


@router.get("", response_model=ConnectionList, summary="List saved connections")
def list_connections(
    state: ServerState,
    page: Page = 1,
    page_size: PageSize = 50,
    type: str | None = None,
) -> ConnectionList:
    with state.store.session() as session:
        rows, total = connections.list_connections(
            session, type=type, offset=(page - 1) * page_size, limit=page_size
        )
        items = [_response(row) for row in rows]
    return ConnectionList(items=items, total=total, page=page, page_size=page_size)


@router.post("/test", response_model=ConnectionTest, summary="Test unsaved settings")
async def test_settings(body: ConnectionCreate, state: ServerState) -> ConnectionTest:
    """Connects with the settings in the body (a form not saved yet)."""
    family = _family(body.type)
    return await _test(body.type, _validated(family, body.config), state)


@router.get("/{connection_id}", response_model=ConnectionResponse, summary="Get a connection")
def get_connection(connection_id: str, state: ServerState) -> ConnectionResponse:
    with state.store.session() as session:
        return _response(connections.get_connection(session, connection_id))


@router.put("/{connection_id}", response_model=ConnectionResponse, summary="Update a connection")
def update_connection(
    connection_id: str, body: ConnectionUpdate, state: ServerState
) -> ConnectionResponse:
    with state.store.session() as session:
        row = connections.get_connection(session, connection_id)
        fields: dict[str, Any] = {
            name: getattr(body, name) for name in body.model_fields_set if name != "config"
        }
        if body.config is not None:
            family = _family(row.type)
            fields["config"] = _validated(family, _unmask(family, body.config, row.config))
        return _response(connections.update_connection(session, row, **fields))


@router.delete("/{connection_id}", status_code=204, summary="Delete a connection")
def delete_connection(connection_id: str, state: ServerState) -> Response:
    with state.store.session() as session:
        connections.delete_connection(session, connections.get_connection(session, connection_id))
    return Response(status_code=204)


@router.post(
    "/{connection_id}/test", response_model=ConnectionTest, summary="Test a saved connection"
)
async def test_connection(connection_id: str, state: ServerState) -> ConnectionTest:
    """200 with `ok: false` and the reason when the server cannot be reached: a failed
    test is an answer, not an error of the request."""

    row = await _load(connection_id, state)
    return await _test(row.type, row.config, state)


@router.get(
    "/{connection_id}/tables",
    response_model=TableList,
    summary="List the tables of a saved connection",
)
async def list_tables(
    connection_id: str,
    state: ServerState,
    schema: Annotated[str | None, Query(max_length=255)] = None,
) -> TableList:
    """The tables and views of one schema (the connection's default schema when none is
    given), with the database's row estimates: what the batch job builder offers to pick."""

    row = await _load(connection_id, state)
    catalog = catalog_of(row.type, row.config, base_dir=state.settings.base_dir)
    try:
        async with asyncio.timeout(TEST_TIMEOUT_SECONDS), catalog:
            chosen = schema or await catalog.default_schema()
            tables = await catalog.tables(chosen)
    except TimeoutError as exc:
        raise RetryableError(
            f"The `{row.name}` server gave no table list within {TEST_TIMEOUT_SECONDS:.0f} s; "
            "check that it is up (Test connection), then try again."
        ) from exc
    return TableList(schema=chosen, items=[TableItem(**table.to_json()) for table in tables])


async def _load(connection_id: str, state: ServerState) -> ConnectionRow:
    """The saved connection, read in a thread (the store is synchronous)."""

    def load() -> ConnectionRow:
        with state.store.session() as session:
            return connections.get_connection(session, connection_id)

    return await asyncio.to_thread(load)


async def _test(family: str, config: dict[str, Any], state: ServerState) -> ConnectionTest:
    try:
        catalog = catalog_of(family, config, base_dir=state.settings.base_dir)
        async with asyncio.timeout(TEST_TIMEOUT_SECONDS), catalog:
            server = await catalog.test()
    except TimeoutError:
        return ConnectionTest(
            ok=False, error=f"No answer within {TEST_TIMEOUT_SECONDS:.0f} seconds."
        )
    except FustgoError as exc:
        return ConnectionTest(ok=False, error=str(exc))
    return ConnectionTest(ok=True, server=server.to_json())


def _family(name: str) -> CatalogFamily:
    try:
        return find_family(name)
    except ConfigError as exc:
        raise InvalidRequestError(str(exc), field="type") from exc


def _validated(family: CatalogFamily, config: dict[str, Any]) -> dict[str, Any]:
    """`config` checked by the family's model; kept as given (with its secrets)."""
    masked = [name for name, value in config.items() if value == MASK]
    if masked:
        raise InvalidRequestError(
            f"`config.{masked[0]}` is the mask `{MASK}`, not a value.",
            field=f"config.{masked[0]}",
            hint="Send the real secret (the mask only keeps a secret already saved).",
        )
    try:
        family.settings.model_validate(config)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("config", *error["loc"])} for error in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from exc
    return config


def _unmask(
    family: CatalogFamily, config: dict[str, Any], stored: dict[str, Any]
) -> dict[str, Any]:
    secrets = secret_fields(family.settings)
    return {
        name: stored.get(name) if name in secrets and value == MASK else value
        for name, value in config.items()
    }


def secret_fields(model: type[BaseModel]) -> set[str]:
    """The fields of `model` typed `SecretStr` (optional or not)."""
    return {name for name, info in model.model_fields.items() if _is_secret(info.annotation)}


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_secret(argument) for argument in typing.get_args(annotation))
    return False


def _response(row: ConnectionRow) -> ConnectionResponse:
    secrets = secret_fields(find_family(row.type).settings)
    config = {
        name: MASK if name in secrets and value is not None else value
        for name, value in row.config.items()
    }
    return ConnectionResponse(
        connection_id=row.connection_id,
        name=row.name,
        type=row.type,
        description=row.description,
        config=config,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
