"""Plugins as the API lists and describes them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

SwitchOrigin = Literal["default", "main_config", "api"]


class PluginSummary(BaseModel):
    """A plugin in a list."""

    kind: Literal["input", "processor", "output"]
    name: str
    """The `type:` that selects it in a pipeline."""
    family: str
    """`rdb`, `file`, `mq`, `http`, `transform`, …"""
    title: str
    capabilities: list[str]
    """`split`, `incremental`, `streaming`, `acks`, `resume`, `upsert`, `stateful`."""
    source: str
    """`builtin`, or the distribution of the third-party package that adds it."""
    enabled: bool
    """Whether new validations and runs may use it."""
    switched_by: SwitchOrigin
    """Who decided `enabled`: nobody (`default`), the main config's `plugins:` section, or
    a switch through this API (persisted in the store, wins over the main config)."""


class PluginDetails(PluginSummary):
    description: str
    examples: list[dict[str, Any]]
    """Config examples, each with `type` first, as in a pipeline file."""
    config_schema_url: str
    """Where the JSON Schema of its config is served."""


class PluginList(BaseModel):
    items: list[PluginSummary]
    total: int
