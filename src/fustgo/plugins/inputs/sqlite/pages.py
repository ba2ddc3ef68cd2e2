"""One page of rows from ADBC to a typed Arrow batch, and its bad rows to the dead letter.

ADBC types each result from its own rows: a column whose page mixes storage classes comes
back widened (integers and reals as doubles, reals among text printed with 7 digits). A
page whose Arrow type fits the column's logical type is converted directly (the fast
path); any other column is read again as (storage class, SQLite's text of the value) and
parsed, so a value is never altered and a value that does not fit is reported, not lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from fustgo.engine.batch import JSONValue
from fustgo.engine.types import LogicalType
from fustgo.plugins.clients.sql import Parsed, parse_text
from fustgo.plugins.clients.sqlite import has_text_affinity, quote

TEXT_KINDS = frozenset({"string", "json", "decimal", "date", "time", "timestamp"})
_ADBC_REAL = r"^-?\d\.\d{6}e[+-]\d{2,3}$"  # how ADBC prints a real among text


@dataclass(frozen=True)
class ReadColumn:
    """One output column: how it is selected and which logical type it becomes."""

    name: str
    declared: str
    logical: LogicalType
    select: str
    """SQL of the column on the fast path."""
    robust_text: str
    """SQL of the column as text, for a page whose values do not all fit its type."""

    @property
    def classes_sql(self) -> str:
        return f"typeof({quote(self.name)})"


@dataclass(frozen=True)
class Page:
    """One page read from a split: good rows, bad rows with messages, where it ended."""

    batch: pa.RecordBatch
    rows: int
    position: dict[str, JSONValue]
    has_more: bool
    rejected: pa.RecordBatch | None = None
    errors: pa.Array | None = None


def read_column(name: str, declared: str, logical: LogicalType) -> ReadColumn:
    """How to select a column of declared type `declared` read as `logical`."""
    column = quote(name)
    select = f"CAST({column} AS BLOB)" if logical.kind == "binary" else column
    # 17 digits give back the same double; DECIMAL columns of reals want SQLite's 15
    real_text = (
        f"printf('%.17g', {column})"
        if logical.kind.startswith("float")
        else f"CAST({column} AS TEXT)"
    )
    robust = (
        select
        if logical.kind == "binary"  # every value can be bytes
        else f"CASE typeof({column}) WHEN 'blob' THEN NULL WHEN 'real' THEN {real_text} "
        f"ELSE CAST({column} AS TEXT) END"
    )
    return ReadColumn(name, declared or "no declared type", logical, select, robust)


def convert_fast(array: pa.Array, column: ReadColumn) -> Parsed | None:
    """The column converted from ADBC's Arrow type, or None when it needs the text path."""
    logical = column.logical
    if array.null_count == len(array):  # ADBC types an all-NULL page as int64
        return Parsed(pa.nulls(len(array), logical.to_arrow()))
    kind, actual = logical.kind, array.type
    if kind == "bool" and actual == pa.int64():
        failed = pc.and_(pc.is_valid(array), pc.invert(pc.is_in(array, pa.array([0, 1]))))
        return Parsed(pc.if_else(failed, None, pc.not_equal(array, 0)), none_if_clean(failed))
    if kind.startswith("int") and actual == pa.int64():
        return Parsed(pc.cast(array, logical.to_arrow()))
    if kind.startswith("float") and actual in (pa.int64(), pa.float64()):
        return Parsed(pc.cast(array, logical.to_arrow()))
    if kind == "binary" and actual == pa.binary():
        return Parsed(array)
    if kind == "decimal" and actual == pa.float64():  # a DECIMAL column of reals
        try:
            return Parsed(pc.cast(array, logical.to_arrow()))
        except pa.ArrowInvalid:
            return None
    if kind in TEXT_KINDS and actual == pa.int64():
        return parse_text(pc.cast(array, pa.string()), logical)
    if kind in TEXT_KINDS and actual == pa.string():
        if (
            not has_text_affinity(column.declared)
            and pc.any(pc.match_substring_regex(array, _ADBC_REAL)).as_py()
        ):
            return None
        return parse_text(array, logical)
    return None


def convert_robust(classes: pa.Array, text: pa.Array, column: ReadColumn) -> Parsed:
    """The column converted from (storage class, text); a value of a wrong class fails."""
    kind = column.logical.kind
    if kind == "binary":  # selected as bytes whatever the class
        return Parsed(pc.cast(text, pa.binary()))
    if kind.startswith(("int", "uint", "bool")):
        allowed = ["null", "integer", "text"]
    else:
        allowed = ["null", "integer", "real", "text"]
    wrong_class = pc.invert(pc.is_in(classes, pa.array(allowed)))
    parsed = parse_text(pc.if_else(wrong_class, None, pc.cast(text, pa.string())), column.logical)
    failed = wrong_class if parsed.failed is None else pc.or_(wrong_class, parsed.failed)
    return Parsed(parsed.values, none_if_clean(failed))


def none_if_clean(failed: pa.Array) -> pa.BooleanArray | None:
    return failed if pc.any(failed).as_py() else None


def assemble(
    columns: list[ReadColumn],
    parsed: dict[str, Parsed],
    raw: dict[str, pa.Array],
    position: dict[str, JSONValue],
    has_more: bool,
) -> Page:
    """The page's batch of good rows, and its bad rows (as read) with a message per row."""
    fields = [column.logical.to_arrow_field(column.name) for column in columns]
    arrays = [parsed[column.name].values for column in columns]
    batch = pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
    failing = [column for column in columns if parsed[column.name].failed is not None]
    if not failing:
        return Page(batch=batch, rows=batch.num_rows, position=position, has_more=has_more)
    any_failed = pa.repeat(False, batch.num_rows)
    as_read = dict(zip(batch.schema.names, arrays, strict=True))
    errors: pa.Array | None = None
    for column in failing:
        failed = parsed[column.name].failed
        assert failed is not None
        any_failed = pc.or_(any_failed, failed)
        text = as_read[column.name] = pc.cast(raw[column.name], pa.string())
        shown = pc.if_else(
            pc.is_null(text), "a BLOB", pc.binary_join_element_wise("`", text, "`", "")
        )
        message = pc.if_else(
            failed,
            pc.binary_join_element_wise(
                f"Column `{column.name}` ({column.declared}) holds ",
                shown,
                f", which is not a valid {column.logical}",
                "",
            ),
            None,
        )
        # pairwise: binary_join_element_wise(null_handling="skip") drops all-null rows
        joined = message if errors is None else pc.binary_join_element_wise(errors, message, "; ")
        errors = message if errors is None else pc.coalesce(joined, errors, message)
    assert errors is not None
    return Page(
        batch=batch.filter(pc.invert(any_failed)),
        rows=batch.num_rows,
        position=position,
        has_more=has_more,
        rejected=pa.RecordBatch.from_pydict(as_read).filter(any_failed),
        errors=errors.filter(any_failed),
    )
