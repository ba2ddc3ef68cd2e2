"""Text values as JSON Lines for Arrow's reader: parse any run of rows in one call.

Each value becomes `{"v":<text>}` on a line of its own, so Arrow's JSON reader (one block,
no threads) turns a run of rows into one column `v`. The reader refuses a whole run at the
first value it cannot read; finding the refused rows of a batch is `json_rows` (rows that
are not JSON at all, found by Polars for the whole batch) and `parse_runs` (shorter and
shorter runs parsed apart, for values that do not fit the type).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FAN_OUT = 16
SHORT_RUN = 1024
MAX_BLOCK_BYTES = 1 << 30  # Arrow's reader takes an int32 block size
TIME_DAY = "1970-01-01T"  # text read as a time is parsed as a timestamp on this day
REFUSED = (pa.ArrowInvalid, pa.ArrowNotImplementedError)
"""What Arrow raises for a value it cannot read as the type asked for."""
_ROW = re.compile(r" in row (\d+)$")


class JsonLines:
    """Values of a text column as JSON Lines `{"v":<text>}`; any run of rows parses at once."""

    def __init__(self, text: pa.Array) -> None:
        wrap = [pa.scalar(s, pa.large_string()) for s in ('{"v":', "}\n", "")]
        filled = pc.fill_null(text, pa.scalar("null", pa.large_string()))
        wrapped = pc.binary_join_element_wise(wrap[0], filled, wrap[1], wrap[2])
        _validity, offsets, self._data = wrapped.buffers()
        start = wrapped.offset
        self._offsets = np.frombuffer(offsets, dtype=np.int64)[start : start + len(wrapped) + 1]

    def parse(
        self,
        start: int,
        stop: int,
        text_type: pa.DataType | None,
        unknown_fields: Literal["reject", "ignore"],
    ) -> pa.Array:
        """The values of rows `start:stop`, as `text_type` (None: inferred); raises
        `ArrowInvalid` when one of them is not JSON of that type.

        A run must give exactly one row per value: text like `1}{"v":2` is not one value.
        Text that closes the wrapper early and adds a key (`1, "w": 2`) is refused for its
        unknown key `w`, except with `unknown_fields: ignore`, where it reads as `1`.
        """
        import pyarrow.json as pajson

        begin, end = int(self._offsets[start]), int(self._offsets[stop])
        blob = self._data.slice(begin, end - begin)
        # One block holds the whole run, so a value spanning lines needs no slower chunking.
        block_size = max(blob.size + 1, 64)
        multiline = block_size > MAX_BLOCK_BYTES
        if text_type is None:
            options = pajson.ParseOptions(newlines_in_values=multiline)
        else:
            options = pajson.ParseOptions(
                explicit_schema=pa.schema([pa.field("v", text_type)]),
                newlines_in_values=multiline,
                unexpected_field_behavior="error" if unknown_fields == "reject" else "ignore",
            )
        block_size = min(block_size, MAX_BLOCK_BYTES)
        table = pajson.read_json(
            pa.BufferReader(blob),
            read_options=pajson.ReadOptions(use_threads=False, block_size=block_size),
            parse_options=options,
        )
        if table.num_rows != stop - start or table.column_names != ["v"]:
            raise pa.ArrowInvalid("the text is not one JSON value")
        return table.column("v").combine_chunks()


def parse_runs(
    rows: int, parse: Callable[[int, int], pa.Array]
) -> Iterator[tuple[int, pa.Array | Exception]]:
    """Rows `0:rows` parsed in the longest runs `parse(start, stop)` accepts, in order:
    `(start, values)` for each run, `(row, error)` for each row refused on its own."""
    stack = [(0, rows)] if rows else []
    while stack:
        start, stop = stack.pop()
        try:
            values = parse(start, stop)
        except REFUSED as exc:
            if stop - start == 1:
                yield start, exc
            else:
                named = _ROW.search(str(exc))
                stack.extend(_cut(start, stop, start + int(named[1]) if named else None))
            continue
        yield start, values


def _cut(start: int, stop: int, refused: int | None) -> list[tuple[int, int]]:
    """Rows `start:stop` cut in runs to parse apart, the last first (a stack pops the first
    run first).

    The rows are cut in √n runs (at least 16): with a few bad rows in a batch, that finds
    them in about three times the work of one parse, where halving takes eight and many
    more calls (each costs some 0.2 ms). When Arrow named the row it refused (`in row 37`),
    that row is cut out on its own too, and a short run is only cut around it.
    """
    if refused is not None and not start <= refused < stop:
        refused = None
    if refused is not None and stop - start <= SHORT_RUN:  # most likely the only bad row
        bounds = {start, refused, refused + 1, stop}
    else:
        count = min(max(FAN_OUT, math.isqrt(stop - start)), stop - start)
        bounds = set(np.linspace(start, stop, count + 1).astype(int).tolist())
        bounds |= set() if refused is None else {refused, refused + 1}
    return list(itertools.pairwise(sorted(bounds)))[::-1]


def json_rows(text: pa.Array) -> tuple[np.ndarray, dict[int, str]]:
    """Which rows hold JSON (NULL counts), and what is wrong with the others.

    Polars flags the suspects over the whole batch at once; Python's parser then confirms
    each suspect and says where it goes wrong (there are few, or the batch is broken).
    """
    import polars as pl

    series = pl.Series(text)
    matched = series.str.json_path_match("$").is_not_null() | (series.str.strip_chars() == "null")
    good = np.array(matched.fill_null(True).to_numpy(), dtype=bool)
    suspects = np.flatnonzero(~good)
    errors: dict[int, str] = {}
    for row, value in zip(
        suspects.tolist(), text.take(pa.array(suspects)).to_pylist(), strict=True
    ):
        try:
            json.loads(value)
        except (ValueError, RecursionError) as exc:
            errors[row] = str(exc)
        else:
            good[row] = True
    return good, errors


def merge_types(first: pa.DataType, other: pa.DataType) -> pa.DataType:
    """One type for values seen in two runs of rows: keys of both, the first type seen wins."""
    if pa.types.is_null(first):
        return other
    if pa.types.is_struct(first) and pa.types.is_struct(other):
        fields = {f.name: f.type for f in first}
        for f in other:
            fields[f.name] = merge_types(fields[f.name], f.type) if f.name in fields else f.type
        return pa.struct(list(fields.items()))
    if pa.types.is_list(first) and pa.types.is_list(other):
        return pa.list_(merge_types(first.value_type, other.value_type))
    return first


def as_parsed(value_type: pa.DataType) -> pa.DataType:
    """The type Arrow parses into: JSON has no date or time literals, so those are text."""
    if pa.types.is_date(value_type) or pa.types.is_time(value_type):
        return pa.string()
    if pa.types.is_struct(value_type):
        return pa.struct([pa.field(f.name, as_parsed(f.type)) for f in value_type])
    if pa.types.is_list(value_type):
        return pa.list_(as_parsed(value_type.value_type))
    return value_type


def from_text(parsed: pa.Array, value_type: pa.DataType) -> pa.Array:
    """`parsed` with its date and time text converted (raises `ArrowInvalid` on bad text)."""
    if parsed.type == value_type:
        return parsed
    if pa.types.is_struct(value_type):
        assert isinstance(parsed, pa.StructArray)
        children = [
            from_text(child, f.type) for child, f in zip(parsed.flatten(), value_type, strict=True)
        ]
        return pa.StructArray.from_arrays(children, fields=list(value_type), mask=parsed.is_null())
    if pa.types.is_list(value_type):
        assert isinstance(parsed, pa.ListArray)  # offsets index the whole child, sliced or not
        items = from_text(parsed.values, value_type.value_type)
        return pa.ListArray.from_arrays(parsed.offsets, items, mask=parsed.is_null())
    if pa.types.is_time(value_type):  # Arrow casts text to timestamps, not to times
        stamped = pc.binary_join_element_wise(TIME_DAY, parsed, "")
        return pc.cast(pc.cast(stamped, pa.timestamp("us")), value_type)
    return pc.cast(parsed, value_type)
