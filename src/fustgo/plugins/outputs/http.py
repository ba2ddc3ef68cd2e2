"""`http` output: send records to an HTTP API, many per request or one each.

`batch` mode sends up to `max_records` records per request as a JSON array or NDJSON;
`record` mode sends each record as one JSON object, `concurrency` requests at a time. The
URL may name record fields (`/customers/{id}`): records are then grouped by their URL.

Each request is retried with the engine's one policy (`retry`) on timeouts, dropped
connections, 408, 429 (at least its `Retry-After`) and 5xx. An answer that says the
records are wrong (400, 409, 413, 422, and 404 for a URL made of record fields) is a data
error: in `record` mode that record goes to the dead letter and the others are written; in
`batch` mode the runner splits the batch until the bad records are alone (and requests
that succeeded before may be sent again: the API should be idempotent). 401/403 and other
answers stop the run with the server's reason.

`flush` has nothing to wait for: a record is written when the server answered 2xx.
"""

from __future__ import annotations

import asyncio
import string
from typing import TYPE_CHECKING, Literal, Self
from urllib.parse import quote

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch
from fustgo.engine.errors import DataError, TerminalError
from fustgo.engine.retry import retry_async
from fustgo.engine.settings import RetryPolicy
from fustgo.plugins.api import Output, PluginContext
from fustgo.plugins.clients.http import (
    SNIPPET_CHARS,
    HttpSettings,
    RateLimiter,
    async_client,
    check_reachable,
    refused,
    send,
    shown,
)
from fustgo.plugins.registry import register_output
from fustgo.plugins.spec import ui

if TYPE_CHECKING:
    import httpx

DATA_STATUSES = frozenset({400, 409, 413, 422})
"""Answers that blame the records sent, not the configuration."""
NDJSON = "application/x-ndjson"


class HttpOutputConfig(HttpSettings):
    """Send records to an HTTP API: JSON arrays or NDJSON per batch, or one per request."""

    url: str = Field(
        min_length=1,
        pattern=r"^https?://",
        json_schema_extra=ui(placeholder="https://api.example.com/v1/events"),
    )
    """The endpoint; may name record fields (`https://api/customers/{id}`), URL-encoded.
    Write `{{`/`}}` for literal braces."""
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    """The request method."""
    mode: Literal["batch", "record"] = "batch"
    """`batch`: up to `max_records` records per request; `record`: one record (a JSON
    object) per request."""
    body_format: Literal["json", "ndjson"] = "json"
    """`batch`: a JSON array of objects, or NDJSON (one object per line)."""
    max_records: int = Field(default=1_000, ge=1, json_schema_extra=ui(unit="records"))
    """`batch`: records per request."""
    fields: list[str] | None = None
    """The fields sent; every field when omitted."""
    concurrency: int = Field(default=4, ge=1, le=256, json_schema_extra=ui(advanced=True))
    """`record`: requests in flight at once."""
    rate_limit: float | None = Field(default=None, gt=0, json_schema_extra=ui(unit="requests/s"))
    """At most this many requests per second."""
    retry: RetryPolicy = Field(default_factory=RetryPolicy, json_schema_extra=ui(advanced=True))
    """Backoff of each request on timeouts, dropped connections, 408, 429 (waiting at least
    its `Retry-After`) and 5xx."""

    def placeholders(self) -> list[str]:
        """The record fields the URL names."""
        return [name for _, name, _, _ in string.Formatter().parse(self.url) if name]

    @model_validator(mode="after")
    def _template(self) -> Self:
        try:
            self.placeholders()
        except ValueError as exc:
            message = f"`url` is not a valid template ({exc}); write `{{{{` for `{{`"
            raise ValueError(message) from exc
        return self


@register_output(
    "http",
    config=HttpOutputConfig,
    family="http",
    title="HTTP API",
    examples=[
        {
            "type": "http",
            "url": "https://api.example.com/v1/events",
            "bearer_token": "${API_TOKEN:}",
            "mode": "batch",
            "body_format": "ndjson",
            "max_records": 500,
        }
    ],
)
class HttpOutput(Output[HttpOutputConfig]):
    """Sends each batch as requests; written once the server answered 2xx."""

    def __init__(self, config: HttpOutputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._where = self.context.component_path or "output"
        self._client: httpx.AsyncClient | None = None
        self._limiter = RateLimiter(config.rate_limit)
        self._fields = config.placeholders()

    async def open(self, schema: pa.Schema) -> None:
        missing = [n for n in [*self._fields, *(self.config.fields or ())] if n not in schema.names]
        if missing:
            raise TerminalError(
                f"`{self._where}` names fields {missing} (in `url` or `fields`), which the "
                f"records do not have; their fields are: {', '.join(schema.names)}."
            )
        if self._client is None:
            connections = self.config.concurrency if self.config.mode == "record" else 1
            self._client = async_client(self.config, connections=connections)

    async def check_connection(self) -> None:
        await check_reachable(self.config, self.config.url.split("{", 1)[0], self._where)

    async def write(self, batch: Batch) -> None:
        from fustgo.plugins.processors.json_codec.encode import encode_objects

        data = batch.data
        if data.num_rows == 0:
            return
        if self._client is None:
            await self.open(data.schema)
        sent = data.select(self.config.fields) if self.config.fields else data
        objects: list[str] = encode_objects(sent).to_pylist()
        urls = self._urls(data)
        rejected = 0
        if self.config.mode == "record":
            rejected = await self._each(data, objects, urls)
        else:
            await self._batches(objects, urls)
        self._stats.records_written += data.num_rows - rejected
        self._stats.bytes_written += batch.nbytes
        self._stats.batches_written += 1

    def _urls(self, data: pa.RecordBatch) -> list[str]:
        if not self._fields:
            return [self.config.url] * data.num_rows
        columns = {name: data.column(name).to_pylist() for name in self._fields}
        urls = []
        for row in range(data.num_rows):
            values = {}
            for name, column in columns.items():
                value = column[row]
                if value is None:
                    raise DataError(
                        f"`{name}` is null, and `{self._where}.url` needs it: "
                        f"`{shown(self.config.url)}`."
                    )
                values[name] = quote(str(value), safe="")
            urls.append(self.config.url.format_map(values))
        return urls

    async def _batches(self, objects: list[str], urls: list[str]) -> None:
        groups: dict[str, list[str]] = {}
        for url, text in zip(urls, objects, strict=True):
            groups.setdefault(url, []).append(text)
        size = self.config.max_records
        for url, texts in groups.items():
            for start in range(0, len(texts), size):
                chunk = texts[start : start + size]
                if self.config.body_format == "ndjson":
                    body, kind = "\n".join(chunk) + "\n", NDJSON
                else:
                    body, kind = "[" + ",".join(chunk) + "]", "application/json"
                problem = await self._send(url, body, kind)
                if problem is not None:
                    raise DataError(problem)

    async def _each(self, data: pa.RecordBatch, objects: list[str], urls: list[str]) -> int:
        """One request per record; refused records go to the dead letter (their count)."""
        gate = asyncio.Semaphore(self.config.concurrency)

        async def one(url: str, body: str) -> str | None:
            async with gate:
                return await self._send(url, body, "application/json")

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(u, b)) for u, b in zip(urls, objects, strict=True)]
        problems = [task.result() for task in tasks]
        bad = [row for row, problem in enumerate(problems) if problem is not None]
        if bad:
            reasons = pa.array([problems[row] for row in bad], pa.string())
            self.reject(data.take(pa.array(bad, pa.int64())), reasons)
        return len(bad)

    async def _send(self, url: str, body: str, kind: str) -> str | None:
        """Send one request with retries: None when accepted, the reason when the server
        refused the records (a data error)."""
        assert self._client is not None
        client = self._client

        async def attempt() -> httpx.Response:
            await self._limiter.wait()
            return await send(
                client, self.config.method, url, where=self._where,
                timeout=self.config.timeout, content=body.encode(),
                headers={"Content-Type": kind},
            )  # fmt: skip

        response = await retry_async(attempt, self.config.retry, what=f"sending to `{shown(url)}`")
        status = response.status_code
        if status < 400:
            return None
        if status in DATA_STATUSES or (status == 404 and self._fields):
            return (
                f"`{shown(url)}` answered {status} {response.reason_phrase}: "
                f"{response.text[:SNIPPET_CHARS]!r}"
            )
        raise refused(response, url)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
