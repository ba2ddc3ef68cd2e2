"""CSV output: Arrow's CSV writer, optionally gzip/zstd compressed, rotated into parts."""

from __future__ import annotations

from typing import Any, Literal

import pyarrow as pa
from pydantic import Field

from fustgo.engine.errors import DataError, TerminalError
from fustgo.plugins.outputs.files.base import TextFileOutputConfig, is_binary
from fustgo.plugins.outputs.files.rows import RowEncoder, RowFileOutput
from fustgo.plugins.registry import register_output

_QUOTING = {"strings": "needed", "all": "all_valid", "none": "none"}


class CsvOutputConfig(TextFileOutputConfig):
    """Writes CSV files, optionally compressed and rotated by records or bytes."""

    delimiter: str = Field(default=",", min_length=1, max_length=1)
    """The character between fields."""
    header: bool = True
    """Write the column names as the first row of each file."""
    null_value: str = Field(default="", pattern=r'^[^"]*$')
    """Text written for NULL (unquoted; an empty field by default)."""
    quoting: Literal["strings", "all", "none"] = "strings"
    """Which values are quoted: every string value (and nothing else), every value, or none
    (then a value holding the delimiter, a quote or a line break is an error)."""


@register_output(
    "csv",
    config=CsvOutputConfig,
    family="file",
    title="CSV files",
    examples=[
        {"type": "csv", "path": "out/orders-{date}.csv.gz", "rotate": {"max_records": 1000000}},
    ],
)
class CsvOutput(RowFileOutput[CsvOutputConfig]):
    """CSV files; `flush` syncs them, and a resumed run appends without a second header."""

    def _check_schema(self, schema: pa.Schema) -> pa.Schema:
        unfit = [
            f"`{f.name}` ({f.type})"
            for f in schema
            if pa.types.is_nested(f.type) or is_binary(f.type)
        ]
        if unfit:
            raise TerminalError(
                f"CSV cannot hold column(s) {', '.join(unfit)}; flatten or convert them to "
                "strings with a processor, or write JSON or Parquet."
            )
        return schema

    def _make_encoder(self) -> RowEncoder:
        return _CsvEncoder(self.config, self._schema)


class _CsvEncoder:
    def __init__(self, config: CsvOutputConfig, schema: pa.Schema | None) -> None:
        self._config = config
        self._schema = schema

    def _encode(self, batch: pa.RecordBatch, header: bool) -> bytes:
        import pyarrow.csv as pacsv

        options: Any = pacsv.WriteOptions(
            include_header=header,
            delimiter=self._config.delimiter,
            null_string=self._config.null_value,
            quoting_style=_QUOTING[self._config.quoting],
            quoting_header=_QUOTING[self._config.quoting],
        )
        sink = pa.BufferOutputStream()
        try:
            pacsv.write_csv(batch, sink, options)
        except pa.ArrowInvalid as exc:
            raise DataError(f"Records cannot be written as CSV: {exc}") from exc
        return sink.getvalue().to_pybytes()

    def encode(self, batch: pa.RecordBatch, *, at_start: bool) -> bytes:
        return self._encode(batch, at_start and self._config.header)

    def empty_file(self) -> bytes:
        if not self._config.header or self._schema is None:
            return b""
        return self._encode(pa.RecordBatch.from_pylist([], schema=self._schema), True)

    def ending(self) -> bytes:
        return b""
