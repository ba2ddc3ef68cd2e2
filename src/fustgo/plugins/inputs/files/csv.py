"""CSV input: streaming, typed, and strict about bad rows.

How types work (and why): the schema comes from the first block (`block_size`) of the first
file with data — Arrow's inference, normalized to FustGo's logical types — overridden by
`columns`. Every block is then read as text and converted column by column. A value that
does not fit its column's type (say `n/a` in a column inferred as int64 from the first
block) does not stop the run and does not vanish: its row goes to the dead-letter output
with the file, the row number, the column and the value, and the message suggests declaring
the type in `columns:`. Rows with the wrong number of fields are rejected the same way.
Unquoted empty fields and `null_values` are NULL; a quoted empty string `""` stays an empty
string (as in PostgreSQL's CSV format).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import Field, field_validator

from fustgo.engine.batch import Split
from fustgo.engine.errors import ConfigError, TerminalError
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
from fustgo.plugins.spec import ui

DEFAULT_NULL_VALUES = ["", "NULL", "null", "\\N"]


class CsvInputConfig(CompressedFileInputConfig):
    """Reads CSV files (optionally gzip/zstd compressed) as typed Arrow batches."""

    delimiter: str = Field(default=",", min_length=1, max_length=1)
    """The character between fields (`,`, `;`, `|`, a tab)."""
    quote_char: str | None = Field(default='"', min_length=1, max_length=1)
    """The character quoting fields; null means fields are never quoted."""
    escape_char: str | None = Field(default=None, min_length=1, max_length=1)
    """A character escaping the next one inside quoted fields (`\\`); null means quotes are
    escaped by doubling them, as in RFC 4180."""
    header: bool = True
    """The first row (after `skip_rows`) holds the column names."""
    column_names: list[str] | None = None
    """Column names to use: instead of the header when `header` is true, or for files without
    one. Without a header and without names, columns are named `f0`, `f1`, …"""
    skip_rows: int = Field(default=0, ge=0, json_schema_extra=ui(unit="rows"))
    """Rows to skip at the start of each file, before the header."""
    null_values: list[str] = Field(default_factory=lambda: list(DEFAULT_NULL_VALUES))
    """Unquoted field values that mean NULL."""
    encoding: str = "utf8"
    """Text encoding of the files (`utf8`, `latin1`, `cp1252`, `utf16`, …)."""
    columns: dict[str, str] = Field(default_factory=dict)
    """Types of some columns, by name (`{id: int64, price: decimal(12,2), day: date}`);
    the others are inferred from the first block. Values that do not fit are rejected."""
    newlines_in_values: bool = Field(default=True, json_schema_extra=ui(advanced=True))
    """Quoted fields may contain line breaks (RFC 4180). Turning it off is slightly faster."""

    @field_validator("columns")
    @classmethod
    def _check_types(cls, columns: dict[str, str]) -> dict[str, str]:
        return check_column_types(columns, nested=False)


@register_input(
    "csv",
    config=CsvInputConfig,
    family="file",
    title="CSV files",
    capabilities={"split", "resume"},
    examples=[
        {
            "type": "csv",
            "paths": ["data/orders-*.csv.gz"],
            "delimiter": ",",
            "columns": {"id": "int64", "amount": "decimal(12,2)", "created_at": "timestamp"},
        }
    ],
)
class CsvInput(FileInput[CsvInputConfig]):
    """One split per file; bad rows and values go to the dead-letter output with row numbers."""

    def _count_records(self, path: Path) -> int | None:
        lines = estimate_lines(path) if self.config.compression in ("auto", "none") else None
        if lines is None:
            return None
        return max(0, lines - self.config.skip_rows - (1 if self.config.header else 0))

    def _discover_schema(self, files: list[Path]) -> pa.Schema | None:
        declared = {name: parse_type(text) for name, text in self.config.columns.items()}
        first: tuple[Path, pa.Schema] | None = None
        for path in files:
            schema, has_rows = self._infer(path, {n: pa.string() for n in declared})
            if schema is not None and first is None:
                first = (path, schema)
            if has_rows:
                first = (path, schema)
                break
        if first is None:
            return None
        path, inferred = first
        unknown = [name for name in declared if name not in inferred.names]
        if unknown:
            raise ConfigError(
                f"`columns` names {_quoted(unknown)}, not a column of `{path}` "
                f"(its columns: {_quoted(inferred.names)}); fix the names in `input.columns`."
            )
        return override_types(normalize_schema(inferred), declared)

    def _infer(self, path: Path, declared: dict[str, pa.DataType]) -> tuple[pa.Schema | None, bool]:
        """Arrow's inferred schema of a file's first block, and whether the file has rows.

        Declared columns are read as text here: their values are checked when read, where a
        bad one rejects its row instead of failing the inference.
        """
        import pyarrow.csv as pacsv

        convert = pacsv.ConvertOptions(
            column_types=declared,
            null_values=self.config.null_values,
            strings_can_be_null=True,
        )
        with open_input(path, self.config.compression) as stream:
            try:
                reader = pacsv.open_csv(
                    stream,
                    read_options=self._read_options(),
                    parse_options=self._parse_options(lambda _row: "skip"),
                    convert_options=convert,
                )
            except pa.ArrowInvalid as exc:
                if "Empty CSV file" in str(exc):
                    return None, False
                raise _unreadable(path, exc) from exc
            try:
                first = reader.read_next_batch()
            except StopIteration:
                return reader.schema, False
            except pa.ArrowInvalid as exc:
                raise _unreadable(path, exc) from exc
            return reader.schema, first.num_rows > 0

    def _read_options(self) -> Any:
        import pyarrow.csv as pacsv

        config = self.config
        names = config.column_names
        return pacsv.ReadOptions(
            use_threads=False,  # row numbers of bad rows are only known single-threaded
            block_size=config.block_size,
            skip_rows=config.skip_rows + (1 if config.header and names else 0),
            column_names=names,
            autogenerate_column_names=not config.header and not names,
            encoding=config.encoding,
        )

    def _parse_options(self, handler: Any) -> Any:
        import pyarrow.csv as pacsv

        config = self.config
        return pacsv.ParseOptions(
            delimiter=config.delimiter,
            quote_char=config.quote_char or False,
            escape_char=config.escape_char or False,
            newlines_in_values=config.newlines_in_values,
            invalid_row_handler=handler,
        )

    @property
    def _first_row_number(self) -> int:
        """The row number (as Arrow counts: skipped rows and the header included) of record 0."""
        return self.config.skip_rows + (1 if self.config.header else 0) + 1

    def _pieces(self, split: Split, skip: int) -> tuple[int, Iterator[Piece]]:
        path = Path(split.params["path"])
        return 0, self._read_file(path)

    def _read_file(self, path: Path) -> Iterator[Piece]:
        import pyarrow.csv as pacsv

        schema = self._schema
        if schema is None:
            return
        # Rows with the wrong number of fields, with their record index: Arrow reports them
        # while parsing a block, before the block's rows; they are put back in file order.
        invalid: list[tuple[int, RejectedRecord]] = []
        name = str(path)

        def on_invalid_row(row: Any) -> str:
            index = (row.number or 0) - self._first_row_number  # unknown: before the next rows
            rejected = RejectedRecord(
                columns={"_raw": row.text, "_file": name, "_row": row.number},
                error=(
                    f"CSV row {row.number} of `{name}` has {row.actual_columns} fields, "
                    f"expected {row.expected_columns}."
                ),
            )
            invalid.append((index, rejected))
            return "skip"

        convert = pacsv.ConvertOptions(
            column_types={field.name: pa.string() for field in schema},
            null_values=self.config.null_values,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        )
        with open_input(path, self.config.compression) as stream:
            try:
                reader = pacsv.open_csv(
                    stream,
                    read_options=self._read_options(),
                    parse_options=self._parse_options(on_invalid_row),
                    convert_options=convert,
                )
            except pa.ArrowInvalid as exc:
                if "Empty CSV file" in str(exc):
                    return
                raise _unreadable(path, exc) from exc
            self._check_columns(path, reader.schema.names, schema.names)
            next_index = 0
            while True:
                try:
                    raw = reader.read_next_batch()
                except StopIteration:
                    break
                except pa.ArrowInvalid as exc:
                    raise _unreadable(path, exc) from exc
                raw = raw.select(schema.names)
                position = 0
                while invalid and invalid[0][0] - next_index <= raw.num_rows - position:
                    index, rejected = invalid.pop(0)
                    before = max(0, index - next_index)
                    yield from self._convert(raw.slice(position, before), next_index, name)
                    position += before
                    next_index += before + 1
                    yield rejected
                rest = raw.num_rows - position
                yield from self._convert(raw.slice(position, rest), next_index, name)
                next_index += rest
            yield from (rejected for _index, rejected in invalid)

    def _check_columns(self, path: Path, found: list[str], expected: list[str]) -> None:
        if sorted(found) == sorted(expected):
            return
        missing = [n for n in expected if n not in found]
        extra = [n for n in found if n not in expected]
        raise TerminalError(
            f"CSV file `{path}` has columns {_quoted(found)}, unlike the first file "
            f"(missing: {_quoted(missing) or 'none'}; unexpected: {_quoted(extra) or 'none'}); "
            "read files with different columns in separate pipelines."
        )

    def _convert(self, raw: pa.RecordBatch, first_index: int, name: str) -> Iterator[Piece]:
        """Typed rows from text rows; rows with a value that does not fit are rejected."""
        assert self._schema is not None

        def reject(row: int, column: str, value: Any, reason: str) -> RejectedRecord:
            number = self._first_row_number + first_index + row
            return RejectedRecord(
                columns={"_raw": _csv_line(raw.slice(row, 1), self.config.delimiter),
                         "_file": name, "_row": number},
                error=f"CSV row {number} of `{name}`: {self._value_error(column, value, reason)}",
            )  # fmt: skip

        yield from typed_pieces(raw, self._schema, reject)

    def _value_error(self, column: str, value: Any, reason: str) -> str:
        assert self._schema is not None
        logical = from_arrow(self._schema.field(column).type)
        hint = (
            ""
            if column in self.config.columns
            else f" (the type was inferred from the first block; declare `{column}` in "
            "`input.columns` if it is wrong)"
        )
        return f"column `{column}` value `{value}` is not a valid {logical}: {reason}{hint}"


def _csv_line(row: pa.RecordBatch, delimiter: str) -> str:
    """One text row encoded back as a CSV line (quoted only where needed), for dead letters."""
    import csv
    import io

    text = io.StringIO()
    values = ["" if v is None else v for v in row.to_pylist()[0].values()]
    csv.writer(text, delimiter=delimiter, lineterminator="").writerow(values)
    return text.getvalue()


def _unreadable(path: Path, exc: Exception) -> TerminalError:
    return TerminalError(
        f"Cannot read CSV file `{path}`: {exc}. Check `encoding`, `delimiter` and `compression`."
    )


def _quoted(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)
