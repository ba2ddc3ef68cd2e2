"""split: one record → one record per element of a list field (or of a delimited text).

`explode` takes a list field; `delimiter` splits a text field first (`a,b` → `a`, `b`;
empty pieces between delimiters are kept, `a,,b` → `a`, ``, `b`). Each element replaces the
list in a copy of its record, in order; `index_field` gives its position (from 0). A record
with nothing to split (a NULL or empty list, NULL or empty text) is dropped and counted as
filtered, or with `keep_empty` kept once with the field (and the index) NULL.

All of it is Arrow compute and NumPy over the whole batch: the lengths of the lists say how
often each record repeats, one `take` copies the records, one `take` picks the elements.
"""

from __future__ import annotations

from typing import Literal, Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import from_arrow
from fustgo.plugins.api import Processor
from fustgo.plugins.processors.frames import require_fields
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig


class SplitConfig(PluginConfig):
    """Turns each record into one record per element of a list (or delimited text) field."""

    field: str = Field(min_length=1)
    """The field to split; each output record holds one element of it in its place."""
    mode: Literal["explode", "delimiter"] = "explode"
    """`explode`: the field is a list; `delimiter`: the field is text, split by `delimiter`."""
    delimiter: str | None = Field(default=None, min_length=1)
    """The text that separates elements (`,`, `|`, ` ; `), with `mode: delimiter`."""
    keep_empty: bool = False
    """A record with nothing to split (NULL or empty list or text): keep it once with the
    field NULL (true), or drop it and count it as filtered (false)."""
    index_field: str | None = Field(default=None, min_length=1)
    """A new int64 field for the element's position in its list, from 0 (NULL for a kept
    empty record)."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.mode == "delimiter" and self.delimiter is None:
            raise ValueError("`mode: delimiter` needs `delimiter`, the text between elements")
        if self.mode == "explode" and self.delimiter is not None:
            raise ValueError("`delimiter` splits text: set `mode: delimiter` too")
        if self.index_field == self.field:
            raise ValueError("`index_field` must differ from `field`")
        return self


@register_processor(
    "split",
    config=SplitConfig,
    title="Split",
    examples=[
        {"type": "split", "field": "tags", "index_field": "tag_position"},
        {"type": "split", "field": "emails", "mode": "delimiter", "delimiter": ";"},
        {"type": "split", "field": "items", "keep_empty": True},
    ],
)
class SplitRecords(Processor[SplitConfig]):
    """Repeats each record once per element with Arrow `take`s; no loop per record.

    (Named apart from `engine.batch.Split`, a part of a source.)
    """

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        data = batch.data
        lists = self._lists(data)
        lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy().astype(np.int64)
        empty = lengths == 0
        repeats = np.where(empty, 1 if self.config.keep_empty else 0, lengths)
        dropped = int(np.count_nonzero(repeats == 0))
        if dropped:
            self.count_filtered(dropped)
        total = int(repeats.sum())
        if total == 0:
            return []
        # Output row i copies record `records[i]` and holds element `position[i]` of its list,
        # which sits at `first_element[record] + position` in the flattened elements.
        records = np.repeat(np.arange(len(lengths)), repeats)
        first_row = np.cumsum(repeats) - repeats
        position = np.arange(total) - np.repeat(first_row, repeats)
        first_element = np.cumsum(lengths) - lengths
        padding = np.repeat(empty, repeats)  # rows of records kept although empty
        element_index = pa.array(np.repeat(first_element, repeats) + position, mask=padding)
        elements = pc.list_flatten(lists).take(element_index)
        out = data.take(pa.array(records))
        at = out.schema.get_field_index(self.config.field)
        out = out.set_column(at, pa.field(self.config.field, elements.type), elements)
        if self.config.index_field is not None:
            out = _with_index(out, self.config.index_field, pa.array(position, mask=padding))
        return [batch.with_data(piece) for piece in self._pieces(out)]

    def _lists(self, data: pa.RecordBatch) -> pa.Array:
        """The split field as a list array (text split by the delimiter, empty text → NULL)."""
        name = self.config.field
        require_fields(data.schema, [name], "`split.field`")
        column = data.column(name)
        if pa.types.is_null(column.type):  # all NULL: nothing to split in any record
            return pa.nulls(len(column), pa.list_(pa.null()))
        kind = from_arrow(column.type).kind
        if self.config.mode == "explode":
            if kind != "list":
                hint = (
                    "set `mode: delimiter` to split text, or decode JSON text with `json_decode`"
                    if kind in ("string", "json")
                    else "only lists are exploded"
                )
                raise TerminalError(
                    f"`split` explodes lists, but `{name}` holds {from_arrow(column.type)} "
                    f"values; {hint}."
                )
            return column
        if kind != "string":
            raise TerminalError(
                f"`split` with `mode: delimiter` splits text, but `{name}` holds "
                f"{from_arrow(column.type)} values; use `mode: explode` for lists."
            )
        text = pc.if_else(pc.equal(column, ""), pa.scalar(None, column.type), column)
        return pc.split_pattern(text, pattern=self.config.delimiter)

    def _pieces(self, data: pa.RecordBatch) -> list[pa.RecordBatch]:
        """Batches of about `batch_size` rows: one record may give thousands."""
        size = max(self.context.batch_size, 1)
        if data.num_rows <= size:
            return [data]
        count = -(-data.num_rows // size)
        step = -(-data.num_rows // count)
        return [data.slice(start, step) for start in range(0, data.num_rows, step)]


def _with_index(data: pa.RecordBatch, name: str, index: pa.Array) -> pa.RecordBatch:
    field = pa.field(name, pa.int64())
    if name in data.schema.names:
        return data.set_column(data.schema.get_field_index(name), field, index)
    return data.append_column(field, index)
