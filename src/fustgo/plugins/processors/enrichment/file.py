"""`lookup.type: file`: a CSV or Parquet file loaded once into memory.

The whole file becomes one Arrow table at the first batch, so it must fit in memory:
`max_bytes` bounds the loaded table. A file larger than that on disk (or, for Parquet,
whose needed columns are larger than that uncompressed, per its metadata) is refused
before it is read; a compressed CSV that turns out larger once loaded is refused after.
For files that do not fit, use a `sql` lookup.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Literal, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.errors import TerminalError
from fustgo.engine.types import from_arrow
from fustgo.engine.units import ByteSize
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.files import check_readable, display_path
from fustgo.plugins.processors.enrichment.base import (
    KeyNames,
    LookupColumns,
    MemorySource,
    lookup_rows,
)
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import pyarrow.parquet as pq

FileFormat = Literal["auto", "csv", "parquet"]
_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".csv.zst", ".csv.zstd", ".csv.bz2")
_NULL_VALUES = ["", "NULL", "null", "\\N"]


class FileLookup(PluginConfig):
    """A CSV or Parquet file, loaded into memory once (see `max_bytes`)."""

    type: Literal["file"]
    """Selects the file lookup."""
    path: str = Field(min_length=1, json_schema_extra=ui(placeholder="data/customers.csv"))
    """The file, relative to the pipeline file's folder; CSV may be gzip/zstd compressed."""
    format: FileFormat = "auto"
    """`csv` or `parquet`; `auto` goes by the extension (`.csv`, `.csv.gz`, `.tsv`,
    `.parquet`)."""
    key: KeyNames | None = None
    """The key column(s) of the file, in the order of the processor's `key`; by default the
    same names as the records' key fields."""
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    """CSV only: the character between fields."""
    max_bytes: ByteSize = Field(
        default=256 * 1024 * 1024, ge=1, json_schema_extra=ui(advanced=True, unit="bytes")
    )
    """The largest table this lookup holds in memory (Arrow bytes, e.g. `256MiB`). Larger
    files are refused with an error rather than risking the process's memory."""

    @model_validator(mode="after")
    def _format_is_known(self) -> Self:
        if self.format == "auto" and file_format(self.path) is None:
            raise ValueError(
                f"cannot tell the format of `{self.path}` from its extension; set `format` "
                "to `csv` or `parquet`"
            )
        return self

    def source(self, columns: LookupColumns, context: PluginContext) -> FileSource:
        return FileSource(self, columns, context)


def file_format(path: str) -> Literal["csv", "parquet"] | None:
    lowered = path.lower()
    if lowered.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if lowered.endswith(_CSV_SUFFIXES):
        return "csv"
    return None


class FileSource(MemorySource):
    """The file as one Arrow table of lookup rows, loaded at the first batch."""

    def __init__(self, config: FileLookup, columns: LookupColumns, context: PluginContext) -> None:
        super().__init__(columns, context)
        self.config = config
        self.path = context.resolve_path(config.path)
        self.format = file_format(config.path) if config.format == "auto" else config.format
        self._rows: pa.Table | None = None
        self._lock = threading.Lock()

    @property
    def description(self) -> str:
        return f"the lookup file `{display_path(self.path, self.context)}`"

    def rows(self) -> pa.Table:
        with self._lock:
            if self._rows is None:
                self._rows = self._load()
                self.context.logger.debug(
                    "Loaded %s: %d rows, %d bytes.",
                    self.description, self._rows.num_rows, self._rows.nbytes,
                )  # fmt: skip
            return self._rows

    def check(self) -> None:
        self._check_file()

    def _check_file(self) -> None:
        if not self.path.is_file():
            raise TerminalError(
                f"Lookup file `{self.path}` does not exist; check `lookup.path`, which is "
                "relative to the pipeline file's folder."
            )
        check_readable(self.path)

    def _load(self) -> pa.Table:
        self._check_file()
        table = self._read_parquet() if self.format == "parquet" else self._read_csv()
        rows = lookup_rows(table, self.columns, self.description)
        # Unsafe only for nanosecond times, which FustGo carries in microseconds.
        rows = pa.Table.from_arrays(
            [column.combine_chunks() for column in rows.columns], schema=rows.schema
        ).cast(_logical_schema(rows.schema), safe=False)
        self._check_size(rows.nbytes, "loaded")
        return rows

    def _read_csv(self) -> pa.Table:
        import pyarrow.csv as pacsv

        self._check_size(self.path.stat().st_size, "on disk")
        declared = {name: typ.to_arrow() for name, typ in self.columns.types.items()}
        try:
            return pacsv.read_csv(
                self.path,
                parse_options=pacsv.ParseOptions(delimiter=self.config.delimiter),
                convert_options=pacsv.ConvertOptions(
                    column_types=declared,
                    null_values=_NULL_VALUES,
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, OSError) as exc:
            raise TerminalError(
                f"Cannot read {self.description}: {str(exc).splitlines()[0]}. If a column's "
                "type was guessed wrong, declare it in `types`."
            ) from exc

    def _read_parquet(self) -> pa.Table:
        import pyarrow.parquet as pq

        try:
            file = pq.ParquetFile(self.path)
            names = file.schema_arrow.names
            wanted = None
            if self.columns.fields is not None:
                wanted = [
                    n for n in (*self.columns.lookup_keys, *self.columns.fields) if n in names
                ]
            self._check_size(_uncompressed_bytes(file, wanted), "uncompressed")
            return file.read(columns=wanted)
        except (pa.ArrowInvalid, OSError) as exc:
            raise TerminalError(
                f"Cannot read {self.description}: {str(exc).splitlines()[0]}."
            ) from exc

    def _check_size(self, size: int, what: str) -> None:
        if size > self.config.max_bytes:
            raise TerminalError(
                f"{self.description[0].upper()}{self.description[1:]} is {_mib(size)} "
                f"{what}, more than `lookup.max_bytes` ({_mib(self.config.max_bytes)}); raise "
                "`max_bytes` if the memory is there, or use a `sql` lookup."
            )


def _uncompressed_bytes(file: pq.ParquetFile, columns: list[str] | None) -> int:
    """Bytes of the (wanted) columns once decompressed, from the Parquet metadata."""
    metadata = file.metadata
    total = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            if columns is None or chunk.path_in_schema.split(".")[0] in columns:
                total += chunk.total_uncompressed_size
    return total


def _logical_schema(schema: pa.Schema) -> pa.Schema:
    """The schema in FustGo's Arrow types (microsecond times, no large strings)."""
    return pa.schema(
        [from_arrow(field.type, field.metadata).to_arrow_field(field.name) for field in schema]
    )


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
