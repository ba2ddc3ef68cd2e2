"""mapping: rename, select and drop fields (Arrow only, no copy of the data).

`field_mappings` renames fields first; then either `select` keeps only the listed fields,
in that order, or `drop` removes the listed ones (one or the other: each says everything
about which fields remain). Both use the new names. A name that is not in the batch is an
error, so a typo cannot silently change the output.
"""

from __future__ import annotations

from typing import Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import Processor
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig


class MappingConfig(PluginConfig):
    """Renames fields, then keeps only some of them or drops some."""

    field_mappings: dict[str, str] = Field(default_factory=dict)
    """Old name → new name, e.g. `{user_id: customer_id}`."""
    select: list[str] | None = None
    """Fields to keep, in this order, named as after `field_mappings`; all when omitted."""
    drop: list[str] = Field(default_factory=list)
    """Fields to remove, named as after `field_mappings` (instead of `select`)."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.field_mappings and self.select is None and not self.drop:
            raise ValueError("set at least one of `field_mappings`, `select` or `drop`")
        targets = list(self.field_mappings.values())
        twice = sorted({name for name in targets if targets.count(name) > 1})
        if twice:
            raise ValueError(f"`field_mappings` gives several fields the name {twice}")
        if any(not name for name in [*self.field_mappings, *targets]):
            raise ValueError("`field_mappings` has an empty field name")
        if self.select is not None:
            if not self.select:
                raise ValueError("`select` is empty; omit it to keep every field")
            if len(set(self.select)) != len(self.select):
                raise ValueError("`select` names a field twice")
            if self.drop:
                raise ValueError(
                    "use `select` (fields to keep) or `drop` (fields to remove), not both"
                )
        return self


@register_processor(
    "mapping",
    config=MappingConfig,
    title="Mapping",
    examples=[
        {"type": "mapping", "field_mappings": {"user_id": "customer_id"}},
        {
            "type": "mapping",
            "field_mappings": {"名前": "name"},
            "select": ["id", "name", "amount"],
        },
        {"type": "mapping", "drop": ["internal_notes"]},
    ],
)
class Mapping(Processor[MappingConfig]):
    """Renames, selects and drops columns of the Arrow batch; values are not touched."""

    def process(self, batch: Batch) -> list[Batch]:
        data = self._rename(batch.data)
        if self.config.select is not None:
            self._require(self.config.select, data, "select")
            data = data.select(self.config.select)
        elif self.config.drop:
            self._require(self.config.drop, data, "drop")
            data = data.drop_columns(self.config.drop)
        return [batch.with_data(data)]

    def _rename(self, data: pa.RecordBatch) -> pa.RecordBatch:
        mappings = self.config.field_mappings
        if not mappings:
            return data
        self._require(list(mappings), data, "field_mappings")
        names = [mappings.get(name, name) for name in data.schema.names]
        clashes = sorted({name for name in names if names.count(name) > 1})
        if clashes:
            raise TerminalError(
                f"`mapping.field_mappings` would give several fields the name {clashes}; "
                f"rename or drop the existing field first. Fields are: "
                f"{', '.join(data.schema.names)}."
            )
        return data.rename_columns(names)

    @staticmethod
    def _require(names: list[str], data: pa.RecordBatch, option: str) -> None:
        missing = [name for name in names if name not in data.schema.names]
        if missing:
            stage = "" if option == "field_mappings" else " (after renaming)"
            raise TerminalError(
                f"Fields {missing} in `mapping.{option}` are not in the batch{stage}; "
                f"fields are: {', '.join(data.schema.names)}."
            )
