"""regex_extract: the named groups of a regular expression become fields.

`(?P<year>\\d{4})-(?P<month>\\d{2})` on `source_field` gives the fields `year` and `month`
(text, or the logical type given in `types`), appended to the record or replacing a field of
the same name in place. The pattern is searched anywhere in the text (anchor it with `^` and
`$` to match the whole text); only the first match counts. Groups without a name are not
written.

A NULL source gives NULL groups and is not a failure. A value that does not match, or a
group whose text does not cast to its type, is a failure and `on_error` decides: `fail`
sends the record to the dead letter, `null` keeps it with NULL groups (or the NULL group),
`skip` drops it and counts it as filtered. One regex pass finds both the groups and whether
the text matched: the pattern is wrapped in one more group that is NULL only on no match.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Self

import pyarrow as pa
from pydantic import Field, field_validator, model_validator

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import Processor
from fustgo.plugins.processors.failures import OnError, settle_failures
from fustgo.plugins.processors.frames import require_fields, splice, to_frame
from fustgo.plugins.processors.transform.casts import (
    CastTypeName,
    cast_expression,
    cast_failure_message,
    describe_type,
    logical_type,
)
from fustgo.plugins.processors.transform.messages import message_text, row_messages
from fustgo.plugins.processors.transform.text import RegexPattern
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig

if TYPE_CHECKING:
    import polars as pl

_MATCH = "__fustgo_match"
_SOURCE = "__fustgo_source"
_FAILED = "__fustgo_failed_{}"


@lru_cache(maxsize=256)
def group_names(pattern: str) -> tuple[str, ...]:
    """The named groups of a valid pattern, in order (Polars numbers the unnamed ones)."""
    import polars as pl

    groups = pl.select(pl.lit("", dtype=pl.String).str.extract_groups(pattern)).to_series()
    assert isinstance(groups.dtype, pl.Struct)
    return tuple(field.name for field in groups.dtype.fields if not field.name.isdigit())


class RegexExtractConfig(PluginConfig):
    """Extracts the named groups of a regular expression from a text field into fields."""

    source_field: str = Field(min_length=1)
    """The text field to search, e.g. `message`. Numbers, true/false, dates and times are
    searched in their text form."""
    pattern: RegexPattern
    """A regular expression with named groups, one per field to write, e.g.
    `"^(?P<level>[A-Z]+) (?P<code>\\d+)"`. `(?i)` at the start ignores case."""
    types: dict[str, CastTypeName] = Field(default_factory=dict)
    """Group → logical type to cast its text to, e.g. `{code: int32, day: date}`; the other
    groups stay text."""
    keep_source: bool = True
    """Keep `source_field` in the record; false removes it after the extraction."""
    on_error: OnError = "fail"
    """What happens to a record whose text does not match (or whose group does not cast):
    `fail` sends it to the dead-letter output (counted against `settings.error_limit`),
    `null` keeps it with NULL groups, `skip` drops it and counts it as filtered."""

    @field_validator("pattern")
    @classmethod
    def _has_named_groups(cls, pattern: str) -> str:
        names = group_names(pattern)
        if not names:
            raise ValueError(
                "the pattern has no named group; name each part to extract, e.g. `(?P<year>\\d{4})`"
            )
        reserved = [name for name in names if name in (_MATCH, _SOURCE)]
        if reserved:
            raise ValueError(f"the group name `{reserved[0]}` is reserved; rename that group")
        return pattern

    @model_validator(mode="after")
    def _groups_fit(self) -> Self:
        names = group_names(self.pattern)
        unknown = [name for name in self.types if name not in names]
        if unknown:
            raise ValueError(f"`types` names {unknown}, which are not groups of `pattern`: {names}")
        if self.keep_source and self.source_field in names:
            raise ValueError(
                f"the group `{self.source_field}` would replace `source_field`; rename the "
                "group or set `keep_source: false`"
            )
        return self


@register_processor(
    "regex_extract",
    config=RegexExtractConfig,
    title="Regex extract",
    examples=[
        {
            "type": "regex_extract",
            "source_field": "message",
            "pattern": "^(?P<level>[A-Z]+) \\[(?P<module>[a-z.]+)\\] (?P<text>.*)$",
        },
        {
            "type": "regex_extract",
            "source_field": "order_ref",
            "pattern": "(?P<region>[A-Z]{2})-(?P<year>\\d{4})-(?P<number>\\d+)",
            "types": {"year": "int16", "number": "int64"},
            "keep_source": False,
            "on_error": "null",
        },
    ],
)
class RegexExtract(Processor[RegexExtractConfig]):
    """One `str.extract_groups` over the whole batch; typed groups use the transform casts."""

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        import polars as pl

        data = batch.data
        source = self.config.source_field
        require_fields(data.schema, [source], "`regex_extract.source_field`")
        frame = to_frame(data, [source])
        text = _text(frame.schema[source], source)
        names = list(group_names(self.config.pattern))
        wrapped = f"(?P<{_MATCH}>{self.config.pattern})"
        try:
            groups = frame.select(
                pl.col(source).alias(_SOURCE), text.str.extract_groups(wrapped).alias("groups")
            ).unnest("groups")
        except pl.exceptions.PolarsError as exc:
            raise TerminalError(
                f"`regex_extract` cannot search `{source}`: {str(exc).splitlines()[0]}."
            ) from exc
        reference = {field.name: field for field in data.schema}
        frame, failures = self._extract(groups, names, reference)
        keep = None
        if failures is not None:
            failed, messages = failures
            keep = settle_failures(self, data, failed.to_arrow(), messages, self.config.on_error)
        if keep is not None:
            data, frame = data.filter(keep), frame.filter(pl.Series(keep))
        if data.num_rows == 0:
            return []
        out = splice(data, frame, names, reference)
        if not self.config.keep_source and source not in names:
            out = out.drop_columns([source])
        return [batch.with_data(out)]

    def _extract(
        self, groups: pl.DataFrame, names: list[str], reference: dict[str, pa.Field]
    ) -> tuple[pl.DataFrame, tuple[pl.Series, pa.Array] | None]:
        """The typed groups, and the failed rows with one message per row (None: no failure)."""
        import polars as pl

        source = self.config.source_field
        unmatched = pl.col(_SOURCE).is_not_null() & pl.col(_MATCH).is_null()
        values, flags = [], [unmatched.alias(_FAILED.format("match"))]
        messages = [
            pl.when(unmatched).then(
                message_text(
                    f"`{source}` value `",
                    pl.col(_SOURCE).cast(pl.String),
                    f"` does not match `{self.config.pattern}`",
                )
            )
        ]
        for index, name in enumerate(names):
            type_name = self.config.types.get(name)
            if type_name is None:
                reference[name] = pa.field(name, pa.string())
                continue
            target = logical_type(type_name)
            reference[name] = target.to_arrow_field(name)
            value, failed = cast_expression(pl.col(name), pl.String(), target, None)
            flag = _FAILED.format(index)
            values.append(value.alias(name))
            flags.append(failed.alias(flag))
            messages.append(
                cast_failure_message(name, pl.String(), target, pl.col(flag), f"group `{name}`")
            )
        try:
            flagged = groups.with_columns(flags)
            typed = flagged.with_columns(values)
        except pl.exceptions.PolarsError as exc:
            raise TerminalError(
                f"`regex_extract.types` cannot run: {str(exc).splitlines()[0]}."
            ) from exc
        failed_rows = flagged.select(pl.any_horizontal(flagged.columns[groups.width :]))
        failed_rows = failed_rows.to_series()
        if not failed_rows.any():
            return typed.select(names), None
        message = pl.concat_str(messages, separator="; ", ignore_nulls=True)
        return typed.select(names), (failed_rows, row_messages(flagged, failed_rows, message))


def _text(dtype: pl.DataType, source: str) -> pl.Expr:
    """The source as text; lists, structs and binary have no text form to search."""
    import polars as pl

    if dtype == pl.String:
        return pl.col(source)
    if dtype.is_nested() or dtype in (pl.Binary, pl.Object):
        raise TerminalError(
            f"`regex_extract` searches text, but `{source}` is {describe_type(dtype)}; encode "
            "it as text first (e.g. `transform` with `casts: {"
            f"{source}: json}}`)."
        )
    return pl.col(source).cast(pl.String)
