"""The logical type set and its one mapping to Arrow.

Connectors map their native types to these (one table per connector family, in
`plugins/clients/`); processors and casts name them in YAML with the spelling that
`parse_type` accepts:

    int8 int16 int32 int64 uint8 uint16 uint32 uint64   float32 float64
    decimal(p,s)   string   binary   bool   date   time
    timestamp      timestamp(UTC)   timestamp(Europe/Paris)      json
    list<T>        struct<name: T, other: T>

Aliases users from SQL expect are accepted: int/integer → int32, bigint → int64,
smallint → int16, tinyint → int8, double/float → float64, real → float32,
text/varchar → string, boolean → bool, bytes/blob → binary, datetime → timestamp,
timestamptz → timestamp(UTC), numeric(p,s) → decimal(p,s).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyarrow as pa

from fustgo.engine.errors import ConfigError

INTEGER_KINDS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
FLOAT_KINDS = ("float32", "float64")
SIMPLE_KINDS = (*INTEGER_KINDS, *FLOAT_KINDS, "string", "binary", "bool", "date", "time", "json")

ALIASES = {
    "int": "int32",
    "integer": "int32",
    "bigint": "int64",
    "smallint": "int16",
    "tinyint": "int8",
    "long": "int64",
    "double": "float64",
    "float": "float64",
    "real": "float32",
    "text": "string",
    "varchar": "string",
    "str": "string",
    "utf8": "string",
    "boolean": "bool",
    "bytes": "binary",
    "blob": "binary",
    "datetime": "timestamp",
    "numeric": "decimal",
}

# Extension-free marker for JSON text: a string field whose metadata says it holds JSON.
JSON_FIELD_METADATA = {b"fustgo.logical_type": b"json"}


@dataclass(frozen=True)
class LogicalType:
    """One logical type; `kind` is one of the names in the module docstring."""

    kind: str
    precision: int | None = None
    scale: int | None = None
    timezone: str | None = None
    item: LogicalType | None = None
    fields: tuple[tuple[str, LogicalType], ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        if self.kind == "decimal":
            return f"decimal({self.precision},{self.scale})"
        if self.kind == "timestamp":
            return f"timestamp({self.timezone})" if self.timezone else "timestamp"
        if self.kind == "list":
            return f"list<{self.item}>"
        if self.kind == "struct":
            inner = ", ".join(f"{name}: {typ}" for name, typ in self.fields)
            return f"struct<{inner}>"
        return self.kind

    def to_arrow(self) -> pa.DataType:
        """The Arrow type that carries values of this logical type."""
        simple = _SIMPLE_TO_ARROW.get(self.kind)
        if simple is not None:
            return simple
        if self.kind == "decimal":
            assert self.precision is not None and self.scale is not None
            if self.precision <= 38:
                return pa.decimal128(self.precision, self.scale)
            return pa.decimal256(self.precision, self.scale)
        if self.kind == "timestamp":
            return pa.timestamp("us", tz=self.timezone)
        if self.kind == "list":
            assert self.item is not None
            return pa.list_(self.item.to_arrow())
        if self.kind == "struct":
            return pa.struct([pa.field(name, typ.to_arrow()) for name, typ in self.fields])
        raise ConfigError(f"Unknown logical type `{self.kind}`.")

    def to_arrow_field(self, name: str, nullable: bool = True) -> pa.Field:
        """An Arrow field; JSON is a string field tagged in its metadata."""
        metadata = JSON_FIELD_METADATA if self.kind == "json" else None
        return pa.field(name, self.to_arrow(), nullable=nullable, metadata=metadata)


_SIMPLE_TO_ARROW: dict[str, pa.DataType] = {
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "uint8": pa.uint8(),
    "uint16": pa.uint16(),
    "uint32": pa.uint32(),
    "uint64": pa.uint64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "string": pa.string(),
    "binary": pa.binary(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "json": pa.string(),
}


def from_arrow(
    arrow_type: pa.DataType, field_metadata: dict[bytes, bytes] | None = None
) -> LogicalType:
    """The logical type of an Arrow type (the inverse of `LogicalType.to_arrow`)."""
    if field_metadata and field_metadata.get(b"fustgo.logical_type") == b"json":
        return LogicalType("json")
    t = arrow_type
    if pa.types.is_dictionary(t):
        return from_arrow(t.value_type)
    for kind in INTEGER_KINDS + FLOAT_KINDS:
        if t == _SIMPLE_TO_ARROW[kind]:
            return LogicalType(kind)
    if pa.types.is_float16(t):
        return LogicalType("float32")
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return LogicalType("string")
    if (
        pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
        or pa.types.is_binary_view(t)
    ):
        return LogicalType("binary")
    if pa.types.is_boolean(t):
        return LogicalType("bool")
    if pa.types.is_date(t):
        return LogicalType("date")
    if pa.types.is_time(t):
        return LogicalType("time")
    if pa.types.is_timestamp(t):
        return LogicalType("timestamp", timezone=t.tz)
    if pa.types.is_decimal(t):
        return LogicalType("decimal", precision=t.precision, scale=t.scale)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return LogicalType("list", item=from_arrow(t.value_type))
    if pa.types.is_struct(t):
        return LogicalType(
            "struct",
            fields=tuple(
                (t.field(i).name, from_arrow(t.field(i).type)) for i in range(t.num_fields)
            ),
        )
    if pa.types.is_null(t):
        return LogicalType("string")
    raise ConfigError(f"Arrow type `{t}` has no FustGo logical type.")


_TOKEN = re.compile(r"\s*(<|>|\(|\)|,|:|[A-Za-z_][A-Za-z0-9_/+\-]*|\d+)")


def parse_type(text: str) -> LogicalType:
    """Parse a type name as written in YAML (`decimal(10,2)`, `list<int64>`, …).

    Raises `ConfigError` with the offending spelling and the accepted names.
    """
    tokens = _tokenize(text)
    typ, rest = _parse(tokens, text)
    if rest:
        raise ConfigError(f"Unexpected `{''.join(rest)}` after the type in `{text}`.")
    return typ


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    stripped = text.strip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if not match:
            raise ConfigError(f"Cannot read the type `{text}` at `{stripped[pos:]}`.")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _parse(tokens: list[str], text: str) -> tuple[LogicalType, list[str]]:
    if not tokens:
        raise ConfigError(f"Empty type in `{text}`.")
    name, rest = tokens[0].lower(), tokens[1:]
    if name == "timestamptz":
        return LogicalType("timestamp", timezone="UTC"), rest
    name = ALIASES.get(name, name)
    if name in SIMPLE_KINDS:
        if rest[:1] == ["("]:  # varchar(255), int(11): the length is irrelevant to Arrow
            close = rest.index(")")
            rest = rest[close + 1 :]
        return LogicalType(name), rest
    if name == "decimal":
        if rest[:1] != ["("]:
            return LogicalType("decimal", precision=38, scale=9), rest
        try:
            precision = int(rest[1])
            scale = int(rest[3]) if rest[2] == "," else 0
            close = rest.index(")")
        except (IndexError, ValueError) as exc:
            raise ConfigError(
                f"Write decimals as `decimal(precision,scale)`, not `{text}`."
            ) from exc
        if not 1 <= precision <= 76 or not 0 <= scale <= precision:
            raise ConfigError(f"`{text}`: precision must be 1..76 and scale 0..precision.")
        return LogicalType("decimal", precision=precision, scale=scale), rest[close + 1 :]
    if name == "timestamp":
        if rest[:1] == ["("]:
            close = rest.index(")")
            zone = "".join(rest[1:close]) or None
            return LogicalType("timestamp", timezone=zone), rest[close + 1 :]
        return LogicalType("timestamp"), rest
    if name == "list":
        if rest[:1] != ["<"]:
            raise ConfigError(f"Write lists as `list<item type>`, not `{text}`.")
        item, rest = _parse(rest[1:], text)
        if rest[:1] != [">"]:
            raise ConfigError(f"Missing `>` to close `list<` in `{text}`.")
        return LogicalType("list", item=item), rest[1:]
    if name == "struct":
        if rest[:1] != ["<"]:
            raise ConfigError(f"Write structs as `struct<name: type, …>`, not `{text}`.")
        rest = rest[1:]
        fields: list[tuple[str, LogicalType]] = []
        while rest and rest[0] != ">":
            if len(rest) < 2 or rest[1] != ":":
                raise ConfigError(f"Write struct fields as `name: type` in `{text}`.")
            field_name = rest[0]
            field_type, rest = _parse(rest[2:], text)
            fields.append((field_name, field_type))
            if rest[:1] == [","]:
                rest = rest[1:]
        if rest[:1] != [">"]:
            raise ConfigError(f"Missing `>` to close `struct<` in `{text}`.")
        return LogicalType("struct", fields=tuple(fields)), rest[1:]
    known = ", ".join([*SIMPLE_KINDS, "decimal(p,s)", "timestamp", "list<T>", "struct<…>"])
    raise ConfigError(f"Unknown type `{tokens[0]}` in `{text}`; known types: {known}.")
