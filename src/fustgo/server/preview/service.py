"""Source preview, target preview and schema comparison (design doc §6.5), over the
catalogs of `fustgo.plugins.catalog`: rows are read by the family's own input plugin, so a
preview shows exactly the types and values a run would read."""

from __future__ import annotations

import asyncio
from typing import Any

from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.engine.types import from_arrow
from fustgo.plugins.catalog import Catalog, ColumnInfo
from fustgo.server.preview.compare import Column, compare
from fustgo.server.preview.profile import profile, table_json
from fustgo.server.preview.sources import End, Endpoint, read_first


async def preview(endpoint: Endpoint, end: End, *, limit: int, timeout: float) -> dict[str, Any]:
    """The first `limit` rows with their schema and per-column statistics."""
    result: dict[str, Any] = {"source" if end == "source" else "target": endpoint.described}
    if endpoint.plugin is not None:
        first = await read_first(endpoint.plugin, limit, timeout)
        columns = [_arrow_column(field) for field in first.data.schema]
        return {
            **result,
            "table": None,
            "sql": None,
            "exists": True,
            "schema": [column.to_json() for column in columns],
            **_rows(first.data, first.rejected, first.errors),
            "timed_out": first.timed_out,
            "notes": endpoint.notes,
        }
    catalog = endpoint.catalog
    assert catalog is not None
    if endpoint.table is None and endpoint.sql is None:
        raise TerminalError(
            f"`{endpoint.described.get('component')}` names no table to preview; give `table`."
        )
    async with _deadline(timeout, endpoint), catalog:
        if endpoint.sql is not None:
            shown = await catalog.preview(sql=endpoint.sql, limit=limit)
            schema = [_arrow_column(field).to_json() for field in shown.data.schema]
            table_info = None
        else:
            assert endpoint.table is not None
            try:
                table_info = (await catalog.table(endpoint.table)).to_json()
            except TerminalError as exc:
                if end == "source":
                    raise
                # A target the output creates on its first run: say so, it is no error.
                return {**result, "table": None, "sql": None, "exists": False,
                        "message": str(exc), "schema": [], "columns": [], "rows": [],
                        "row_count": 0, "rejected": 0, "errors": [], "stats": [],
                        "timed_out": False, "notes": endpoint.notes}  # fmt: skip
            declared = await catalog.columns(endpoint.table)
            schema = [_declared_column(column) for column in declared]
            shown = await catalog.preview(table=endpoint.table, limit=limit)
    return {
        **result,
        "table": table_info,
        "sql": endpoint.sql,
        "exists": True,
        "schema": schema,
        **_rows(shown.data, shown.rejected, list(shown.errors)),
        "timed_out": False,
        "notes": endpoint.notes,
    }


async def compare_schemas(source: Endpoint, target: Endpoint, *, timeout: float) -> dict[str, Any]:
    """The §6.5 comparison table of `source`'s columns against `target`'s."""
    source_columns = await _columns(source, "source", timeout)
    target_columns = await _columns(target, "target", timeout)
    if target_columns is None:
        assert target.table is not None
        return {
            "source": source.described,
            "target": target.described,
            "target_exists": False,
            "message": f"The target table `{target.table}` does not exist yet; the output "
            "creates it from the source's columns (`write.create_table`).",
            **compare(source_columns or [], []),
        }
    return {
        "source": source.described,
        "target": target.described,
        "target_exists": True,
        **compare(source_columns or [], target_columns),
    }


async def _columns(endpoint: Endpoint, end: End, timeout: float) -> list[Column] | None:
    """The endpoint's columns; None for a table that does not exist (targets only)."""
    if endpoint.plugin is not None:
        first = await read_first(endpoint.plugin, 1, timeout)
        schema = endpoint.plugin.schema() or first.data.schema
        return [_arrow_column(field) for field in schema]
    catalog = endpoint.catalog
    assert catalog is not None
    async with _deadline(timeout, endpoint), catalog:
        if endpoint.sql is not None:
            shown = await catalog.preview(sql=endpoint.sql, limit=1)
            return [_arrow_column(field) for field in shown.data.schema]
        if endpoint.table is None:
            raise TerminalError(
                f"`{endpoint.described.get('component')}` names no table; give `table`."
            )
        try:
            await catalog.table(endpoint.table)
        except TerminalError:
            if end == "source":
                raise
            return None
        return [_from_catalog(column) for column in await catalog.columns(endpoint.table)]


def _rows(data: Any, rejected: int, errors: list[str]) -> dict[str, Any]:
    shown = table_json(data)
    return {
        "columns": shown["columns"],
        "rows": shown["rows"],
        "row_count": data.num_rows,
        "rejected": rejected,
        "errors": errors,
        "stats": profile(data),
    }


def _declared_column(column: ColumnInfo) -> dict[str, Any]:
    return {
        **column.to_json(),
        "type": column.declared,
    }


def _from_catalog(column: ColumnInfo) -> Column:
    return Column(
        name=column.name,
        declared=column.declared or None,
        logical=column.logical,
        nullable=column.nullable,
        has_default=column.default is not None,
    )


def _arrow_column(field: Any) -> Column:
    return Column(
        name=field.name,
        declared=None,
        logical=from_arrow(field.type, field.metadata),
        nullable=field.nullable,
    )


class _deadline:  # noqa: N801 - used like a function: `async with _deadline(…)`
    """`asyncio.timeout` whose expiry is a `RetryableError` naming what did not answer."""

    def __init__(self, seconds: float, endpoint: Endpoint) -> None:
        self.seconds = seconds
        self.endpoint = endpoint
        self._timeout = asyncio.timeout(seconds)

    async def __aenter__(self) -> None:
        await self._timeout.__aenter__()

    async def __aexit__(self, kind: Any, exc: Any, traceback: Any) -> bool | None:
        try:
            return await self._timeout.__aexit__(kind, exc, traceback)
        except TimeoutError as timeout:
            catalog: Catalog | None = self.endpoint.catalog
            family = catalog.family if catalog is not None else "the source"
            raise RetryableError(
                f"The {family} server did not answer within {self.seconds:g} seconds "
                f"(`timeout_seconds`)."
            ) from timeout
