"""Routing records by condition and running nested processor chains.

Shared by the `conditional` processor and the `switch` output: conditions are evaluated
for the whole batch at once (first match wins; NULL counts as false), and a branch's
processors run in order exactly as the runner runs the top-level chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.engine.expressions import compile_expression, referenced_columns
from fustgo.plugins.api import Plugin, PluginContext, Processor
from fustgo.plugins.processors.frames import to_frame


def first_match_masks(
    data: pa.RecordBatch, conditions: Sequence[str], where: str
) -> tuple[list[pa.BooleanArray], pa.BooleanArray]:
    """One mask per condition (rows whose first true condition it is) and the unmatched mask.

    `where` names the config location in errors (`output.cases`).
    """
    import polars as pl

    names = data.schema.names
    expressions = []
    for index, condition in enumerate(conditions):
        expression = compile_expression(condition)
        missing = [c for c in referenced_columns(expression) if c not in names]
        if missing:
            raise TerminalError(
                f"Column `{missing[0]}` used in `{where}[{index}].condition` is not in the "
                f"batch; columns are: {', '.join(names)}."
            )
        expressions.append(expression.fill_null(False).alias(f"__route_{index}"))
    wanted = sorted({c for e in expressions for c in e.meta.root_names()})
    frame = to_frame(data, wanted)
    try:
        matched = frame.select(expressions) if expressions else pl.DataFrame()
    except pl.exceptions.PolarsError as exc:
        raise TerminalError(f"A condition in `{where}` cannot be evaluated: {exc}") from exc
    taken = pa.array([False] * data.num_rows, pa.bool_())
    masks = []
    for column in matched.columns:
        hit = pc.and_(matched[column].to_arrow().cast(pa.bool_()), pc.invert(taken))
        masks.append(hit)
        taken = pc.or_(taken, hit)
    return masks, pc.invert(taken)


def build_chain(
    context: PluginContext, configs: Sequence[Mapping[str, Any]], prefix: str
) -> list[Processor[Any]]:
    """Instantiate a nested list of processors declared at `prefix` (`.branches[0].processors`)."""
    chain = []
    for index, config in enumerate(configs):
        plugin = context.build("processor", config, f"{prefix}[{index}]")
        assert isinstance(plugin, Processor)
        chain.append(plugin)
    return chain


def run_chain(chain: Sequence[Processor[Any]], batch: Batch, owner: Plugin[Any]) -> list[Batch]:
    """`batch` through `chain`; the chain's dead letters are forwarded to `owner`."""
    batches = [batch]
    for processor in chain:
        produced: list[Batch] = []
        for item in batches:
            out = processor.process(item)
            processor.count_batch(item.num_rows, sum(b.num_rows for b in out))
            produced.extend(out)
        owner.forward_rejected(processor)
        batches = [b for b in produced if b.num_rows]
        if not batches:
            break
    return batches


def finish_chain(chain: Sequence[Processor[Any]], owner: Plugin[Any]) -> list[Batch]:
    """End of stream for a nested chain: each processor's held state through the rest."""
    out: list[Batch] = []
    for index, processor in enumerate(chain):
        held = [b for b in processor.finish() if b.num_rows]
        processor.count_batch(0, sum(b.num_rows for b in held))
        owner.forward_rejected(processor)
        for batch in held:
            out.extend(run_chain(chain[index + 1 :], batch, owner))
    return out
