"""The base of `transform`'s operations: what an operation reads, writes and computes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from fustgo.engine.errors import TerminalError
from fustgo.plugins.processors.transform.casts import describe_type
from fustgo.plugins.spec import PluginConfig

if TYPE_CHECKING:
    import polars as pl


class TransformOperation(PluginConfig):
    """One step of `transform.operations`: the fields it reads and writes, as expressions."""

    op: str
    """Selects the operation."""

    def sources(self) -> list[str]:
        """The fields this operation reads."""
        raise NotImplementedError

    def targets(self) -> list[str]:
        """The fields this operation writes, in order."""
        raise NotImplementedError

    def expressions(self, schema: pl.Schema, where: str) -> list[pl.Expr]:
        """One expression per target (aliased), for a frame with `schema`.

        Raises `TerminalError` naming `where` when a field has a type the operation cannot use.
        """
        raise NotImplementedError

    def failures(self, schema: pl.Schema) -> tuple[pl.Expr, pl.Expr] | None:
        """The rows whose values this operation cannot convert, and one message per row."""
        return None


class OneFieldOperation(TransformOperation):
    """An operation on one field that writes `target`, or the field itself."""

    field: str = Field(min_length=1)
    """The field to read."""
    target: str | None = Field(default=None, min_length=1)
    """The field to write; `field` itself is replaced when omitted."""

    def sources(self) -> list[str]:
        return [self.field]

    def targets(self) -> list[str]:
        return [self.target or self.field]


def require_text(schema: pl.Schema, name: str, where: str) -> None:
    """Stop the run when an operation that edits text meets another type."""
    import polars as pl

    if schema[name] != pl.String:
        raise TerminalError(
            f"{where} needs text, but `{name}` is {describe_type(schema[name])}; cast it "
            f"first with `casts: {{{name}: string}}`."
        )
