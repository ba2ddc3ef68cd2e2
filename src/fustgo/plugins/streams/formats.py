"""Message formats: payload bytes ⇄ records, for every stream input and output.

Inputs hand the decoder a raw batch: the payload in `VALUE` (binary) next to the
message's metadata columns (`_offset`, `_subject`, …). Decoding turns the payload into
record fields and keeps the metadata columns; a payload that does not decode is rejected
with its metadata (the dead letter says which offset or subject was poison) and the rest
of the batch goes on. JSON reuses the `json_decode` processor (one Arrow parse per batch,
bisection only around bad messages); outputs encode with `json_encode`'s encoder.

    json      one JSON object per message
    ndjson    one or more JSON objects per message, one per line
    csv       one or more CSV lines per message (no header), named by `columns`
    string    the payload as one text field (`field`, default `value`)
    bytes     the payload as one binary field
    avro      Avro binary (schemaless, as Kafka producers without a registry write it),
              with the writer's schema inline (`avro.schema`) or from a file
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Self

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch
from fustgo.engine.errors import ConfigError, DataError, TerminalError
from fustgo.engine.types import parse_type
from fustgo.plugins.api import Plugin, PluginContext
from fustgo.plugins.clients.sql import parse_text
from fustgo.plugins.spec import PluginConfig, TypeName, ui

FormatName = Literal["json", "ndjson", "csv", "string", "bytes", "avro"]
VALUE = "__value"
"""The payload column of a raw batch (binary); the decoder replaces it."""


class AvroSchema(PluginConfig):
    """The Avro writer's schema: inline or from a file."""

    schema_: dict[str, Any] | str | None = Field(default=None, alias="schema")
    """The schema as a mapping (YAML) or JSON text."""
    schema_file: str | None = None
    """A `.avsc` file, relative to the pipeline file."""

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.schema_ is None) == (self.schema_file is None):
            raise ValueError("set either `schema` or `schema_file` (not both)")
        return self


class MessageFormat(PluginConfig):
    """How message payloads hold records."""

    type: FormatName = "json"
    """`json` (one object per message), `ndjson` (objects, one per line), `csv` (lines of
    `columns`), `string` / `bytes` (the payload as one field), `avro` (binary, schemaless)."""
    schema_: dict[str, TypeName] | None = Field(
        default=None, alias="schema", json_schema_extra=ui(advanced=True)
    )
    """Fields and their logical types (`{id: int64, at: "timestamp(UTC)"}`). JSON: the type
    of every batch (inferred from the first batch when omitted); CSV: types of the named
    columns (others stay text)."""
    unknown_fields: Literal["reject", "ignore"] = "reject"
    """JSON keys not in `schema`: `reject` sends the message to the dead letter, `ignore`
    leaves them out."""
    columns: list[str] | None = None
    """CSV: the names of the fields, in order (messages carry no header)."""
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    """CSV: the field separator."""
    field: str = Field(default="value", min_length=1)
    """`string` / `bytes`: the field that holds the payload (outputs: the field sent)."""
    avro: AvroSchema | None = None
    """`avro`: the writer's schema."""

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.type == "csv" and not self.columns:
            raise ValueError("`format.type: csv` needs `columns`, the names of the fields")
        if self.type == "avro" and self.avro is None:
            raise ValueError("`format.type: avro` needs `avro.schema` or `avro.schema_file`")
        if self.schema_ is not None and self.type in ("string", "bytes", "avro"):
            raise ValueError(f"`schema` does not apply to `{self.type}` messages")
        return self


class Decoder:
    """Decodes raw batches for `owner` (an input), which receives the rejected messages."""

    def __init__(self, config: MessageFormat, owner: Plugin[Any], where: str) -> None:
        self.config = config
        self.owner = owner
        self.where = where
        self._json: Any = None
        self._avro: Any = None
        if config.type in ("json", "ndjson"):
            from fustgo.plugins.processors.json_codec.decode import JsonDecode, JsonDecodeConfig

            settings = JsonDecodeConfig.model_validate(
                {
                    "source_field": VALUE,
                    "schema": config.schema_,
                    "unknown_fields": config.unknown_fields,
                    "flatten": True,
                }
            )
            self._json = JsonDecode(settings, PluginContext(component_path=f"{where}.format"))
        elif config.type == "avro":
            assert config.avro is not None
            self._avro = AvroCodec(config.avro, owner.context, f"{where}.format.avro")

    def decode(self, raw: pa.RecordBatch, batch: Batch) -> pa.RecordBatch:
        """Records of the raw batch's payloads, metadata columns kept; bad messages rejected."""
        kind = self.config.type
        if kind == "bytes":
            return _replace(raw, VALUE, self.config.field, pc.cast(raw.column(VALUE), pa.binary()))
        if kind == "avro":
            return self._avro.decode(raw, self.owner)
        raw, text = self._utf8(raw)
        if kind in ("ndjson", "csv"):
            raw, text = _lines(raw, text)
        if kind == "string":
            return _replace(raw, VALUE, self.config.field, text)
        if kind == "csv":
            return self._csv(raw, text)
        decoded = self._json.process(batch.with_data(_replace(raw, VALUE, VALUE, text)))
        self.owner.forward_rejected(self._json)
        if not decoded:
            return raw.slice(0, 0).drop_columns([VALUE])
        return decoded[0].data

    def _utf8(self, raw: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.Array]:
        """The payloads as text; messages that are not UTF-8 are rejected."""
        payload = pc.cast(raw.column(VALUE), pa.binary())
        try:
            return raw, pc.cast(payload, pa.string())
        except pa.ArrowInvalid:
            pass
        valid = []  # error path: find the messages that are not UTF-8
        for value in payload.to_pylist():
            try:
                if value is not None:
                    value.decode()
            except UnicodeDecodeError:
                valid.append(False)
            else:
                valid.append(True)
        mask = pa.array(valid)
        self.owner.reject(
            _readable(raw.filter(pc.invert(mask))),
            f"The message is not UTF-8 text ({self.where}.format.type: {self.config.type})",
        )
        raw = raw.filter(mask)
        return raw, pc.cast(pc.cast(raw.column(VALUE), pa.binary()), pa.string())

    def _csv(self, raw: pa.RecordBatch, text: pa.Array) -> pa.RecordBatch:
        import pyarrow.csv as pacsv

        columns = self.config.columns or []
        fields: list[pa.Array] = [pa.nulls(len(text), pa.string()) for _ in columns]
        failed = [False] * len(text)
        reasons: list[str | None] = [None] * len(text)
        options = pacsv.ParseOptions(delimiter=self.config.delimiter)
        read = pacsv.ReadOptions(column_names=columns, use_threads=False)
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=False
        )
        try:
            blob = "\n".join(pc.fill_null(text, "").to_pylist()).encode()
            table = pacsv.read_csv(pa.py_buffer(blob), read, options, convert)
            if table.num_rows != len(text):
                raise pa.ArrowInvalid("a quoted value spans lines")
            fields = [table.column(i).combine_chunks() for i in range(len(columns))]
        except pa.ArrowInvalid:  # find the bad lines one by one (error path only)
            rows: list[list[str | None]] = []
            for index, line in enumerate(text.to_pylist()):
                try:
                    one = pacsv.read_csv(pa.py_buffer(line.encode()), read, options, convert)
                    if one.num_rows != 1:
                        raise pa.ArrowInvalid(f"{one.num_rows} lines")
                    rows.append([one.column(i)[0].as_py() for i in range(len(columns))])
                except pa.ArrowInvalid as exc:
                    failed[index], reasons[index] = True, f"not a CSV line of {columns}: {exc}"
                    rows.append([None] * len(columns))
            fields = [pa.array([row[i] for row in rows], pa.string()) for i in range(len(columns))]
        arrays: list[pa.Array] = []
        for name, strings in zip(columns, fields, strict=True):
            declared = (self.config.schema_ or {}).get(name)
            if declared is None:
                arrays.append(strings)
                continue
            parsed = parse_text(strings, parse_type(declared))
            arrays.append(parsed.values)
            if parsed.failed is not None:
                for index, bad in enumerate(parsed.failed.to_pylist()):
                    if bad and not failed[index]:
                        failed[index] = True
                        reasons[index] = f"`{name}` is not a valid {declared}: `{strings[index]}`"
        out = _with_fields(raw, columns, arrays)
        if any(failed):
            mask = pa.array(failed)
            self.owner.reject(_readable(raw.filter(mask)), pa.array(reasons).filter(mask))
            out = out.filter(pc.invert(mask))
        return out


def _lines(raw: pa.RecordBatch, text: pa.Array) -> tuple[pa.RecordBatch, pa.Array]:
    """One row per non-blank line of each payload, its message's metadata repeated."""
    parts = pc.split_pattern(pc.utf8_rtrim(text, "\r\n"), "\n")
    lines = pc.utf8_rtrim(pc.list_flatten(parts), "\r")
    parents = pc.list_parent_indices(parts)
    keep = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(lines)), 0)
    return raw.take(parents.filter(keep)), lines.filter(keep)


def _replace(raw: pa.RecordBatch, old: str, new: str, values: pa.Array) -> pa.RecordBatch:
    index = raw.schema.get_field_index(old)
    return raw.set_column(index, pa.field(new, values.type), values)


def _with_fields(raw: pa.RecordBatch, names: list[str], arrays: list[pa.Array]) -> pa.RecordBatch:
    """The payload column replaced by the decoded fields, in place."""
    at = raw.schema.get_field_index(VALUE)
    fields = [pa.field(n, a.type) for n, a in zip(names, arrays, strict=True)]
    return pa.RecordBatch.from_arrays(
        [*raw.columns[:at], *arrays, *raw.columns[at + 1 :]],
        schema=pa.schema([*raw.schema][:at] + fields + [*raw.schema][at + 1 :]),
    )


def _readable(raw: pa.RecordBatch) -> pa.RecordBatch:
    """A rejected raw batch with its payload as text where it is UTF-8 (else hex), so the
    dead letter shows what was received."""
    payload = pc.cast(raw.column(VALUE), pa.binary())
    shown = [
        None if value is None else _shown(value) for value in payload.to_pylist()
    ]  # rejects are few
    return _replace(raw, VALUE, "payload", pa.array(shown, pa.string()))


def _shown(value: bytes) -> str:
    try:
        return value.decode()
    except UnicodeDecodeError:
        return "hex:" + value.hex()


# -------------------------------------------------------------------------- encoding


class Encoder:
    """Encodes records into payloads: one per record, in order."""

    def __init__(self, config: MessageFormat, context: PluginContext, where: str) -> None:
        self.config = config
        self.where = where
        self._avro = (
            AvroCodec(config.avro, context, f"{where}.format.avro")
            if config.type == "avro" and config.avro is not None
            else None
        )

    def encode(self, data: pa.RecordBatch) -> list[bytes]:
        """The payload of each record of `data` (its fields are the message body)."""
        kind = self.config.type
        if kind in ("json", "ndjson"):
            from fustgo.plugins.processors.json_codec.encode import encode_objects

            return [text.encode() for text in encode_objects(data).to_pylist()]
        if kind in ("string", "bytes"):
            name = self.config.field
            if name not in data.schema.names:
                raise TerminalError(
                    f"`{self.where}.format.field` is `{name}`, which the records do not have; "
                    f"their fields are: {', '.join(data.schema.names)}."
                )
            values = data.column(name)
            if kind == "string":
                return [b"" if v is None else str(v).encode() for v in values.to_pylist()]
            binary = pc.cast(values, pa.binary()).to_pylist()
            return [b"" if v is None else bytes(v) for v in binary]
        if kind == "csv":
            import pyarrow.csv as pacsv

            names = self.config.columns or data.schema.names
            sink = io.BytesIO()
            options = pacsv.WriteOptions(include_header=False, delimiter=self.config.delimiter)
            pacsv.write_csv(data.select(names), sink, options)
            return sink.getvalue().splitlines()
        assert self._avro is not None
        return self._avro.encode(data)


# ------------------------------------------------------------------------------ avro


class AvroCodec:
    """Schemaless Avro binary with a known writer's schema (fastavro)."""

    def __init__(self, config: AvroSchema, context: PluginContext, where: str) -> None:
        import fastavro

        schema: Any = config.schema_
        if config.schema_file is not None:
            path = context.resolve_path(config.schema_file)
            try:
                schema = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"`{where}.schema_file` ({path}) cannot be read: {exc}") from exc
        elif isinstance(schema, str):
            try:
                schema = json.loads(schema)
            except ValueError as exc:
                raise ConfigError(f"`{where}.schema` is not JSON: {exc}") from exc
        try:
            self.schema = fastavro.parse_schema(schema)
        except Exception as exc:
            raise ConfigError(f"`{where}` is not a valid Avro schema: {exc}") from exc
        self.arrow_schema = avro_to_arrow(self.schema)
        self.where = where

    def decode(self, raw: pa.RecordBatch, owner: Plugin[Any]) -> pa.RecordBatch:
        import fastavro

        records: list[dict[str, Any] | None] = []
        reasons: list[str | None] = []
        for payload in pc.cast(raw.column(VALUE), pa.binary()).to_pylist():
            try:
                records.append(fastavro.schemaless_reader(io.BytesIO(payload or b""), self.schema))
                reasons.append(None)
            except Exception as exc:  # fastavro raises many types for truncated data
                records.append(None)
                reasons.append(f"The message is not Avro of the given schema: {exc!r}")
        good = pa.array([reason is None for reason in reasons])
        if not pc.all(good).as_py():
            owner.reject(_readable(raw.filter(pc.invert(good))), pa.array(reasons).filter(
                pc.invert(good)))  # fmt: skip
        kept = [record for record in records if record is not None]
        table = pa.Table.from_pylist(kept, schema=self.arrow_schema)
        arrays = [table.column(i).combine_chunks() for i in range(table.num_columns)]
        return _with_fields(raw.filter(good), table.column_names, arrays)

    def encode(self, data: pa.RecordBatch) -> list[bytes]:
        import fastavro

        out: list[bytes] = []
        for index, record in enumerate(data.to_pylist()):
            sink = io.BytesIO()
            try:
                fastavro.schemaless_writer(sink, self.schema, record)
            except Exception as exc:
                raise DataError(f"Record {index} does not fit the Avro schema: {exc}") from exc
            out.append(sink.getvalue())
        return out


_AVRO_PRIMITIVES: dict[str, pa.DataType] = {
    "null": pa.null(),
    "boolean": pa.bool_(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "bytes": pa.binary(),
    "string": pa.string(),
}
_AVRO_LOGICAL: dict[str, Callable[[dict[str, Any]], pa.DataType]] = {
    "date": lambda _s: pa.date32(),
    "time-millis": lambda _s: pa.time32("ms"),
    "time-micros": lambda _s: pa.time64("us"),
    "timestamp-millis": lambda _s: pa.timestamp("ms", tz="UTC"),
    "timestamp-micros": lambda _s: pa.timestamp("us", tz="UTC"),
    "local-timestamp-millis": lambda _s: pa.timestamp("ms"),
    "local-timestamp-micros": lambda _s: pa.timestamp("us"),
    "decimal": lambda s: pa.decimal128(int(s["precision"]), int(s.get("scale", 0))),
    "uuid": lambda _s: pa.string(),
}


def avro_to_arrow(schema: Any) -> pa.Schema:
    """The Arrow schema of a record schema's fields (the records a message decodes to)."""
    arrow = _avro_type(schema)
    if not pa.types.is_struct(arrow):
        raise ConfigError("The Avro schema must describe a record (`type: record`).")
    return pa.schema(list(arrow))


def _avro_type(schema: Any) -> pa.DataType:
    if isinstance(schema, str):
        return _AVRO_PRIMITIVES.get(schema, pa.string())  # named references: rare, as text
    if isinstance(schema, list):  # a union: nullable when it has null, else its first branch
        branches = [branch for branch in schema if branch != "null"]
        return _avro_type(branches[0]) if len(branches) == 1 else pa.string()
    logical = schema.get("logicalType")
    if logical in _AVRO_LOGICAL:
        return _AVRO_LOGICAL[logical](schema)
    kind = schema.get("type")
    if kind == "record":
        return pa.struct([pa.field(f["name"], _avro_type(f["type"])) for f in schema["fields"]])
    if kind == "array":
        return pa.list_(_avro_type(schema["items"]))
    if kind == "map":
        return pa.map_(pa.string(), _avro_type(schema["values"]))
    if kind in ("enum", "fixed"):
        return pa.string() if kind == "enum" else pa.binary()
    return _avro_type(kind)
