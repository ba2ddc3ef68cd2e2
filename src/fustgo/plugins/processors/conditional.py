"""conditional: route records to branches by condition, each with its own processors.

The first branch whose condition is true takes the record (NULL counts as false). Records
no branch takes go through `default` processors, or on unchanged when there are none. The
outputs of all branches continue down the pipeline; to send branches to different
targets, use the `switch` output instead.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import Field

from fustgo.engine.batch import Batch
from fustgo.plugins.api import PluginContext, Processor, ProcessorStats
from fustgo.plugins.processors.routing import (
    build_chain,
    finish_chain,
    first_match_masks,
    run_chain,
)
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import NestedProcessors, PluginConfig, SqlExpression


class Branch(PluginConfig):
    """One branch: records matching `condition` go through `processors`."""

    condition: SqlExpression
    """SQL condition selecting the branch's records (`type = 'order'`)."""
    processors: NestedProcessors = Field(default_factory=list)
    """Processors applied to the branch's records, in order (none: they go on unchanged)."""


class ConditionalConfig(PluginConfig):
    """Routes records to branches by condition; each branch has its own processors."""

    branches: list[Branch] = Field(min_length=1)
    """Branches in order; a record takes the first whose condition is true."""
    default: NestedProcessors = Field(default_factory=list)
    """Processors for records no branch takes (none: they go on unchanged)."""


@register_processor(
    "conditional",
    config=ConditionalConfig,
    family="routing",
    title="Conditional branches",
    examples=[
        {
            "type": "conditional",
            "branches": [
                {
                    "condition": "kind = 'refund'",
                    "processors": [{"type": "transform", "fields": {"amount": "-amount"}}],
                },
                {
                    "condition": "kind = 'test'",
                    "processors": [{"type": "filter", "condition": "false"}],
                },
            ],
        }
    ],
)
class Conditional(Processor[ConditionalConfig]):
    """Routes each record to the first branch whose condition holds."""

    def __init__(self, config: ConditionalConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._chains = [
            build_chain(self.context, branch.processors, f".branches[{i}].processors")
            for i, branch in enumerate(config.branches)
        ]
        self._default = build_chain(self.context, config.default, ".default")
        # Serialize calls when any nested processor keeps state.
        self.thread_safe = all(p.thread_safe for chain in self._all_chains() for p in chain)  # type: ignore[misc]

    @property
    def holds_state(self) -> bool:
        return any(p.holds_state for chain in self._all_chains() for p in chain)

    def _all_chains(self) -> list[list[Processor[Any]]]:
        return [*self._chains, self._default]

    def process(self, batch: Batch) -> list[Batch]:
        conditions = [branch.condition for branch in self.config.branches]
        masks, unmatched = first_match_masks(batch.data, conditions, "conditional.branches")
        out: list[Batch] = []
        for mask, chain in zip([*masks, unmatched], self._all_chains(), strict=True):
            part = batch.data.filter(mask)
            if part.num_rows:
                out.extend(run_chain(chain, batch.with_data(part), self))
        return out

    def finish(self) -> list[Batch]:
        return [batch for chain in self._all_chains() for batch in finish_chain(chain, self)]

    def stats(self) -> ProcessorStats:
        """Own counters plus what the nested processors filtered and rejected."""
        nested = [p.stats() for chain in self._all_chains() for p in chain]
        own = super().stats()
        return replace(
            own,
            records_filtered=own.records_filtered + sum(s.records_filtered for s in nested),
            records_failed=own.records_failed + sum(s.records_failed for s in nested),
        )
