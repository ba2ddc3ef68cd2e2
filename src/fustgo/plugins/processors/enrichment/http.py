"""`lookup.type: http`: a JSON API, asked once per key or once per batch of keys.

- `mode: per_key`: `GET url` with the key put into the template (`{key}`, or `{field}` by
  the records' key field names), up to `concurrency` requests at a time. 404 means the key
  is missing; the fields are read from the object at `response_path`.
- `mode: batch`: `POST url` with the keys as a JSON list (scalars, or objects for a
  composite key; under `body_field` if set), at most `max_keys_per_request` per request.
  The answer at `response_path` is a list of objects that carry their key (`lookup.key`)
  and fields, or an object from key to fields.

Why asyncio: per-key requests are I/O bound and many at a time. The processor runs in a
worker thread with no event loop, so each fetch runs its own short-lived loop, with one
`httpx.AsyncClient` whose pool keeps connections alive across the fetch's requests; a
semaphore bounds concurrency. Nothing outlives the fetch (processors have no close hook),
and no thread pool is needed. Each request is retried on its own (timeouts, connection
errors, 429 and 5xx, honouring `Retry-After`), so one flaky key does not redo the others.

Values are read as text (numbers, booleans and objects as their JSON text); `types` casts.
"""

from __future__ import annotations

import asyncio
import json
import string
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.http import (
    HttpSettings,
    async_client,
    at_path,
    credentials_error,
    origin,
    parse_json,
    refused,
    send,
    shown,
)
from fustgo.plugins.processors.enrichment.base import (
    KeyNames,
    LookupColumns,
    LookupShape,
    RemoteSource,
    Retrier,
    text_rows,
    text_shape,
)
from fustgo.plugins.spec import ui

if TYPE_CHECKING:
    import httpx

HttpMode = Literal["per_key", "batch"]


class HttpLookup(HttpSettings):
    """A JSON HTTP API, one request per key or per batch of keys."""

    type: Literal["http"]
    """Selects the HTTP lookup."""
    url: str = Field(
        min_length=1, json_schema_extra=ui(placeholder="https://crm.example.com/customers/{key}")
    )
    """`per_key`: a template with `{key}` (the key, parts joined by `key_separator`) or the
    records' key field names (`{customer_id}`), URL-encoded; `batch`: the endpoint the keys
    are POSTed to. Write `{{`/`}}` for literal braces."""
    mode: HttpMode = "per_key"
    """`per_key` (GET per key) or `batch` (POST of many keys)."""
    response_path: str = Field(default="", json_schema_extra=ui(placeholder="data.customer"))
    """Dotted path to the object with the fields (`per_key`), or to the list of objects or
    key → object mapping (`batch`); empty: the whole JSON body."""
    key: KeyNames | None = None
    """`batch`: the key field(s) of each answered object, in the order of the processor's
    `key`; by default the records' key field names."""
    body_field: str | None = None
    """`batch`: send `{<body_field>: [keys]}` instead of the bare list of keys."""
    concurrency: int = Field(default=8, ge=1, le=256, json_schema_extra=ui(advanced=True))
    """`per_key`: requests in flight at once."""
    max_keys_per_request: int = Field(
        default=1_000, ge=1, json_schema_extra=ui(advanced=True, unit="keys")
    )
    """`batch`: keys sent in one request; more keys make more requests."""
    key_separator: str = ":"
    """Joins the parts of a composite key for `{key}`."""

    def placeholders(self) -> list[str]:
        """The names between braces in `url`."""
        return [name for _, name, _, _ in string.Formatter().parse(self.url) if name is not None]

    def source(self, columns: LookupColumns, context: PluginContext) -> HttpSource:
        return HttpSource(self, columns, context)


class HttpSource(RemoteSource):
    """Requests made by an `httpx.AsyncClient` that lives as long as one fetch."""

    def __init__(self, config: HttpLookup, columns: LookupColumns, context: PluginContext) -> None:
        super().__init__(columns, context)
        self.config = config

    @property
    def description(self) -> str:
        return f"the HTTP lookup `{shown(self.config.url)}`"

    def open(self) -> LookupShape:
        return text_shape(self.columns)

    def check(self) -> None:
        import httpx

        root = origin(self.config.url)
        headers = self.config.request_headers()
        try:
            with httpx.Client(timeout=self.config.timeout, headers=headers) as client:
                response = client.head(root)
        except httpx.TimeoutException as exc:
            raise RetryableError(f"`{root}` did not answer within the timeout.") from exc
        except httpx.HTTPError as exc:
            raise RetryableError(f"Cannot reach `{root}`: {exc}.") from exc
        if response.status_code in (401, 403):
            raise credentials_error(root, response, "lookup")

    async def fetch(self, keys: pa.Table, retry: Retrier) -> pa.Table:
        async with async_client(self.config, connections=self.config.concurrency) as client:
            if self.config.mode == "per_key":
                return await self._per_key(client, keys, retry)
            return await self._batch(client, keys, retry)

    # ------------------------------------------------------------------------- per key

    async def _per_key(self, client: httpx.AsyncClient, keys: pa.Table, retry: Retrier) -> pa.Table:
        gate = asyncio.Semaphore(self.config.concurrency)

        async def one(url: str) -> dict[str, Any] | None:
            async with gate:
                return await retry(lambda: self._get(client, url), f"requesting `{shown(url)}`")

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(url)) for url in self._urls(keys)]
        except ExceptionGroup as errors:  # the first failure; the others were cancelled
            first = errors.exceptions[0]
            raise first from first.__cause__
        objects = [task.result() for task in tasks]
        found = [one is not None for one in objects]
        values = {
            name: [_text(one.get(name)) for one in objects if one is not None]
            for name in self.columns.fields or ()
        }
        return text_rows(keys, found, values, _text_schema(values))

    def _urls(self, keys: pa.Table) -> list[str]:
        texts = [_as_text(column).to_pylist() for column in keys.columns]
        names = self.columns.record_keys
        urls = []
        for parts in zip(*texts, strict=True):
            values = {name: quote(part, safe="") for name, part in zip(names, parts, strict=True)}
            values["key"] = quote(self.config.key_separator.join(parts), safe="")
            urls.append(self.config.url.format_map(values))
        return urls

    async def _get(self, client: httpx.AsyncClient, url: str) -> dict[str, Any] | None:
        response = await self._send(client, "GET", url, None)
        if response.status_code == 404:
            return None
        found = at_path(parse_json(response, url), self.config.response_path)
        if found is not None and not isinstance(found, dict):
            raise TerminalError(
                f"`{shown(url)}` answered a {type(found).__name__} at `response_path` "
                f"(`{self.config.response_path}`), not an object with the fields."
            )
        return found

    # --------------------------------------------------------------------------- batch

    async def _batch(self, client: httpx.AsyncClient, keys: pa.Table, retry: Retrier) -> pa.Table:
        size = self.config.max_keys_per_request
        parts = []
        for start in range(0, keys.num_rows, size):
            chunk = keys.slice(start, size)
            body = self._body(chunk)
            answer = await retry(
                lambda body=body: self._post(client, body), f"requesting {self.description}"
            )
            parts.append(self._rows(answer, keys.schema))
        return pa.concat_tables(parts)

    def _body(self, keys: pa.Table) -> Any:
        lookup_keys = self.config.key or list(self.columns.record_keys)
        rows = keys.to_pylist()
        if len(lookup_keys) == 1:
            payload: list[Any] = [row[keys.schema.names[0]] for row in rows]
        else:
            payload = [
                {
                    name: row[column]
                    for name, column in zip(lookup_keys, keys.schema.names, strict=True)
                }
                for row in rows
            ]
        return payload if self.config.body_field is None else {self.config.body_field: payload}

    async def _post(self, client: httpx.AsyncClient, body: Any) -> Any:
        url = self.config.url
        response = await self._send(client, "POST", url, json.dumps(body, default=str))
        if response.status_code == 404:
            raise TerminalError(f"`{shown(url)}` answered 404 Not Found; check `lookup.url`.")
        return at_path(parse_json(response, url), self.config.response_path)

    def _rows(self, answer: Any, key_schema: pa.Schema) -> pa.Table:
        """Lookup rows from a batch answer: a list of objects or a key → object mapping."""
        lookup_keys = self.config.key or list(self.columns.record_keys)
        if (
            isinstance(answer, dict)
            and len(lookup_keys) == 1
            and all(isinstance(one, dict) for one in answer.values())
        ):
            objects = [{**value, lookup_keys[0]: key} for key, value in answer.items()]
        elif isinstance(answer, list) and all(isinstance(one, dict) for one in answer):
            objects = answer
        else:
            raise TerminalError(
                f"{self.description} answered no list of objects at `response_path` "
                f"(`{self.config.response_path}`); check `response_path`."
            )
        arrays = []
        for name, field in zip(lookup_keys, key_schema, strict=True):
            if any(name not in one for one in objects):
                raise TerminalError(
                    f"An object answered by {self.description} has no key field `{name}`; "
                    "set `lookup.key` to the answer's key field."
                )
            arrays.append(_typed([one[name] for one in objects], field.type, name))
        fields = self.columns.fields or ()
        arrays += [
            pa.array([_text(one.get(name)) for one in objects], pa.string()) for name in fields
        ]
        return pa.Table.from_arrays(arrays, names=[*key_schema.names, *fields])

    # ---------------------------------------------------------------------------- both

    async def _send(
        self, client: httpx.AsyncClient, method: str, url: str, body: str | None
    ) -> httpx.Response:
        """One request; transient failures become `RetryableError`, refusals `TerminalError`."""
        headers = {"Content-Type": "application/json"} if body is not None else None
        response = await send(
            client, method, url, where="lookup", timeout=self.config.timeout,
            content=body, headers=headers,
        )  # fmt: skip
        if response.status_code >= 400 and response.status_code != 404:
            raise refused(response, url)
        return response


def _typed(values: list[Any], arrow_type: pa.DataType, name: str) -> pa.Array:
    """Answered key values as the records' key type (`"42"` and `42` both match 42)."""
    try:
        return pc.cast(pa.array([_text(value) for value in values], pa.string()), arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise TerminalError(
            f"Key field `{name}` of the HTTP answer holds values that are not {arrow_type}: "
            f"{str(exc).splitlines()[0]}."
        ) from exc


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise TerminalError(
            f"Keys of type {column.type} cannot be put in a URL; use text or number key fields."
        ) from exc


def _text_schema(values: dict[str, list[str | None]]) -> pa.Schema:
    return pa.schema([pa.field(name, pa.string()) for name in values])
