"""Small plugins registered in a private `Registry`, so config tests need no real connector."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Literal

from pydantic import Field, SecretStr

from fustgo.engine.batch import Batch, Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.units import Duration
from fustgo.plugins.api import Input, Output, Processor
from fustgo.plugins.registry import (
    Registry,
    register_input,
    register_output,
    register_processor,
)
from fustgo.plugins.spec import PluginConfig, SqlExpression


class CsvConfig(PluginConfig):
    """Reads CSV files."""

    paths: list[str]
    """Files to read."""
    delimiter: str = ","
    """Field separator."""


class Connection(PluginConfig):
    """Where to connect."""

    host: str = "127.0.0.1"
    """Server host."""
    port: int = Field(default=5432, ge=1, le=65535)
    """Server port."""
    user: str = "postgres"
    """User name."""
    password: SecretStr | None = None
    """Password."""


class TableQuery(PluginConfig):
    """What to read."""

    table: str
    """Table to read."""
    columns: list[str] = []
    """Columns to read; empty means all."""
    where: SqlExpression | None = None
    """Rows to read."""


class DbInputConfig(PluginConfig):
    """Reads a table."""

    connection: Connection = Connection()
    """Where to connect."""
    query: TableQuery
    """Table, columns and filter."""
    fetch_timeout: Duration = 30.0
    """How long one fetch may take."""


class StreamConfig(PluginConfig):
    """Reads an endless stream."""

    topic: str
    """Topic to read."""


class FilterConfig(PluginConfig):
    """Keeps the records matching a condition."""

    condition: SqlExpression
    """SQL condition a record must meet to be kept."""
    mode: Literal["keep", "drop"] = "keep"
    """Keep or drop the matching records."""


class MappingConfig(PluginConfig):
    """Renames fields."""

    field_mappings: dict[str, str]
    """Old name → new name."""


class WriteConfig(PluginConfig):
    """How to write."""

    table: str
    """Target table."""
    mode: Literal["insert", "upsert", "truncate"] = "insert"
    """Insert, upsert or replace."""
    conflict_key: list[str] = []
    """Columns identifying a row for upserts."""


class DbOutputConfig(PluginConfig):
    """Writes a table."""

    connection: Connection = Connection()
    """Where to connect."""
    write: WriteConfig
    """Table and write mode."""


class JsonlConfig(PluginConfig):
    """Writes JSON lines."""

    path: str
    """File to write."""


class _Input(Input[PluginConfig]):
    async def read(self, split: Split, checkpoint: object) -> AsyncIterator[Batch]:  # type: ignore[override]
        raise NotImplementedError
        yield


class _Processor(Processor[PluginConfig]):
    def process(self, batch: Batch) -> list[Batch]:
        return [batch]


class _Output(Output[PluginConfig]):
    async def write(self, batch: Batch) -> None:
        return


class _UnreachableOutput(_Output):
    async def check_connection(self) -> None:
        raise TerminalError("Connection refused by 127.0.0.1:1; start the server.")


class _BuggyOutput(_Output):
    async def check_connection(self) -> None:
        raise KeyError("oops")


class _HangingOutput(_Output):
    async def check_connection(self) -> None:
        await asyncio.Event().wait()


def sample_registry() -> Registry:
    """A fresh registry with a few plugins shaped like the built-in ones."""
    registry = Registry()

    def add_input(name, config, **kwargs):  # type: ignore[no-untyped-def]
        register_input(name, config=config, family="test", registry=registry, **kwargs)(
            type(f"{name}_input", (_Input,), {})
        )

    add_input("csv", CsvConfig, capabilities={"split"}, examples=[{"paths": ["data.csv"]}])
    add_input(
        "postgresql",
        DbInputConfig,
        capabilities={"split", "incremental"},
        examples=[{"query": {"table": "orders"}}],
    )
    add_input("sqlite", DbInputConfig, examples=[{"type": "sqlite", "query": {"table": "t"}}])
    add_input("kafka", StreamConfig, capabilities={"streaming", "acks"}, examples=[{"topic": "t"}])
    register_processor(
        "filter", config=FilterConfig, registry=registry, examples=[{"condition": "amount > 0"}]
    )(type("filter_processor", (_Processor,), {}))
    register_processor(
        "mapping",
        config=MappingConfig,
        registry=registry,
        examples=[{"field_mappings": {"a": "b"}}],
    )(type("mapping_processor", (_Processor,), {}))
    register_output(
        "postgresql",
        config=DbOutputConfig,
        family="rdb",
        capabilities={"upsert"},
        registry=registry,
        examples=[{"write": {"table": "t", "mode": "upsert", "conflict_key": ["id"]}}],
    )(type("postgresql_output", (_Output,), {}))
    register_output(
        "jsonl",
        config=JsonlConfig,
        family="file",
        registry=registry,
        examples=[{"path": "x.jsonl"}],
    )(type("jsonl_output", (_Output,), {}))
    register_output("unreachable", config=JsonlConfig, family="test", registry=registry)(
        type("unreachable_output", (_UnreachableOutput,), {})
    )
    register_output("buggy", config=JsonlConfig, family="test", registry=registry)(
        type("buggy_output", (_BuggyOutput,), {})
    )
    register_output("hanging", config=JsonlConfig, family="test", registry=registry)(
        type("hanging_output", (_HangingOutput,), {})
    )
    return registry
