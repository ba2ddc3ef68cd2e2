"""`http` input: read the records of a REST API, page by page, once or polling.

One pass (no `interval`) is a bounded read: a plain `Input` with one split that ends
after the last page. With `interval` the input polls again after each pass and runs until
the run is stopped. It is still a plain `Input`, not a `StreamInput`: an API answers
pages, not messages to acknowledge, so what makes it resumable is the checkpoint after
each page (the next page's request and the highest incremental value seen), saved once
the output flushed that page.

Incremental reads keep the highest value of `incremental.field` as the input's committed
state: the runner commits it only when a run succeeds (`Input.state_after_read`, since it
is known only after reading), and the next run sends it as `incremental.param`
(`?since=…`), so it asks only for what is new. Each polling pass sends the highest value
seen so far; within a pass, every page is asked with the same value.

Records are decoded like JSON messages (`streams/formats.py`): one Arrow parse per page,
types from `schema` or inferred from the first page, and records that do not fit go to
the dead letter.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urljoin

import pyarrow as pa
from pydantic import Field

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint, JSONValue, Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.retry import retry_async
from fustgo.engine.settings import RetryPolicy
from fustgo.engine.units import Duration
from fustgo.plugins.api import Input, PluginContext
from fustgo.plugins.clients.http import (
    HttpSettings,
    RateLimiter,
    async_client,
    at_path,
    check_reachable,
    parse_json,
    refused,
    send,
    shown,
)
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import PluginConfig, TypeName, ui
from fustgo.plugins.streams.formats import VALUE, Decoder, MessageFormat

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

_STATE_VERSION = 1
Scalar = str | int | float | bool


class PagePagination(PluginConfig):
    """Pages by number: `?page=1`, `?page=2`, … until a page is empty or short."""

    type: Literal["page"]
    """Selects paging by page number."""
    param: str = "page"
    """The query parameter of the page number."""
    start: int = 1
    """The first page's number."""
    size_param: str | None = Field(default=None, json_schema_extra=ui(placeholder="per_page"))
    """The query parameter of the page size, if the API takes one."""
    size: int | None = Field(default=None, ge=1)
    """Records per page: sent as `size_param`, and a page with fewer ends the pass
    (without it, only an empty page does)."""


class OffsetPagination(PluginConfig):
    """Pages by offset and limit: `?offset=0&limit=100`, `?offset=100&limit=100`, …"""

    type: Literal["offset"]
    """Selects paging by offset."""
    param: str = "offset"
    """The query parameter of the offset."""
    limit_param: str = "limit"
    """The query parameter of the page size."""
    limit: int = Field(default=100, ge=1)
    """Records per page; a page with fewer ends the pass."""


class CursorPagination(PluginConfig):
    """Pages by a cursor the answer names: the next page is `?cursor=<next>`."""

    type: Literal["cursor"]
    """Selects paging by cursor."""
    cursor_path: str = Field(min_length=1, json_schema_extra=ui(placeholder="meta.next_cursor"))
    """Dotted path, in the answer, of the next page's cursor; a missing, null or empty
    cursor (or an empty page, or the same cursor again) ends the pass."""
    param: str = "cursor"
    """The query parameter the cursor is sent as."""


class LinkPagination(PluginConfig):
    """Follows the `Link: <…>; rel="next"` header (RFC 8288, formerly 5988) until absent."""

    type: Literal["link"]
    """Selects paging by `Link` header."""


Pagination = Annotated[
    PagePagination | OffsetPagination | CursorPagination | LinkPagination,
    Field(discriminator="type"),
]


class HttpIncremental(PluginConfig):
    """Ask only for records newer than the highest value the last successful run read."""

    field: str = Field(min_length=1, json_schema_extra=ui(placeholder="updated_at"))
    """Field of each record (dotted path) whose value grows with each new or changed
    record: a number, or text that sorts in time order (ISO 8601 timestamps in one
    layout). The highest value read is kept when the run succeeds."""
    param: str = Field(default="since", min_length=1)
    """The query parameter that carries the highest value of the last run."""
    start: Scalar | None = None
    """The value sent on the first run (and after `--full-refresh`); nothing is sent when
    omitted, so the first run reads everything."""


class HttpInputConfig(HttpSettings):
    """Read the records of a JSON REST API, page by page."""

    url: str = Field(
        min_length=1,
        pattern=r"^https?://",
        json_schema_extra=ui(placeholder="https://api.example.com/v1/orders"),
    )
    """The endpoint (query parameters go in `params`)."""
    method: Literal["GET", "POST"] = "GET"
    """`GET`, or `POST` with `body` (search endpoints)."""
    params: dict[str, Scalar] = Field(default_factory=dict)
    """Query parameters sent with every request."""
    body: Any = None
    """`POST`: the JSON body sent with every request (paging goes in the query string)."""
    records_path: str = Field(default="", json_schema_extra=ui(placeholder="data.items"))
    """Dotted path to the list of records in each answer; empty: the answer itself (a
    list of records, or one object)."""
    pagination: Pagination | None = None
    """How to ask for the next page: `page`, `offset`, `cursor` or `link`; one request
    when omitted."""
    max_pages: int | None = Field(default=None, ge=1, json_schema_extra=ui(advanced=True))
    """Stop a pass after this many pages (a guard against APIs that never end)."""
    incremental: HttpIncremental | None = None
    """Ask only for what is new since the last successful run."""
    interval: Duration | None = Field(default=None, gt=0)
    """Poll again this long after each pass ends, until the run is stopped; one pass
    (a bounded read) when omitted."""
    rate_limit: float | None = Field(default=None, gt=0, json_schema_extra=ui(unit="requests/s"))
    """At most this many requests per second."""
    retry: RetryPolicy = Field(default_factory=RetryPolicy, json_schema_extra=ui(advanced=True))
    """Backoff of each request on timeouts, dropped connections, 408, 429 (waiting at least
    its `Retry-After`) and 5xx."""
    schema_: dict[str, TypeName] | None = Field(
        default=None, alias="schema", json_schema_extra=ui(advanced=True)
    )
    """Fields and their logical types (`{id: int64, at: "timestamp(UTC)"}`); inferred from
    the first page when omitted."""
    unknown_fields: Literal["reject", "ignore"] = "reject"
    """Keys not in `schema`: `reject` sends the record to the dead letter, `ignore` leaves
    them out."""


@register_input(
    "http",
    config=HttpInputConfig,
    family="http",
    title="HTTP API (REST polling)",
    capabilities={"incremental", "resume"},
    examples=[
        {
            "type": "http",
            "url": "https://api.example.com/v1/orders",
            "bearer_token": "${API_TOKEN:}",
            "records_path": "data",
            "pagination": {"type": "cursor", "cursor_path": "meta.next_cursor"},
            "incremental": {"field": "updated_at", "param": "updated_since"},
            "rate_limit": 5,
        }
    ],
)
class HttpInput(Input[HttpInputConfig]):
    """Pages of a REST API; each page is one batch with the checkpoint to resume after it."""

    state_after_read = True

    def __init__(self, config: HttpInputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        where = self.context.component_path or "input"
        self._where = where
        record_format = MessageFormat.model_validate(
            {"type": "json", "schema": config.schema_, "unknown_fields": config.unknown_fields}
        )
        self._decoder = Decoder(record_format, self, where)
        self._limiter = RateLimiter(config.rate_limit)
        self._since: JSONValue = None
        self._planned = False
        self._highest: JSONValue = None
        self._read = False

    # ----------------------------------------------------------------------- state

    def restore_state(self, state: dict[str, JSONValue] | None) -> None:
        incremental = self.config.incremental
        self._since = incremental.start if incremental is not None else None
        if incremental is not None and state is not None:
            if state.get("field") == incremental.field:
                self._since = state.get("since")
            else:
                log.warning(
                    "`%s.incremental.field` is now `%s`, not `%s` as in the last run: "
                    "starting from `incremental.start`.",
                    self._where, incremental.field, state.get("field"),
                )  # fmt: skip
        self._planned = True

    def next_state(self) -> dict[str, JSONValue] | None:
        incremental = self.config.incremental
        if incremental is None:
            return None
        if self._read:
            value = self._highest
        elif self._planned:
            value = self._since
        else:
            return None  # a resumed run that read nothing: the planned state stands
        return {"version": _STATE_VERSION, "field": incremental.field, "since": value}

    async def splits(self, parallelism: int) -> list[Split]:
        return [Split(id="all", params={"since": self._since}, description=shown(self.config.url))]

    async def check_connection(self) -> None:
        if self.config.method != "GET":  # a POST might change data: only reach the server
            await check_reachable(self.config, self.config.url, self._where)
            return
        async with async_client(self.config, connections=1) as client:
            await self._page(client, self._request(self._first_page(), self._since))

    # ------------------------------------------------------------------------ read

    async def read(self, split: Split, checkpoint: Checkpoint | None) -> AsyncIterator[Batch]:
        position = checkpoint.position if checkpoint is not None else {}
        highest: JSONValue = position.get("highest", split.params.get("since"))
        paging = position.get("paging")
        since = position.get("since") if paging is not None else highest
        records = checkpoint.records if checkpoint is not None else 0
        pages = int(position.get("pages") or 0) if paging is not None else 0  # type: ignore[arg-type]
        metadata = BatchMetadata(source=f"http:{shown(self.config.url)}", split_id=split.id)
        self._highest, self._read = highest, True
        async with async_client(self.config, connections=1) as client:
            while True:
                state = paging if isinstance(paging, dict) else self._first_page()
                request = self._request(state, since)
                answer, response = await retry_async(
                    lambda request=request: self._page(client, request),
                    self.config.retry,
                    what=f"requesting `{shown(request[0])}`",
                )
                found = self._records(answer, request[0], first=pages == 0)
                highest = self._highest_of(found, highest)
                self._highest = highest
                pages += 1
                following = self._next_page(state, answer, response, len(found))
                if self.config.max_pages is not None and pages >= self.config.max_pages:
                    following = None
                finished = following is None and self.config.interval is None
                records += len(found)
                at: dict[str, JSONValue] = {
                    "since": since,
                    "paging": following,
                    "highest": highest,
                    "pages": pages,
                }
                data = self._decode(found, metadata)
                yield Batch(data, metadata, Checkpoint(split.id, at, records, finished))
                if finished:
                    return
                if following is None:
                    assert self.config.interval is not None
                    await asyncio.sleep(self.config.interval)
                    since, paging, pages = highest, None, 0
                else:
                    paging = following

    def _first_page(self) -> dict[str, JSONValue]:
        paging = self.config.pagination
        if isinstance(paging, PagePagination):
            return {"page": paging.start}
        if isinstance(paging, OffsetPagination):
            return {"offset": 0}
        return {}

    def _request(
        self, state: dict[str, JSONValue], since: JSONValue
    ) -> tuple[str, dict[str, Any] | None]:
        """The URL and query parameters of one page."""
        if "url" in state:  # a `Link: rel=next` URL carries its own query
            return str(state["url"]), None
        params: dict[str, Any] = dict(self.config.params)
        incremental = self.config.incremental
        if incremental is not None and since is not None:
            params[incremental.param] = since
        paging = self.config.pagination
        if isinstance(paging, PagePagination):
            params[paging.param] = state["page"]
            if paging.size_param is not None and paging.size is not None:
                params[paging.size_param] = paging.size
        elif isinstance(paging, OffsetPagination):
            params[paging.param] = state["offset"]
            params[paging.limit_param] = paging.limit
        elif isinstance(paging, CursorPagination) and state.get("cursor") is not None:
            params[paging.param] = state["cursor"]
        return self.config.url, params

    async def _page(
        self, client: httpx.AsyncClient, request: tuple[str, dict[str, Any] | None]
    ) -> tuple[Any, httpx.Response]:
        """One page's JSON answer (one attempt; the caller retries)."""
        url, params = request
        await self._limiter.wait()
        body = None
        headers = None
        if self.config.method == "POST":
            body = json.dumps(self.config.body)
            headers = {"Content-Type": "application/json"}
        response = await send(
            client, self.config.method, url, where=self._where, timeout=self.config.timeout,
            content=body, params=params, headers=headers,
        )  # fmt: skip
        if response.status_code == 404:
            raise TerminalError(
                f"`{shown(url)}` answered 404 Not Found; check `{self._where}.url`."
            )
        if response.status_code >= 400:
            raise refused(response, url)
        return parse_json(response, url), response

    def _records(self, answer: Any, url: str, *, first: bool) -> list[Any]:
        path = self.config.records_path
        found = at_path(answer, path)
        if found is None:
            if first and path:
                keys = ", ".join(answer) if isinstance(answer, dict) else type(answer).__name__
                raise TerminalError(
                    f"The answer of `{shown(url)}` has nothing at `{self._where}.records_path` "
                    f"(`{path}`); its top level holds: {keys}."
                )
            return []
        if isinstance(found, dict):
            return [found]
        if not isinstance(found, list):
            raise TerminalError(
                f"The answer of `{shown(url)}` holds a {type(found).__name__} at "
                f"`{self._where}.records_path` (`{path}`), not a list of records."
            )
        return found

    def _next_page(
        self, state: dict[str, JSONValue], answer: Any, response: httpx.Response, count: int
    ) -> dict[str, JSONValue] | None:
        """The paging state of the next page, or None when this page was the last."""
        paging = self.config.pagination
        if paging is None:
            return None
        if isinstance(paging, LinkPagination):
            link = response.links.get("next", {}).get("url")
            return {"url": urljoin(str(response.url), link)} if link else None
        if count == 0:
            return None
        if isinstance(paging, PagePagination):
            if paging.size is not None and count < paging.size:
                return None
            return {"page": int(state["page"]) + 1}  # type: ignore[arg-type]
        if isinstance(paging, OffsetPagination):
            if count < paging.limit:
                return None
            return {"offset": int(state["offset"]) + count}  # type: ignore[arg-type]
        cursor = at_path(answer, paging.cursor_path)
        if cursor in (None, "") or cursor == state.get("cursor"):
            return None
        if not isinstance(cursor, str | int | float):
            raise TerminalError(
                f"`{self._where}.pagination.cursor_path` (`{paging.cursor_path}`) holds a "
                f"{type(cursor).__name__}, not a cursor value."
            )
        return {"cursor": cursor}

    def _highest_of(self, records: list[Any], highest: JSONValue) -> JSONValue:
        incremental = self.config.incremental
        if incremental is None:
            return highest
        for record in records:
            value = at_path(record, incremental.field) if isinstance(record, dict) else None
            if value is None:
                continue
            if highest is None or _later(value, highest, self._where, incremental.field):
                highest = value
        return highest

    def _decode(self, records: list[Any], metadata: BatchMetadata) -> pa.RecordBatch:
        payloads = [json.dumps(record, ensure_ascii=False).encode() for record in records]
        raw = pa.RecordBatch.from_arrays(
            [pa.array(payloads, pa.binary())], schema=pa.schema([pa.field(VALUE, pa.binary())])
        )
        if not records:
            return raw.drop_columns([VALUE])
        return self._decoder.decode(raw, Batch(raw, metadata))


def _later(value: Any, than: Any, where: str, field: str) -> bool:
    """Whether `value` is above `than`: numbers by value, text by its order."""
    numbers = (int, float)
    if (
        isinstance(value, numbers)
        and isinstance(than, numbers)
        and not isinstance(value, bool)
        and not isinstance(than, bool)
    ):
        return value > than
    if isinstance(value, str) and isinstance(than, str):
        return value > than
    raise TerminalError(
        f"`{where}.incremental.field` (`{field}`) holds {value!r} after {than!r}: its values "
        "must all be numbers or all text that sorts in time order."
    )
