"""`map_values`: replace values found in a lookup table (codes → labels)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import BeforeValidator, Field, model_validator

from fustgo.engine.errors import TerminalError
from fustgo.plugins.processors.transform.casts import cast_expression, describe_type, logical_of
from fustgo.plugins.processors.transform.operation import OneFieldOperation

if TYPE_CHECKING:
    import polars as pl


def _key_text(value: object) -> object:
    """YAML reads `1:` and `true:` as a number and a bool; lookup keys are compared as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


MapValue = str | int | float | bool | None
"""A value written by `map_values`: text, a number, true/false or NULL."""


class MapValues(OneFieldOperation):
    """Replaces the values found in a lookup table, like a SQL `CASE` over codes."""

    op: Literal["map_values"]
    """Selects this operation."""
    mapping: dict[Annotated[str, BeforeValidator(_key_text)], MapValue] = Field(min_length=1)
    """Value found → value written, e.g. `{"1": paid, "2": refunded}`. Keys are read in the
    field's type, so `"1"` matches the number 1; the values are all text, all numbers or all
    true/false (NULL allowed)."""
    on_missing: Literal["keep", "null", "default"] = "keep"
    """What a value that is not in `mapping` becomes: `keep` leaves it, `null` makes it
    NULL, `default` writes `default`. NULL itself stays NULL."""
    default: MapValue = None
    """The value written for values not in `mapping`, with `on_missing: default`."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.on_missing == "default" and "default" not in self.model_fields_set:
            raise ValueError("`on_missing: default` needs `default`, the value to write")
        if self.on_missing != "default" and "default" in self.model_fields_set:
            raise ValueError(
                "`default` is used only with `on_missing: default`; add that or remove `default`"
            )
        kinds = {_kind(value) for value in self._written() if value is not None}
        if len(kinds) > 1 and kinds != {"int", "float"}:
            raise ValueError(
                "the values of `mapping` (and `default`) mix text, numbers and true/false; "
                "quote numbers to write text"
            )
        return self

    def _written(self) -> list[MapValue]:
        extra = [self.default] if self.on_missing == "default" else []
        return [*self.mapping.values(), *extra]

    def expressions(self, schema: pl.Schema, where: str) -> list[pl.Expr]:
        import polars as pl

        source = schema[self.field]
        result = self._result_type(source, where)
        column = pl.col(self.field)
        keys = self._keys(source, where)
        values = pl.Series(list(self.mapping.values()), dtype=result, strict=False)
        if self.on_missing == "keep":
            default: pl.Expr | None = column.cast(result)
        elif self.on_missing == "default":
            default = pl.lit(self.default, dtype=result)
        else:
            default = None
        looked_up = column.replace_strict(keys, values, default=default, return_dtype=result)
        return [pl.when(column.is_not_null()).then(looked_up).alias(self.targets()[0])]

    def _result_type(self, source: pl.DataType, where: str) -> pl.DataType:
        import polars as pl

        kinds = {_kind(value) for value in self._written() if value is not None}
        if not kinds:  # only NULLs written: the field keeps its type
            return source
        if kinds == {"text"}:
            written: pl.DataType = pl.String()
        elif kinds == {"bool"}:
            written = pl.Boolean()
        else:
            written = pl.Float64() if "float" in kinds else pl.Int64()
        if self.on_missing != "keep" or written in (source, pl.String):
            return written
        if written.is_numeric() and source.is_integer():
            return written
        if written.is_numeric() and source.is_numeric():
            return pl.Float64()
        raise TerminalError(
            f"{where} keeps the values of `{self.field}` ({describe_type(source)}) that are "
            f"not in `mapping`, but writes {describe_type(written)} values; set "
            "`on_missing: null` or `on_missing: default`."
        )

    def _keys(self, source: pl.DataType, where: str) -> pl.Series:
        """The lookup keys read in the field's type (the transform cast rules)."""
        import polars as pl

        texts = pl.Series("key", list(self.mapping), dtype=pl.String)
        if source != pl.String:
            value, failed = cast_expression(pl.col("key"), pl.String, logical_of(source), None)
            read = pl.DataFrame([texts]).select(value.alias("key"), failed.alias("failed"))
            bad = texts.filter(read.get_column("failed")).to_list()
            if bad:
                raise TerminalError(
                    f"{where}: the keys {bad} of `mapping` are not {describe_type(source)} "
                    f"values like those of `{self.field}`; fix the keys or cast the field."
                )
            texts = read.get_column("key").cast(source)
        repeated = texts.filter(texts.is_duplicated()).unique(maintain_order=True).to_list()
        if repeated:
            raise TerminalError(
                f"{where}: several keys of `mapping` mean the same value {repeated} of "
                f"`{self.field}`; keep one of each."
            )
        return texts


def _kind(value: MapValue) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return "float" if isinstance(value, float) else "text"
