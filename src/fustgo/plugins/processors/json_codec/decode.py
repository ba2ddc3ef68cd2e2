"""json_decode: a field of JSON text → a struct (or list) field, or top-level fields.

Polars' `str.json_decode` is not used because it is lenient where a pipeline must not be:
it truncates 2.5 read into an integer field, turns an out-of-range number into NULL and
returns no row at all for an empty string. Arrow's JSON reader refuses all three. Every
value is wrapped as `{"v":<text>}` on a line of its own and the batch is parsed in one
call (`lines.JsonLines`); only when Arrow refuses it are the refused rows searched for,
and `on_error` handles them.

The decoded type is fixed once, so every batch leaves with the same schema: the declared
`schema`, or else the types inferred from the first batch (all of its valid values, keys
missing from some records merged in), normalized to FustGo's logical types. Later values
that do not fit (a string where a number was inferred, 2.5 for an integer, a key the first
batch never had) are refused, never coerced.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from functools import partial
from typing import Annotated, Literal, Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import AfterValidator, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from fustgo.engine.batch import Batch
from fustgo.engine.errors import ConfigError, TerminalError
from fustgo.engine.types import from_arrow, parse_type
from fustgo.plugins.api import PluginContext, Processor
from fustgo.plugins.processors.failures import ON_ERROR_DOC, OnError, settle_failures
from fustgo.plugins.processors.frames import require_fields
from fustgo.plugins.processors.json_codec.lines import (
    REFUSED,
    JsonLines,
    as_parsed,
    from_text,
    json_rows,
    merge_types,
    parse_runs,
)
from fustgo.plugins.processors.json_codec.messages import arrow_reason, unknown_keys
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig

log = logging.getLogger(__name__)

_TYPE_REFUSAL = re.compile(r"changed from|Failed to convert|unexpected field|Failed to parse")
"""Arrow's words for JSON that does not fit the type (the others are for text that is not JSON)."""


def _check_decode_type(value: str) -> str:
    try:
        logical = parse_type(value)
    except ConfigError as exc:
        raise PydanticCustomError("type_name", "{reason}", {"reason": str(exc)}) from exc
    if re.search(r"\bjson\b", str(logical)):
        raise PydanticCustomError(
            "type_name",
            "`{value}`: a decoded value cannot stay JSON text; give its structure "
            "(`struct<…>`, `list<…>`) or leave the key out",
            {"value": value},
        )
    return value


DecodeType = Annotated[
    str,
    AfterValidator(_check_decode_type),
    WithJsonSchema({"type": "string", "x-widget": "logical-type"}),
]
"""A logical type a JSON value can decode to (any but `json`)."""


class JsonDecodeConfig(PluginConfig):
    """Parses a field holding JSON text into a struct (or list) field, or top-level fields."""

    source_field: str = Field(min_length=1)
    """The field holding JSON text (a string field, or one tagged `json`)."""
    target_field: str | None = Field(default=None, min_length=1)
    """Where the decoded value goes; the source field is replaced when omitted. An existing
    field of that name is replaced in place, a new one is appended."""
    schema_: dict[str, DecodeType] | None = Field(default=None, alias="schema")
    """The object's keys and their logical types, e.g. `{id: int64, tags: list<string>,
    user: "struct<name: string>"}`: the decoded type of every batch and every run. Inferred
    from the first batch when omitted."""
    unknown_fields: Literal["reject", "ignore"] = "reject"
    """A key that is not in the schema, at any depth: `reject` handles the record with
    `on_error`; `ignore` leaves the key out."""
    flatten: bool = False
    """Put the object's keys in top-level fields, in place of the source field, instead of
    one struct field."""
    prefix: str = ""
    """With `flatten`, prepended to the name of each new field (e.g. `payload_`)."""
    on_error: OnError = Field(default="fail", description=ON_ERROR_DOC)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.flatten and self.target_field is not None:
            raise ValueError(
                "with `flatten`, name the new fields with `prefix`, not `target_field`"
            )
        if self.prefix and not self.flatten:
            raise ValueError("`prefix` names flattened fields; set `flatten: true` or remove it")
        if self.schema_ is not None and not self.schema_:
            raise ValueError("`schema` is empty; omit it to infer the types")
        return self


@register_processor(
    "json_decode",
    config=JsonDecodeConfig,
    title="JSON decode",
    examples=[
        {"type": "json_decode", "source_field": "payload"},
        {
            "type": "json_decode",
            "source_field": "body",
            "schema": {"user_id": "int64", "tags": "list<string>", "at": "timestamp(UTC)"},
            "unknown_fields": "ignore",
            "flatten": True,
            "prefix": "event_",
            "on_error": "skip",
        },
    ],
)
class JsonDecode(Processor[JsonDecodeConfig]):
    """One Arrow parse per batch; bisection only when some rows are refused."""

    def __init__(self, config: JsonDecodeConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._type_lock = threading.Lock()
        self._value_type: pa.DataType | None = None
        if config.schema_ is not None:
            self._value_type = pa.struct(
                [parse_type(t).to_arrow_field(name) for name, t in config.schema_.items()]
            )

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        data = batch.data
        text = self._text(data)
        value_type = self._fixed_type(text)
        values, failures = self._decode(text, value_type)
        out = self._place(data, values)
        if failures:
            failed, messages = _failure_arrays(failures, data.num_rows)
            keep = settle_failures(self, data, failed, messages, self.config.on_error)
            if keep is not None:
                out = out.filter(keep)
        return [batch.with_data(out)] if out.num_rows else []

    def _text(self, data: pa.RecordBatch) -> pa.Array:
        name = self.config.source_field
        require_fields(data.schema, [name], "`json_decode.source_field`")
        column = data.column(name)
        if pa.types.is_null(column.type):  # Arrow's type of an all-NULL column
            return pa.nulls(len(column), pa.large_string())
        if from_arrow(column.type).kind != "string":
            raise TerminalError(
                f"`json_decode` reads JSON text, but `{name}` holds "
                f"{from_arrow(column.type)} values; a struct or list is decoded already, "
                "other types can be cast to string with `transform`."
            )
        return column.cast(pa.large_string())

    def _fixed_type(self, text: pa.Array) -> pa.DataType:
        """The declared type, or the one inferred from the first batch (once for the run)."""
        with self._type_lock:
            if self._value_type is None:
                self._value_type = self._infer(text)
                log.debug(
                    "`%s` decodes as %s.", self.config.source_field, from_arrow(self._value_type)
                )
            return self._value_type

    def _infer(self, text: pa.Array) -> pa.DataType:
        try:
            return self._normalized(JsonLines(text).parse(0, len(text), None, "reject").type)
        except REFUSED:
            pass
        # Some rows are not JSON, or records disagree on a key's type: infer from the JSON
        # rows in the longest runs Arrow reads together, the first type seen for a key winning.
        valid = text.filter(pa.array(json_rows(text)[0]))
        lines = JsonLines(valid)
        merged = pa.null()
        infer = partial(lines.parse, text_type=None, unknown_fields="reject")
        for _start, parsed in parse_runs(len(valid), infer):
            if isinstance(parsed, pa.Array):
                merged = merge_types(merged, parsed.type)
        return self._normalized(merged)

    def _normalized(self, inferred: pa.DataType) -> pa.DataType:
        if pa.types.is_null(inferred):
            raise TerminalError(
                f"`json_decode` infers the type of `{self.config.source_field}` from the first "
                "batch, but no value in that batch is JSON other than null; declare the keys "
                "and their types with `schema`."
            )
        return from_arrow(inferred).to_arrow()

    def _decode(self, text: pa.Array, value_type: pa.DataType) -> tuple[pa.Array, dict[int, str]]:
        """The decoded values (NULL where refused) and the refused rows with their messages."""
        field = self.config.source_field
        blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), False)
        messages = dict.fromkeys(_true_rows(blank), f"`{field}` is empty, not JSON")
        if messages:  # decoded as JSON null, and reported
            text = pc.if_else(blank, pa.scalar("null", pa.large_string()), text)
        try:
            return self._parse(JsonLines(text), value_type, 0, len(text)), messages
        except REFUSED as exc:
            first_refusal = str(exc)
        # Failure path. Each parse call has a fixed cost, so when Arrow stopped at text that
        # is not JSON, all such rows are found first, for the whole batch; the others are
        # parsed in shorter and shorter runs until the refused values are isolated.
        good, errors = np.ones(len(text), dtype=bool), {}
        if not _TYPE_REFUSAL.search(first_refusal):
            good, errors = json_rows(text)
        messages.update((row, f"`{field}` is not valid JSON: {err}") for row, err in errors.items())
        valid = text.filter(pa.array(good))
        rows = np.flatnonzero(good)
        lines = JsonLines(valid)
        pieces: list[pa.Array] = []
        for start, parsed in parse_runs(len(valid), partial(self._parse, lines, value_type)):
            if isinstance(parsed, pa.Array):
                pieces.append(parsed)
                continue
            reason = self._message(valid[start].as_py(), str(parsed), value_type)
            messages[int(rows[start])] = reason
            pieces.append(pa.nulls(1, value_type))
        decoded = pa.concat_arrays(pieces) if pieces else pa.nulls(0, value_type)
        positions = np.cumsum(good) - 1
        return decoded.take(pa.array(positions, mask=~good)), messages

    def _parse(self, lines: JsonLines, value_type: pa.DataType, start: int, stop: int) -> pa.Array:
        parsed = lines.parse(start, stop, as_parsed(value_type), self.config.unknown_fields)
        return from_text(parsed, value_type)

    def _message(self, text: str, reason: str, value_type: pa.DataType) -> str:
        """Why Arrow refused a JSON value (the failure path only: a row at a time is fine)."""
        field = self.config.source_field
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            return f"`{field}` is not valid JSON: {exc}"
        declared = self.config.schema_ is not None
        where = "`schema`" if declared else "the types inferred from the first batch"
        if "unexpected field" in reason:
            keys = ", ".join(f"`{key}`" for key in unknown_keys(value, value_type)) or "keys"
            return (
                f"`{field}` has {keys} not in {where}; add them to `schema`, or set "
                "`unknown_fields: ignore` to leave them out"
            )
        advice = "" if declared else "; declare the types with `schema`"
        return f"`{field}` does not fit {where}: {arrow_reason(reason)}{advice}"

    def _place(self, data: pa.RecordBatch, values: pa.Array) -> pa.RecordBatch:
        """`data` with the decoded value in its target field, or its keys flattened."""
        source = self.config.source_field
        if not self.config.flatten:
            target = self.config.target_field or source
            field = pa.field(target, values.type)
            if target in data.schema.names:
                return data.set_column(data.schema.get_field_index(target), field, values)
            return data.append_column(field, values)
        if not pa.types.is_struct(values.type):
            raise TerminalError(
                f"`json_decode.flatten` needs JSON objects, but `{source}` decodes as "
                f"{from_arrow(values.type)}; remove `flatten`."
            )
        names = [self.config.prefix + f.name for f in values.type]
        clashes = [name for name in names if name in data.schema.names and name != source]
        if clashes:
            raise TerminalError(
                f"Flattening `{source}` would add field(s) {clashes} that the batch already "
                "has; set `json_decode.prefix` to name the new fields apart."
            )
        at = data.schema.get_field_index(source)
        fields = [pa.field(name, f.type) for name, f in zip(names, values.type, strict=True)]
        children = values.flatten()  # NULL objects give NULL in every new field
        return pa.RecordBatch.from_arrays(
            [*data.columns[:at], *children, *data.columns[at + 1 :]],
            schema=pa.schema(
                [*data.schema][:at] + fields + [*data.schema][at + 1 :],
                metadata=data.schema.metadata,
            ),
        )


def _true_rows(mask: pa.BooleanArray) -> list[int]:
    return np.flatnonzero(mask.to_numpy(zero_copy_only=False)).tolist()


def _failure_arrays(failures: dict[int, str], rows: int) -> tuple[pa.Array, pa.Array]:
    """The failed-row mask and one message per row (NULL where fine), built without a loop."""
    failed = np.zeros(rows, dtype=bool)
    picks = np.full(rows, -1, dtype=np.int64)
    indexes = np.fromiter(failures, dtype=np.int64, count=len(failures))
    failed[indexes] = True
    picks[indexes] = np.arange(len(failures))
    messages = pa.array(list(failures.values()), pa.string()).take(pa.array(picks, mask=picks < 0))
    return pa.array(failed), messages
