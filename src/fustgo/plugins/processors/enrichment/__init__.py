"""enrichment: look fields up by key in another source and add them to each record.

The lookup is a static table, a CSV/Parquet file (both held in memory), a SQL database
(SQLite, PostgreSQL), Redis hashes or a JSON HTTP API. Every batch is enriched with one
vectorized left join of its keys against lookup rows; remote sources are asked only for
the distinct keys the cache does not hold, once per batch (HTTP `per_key`: once per key,
concurrently). Records whose key has no row are kept with NULL fields, dropped, or sent to
the dead letter (`on_missing`); a NULL key part never matches. See
`docs/plugins/processors/enrichment.md`.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self, TypeVar

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch
from fustgo.engine.retry import Sleep
from fustgo.engine.settings import RetryPolicy
from fustgo.engine.types import from_arrow, parse_type
from fustgo.engine.units import Duration
from fustgo.plugins.api import PluginContext, Processor
from fustgo.plugins.processors.enrichment.base import (
    KeyNames,
    LookupColumns,
    LookupShape,
    LookupSource,
    MemorySource,
    RemoteSource,
    Retrier,
    check_unique_keys,
    conform,
)
from fustgo.plugins.processors.enrichment.cache import FOUND, CacheStats, LookupCache
from fustgo.plugins.processors.enrichment.file import FileLookup
from fustgo.plugins.processors.enrichment.http import HttpLookup
from fustgo.plugins.processors.enrichment.keys import (
    aligned_keys,
    missing_messages,
    polars_types,
)
from fustgo.plugins.processors.enrichment.postgresql import PostgresqlLookup
from fustgo.plugins.processors.enrichment.redis import RedisLookup
from fustgo.plugins.processors.enrichment.sqlite import SqliteLookup
from fustgo.plugins.processors.enrichment.static import StaticLookup
from fustgo.plugins.processors.failures import settle_failures
from fustgo.plugins.processors.frames import require_fields, splice, to_frame
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig, TypeName, ui

if TYPE_CHECKING:
    import polars as pl

T = TypeVar("T")

Lookup = Annotated[
    StaticLookup
    | FileLookup
    | Annotated[SqliteLookup | PostgresqlLookup, Field(discriminator="driver")]
    | RedisLookup
    | HttpLookup,
    Field(discriminator="type"),
]
"""Where rows are looked up, chosen by `type` (and `driver` for `sql`)."""

OnMissing = Literal["null", "skip", "fail"]


class LookupCacheConfig(PluginConfig):
    """The local cache of remote lookups (`sql`, `redis`, `http`); static and file
    lookups are in memory already and ignore it."""

    enabled: bool = True
    """Keep looked-up rows (and keys found missing) in memory for `ttl`, so a key is asked
    for once per `ttl` instead of once per batch."""
    ttl: Duration = 300.0
    """How long a cached row is used before the source is asked again (`30s`, `5m`, `1h`)."""
    max_entries: int = Field(default=100_000, ge=1, json_schema_extra=ui(unit="keys"))
    """Keys held at most; beyond, the least recently used are dropped. Each batch's cache
    lookup costs time in proportion (about 1 ms per 100,000 entries)."""


class EnrichmentConfig(PluginConfig):
    """Adds fields looked up by key in a table, file, SQL database, Redis or an HTTP API."""

    key: KeyNames
    """The record field(s) holding the key, e.g. `customer_id` or `[country, sku]`."""
    lookup: Lookup
    """Where to look rows up: `type: static | file | sql | redis | http` and its options."""
    fields: list[str] | dict[str, str] | None = None
    """Lookup fields to add: a list (`[name, tier]`) or source → record name
    (`{name: customer_name}`); a record field of the same name is replaced. Required for
    `redis` and `http`; by default every non-key column of the other lookups."""
    types: dict[str, TypeName] = Field(default_factory=dict)
    """Logical types of lookup columns by source name (`{tier: int32, since: date}`);
    Redis and HTTP values are text unless typed here, files and tables keep their types."""
    on_missing: OnMissing = "null"
    """A record whose key has no lookup row (or is NULL): `null` keeps it with NULL fields,
    `skip` drops it and counts it as filtered, `fail` sends it to the dead-letter output
    (counted against `settings.error_limit`)."""
    cache: LookupCacheConfig = Field(default_factory=LookupCacheConfig)
    """Local cache of `sql`, `redis` and `http` lookups."""
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    """Retries of a failed query or request (timeouts, unreachable server, HTTP 429/5xx);
    after the last one the run stops."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        lookup = self.lookup
        names = getattr(lookup, "key", None)
        if names is not None and len(names) != len(self.key):
            raise ValueError(
                f"`lookup.key` names {len(names)} column(s) but `key` {len(self.key)}; give "
                "one lookup column per record key field, in the same order"
            )
        if isinstance(lookup, RedisLookup | HttpLookup) and not self.fields:
            raise ValueError(f"a `{lookup.type}` lookup needs `fields`: the fields to read")
        if self.fields is not None and not self.fields:
            raise ValueError("`fields` is empty; list fields or leave it out")
        if isinstance(self.fields, dict) and len(set(self.fields.values())) < len(self.fields):
            raise ValueError("two `fields` have the same target name")
        if self.fields is not None:
            known = {*self.fields, *(names or self.key)}
            unknown = [name for name in self.types if name not in known]
            if unknown:
                raise ValueError(f"`types` names {unknown}, which are not in `fields` or the key")
        if isinstance(lookup, HttpLookup):
            _check_url(lookup, self.key)
        return self

    def lookup_columns(self) -> LookupColumns:
        return LookupColumns(
            record_keys=tuple(self.key),
            lookup_keys=tuple(getattr(self.lookup, "key", None) or self.key),
            fields=None if self.fields is None else tuple(self.fields),
            types={name: parse_type(text) for name, text in self.types.items()},
        )


def _check_url(lookup: HttpLookup, key: list[str]) -> None:
    placeholders = lookup.placeholders()
    allowed = {"key", *key}
    unknown = [name for name in placeholders if name not in allowed]
    if unknown:
        raise ValueError(
            f"`lookup.url` has placeholders {unknown}; use `{{key}}` or the key fields "
            f"{sorted(key)} (write `{{{{` for a literal brace)"
        )
    if lookup.mode == "per_key" and not placeholders:
        raise ValueError("`lookup.url` needs `{key}` (or a key field) with `mode: per_key`")
    if lookup.mode == "batch" and placeholders:
        raise ValueError("`lookup.url` takes no placeholders with `mode: batch`")


@dataclass
class _Ready:
    """The processor's lookup once opened (at the first batch)."""

    source: LookupSource
    description: str
    shape: LookupShape
    targets: dict[str, str]
    """Source field name → record field name."""
    reference: dict[str, pa.Field]
    """Record field name → Arrow field of an added field."""
    key_types: list[pa.DataType]
    """Arrow types of the keys; for Redis and HTTP, the first batch's."""
    rows: pl.DataFrame | None
    """Memory sources: every lookup row (record field names, with `FOUND`)."""
    cache: LookupCache | None


@register_processor(
    "enrichment",
    config=EnrichmentConfig,
    title="Enrichment",
    examples=[
        {
            "type": "enrichment",
            "key": "country",
            "lookup": {
                "type": "static",
                "key": "code",
                "rows": [{"code": "FR", "name": "France"}, {"code": "DE", "name": "Germany"}],
            },
            "fields": {"name": "country_name"},
        },
        {
            "type": "enrichment",
            "key": "customer_id",
            "lookup": {"type": "file", "path": "data/customers.csv", "key": "id"},
            "fields": ["name", "tier"],
            "on_missing": "fail",
        },
        {
            "type": "enrichment",
            "key": "customer_id",
            "lookup": {
                "type": "sql",
                "driver": "postgresql",
                "connection": {"host": "db.internal", "database": "crm", "user": "etl"},
                "table": "customers",
                "key": "id",
            },
            "fields": {"name": "customer_name", "segment": "segment"},
            "cache": {"ttl": "10m", "max_entries": 50000},
        },
        {
            "type": "enrichment",
            "key": "sku",
            "lookup": {"type": "redis", "key_prefix": "product:"},
            "fields": ["title", "price"],
            "types": {"price": "decimal(10,2)"},
        },
        {
            "type": "enrichment",
            "key": "ip",
            "lookup": {
                "type": "http",
                "url": "https://geo.example.com/v1/ip/{key}",
                "response_path": "data",
                "concurrency": 16,
            },
            "fields": ["country", "city"],
            "on_missing": "null",
        },
    ],
)
class Enrichment(Processor[EnrichmentConfig]):
    """One left join per batch against in-memory rows, or cached and fetched rows."""

    def __init__(self, config: EnrichmentConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self.clock: Callable[[], float] = time.monotonic
        """The cache's clock (seconds); tests replace it to expire entries without waiting."""
        self.sleep: Sleep = asyncio.sleep
        """Waits between retries; tests replace it to retry without waiting."""
        self._columns = config.lookup_columns()
        self._ready: _Ready | None = None
        self._open_lock = threading.Lock()

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        data = batch.data
        require_fields(data.schema, self.config.key, "`enrichment.key`")
        ready = self._open(data.schema)
        columns = self._columns
        records = to_frame(data, list(self.config.key))
        keys = aligned_keys(
            records,
            columns.record_keys,
            columns.lookup_keys,
            polars_types(ready.key_types),
            ready.description,
        )
        rows = ready.rows if ready.rows is not None else self._remote_rows(keys, ready)
        joined = keys.join(rows, on=columns.key_names, how="left", maintain_order="left")
        found = joined.get_column(FOUND).fill_null(False)
        targets = list(ready.targets.values())
        reference = {field.name: field for field in data.schema} | ready.reference
        enriched = splice(data, joined, targets, reference)
        if self.config.on_missing == "fail" and not found.all():
            messages: str | pa.Array = missing_messages(
                records, columns.record_keys, ready.description
            )
        else:
            messages = ""
        keep = settle_failures(self, data, (~found).to_arrow(), messages, self.config.on_missing)
        if keep is not None:
            enriched = enriched.filter(keep)
        return [batch.with_data(enriched)] if enriched.num_rows else []

    def finish(self) -> list[Batch]:
        """End of the stream: log the cache's counts and release connections."""
        ready = self._ready
        if ready is not None:
            if ready.cache is not None:
                stats = ready.cache.stats()
                self.context.logger.debug(
                    "Enrichment cache: %d hits, %d misses, %d evictions, %d expirations.",
                    stats.hits, stats.misses, stats.evictions, stats.expirations,
                )  # fmt: skip
            ready.source.close()
        return []

    def cache_stats(self) -> CacheStats:
        """Hits, misses, evictions and entries of the cache (zeros when there is none)."""
        ready = self._ready
        if ready is None or ready.cache is None:
            return CacheStats()
        return ready.cache.stats()

    async def check_connection(self) -> None:
        source = self._source()
        await asyncio.to_thread(source.check)

    def _source(self) -> LookupSource:
        return self.config.lookup.source(self._columns, self.context)

    def _open(self, schema: pa.Schema) -> _Ready:
        """The opened lookup; built at the first batch (whose key types Redis/HTTP take)."""
        ready = self._ready
        if ready is not None:
            return ready
        with self._open_lock:
            if self._ready is None:
                self._ready = self._build(schema)
            return self._ready

    def _build(self, schema: pa.Schema) -> _Ready:
        import polars as pl

        source = self._source()
        weakref.finalize(self, source.close)

        async def attempt() -> LookupShape:
            return source.open()

        retry = Retrier(self.config.retry, self.sleep)
        shape = _run(retry(attempt, f"opening {source.description}"))
        fields = self.config.fields
        if isinstance(fields, dict):
            targets = dict(fields)
        else:
            targets = {name: name for name in shape.fields.names}
        reference = {
            targets[field.name]: field.with_name(targets[field.name]) for field in shape.fields
        }
        if shape.key_types is not None:
            key_types = list(shape.key_types)
        else:  # Redis and HTTP: keys are the records' values
            key_types = [from_arrow(schema.field(name).type).to_arrow() for name in self.config.key]
        rows = cache = None
        if isinstance(source, MemorySource):
            lookup = pl.from_arrow(source.rows())
            assert isinstance(lookup, pl.DataFrame)
            rows = lookup.rename(targets).with_columns(pl.lit(True).alias(FOUND))
        elif self.config.cache.enabled:
            cache = LookupCache(
                self._columns.key_names,
                ttl_seconds=self.config.cache.ttl,
                max_entries=self.config.cache.max_entries,
                clock=self._now,
            )
        self.context.logger.debug("Enrichment lookup ready: %s.", source.description)
        return _Ready(
            source=source,
            description=source.description,
            shape=shape,
            targets=targets,
            reference=reference,
            key_types=key_types,
            rows=rows,
            cache=cache,
        )

    def _now(self) -> float:
        return self.clock()  # looked up at each call: tests replace `clock` after the first batch

    def _remote_rows(self, keys: pl.DataFrame, ready: _Ready) -> pl.DataFrame:
        """Lookup rows of the batch's distinct keys: cached ones, then fetched ones."""
        import polars as pl

        distinct = keys.drop_nulls().unique()
        if ready.cache is not None:
            hits, missing = ready.cache.lookup(distinct)
        else:
            hits, missing = pl.DataFrame(), distinct
        fetched = self._fetch(missing, ready)
        if ready.cache is not None and missing.height:
            ready.cache.store(missing, fetched)
        parts = [fetched.with_columns(pl.lit(True).alias(FOUND))]
        if hits.height:
            parts.append(hits.filter(pl.col(FOUND)))
        return pl.concat(parts, how="vertical")

    def _fetch(self, keys: pl.DataFrame, ready: _Ready) -> pl.DataFrame:
        """The source's rows for `keys`, fields under their record names; one round trip."""
        import polars as pl

        source = ready.source
        assert isinstance(source, RemoteSource)
        names = self._columns.key_names
        key_fields = [pa.field(n, t) for n, t in zip(names, ready.key_types, strict=True)]
        schema = pa.schema([*key_fields, *ready.shape.fields])
        if keys.height:
            wanted = keys.to_arrow().cast(pa.schema(key_fields))
            retry = Retrier(self.config.retry, self.sleep)
            table = conform(_run(source.fetch(wanted, retry)), schema, ready.description)
            check_unique_keys(table, self._columns, ready.description)
        else:
            table = schema.empty_table()
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame.rename(ready.targets)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a source's coroutine from the processor's thread on a loop of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:  # called from async code: another thread
        return pool.submit(asyncio.run, coroutine).result()
