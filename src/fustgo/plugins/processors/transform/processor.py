"""The `transform` processor: casts, then operations, then computed fields, per batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.engine.expressions import compile_expression, referenced_columns
from fustgo.plugins.api import Processor
from fustgo.plugins.processors.failures import OnError, settle_failures
from fustgo.plugins.processors.frames import splice, to_frame
from fustgo.plugins.processors.transform.casts import (
    CastTypeName,
    cast_expression,
    cast_failure_message,
    iso_cast,
    logical_type,
    plain_text,
)
from fustgo.plugins.processors.transform.messages import row_messages
from fustgo.plugins.processors.transform.operation import TransformOperation
from fustgo.plugins.processors.transform.operations import Operation
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig, SqlExpression, ui

if TYPE_CHECKING:
    import polars as pl

_FAILED = "__fustgo_failed_{}"
_FLAG = "__fustgo_failed"


class TransformConfig(PluginConfig):
    """Casts fields, changes values with operations and computes fields with SQL."""

    casts: dict[str, CastTypeName] = Field(default_factory=dict)
    """Field → logical type, e.g. `{age: int64, price: "decimal(10,2)", day: date}`."""
    operations: list[Operation] = Field(default_factory=list)
    """Steps run in order after the casts, each selected by `op`: `map_values`, `concat`,
    `substring`, `trim`, `upper`, `lower`, `regex_replace`, `convert_timezone`. E.g.
    `[{op: trim, fields: [name]}, {op: map_values, field: status, mapping: {"1": paid}}]`."""
    fields: dict[str, SqlExpression] = Field(default_factory=dict)
    """Field → SQL expression, computed in order after the casts and operations; an
    existing field is replaced. E.g. `{full_name: "CONCAT(first_name, ' ', last_name)"}`."""
    on_error: OnError = "fail"
    """What happens to records whose cast fails (or whose wall-clock time does not exist in
    `convert_timezone`'s `from_zone`): `fail` sends them to the dead letter (counted against
    `error_limit`), `null` nulls the value, `skip` drops them and counts them as filtered."""
    datetime_format: str | None = Field(
        default=None, json_schema_extra=ui(placeholder="%d/%m/%Y %H:%M", advanced=True)
    )
    """strftime format of text cast to timestamp, date or time (and of timestamps and dates
    cast to string); ISO 8601 is recognized when omitted."""

    @model_validator(mode="after")
    def _something_to_do(self) -> Self:
        if not self.casts and not self.operations and not self.fields:
            raise ValueError("set `casts`, `operations`, `fields` or several of them")
        return self


@register_processor(
    "transform",
    config=TransformConfig,
    title="Transform",
    examples=[
        {
            "type": "transform",
            "casts": {"age": "int64", "price": "decimal(10,2)", "signed_up": "date"},
            "fields": {"full_name": "CONCAT(first_name, ' ', last_name)", "gross": "price * 1.2"},
        },
        {
            "type": "transform",
            "casts": {"ordered_at": "timestamp"},
            "datetime_format": "%d/%m/%Y %H:%M",
            "on_error": "skip",
        },
        {
            "type": "transform",
            "casts": {"created_at": "timestamp"},
            "operations": [
                {"op": "trim", "fields": ["name", "email"]},
                {"op": "lower", "fields": ["email"]},
                {
                    "op": "map_values",
                    "field": "status",
                    "mapping": {"1": "paid", "2": "refunded"},
                    "on_missing": "default",
                    "default": "unknown",
                },
                {"op": "regex_replace", "field": "phone", "pattern": "[^0-9+]", "replacement": ""},
                {
                    "op": "convert_timezone",
                    "field": "created_at",
                    "from_zone": "Asia/Shanghai",
                    "to_zone": "UTC",
                },
            ],
        },
    ],
)
class Transform(Processor[TransformConfig]):
    """Vectorized casts, operations and computed fields with Polars, over the columns they
    touch only."""

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        data = batch.data
        missing = [name for name in self.config.casts if name not in data.schema.names]
        if missing:
            raise TerminalError(
                f"Fields {missing} in `transform.casts` are not in the batch; fields are: "
                f"{', '.join(data.schema.names)}."
            )
        frame = plain_text(to_frame(data, self._inputs(data.schema.names)))
        reference = {field.name: field for field in data.schema}
        if self.config.casts:
            frame, keep = self._cast(data, frame, reference)
            if keep is not None:
                data, frame = data.filter(keep.to_arrow()), frame.filter(keep)
        available = list(data.schema.names)
        for index, operation in enumerate(self.config.operations):
            if data.num_rows == 0:
                return []
            data, frame = self._operate(data, frame, index, operation, available)
            available += [name for name in operation.targets() if name not in available]
        if data.num_rows == 0:
            return []
        for name, sql in self.config.fields.items():
            frame = self._compute(frame, name, sql, available)
            available += [] if name in available else [name]
        targets = [name for operation in self.config.operations for name in operation.targets()]
        changed = list(dict.fromkeys([*self.config.casts, *targets, *self.config.fields]))
        return [batch.with_data(splice(data, frame, changed, reference))]

    def _inputs(self, names: list[str]) -> list[str]:
        """The columns Polars needs: the cast ones and those the operations and
        expressions read."""
        wanted = set(self.config.casts)
        for operation in self.config.operations:
            wanted.update(operation.sources())
        for sql in self.config.fields.values():
            wanted.update(referenced_columns(compile_expression(sql)))
        return [name for name in names if name in wanted]

    def _cast(
        self, data: pa.RecordBatch, frame: pl.DataFrame, reference: dict[str, pa.Field]
    ) -> tuple[pl.DataFrame, pl.Series | None]:
        """The frame with cast columns, and the rows to keep (None: all of them)."""
        import polars as pl

        values, failures, messages = [], [], []
        for index, (name, type_name) in enumerate(self.config.casts.items()):
            target = logical_type(type_name)
            reference[name] = target.to_arrow_field(name)
            source = frame.schema[name]
            iso = iso_cast(data.column(name), source, target, self.config.datetime_format)
            if iso is not None:
                values.append(pl.lit(pl.Series(name, iso)).alias(name))
                continue
            value, failed = cast_expression(
                pl.col(name), source, target, self.config.datetime_format
            )
            flag = _FAILED.format(index)
            values.append(value.alias(name))
            failures.append(failed.alias(flag))
            messages.append(cast_failure_message(name, source, target, pl.col(flag)))
        try:
            flagged = frame.with_columns(failures)
            cast = flagged.with_columns(values)
        except pl.exceptions.PolarsError as exc:
            raise TerminalError(f"`transform.casts` cannot run: {_first_line(exc)}.") from exc
        if not failures:
            return cast, None
        flags = flagged.columns[frame.width :]
        failed_rows = flagged.select(pl.any_horizontal(flags)).to_series()
        cast = cast.drop(flags)
        if not failed_rows.any():
            return cast, None
        message = pl.concat_str(messages, separator="; ", ignore_nulls=True)
        errors = row_messages(flagged, failed_rows, message)
        keep = settle_failures(self, data, failed_rows.to_arrow(), errors, self.config.on_error)
        return cast, None if keep is None else pl.Series(keep)

    def _operate(
        self,
        data: pa.RecordBatch,
        frame: pl.DataFrame,
        index: int,
        operation: TransformOperation,
        available: list[str],
    ) -> tuple[pa.RecordBatch, pl.DataFrame]:
        """Run one operation; the rows it cannot convert are settled by `on_error`."""
        import polars as pl

        where = f"`transform.operations[{index}]` ({operation.op})"
        missing = [name for name in operation.sources() if name not in available]
        if missing:
            raise TerminalError(
                f"Field `{missing[0]}` used in {where} is not in the batch; fields are: "
                f"{', '.join(available)}."
            )
        expressions = operation.expressions(frame.schema, where)
        try:
            failures = operation.failures(frame.schema)
            if failures is None:
                return data, frame.with_columns(expressions)
            failed, message = failures
            # One lazy pass: Polars computes what the failures and the values share once.
            done = frame.lazy().with_columns(*expressions, failed.alias(_FLAG)).collect()
            flags = done.get_column(_FLAG)
            done = done.drop(_FLAG)
            if not flags.any():
                return data, done
            messages = row_messages(frame, flags, message)
        except pl.exceptions.PolarsError as exc:
            raise TerminalError(f"{where} cannot run: {_first_line(exc)}.") from exc
        keep = settle_failures(self, data, flags.to_arrow(), messages, self.config.on_error)
        if keep is None:
            return data, done
        return data.filter(keep), done.filter(pl.Series(keep))

    def _compute(
        self, frame: pl.DataFrame, name: str, sql: str, available: list[str]
    ) -> pl.DataFrame:
        import polars as pl

        expression = compile_expression(sql)
        missing = [column for column in referenced_columns(expression) if column not in available]
        if missing:
            raise TerminalError(
                f"Column `{missing[0]}` used in `transform.fields.{name}` is not in the batch; "
                f"columns are: {', '.join(available)}."
            )
        try:
            return frame.with_columns(expression.alias(name))
        except pl.exceptions.PolarsError as exc:
            raise TerminalError(
                f"`transform.fields.{name}` (`{sql}`) cannot be computed: {_first_line(exc)}."
            ) from exc


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
