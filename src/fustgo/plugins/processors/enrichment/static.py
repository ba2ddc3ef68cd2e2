"""`lookup.type: static`: a small table written in the pipeline file itself."""

from __future__ import annotations

import threading
from typing import Any, Literal, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.plugins.api import PluginContext
from fustgo.plugins.processors.enrichment.base import (
    KeyNames,
    LookupColumns,
    MemorySource,
    lookup_rows,
)
from fustgo.plugins.spec import PluginConfig


class StaticLookup(PluginConfig):
    """Rows listed in the pipeline file (country names, status labels, price tiers)."""

    type: Literal["static"]
    """Selects the static lookup."""
    rows: list[dict[str, Any]] = Field(min_length=1)
    """The table, one mapping per row, e.g. `[{code: FR, country: France}, …]`; a column
    missing from a row is NULL there. Types are inferred from the values (see `types`)."""
    key: KeyNames | None = None
    """The key column(s) of `rows`, in the order of the processor's `key`; by default the
    same names as the records' key fields."""

    @model_validator(mode="after")
    def _rows_form_a_table(self) -> Self:
        try:
            pa.Table.from_pylist(self.rows)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ValueError(
                f"`rows` do not form a table ({str(exc).splitlines()[0]}); give each column "
                "values of one type"
            ) from exc
        return self

    def source(self, columns: LookupColumns, context: PluginContext) -> StaticSource:
        return StaticSource(self, columns, context)


class StaticSource(MemorySource):
    """The rows of the config as one Arrow table, built at the first batch."""

    def __init__(
        self, config: StaticLookup, columns: LookupColumns, context: PluginContext
    ) -> None:
        super().__init__(columns, context)
        self.config = config
        self._rows: pa.Table | None = None
        self._lock = threading.Lock()

    @property
    def description(self) -> str:
        return "the static lookup (`lookup.rows`)"

    def rows(self) -> pa.Table:
        with self._lock:
            if self._rows is None:
                table = pa.Table.from_pylist(self.config.rows)
                self._rows = lookup_rows(table, self.columns, self.description)
            return self._rows

    def check(self) -> None:
        self.rows()
