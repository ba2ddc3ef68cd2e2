"""JSON input: JSON Lines or a top-level array of objects, streamed in blocks.

The schema is inferred from the first block of the first file with data (nested objects
become structs, arrays lists), normalized to FustGo's logical types and overridden by
`columns`. Every block is then parsed against that schema by Arrow. When a block fails, it
is bisected down to the offending records, which go to the dead-letter output with their
line (or element) number and Arrow's reason; the good records around them are kept.
A field missing from a record is NULL. A field absent from the schema is rejected with the
record (`unknown_fields: reject`, the default: no data vanishes silently) or dropped
(`unknown_fields: ignore`). JSON Lines is parsed entirely by Arrow; a JSON array is split
into its elements by Python's JSON scanner first, the slower, less common path.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field, field_validator

from fustgo.engine.batch import Split, as_record_batch
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import from_arrow, parse_type
from fustgo.plugins.clients.files import open_input
from fustgo.plugins.inputs.files.base import (
    CompressedFileInputConfig,
    FileInput,
    Piece,
    RejectedRecord,
    estimate_lines,
)
from fustgo.plugins.inputs.files.schemas import (
    check_column_types,
    normalize_schema,
    override_types,
    typed_pieces,
)
from fustgo.plugins.registry import register_input

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BOM = codecs.BOM_UTF8
MAX_ELEMENT_BLOCKS = 64
"""An array element longer than this many blocks is treated as a broken file."""

Records = list[tuple[int, bytes]]
"""(line or element number, one-line JSON text) of the records of a block."""


class JsonInputConfig(CompressedFileInputConfig):
    """Reads JSON Lines files or files holding one JSON array of objects."""

    format: Literal["auto", "lines", "array"] = "auto"
    """`lines`: one object per line (JSON Lines, NDJSON); `array`: one top-level array of
    objects; `auto`: an array if the first non-blank character is `[`."""
    columns: dict[str, str] = Field(default_factory=dict)
    """Types of some fields, by name (`{id: int64, tags: list<string>, at: timestamp}`);
    the others are inferred from the first block."""
    unknown_fields: Literal["reject", "ignore"] = "reject"
    """What to do with a record holding a field the schema lacks: send it to the dead-letter
    output (`reject`) or drop the field (`ignore`)."""

    @field_validator("columns")
    @classmethod
    def _check_types(cls, columns: dict[str, str]) -> dict[str, str]:
        return check_column_types(columns, nested=True)


@register_input(
    "json",
    config=JsonInputConfig,
    family="file",
    title="JSON files",
    capabilities={"split", "resume"},
    examples=[
        {"type": "json", "paths": ["events/**/*.jsonl.gz"], "columns": {"ts": "timestamp(UTC)"}},
        {"type": "json", "paths": ["export.json"], "format": "array"},
    ],
)
class JsonInput(FileInput[JsonInputConfig]):
    """One split per file; bad records go to the dead-letter output with their line number."""

    def _count_records(self, path: Path) -> int | None:
        lines_format = self.config.format == "lines" or (
            self.config.format == "auto" and path.suffix.lower() in (".jsonl", ".ndjson")
        )
        if not lines_format or self.config.compression not in ("auto", "none"):
            return None
        return estimate_lines(path)

    def _discover_schema(self, files: list[Path]) -> pa.Schema | None:
        declared = {name: parse_type(text) for name, text in self.config.columns.items()}
        for path in files:
            with closing(self._blocks(path)) as blocks:
                sample = next(blocks, None)
            if sample is not None:
                return override_types(normalize_schema(self._infer(path, sample)), declared)
        return override_types(pa.schema([]), declared) if declared else None

    def _infer(self, path: Path, sample: tuple[bytes, Callable[[], Records], str]) -> pa.Schema:
        import pyarrow.json as pajson

        blob, records, _label = sample
        declared = _as_parsed(
            pa.schema(
                [parse_type(t).to_arrow_field(name) for name, t in self.config.columns.items()]
            )
        )
        options = pajson.ParseOptions(explicit_schema=declared, unexpected_field_behavior="infer")
        try:
            return _parse(blob, options).schema
        except pa.ArrowInvalid:
            pass
        # Records in the sample disagree (or are broken): the first type seen for a field wins,
        # so the records that disagree with it are rejected when the block is read.
        listed = records()
        schemas: list[pa.Schema] = []

        def bisect(start: int, stop: int) -> None:
            part = b"\n".join(text for _n, text in listed[start:stop]) + b"\n"
            try:
                schemas.append(_parse(part, options).schema)
            except pa.ArrowInvalid:
                if stop - start > 1:
                    bisect(start, (start + stop) // 2)
                    bisect((start + stop) // 2, stop)

        bisect(0, len(listed))
        if not schemas:
            raise TerminalError(
                f"No record in the first block of `{path}` is a JSON object; check `format` "
                "and that the file holds JSON."
            )
        return _first_seen(schemas)

    def _pieces(self, split: Split, skip: int) -> tuple[int, Iterator[Piece]]:
        path = Path(split.params["path"])
        return 0, self._read_file(path)

    def _read_file(self, path: Path) -> Iterator[Piece]:
        import pyarrow.json as pajson

        if self._schema is None:
            return
        behaviour = "error" if self.config.unknown_fields == "reject" else "ignore"
        options = pajson.ParseOptions(
            explicit_schema=_as_parsed(self._schema), unexpected_field_behavior=behaviour
        )
        for blob, records, label in self._blocks(path):
            yield from self._parse_block(blob, records, _Where(path, label), options)

    def _parse_block(
        self, blob: bytes, records: Callable[[], Records], where: _Where, options: Any
    ) -> Iterator[Piece]:
        """The rows of a block; on failure, bisect to reject only the bad records."""
        try:
            table = _parse(blob, options)
        except pa.ArrowInvalid:
            listed = records()
            yield from self._bisect(listed, 0, len(listed), where, options)
            return
        yield from self._typed(table, records, 0, where)

    def _bisect(
        self, listed: Records, start: int, stop: int, where: _Where, options: Any
    ) -> Iterator[Piece]:
        part = b"\n".join(text for _n, text in listed[start:stop]) + b"\n"
        try:
            table = _parse(part, options)
        except pa.ArrowInvalid as exc:
            if stop - start > 1:
                middle = (start + stop) // 2
                yield from self._bisect(listed, start, middle, where, options)
                yield from self._bisect(listed, middle, stop, where, options)
            else:
                number, text = listed[start]
                yield self._bad_record(where, number, text, exc)
            return
        yield from self._typed(table, lambda: listed, start, where)

    def _typed(
        self, table: pa.Table, records: Callable[[], Records], offset: int, where: _Where
    ) -> Iterator[Piece]:
        """Parsed rows with their dates and times (read as text) converted."""
        schema = self._schema
        assert schema is not None
        if schema.equals(table.schema):
            yield from table.to_batches()
            return
        listed: Records = []

        def reject(row: int, column: str, value: Any, reason: str) -> RejectedRecord:
            if not listed:
                listed.extend(records())
            number, text = listed[offset + row]
            logical = from_arrow(schema.field(column).type)
            return where.rejected(
                number, text, f"field `{column}` value `{value}` is not a valid {logical}: {reason}"
            )

        yield from typed_pieces(as_record_batch(table), schema, reject)

    def _bad_record(
        self, where: _Where, number: int, text: bytes, exc: Exception
    ) -> RejectedRecord:
        raw = text.decode("utf-8", errors="replace")
        reason = re.sub(r" in row \d+$", "", str(exc).removeprefix("JSON parse error: "))
        assert self._schema is not None
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if isinstance(value, dict):
            unknown = [key for key in value if key not in self._schema.names]
            if unknown and "unexpected field" in reason:
                reason = (
                    f"field(s) {', '.join(f'`{k}`' for k in unknown)} are not in the schema "
                    "inferred from the first block; declare them in `input.columns`, or set "
                    "`unknown_fields: ignore` to drop them"
                )
            elif "changed from" in reason or "Failed to convert" in reason:
                reason += (
                    " (the schema was inferred from the first block; declare the field's type "
                    "in `input.columns` if it is wrong)"
                )
        elif value is not None:
            reason = f"`{raw.strip()}` is not a JSON object"
        return where.rejected(number, text, reason)

    def _blocks(self, path: Path) -> Iterator[tuple[bytes, Callable[[], Records], str]]:
        """Blocks of newline-separated records: (text, how to list its records, label)."""
        with open_input(path, self.config.compression) as stream:
            first = stream.read(self.config.block_size).removeprefix(_BOM)
            while not first.lstrip():  # blank so far: the format shows at the first character
                more = stream.read(self.config.block_size)
                if not more:
                    return
                first += more
            head = first.lstrip()[:1]
            is_array = self.config.format == "array" or (
                self.config.format == "auto" and head == b"["
            )
            if is_array:
                yield from self._array_blocks(path, stream, first)
            else:
                yield from _line_blocks(stream, first, self.config.block_size)

    def _array_blocks(
        self, path: Path, stream: Any, first: bytes
    ) -> Iterator[tuple[bytes, Callable[[], Records], str]]:
        """Blocks of one-line elements of a top-level array (and rejects for non-objects)."""
        group: Records = []
        size = 0
        for number, text in _array_elements(stream, first, self.config.block_size, path):
            group.append((number, text))
            size += len(text) + 1
            if size >= self.config.block_size:
                yield _group_block(group)
                group, size = [], 0
        if group:
            yield _group_block(group)


def _group_block(group: Records) -> tuple[bytes, Callable[[], Records], str]:
    return b"\n".join(text for _n, text in group) + b"\n", lambda: group, "element"


def _line_blocks(
    stream: Any, first: bytes, block_size: int
) -> Iterator[tuple[bytes, Callable[[], Records], str]]:
    """Blocks of whole lines; each knows how to list its non-blank lines with their numbers."""
    partial: list[bytes] = []  # the start of a line that goes on in the next read
    line = 1
    data = first
    while data:
        cut = data.rfind(b"\n") + 1
        if cut:
            block = b"".join([*partial, data[:cut]])
            partial = [data[cut:]]
            yield block, _line_lister(block, line), "line"
            line += block.count(b"\n")
        else:
            partial.append(data)
        data = stream.read(block_size)
    rest = b"".join(partial)
    if rest.strip():
        yield rest + b"\n", _line_lister(rest + b"\n", line), "line"


def _line_lister(block: bytes, first_line: int) -> Callable[[], Records]:
    def records() -> Records:
        lines = block.split(b"\n")[:-1]
        return [(first_line + i, text) for i, text in enumerate(lines) if text.strip()]

    return records


def _array_elements(
    stream: Any, first: bytes, block_size: int, path: Path
) -> Iterator[tuple[int, bytes]]:
    """(element number, element as one line of UTF-8) of a top-level JSON array, streamed."""
    decoder = json.JSONDecoder()
    text_decoder = codecs.getincrementaldecoder("utf-8")()
    buffer = text_decoder.decode(first)
    pos = 0
    at_end = False

    def fill() -> bool:
        nonlocal buffer, pos, at_end
        data = stream.read(block_size)
        at_end = not data
        buffer = buffer[pos:] + text_decoder.decode(data, final=at_end)
        pos = 0
        return not at_end

    def next_char() -> str:
        nonlocal pos
        while True:
            pos = _WHITESPACE.match(buffer, pos).end()  # type: ignore[union-attr]
            if pos < len(buffer):
                return buffer[pos]
            if at_end or not fill():
                return ""

    def broken(what: str) -> TerminalError:
        return TerminalError(
            f"JSON file `{path}` is not a valid array: {what}. Fix the file, or set "
            "`format: lines` if it holds one object per line."
        )

    if next_char() != "[":
        raise broken("it does not start with `[`")
    pos += 1
    if next_char() == "]":
        return
    number = 0
    while True:
        while True:
            try:
                _value, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError as exc:
                if at_end or len(buffer) - pos > MAX_ELEMENT_BLOCKS * block_size:
                    raise broken(f"element {number + 1}: {exc.msg}") from exc
                fill()
                continue
            if end == len(buffer) and not at_end and fill():
                continue  # a number or literal may go on in the next block
            break
        number += 1
        element = buffer[pos:end]
        # Line breaks outside strings are whitespace (inside, JSON escapes them): one line.
        yield number, element.replace("\r", " ").replace("\n", " ").encode("utf-8")
        pos = end
        separator = next_char()
        if separator == "]":
            return
        if separator != ",":
            raise broken(f"expected `,` or `]` after element {number}")
        pos += 1
        next_char()


def _parse(blob: bytes, options: Any) -> pa.Table:
    import pyarrow.json as pajson

    read_options = pajson.ReadOptions(use_threads=False, block_size=max(len(blob), 1 << 16))
    return pajson.read_json(pa.BufferReader(blob), read_options=read_options, parse_options=options)


@dataclass(frozen=True)
class _Where:
    """The file being read and what its records are called (`line`, `element`)."""

    path: Path
    label: str

    def rejected(self, number: int, text: bytes, reason: str) -> RejectedRecord:
        return RejectedRecord(
            columns={
                "_raw": text.decode("utf-8", errors="replace"),
                "_file": str(self.path),
                f"_{self.label}": number,
            },
            error=f"JSON {self.label} {number} of `{self.path}`: {reason}.",
        )


def _as_parsed(schema: pa.Schema) -> pa.Schema:
    """The schema Arrow parses with: JSON has no date or time literals, so those are text."""
    textual = (pa.types.is_date, pa.types.is_time)
    return pa.schema(
        [pa.field(f.name, pa.string()) if any(t(f.type) for t in textual) else f for f in schema]
    )


def _first_seen(schemas: list[pa.Schema]) -> pa.Schema:
    """One schema from several samples: each field's first non-null type wins."""
    fields: dict[str, pa.Field] = {}
    for schema in schemas:
        for field in schema:
            known = fields.get(field.name)
            if known is None or (pa.types.is_null(known.type) and not pa.types.is_null(field.type)):
                fields[field.name] = field
    return pa.schema(list(fields.values()))
