"""json_encode: fields of each record → the text of one JSON object, tagged `json`.

Polars encodes the whole batch in native code, the way the `json` output writes records:
decimals as strings (their precision kept), dates, times and timestamps as ISO 8601 text,
binary as base64, NaN and infinities as null. A field tagged `json` already holds JSON: it
is embedded as it is (an object stays an object) rather than quoted as a string.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pyarrow as pa
from pydantic import Field

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import LogicalType, from_arrow
from fustgo.plugins.api import Processor
from fustgo.plugins.processors.frames import require_fields, to_frame
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig

if TYPE_CHECKING:
    import polars as pl


class JsonEncodeConfig(PluginConfig):
    """Encodes fields of each record as one JSON object, in a text field tagged `json`."""

    target_field: str = Field(min_length=1)
    """The field that receives the JSON text; an existing field is replaced in place."""
    source_fields: list[str] | None = Field(default=None, min_length=1)
    """Fields to encode, in this order (they become the object's keys); every field of the
    record when omitted."""
    drop_source: bool = False
    """Remove the encoded fields after encoding, keeping the JSON text and the other fields."""


@register_processor(
    "json_encode",
    config=JsonEncodeConfig,
    title="JSON encode",
    examples=[
        {"type": "json_encode", "target_field": "payload", "source_fields": ["id", "user"]},
        {"type": "json_encode", "target_field": "document", "drop_source": True},
    ],
)
class JsonEncode(Processor[JsonEncodeConfig]):
    """Polars encodes the chosen fields of the whole batch in native code."""

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        data = batch.data
        names = self.config.source_fields or list(data.schema.names)
        require_fields(data.schema, names, "`json_encode.source_fields`")
        text = encode_objects(data.select(names))
        target = self.config.target_field
        field = LogicalType("json").to_arrow_field(target)
        if target in data.schema.names:
            out = data.set_column(data.schema.get_field_index(target), field, text)
        else:
            out = data.append_column(field, text)
        if self.config.drop_source:
            out = out.drop_columns([name for name in names if name != target])
        return [batch.with_data(out)]


def encode_objects(data: pa.RecordBatch) -> pa.Array:
    """Each record of `data` as the text of one JSON object (its fields as keys, in order)."""
    import polars as pl

    nested_binary = [f.name for f in data.schema if _holds_nested_binary(f.type)]
    if nested_binary:
        raise TerminalError(
            f"`json_encode` cannot encode binary values inside nested field(s) {nested_binary}; "
            "encode or cast them to strings with a processor first."
        )
    # Polars cannot take decimals wider than 38 digits: they become text, as decimals do anyway.
    wide = [f.name for f in data.schema if pa.types.is_decimal256(f.type)]
    for name in wide:
        index = data.schema.get_field_index(name)
        data = data.set_column(index, name, data.column(name).cast(pa.string()))
    frame = to_frame(data)
    binary = [f.name for f in data.schema if from_arrow(f.type).kind == "binary"]
    if binary:
        frame = frame.with_columns(pl.col(binary).bin.encode("base64"))
    tagged = {f.name for f in data.schema if from_arrow(f.type, f.metadata).kind == "json"}
    if tagged:
        expression = pl.concat_str(
            [
                pl.lit("{"),
                pl.concat_str(
                    [_member(name, name in tagged) for name in frame.columns], separator=","
                ),
                pl.lit("}"),
            ]
        )
    else:
        expression = pl.struct(pl.all()).struct.json_encode()
    encoded = frame.select(expression.alias("json")).to_series().to_arrow()
    return encoded.cast(pa.string())


def _member(name: str, tagged: bool) -> pl.Expr:
    """`"name":value` of one field; JSON text tagged `json` goes in as it is."""
    import polars as pl

    if tagged:
        return pl.lit(json.dumps(name, ensure_ascii=False) + ":") + pl.col(name).fill_null("null")
    encoded = pl.struct(pl.col(name)).struct.json_encode()
    return encoded.str.strip_prefix("{").str.strip_suffix("}")


def _holds_nested_binary(arrow_type: pa.DataType) -> bool:
    return pa.types.is_nested(arrow_type) and _holds_binary(arrow_type)


def _holds_binary(arrow_type: pa.DataType) -> bool:
    if pa.types.is_struct(arrow_type):
        return any(_holds_binary(f.type) for f in arrow_type)
    if pa.types.is_nested(arrow_type) and hasattr(arrow_type, "value_type"):
        return _holds_binary(arrow_type.value_type)
    return (
        pa.types.is_binary(arrow_type)
        or pa.types.is_large_binary(arrow_type)
        or pa.types.is_fixed_size_binary(arrow_type)
        or pa.types.is_binary_view(arrow_type)
    )
