"""`/api/v1/ws`: live updates of jobs over a WebSocket (design doc §7.2).

The client sends JSON text frames:

    {"type": "subscribe", "job_id": "…"}      # "*": every job
    {"type": "unsubscribe", "job_id": "…"}
    {"type": "ping"}

and gets `{"type": "subscribed", "job_id", "status", "execution_id"}` (the job's status
now), `{"type": "unsubscribed", "job_id"}`, `{"type": "pong"}`, then the events of its
jobs: `job_status`, `job_progress`, `log_entry`, `metric_update` (`server/events.py`).
A message it cannot act on gets `{"type": "error", "error": {"message", "field"}}`, the
REST error body, and the connection stays open. If it reads too slowly, the oldest events
are dropped and `{"type": "dropped", "count"}` says how many.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, Literal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fustgo.engine.errors import FustgoError
from fustgo.server.deps import AppState
from fustgo.server.errors import validation_details
from fustgo.server.events import ALL_JOBS, Event, Subscription
from fustgo.store.repositories import jobs

router = APIRouter(tags=["live"])


class ClientMessage(BaseModel):
    """What a client sends."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["subscribe", "unsubscribe", "ping"]
    job_id: str | None = Field(default=None, min_length=1, max_length=64)


@router.websocket("/ws")
async def live_updates(websocket: WebSocket) -> None:
    """Subscribe to jobs and receive their events as they happen."""
    state: AppState = websocket.app.state.fustgo
    await websocket.accept()
    connection = _Connection(websocket, state, state.runs.events.hub.open())
    forwarding = asyncio.create_task(connection.forward())
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            await connection.handle(frame)
    except WebSocketDisconnect:
        pass
    finally:
        state.runs.events.hub.close(connection.subscription)
        forwarding.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await forwarding


class _Connection:
    """One client: its subscription, and one lock so replies and events never interleave
    (an `unsubscribed` reply is the last thing the client hears of that job)."""

    def __init__(self, websocket: WebSocket, state: AppState, subscription: Subscription) -> None:
        self.websocket = websocket
        self.state = state
        self.subscription = subscription
        self.lock = asyncio.Lock()

    async def forward(self) -> None:
        """Send the subscription's events until the connection ends."""
        while True:
            event = await self.subscription.queue.get()
            async with self.lock:
                if self.subscription.dropped:
                    count, self.subscription.dropped = self.subscription.dropped, 0
                    await self._send_now(
                        {
                            "type": "dropped",
                            "count": count,
                            "message": f"{count} event(s) were dropped: this client reads "
                            "more slowly than they come. The job's logs and executions "
                            "have everything.",
                        }
                    )
                if self.subscription.wants(event["job_id"]):  # not unsubscribed meanwhile
                    await self._send_now(event)

    async def handle(self, frame: dict[str, Any]) -> None:
        text = frame.get("text")
        if text is None:
            await self.error("Send JSON text frames, not binary ones.")
            return
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            await self.error(f"Not JSON: {exc.msg} at character {exc.pos}.")
            return
        try:
            message = ClientMessage.model_validate(raw)
        except ValidationError as exc:
            details = validation_details(list(exc.errors()))
            first = details[0]
            where = f"`{first['field']}`: " if first["field"] else ""
            await self.error(
                f"{where}{first['message']}",
                field=first["field"],
                hint='Send {"type": "subscribe" | "unsubscribe", "job_id": "…"} or '
                '{"type": "ping"}.',
            )
            return
        if message.type == "ping":
            await self.send({"type": "pong"})
            return
        if message.job_id is None:
            await self.error(f"`{message.type}` needs a `job_id`.", field="job_id")
            return
        if message.type == "subscribe":
            await self.subscribe(message.job_id)
        else:
            async with self.lock:
                self.subscription.jobs.discard(message.job_id)
                await self._send_now({"type": "unsubscribed", "job_id": message.job_id})

    async def subscribe(self, job_id: str) -> None:
        reply: dict[str, Any] = {"type": "subscribed", "job_id": job_id}
        if job_id != ALL_JOBS:
            try:
                reply.update(await asyncio.to_thread(self._job_state, job_id))
            except FustgoError as exc:
                await self.error(str(exc), field="job_id")
                return
        async with self.lock:
            self.subscription.jobs.add(job_id)
            await self._send_now(reply)

    def _job_state(self, job_id: str) -> dict[str, Any]:
        with self.state.store.session() as session:
            job = jobs.get_job(session, job_id)
            status = str(job.status)
        active = self.state.runs.active.get(job_id)
        return {"status": status, "execution_id": active.execution_id if active else None}

    async def error(
        self, message: str, *, field: str | None = None, hint: str | None = None
    ) -> None:
        body = {"message": message, "field": field, "hint": hint}
        await self.send({"type": "error", "error": {k: v for k, v in body.items() if v}})

    async def send(self, message: dict[str, Any] | Event) -> None:
        async with self.lock:
            await self._send_now(message)

    async def _send_now(self, message: dict[str, Any]) -> None:
        await self.websocket.send_text(json.dumps(message, default=str))
