"""Text operations of `transform`: concat, substring, trim, upper, lower, regex_replace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from fustgo.engine.errors import TerminalError
from fustgo.plugins.processors.transform.casts import describe_type
from fustgo.plugins.processors.transform.operation import (
    OneFieldOperation,
    TransformOperation,
    require_text,
)

if TYPE_CHECKING:
    import polars as pl


def _check_pattern(value: str) -> str:
    import polars as pl

    try:
        pl.select(pl.lit("", dtype=pl.String).str.contains(value))
    except pl.exceptions.PolarsError as exc:
        lines = str(exc).splitlines()
        reason = next((line[7:] for line in lines if line.startswith("error: ")), lines[0])
        raise PydanticCustomError(
            "regex",
            "invalid regular expression `{pattern}`: {reason}",
            {"pattern": value, "reason": reason},
        ) from exc
    return value


RegexPattern = Annotated[str, Field(min_length=1), AfterValidator(_check_pattern)]
"""A regular expression in the syntax Polars runs (Rust `regex`: no look-around or
backreferences), compiled when the config is validated (error type `regex`)."""


class _EachField(TransformOperation):
    fields: list[str] = Field(min_length=1)
    """The fields to change, each in place."""
    target: str | None = Field(default=None, min_length=1)
    """The field to write instead, when `fields` names one field."""

    @model_validator(mode="after")
    def _target_for_one_field(self) -> Self:
        if self.target is not None and len(self.fields) != 1:
            raise ValueError("`target` needs exactly one field in `fields`")
        return self

    def sources(self) -> list[str]:
        return list(self.fields)

    def targets(self) -> list[str]:
        return [self.target] if self.target else list(self.fields)

    def expressions(self, schema: pl.Schema, where: str) -> list[pl.Expr]:
        import polars as pl

        for name in self.fields:
            require_text(schema, name, where)
        return [
            self._change(pl.col(name)).alias(target)
            for name, target in zip(self.fields, self.targets(), strict=True)
        ]

    def _change(self, column: pl.Expr) -> pl.Expr:
        raise NotImplementedError


class Concat(TransformOperation):
    """Joins fields into one text field, with a separator between the parts."""

    op: Literal["concat"]
    """Selects this operation."""
    fields: list[str] = Field(min_length=1)
    """The fields to join, in order; numbers, dates and timestamps are written as text."""
    separator: str = ""
    """Text put between two parts, e.g. `" "` or `"-"`."""
    target: str = Field(min_length=1)
    """The field to write."""
    skip_nulls: bool = True
    """Leave NULL parts out, with their separator (NULL when every part is NULL); false
    makes the result NULL as soon as one part is NULL, like SQL's `||`."""

    def sources(self) -> list[str]:
        return list(self.fields)

    def targets(self) -> list[str]:
        return [self.target]

    def expressions(self, schema: pl.Schema, where: str) -> list[pl.Expr]:
        import polars as pl

        for name in self.fields:
            dtype = schema[name]
            if dtype.is_nested() or dtype == pl.Binary:
                raise TerminalError(
                    f"{where} joins text, but `{name}` is {describe_type(dtype)}; encode it "
                    "as text first (cast it to `json` or `string`)."
                )
        parts = [pl.col(name).cast(pl.String) for name in self.fields]
        joined = pl.concat_str(parts, separator=self.separator, ignore_nulls=self.skip_nulls)
        if self.skip_nulls:
            present = pl.any_horizontal([pl.col(name).is_not_null() for name in self.fields])
            joined = pl.when(present).then(joined)
        return [joined.alias(self.target)]


class Substring(OneFieldOperation):
    """Keeps part of a text: `length` characters from `start`."""

    op: Literal["substring"]
    """Selects this operation."""
    start: int = 0
    """First character to keep, counted from 0 (not 1 as in SQL's `SUBSTR`); a negative
    start counts from the end: `-4` keeps the last four characters."""
    length: int | None = Field(default=None, ge=0)
    """How many characters to keep; up to the end of the text when omitted."""

    def expressions(self, schema: pl.Schema, where: str) -> list[pl.Expr]:
        import polars as pl

        require_text(schema, self.field, where)
        sliced = pl.col(self.field).str.slice(self.start, self.length)
        return [sliced.alias(self.targets()[0])]


class Trim(_EachField):
    """Removes spaces (or the given characters) from the start and end of text."""

    op: Literal["trim"]
    """Selects this operation."""
    side: Literal["both", "start", "end"] = "both"
    """Which end(s) to trim."""
    characters: str | None = Field(default=None, min_length=1)
    """The characters to remove, e.g. `"0"` or `" ,;"`; whitespace when omitted."""

    def _change(self, column: pl.Expr) -> pl.Expr:
        if self.side == "start":
            return column.str.strip_chars_start(self.characters)
        if self.side == "end":
            return column.str.strip_chars_end(self.characters)
        return column.str.strip_chars(self.characters)


class Upper(_EachField):
    """Upper-cases text (every script with case: `straße` → `STRASSE`, `é` → `É`)."""

    op: Literal["upper"]
    """Selects this operation."""

    def _change(self, column: pl.Expr) -> pl.Expr:
        return column.str.to_uppercase()


class Lower(_EachField):
    """Lower-cases text."""

    op: Literal["lower"]
    """Selects this operation."""

    def _change(self, column: pl.Expr) -> pl.Expr:
        return column.str.to_lowercase()


class RegexReplace(OneFieldOperation):
    """Replaces the matches of a regular expression in text."""

    op: Literal["regex_replace"]
    """Selects this operation."""
    pattern: RegexPattern
    """The regular expression, e.g. `"[^0-9]+"`; `(?i)` at the start ignores case."""
    replacement: str = ""
    """Text put in place of each match; `${1}` or `${name}` insert a captured group
    (`$$` writes a dollar sign). Empty: the matches are removed."""
    replace_all: bool = True
    """Replace every match; false replaces the first one only."""

    def expressions(self, schema: pl.Schema, where: str) -> list[pl.Expr]:
        import polars as pl

        require_text(schema, self.field, where)
        column = pl.col(self.field)
        if self.replace_all:
            replaced = column.str.replace_all(self.pattern, self.replacement)
        else:
            replaced = column.str.replace(self.pattern, self.replacement, n=1)
        return [replaced.alias(self.targets()[0])]
