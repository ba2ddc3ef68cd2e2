"""Outputs that branch: `broker` (every record to several outputs) and `switch` (by case).

Both hold child outputs built from their config (`PluginContext.build`), open each child
on its first batch (a case's processors may change the schema), and flush and close them
together. Each child write is isolated: a record a child refuses is dead-lettered alone,
and a batch retried after a transient error is not written twice to a child that already
took it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field

from fustgo.engine.batch import Batch
from fustgo.engine.isolation import write_isolating
from fustgo.engine.stats import StageSummary
from fustgo.plugins.api import Output, OutputStats, PluginContext, Processor
from fustgo.plugins.processors.routing import (
    build_chain,
    finish_chain,
    first_match_masks,
    run_chain,
)
from fustgo.plugins.registry import register_output
from fustgo.plugins.spec import (
    NestedOutput,
    NestedOutputs,
    NestedProcessors,
    PluginConfig,
    SqlExpression,
)


class _Child:
    """A child output, opened on first use, with its place in the pipeline file and its
    stage counters (records handed to it, written, dead-lettered; counted per batch)."""

    def __init__(self, output: Output[Any]) -> None:
        self.output = output
        self.opened = False
        self.stage = StageSummary(name=output.context.component_path, plugin=_plugin(output))
        self.routes = output.branch_stages() is not None

    async def write(self, batch: Batch, owner: Output[Any]) -> None:
        if not self.opened:
            await self.output.open(batch.schema)
            self.opened = True

        async def write(data: pa.RecordBatch) -> None:
            await self.output.write(batch.with_data(data))

        failed = 0

        async def reject(data: pa.RecordBatch, error: str) -> None:
            nonlocal failed
            failed += data.num_rows
            owner.reject(data, error)

        written = await write_isolating(write, batch.data, reject)
        # What the child rejected itself goes up to the runner's dead letter; a routing
        # child (a switch in a broker) counts its own and its branches count theirs.
        forwarded = owner.forward_rejected(self.output)
        if not self.routes:
            failed += forwarded
            written -= forwarded
        self.stage.records_in += batch.num_rows
        self.stage.records_out += written
        self.stage.records_failed += failed

    def stages(self) -> list[StageSummary]:
        """This child's stage and, for a routing child, the stages below it."""
        nested = self.output.branch_stages()
        if nested is None:
            return [self.stage]
        own = self.output.stats()  # a routing child hands on what it routed
        stage = StageSummary(
            name=self.stage.name,
            plugin=self.stage.plugin,
            records_in=self.stage.records_in,
            records_out=own.records_routed,
            records_failed=self.stage.records_failed + own.records_failed,
        )
        return [stage, *nested]

    async def flush(self) -> None:
        if self.opened:
            await self.output.flush()

    async def close(self) -> None:
        if self.opened:
            await self.output.close()


class _BranchingOutput(Output[Any]):
    """Children management shared by broker and switch."""

    def _adopt(self, children: list[_Child]) -> None:
        self._children = children
        # Durable only if every target is: one non-durable child makes checkpoints unsafe.
        self.durable_flush = all(c.output.durable_flush for c in children)  # type: ignore[misc]
        self._delivered: tuple[pa.RecordBatch | None, set[tuple[int, int]]] = (None, set())

    async def _deliver(self, index: int, piece: int, batch: Batch, source: pa.RecordBatch) -> None:
        """Write piece `piece` of `source` to child `index` unless it already took it.

        The runner retries a whole batch after a transient error; remembering what each
        child took keeps the retry from writing twice to the children that succeeded.
        """
        seen_for, done = self._delivered
        if seen_for is not source:
            self._delivered = (source, set())
            done = self._delivered[1]
        if (index, piece) in done:
            return
        await self._children[index].write(batch, self)
        done.add((index, piece))

    def _chain_of(self, index: int) -> list[Processor[Any]]:
        """The processors in front of child `index` (none for a broker)."""
        return []

    def branch_stages(self) -> list[StageSummary]:
        stages: list[StageSummary] = []
        for index, child in enumerate(self._children):
            for processor in self._chain_of(index):
                counts = processor.stats()
                stages.append(
                    StageSummary(
                        name=processor.context.component_path,
                        plugin=_plugin(processor),
                        records_in=counts.records_in,
                        records_out=counts.records_out,
                        records_filtered=counts.records_filtered,
                        records_failed=counts.records_failed,
                    )
                )
            stages.extend(child.stages())
        return stages

    async def flush(self) -> None:
        await asyncio.gather(*(child.flush() for child in self._children))

    async def close(self) -> None:
        errors = []
        for child in self._children:
            try:
                await child.close()
            except Exception as exc:  # close every child, then report the first failure
                errors.append(exc)
        self._stats.files_written = sum(c.output.stats().files_written for c in self._children)
        self._stats.bytes_written = sum(c.output.stats().bytes_written for c in self._children)
        if errors:
            raise errors[0]


class BrokerConfig(PluginConfig):
    """Sends every record to each of several outputs (fan-out)."""

    outputs: NestedOutputs = Field(min_length=1)
    """The outputs, each written like a top-level `output`."""
    pattern: Literal["fan_out"] = "fan_out"
    """`fan_out`: every output receives every record."""


@register_output(
    "broker",
    config=BrokerConfig,
    family="routing",
    title="Broker (fan-out)",
    examples=[
        {
            "type": "broker",
            "outputs": [
                {"type": "parquet", "path": "lake/orders.parquet"},
                {
                    "type": "sqlite",
                    "connection": {"database": "shop.db"},
                    "write": {"table": "orders"},
                },
            ],
        }
    ],
)
class Broker(_BranchingOutput):
    """Writes each batch to every child output."""

    def __init__(self, config: BrokerConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        children = []
        for index, child in enumerate(config.outputs):
            output = self.context.build("output", child, f".outputs[{index}]")
            assert isinstance(output, Output)
            children.append(_Child(output))
        self._adopt(children)

    async def write(self, batch: Batch) -> None:
        for index in range(len(self._children)):
            await self._deliver(index, 0, batch, batch.data)
        self._stats.records_written += batch.num_rows
        self._stats.records_routed += batch.num_rows
        self._stats.batches_written += 1


class Case(PluginConfig):
    """One case: records matching `condition` go through `processors` to `output`."""

    condition: SqlExpression
    """SQL condition selecting the case's records (`type = 'order'`)."""
    processors: NestedProcessors = Field(default_factory=list)
    """Processors applied to the case's records before its output."""
    output: NestedOutput
    """Where the case's records go."""


class DefaultCase(PluginConfig):
    """Where records matching no case go."""

    processors: NestedProcessors = Field(default_factory=list)
    """Processors applied before the default output."""
    output: NestedOutput
    """Where records matching no case go."""


class SwitchConfig(PluginConfig):
    """Routes each record to the first case whose condition holds, each with its own output."""

    cases: list[Case] = Field(min_length=1)
    """Cases in order; a record goes to the first whose condition is true."""
    default: DefaultCase | None = None
    """Records matching no case; without it they go to the dead-letter output."""


@register_output(
    "switch",
    config=SwitchConfig,
    family="routing",
    title="Switch (route by condition)",
    examples=[
        {
            "type": "switch",
            "cases": [
                {"condition": "type = 'order'", "output": {"type": "json", "path": "orders.jsonl"}},
                {
                    "condition": "type = 'refund'",
                    "processors": [{"type": "transform", "fields": {"amount": "-amount"}}],
                    "output": {"type": "csv", "path": "refunds.csv"},
                },
            ],
            "default": {"output": {"type": "json", "path": "unknown.jsonl"}},
        }
    ],
)
class Switch(_BranchingOutput):
    """Routes records by condition to per-case processors and outputs."""

    def __init__(self, config: SwitchConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._chains: list[list[Processor[Any]]] = []
        children = []
        routes = [
            (f".cases[{i}]", case.processors, case.output) for i, case in enumerate(config.cases)
        ]
        if config.default is not None:
            routes.append((".default", config.default.processors, config.default.output))
        for prefix, processors, output in routes:
            self._chains.append(build_chain(self.context, processors, f"{prefix}.processors"))
            child = self.context.build("output", output, f"{prefix}.output")
            assert isinstance(child, Output)
            children.append(_Child(child))
        self._adopt(children)
        if any(p.holds_state for chain in self._chains for p in chain):
            self.durable_flush = False  # type: ignore[misc]  # held records die with a crash

    def stats(self) -> OutputStats:
        """Own counters, with what the cases' processors filtered."""
        self._stats.records_filtered = sum(
            p.stats().records_filtered for chain in self._chains for p in chain
        )
        return self._stats

    async def write(self, batch: Batch) -> None:
        conditions = [case.condition for case in self.config.cases]
        masks, unmatched = first_match_masks(batch.data, conditions, "output.cases")
        unrouted = 0
        if self.config.default is not None:
            masks.append(unmatched)
        else:
            rest = batch.data.filter(unmatched)
            unrouted = rest.num_rows
            if rest.num_rows:
                self.reject(
                    rest,
                    "The record matched no case of the `switch` output and it has no `default`.",
                )
        for index, mask in enumerate(masks):
            part = batch.data.filter(mask)
            if not part.num_rows:
                continue
            routed = await asyncio.to_thread(
                run_chain, self._chains[index], batch.with_data(part), self
            )
            for number, piece in enumerate(routed):
                await self._deliver(index, number, piece, batch.data)
        self._stats.records_written += batch.num_rows
        self._stats.records_routed += batch.num_rows - unrouted
        self._stats.records_failed += unrouted
        self._stats.batches_written += 1

    def _chain_of(self, index: int) -> list[Processor[Any]]:
        return self._chains[index]

    async def close(self) -> None:
        # End of stream: what stateful case processors still hold goes to their outputs.
        for index, chain in enumerate(self._chains):
            held = await asyncio.to_thread(finish_chain, chain, self)
            for piece in held:
                await self._children[index].write(piece, self)
        await super().close()


def _plugin(plugin: Output[Any] | Processor[Any]) -> str:
    info = getattr(type(plugin), "info", None)
    return info.name if info is not None else type(plugin).__name__
