"""`/api/v1/alerts`: alert rules (CRUD, design doc §7.1), their events, and a test send.

A rule is `alert_name`, `alert_type` (one of `rules.AlertType`), a `condition` of that
type and an `action` (channels, cooldown). Secrets in channels are masked in responses
and kept when sent back masked, as for connections.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fustgo.server.alerts import rules as rule_models
from fustgo.server.alerts.notify import Notification, deliver
from fustgo.server.api.schemas.paging import Page, PageSize
from fustgo.server.deps import ServerState
from fustgo.server.errors import ERROR_RESPONSES
from fustgo.store.errors import InvalidRequestError, NotFoundError
from fustgo.store.repositories.common import new_id
from fustgo.store.tables import AlertEventRow, AlertRuleRow, JobRow, utc_now

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=ERROR_RESPONSES)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class AlertRuleCreate(_Request):
    alert_name: str = Field(min_length=1, max_length=255)
    alert_type: rule_models.AlertType
    condition: dict[str, Any] = Field(default_factory=dict)
    """The fields of the type's condition (`threshold_percent`, `job_id`, …)."""
    action: rule_models.AlertAction
    enabled: bool = True


class AlertRuleUpdate(_Request):
    alert_name: str | None = Field(default=None, min_length=1, max_length=255)
    alert_type: rule_models.AlertType | None = None
    condition: dict[str, Any] | None = None
    """Replaces the condition (needed when `alert_type` changes)."""
    action: rule_models.AlertAction | None = None
    enabled: bool | None = None


class AlertEvent(BaseModel):
    event_id: str
    subject: str
    status: str
    message: str
    started_at: datetime
    resolved_at: datetime | None
    notified_at: datetime | None
    deliveries: list[dict[str, Any]] | None


class AlertRuleResponse(BaseModel):
    alert_id: str
    alert_name: str
    alert_type: str
    condition: dict[str, Any]
    action: dict[str, Any]
    """Channels with secrets shown as `********`."""
    enabled: bool
    created_at: datetime
    firing: list[AlertEvent]
    """Its open events: the subjects for which it fires now."""


class AlertRuleList(BaseModel):
    items: list[AlertRuleResponse]
    total: int
    page: int
    page_size: int


class AlertEventList(BaseModel):
    items: list[AlertEvent]
    total: int


def _condition(alert_type: str, condition: dict[str, Any], session: Session) -> dict[str, Any]:
    try:
        model = rule_models.parse_condition(alert_type, condition)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("condition", *error["loc"])}
            for error in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from exc
    job_id = getattr(model, "job_id", None)
    if job_id is not None and session.get(JobRow, job_id) is None:
        raise InvalidRequestError(
            f"`condition.job_id`: no job `{job_id}`.",
            field="condition.job_id",
            hint="GET /api/v1/jobs lists them; leave it out to watch every job.",
        )
    return model.model_dump(mode="json")


def _event(row: AlertEventRow) -> AlertEvent:
    return AlertEvent(
        event_id=row.event_id, subject=row.subject, status=row.status, message=row.message,
        started_at=row.started_at, resolved_at=row.resolved_at, notified_at=row.notified_at,
        deliveries=row.deliveries,
    )  # fmt: skip


def _response(session: Session, row: AlertRuleRow) -> AlertRuleResponse:
    firing = session.scalars(
        select(AlertEventRow)
        .where(AlertEventRow.alert_id == row.alert_id, AlertEventRow.status == "firing")
        .order_by(AlertEventRow.started_at)
    )
    return AlertRuleResponse(
        alert_id=row.alert_id, alert_name=row.alert_name, alert_type=row.alert_type,
        condition=row.condition, action=rule_models.masked_action(row.action),
        enabled=row.enabled, created_at=row.created_at, firing=[_event(e) for e in firing],
    )  # fmt: skip


def _get(session: Session, alert_id: str) -> AlertRuleRow:
    row = session.get(AlertRuleRow, alert_id)
    if row is None:
        raise NotFoundError(f"No alert rule `{alert_id}`; GET /api/v1/alerts lists them.")
    return row


def _action_json(action: rule_models.AlertAction) -> dict[str, Any]:
    return action.model_dump(mode="json")


def _no_masks(action: dict[str, Any]) -> None:
    for index, channel in enumerate(action["channels"]):
        for name in ("secret", "password"):
            if channel.get(name) == rule_models.MASK:
                raise InvalidRequestError(
                    f"`action.channels.{index}.{name}` is the mask "
                    f"`{rule_models.MASK}`, not a value.",
                    field=f"action.channels.{index}.{name}",
                    hint="Send the real secret (the mask only keeps one already saved).",
                )


@router.post("", status_code=201, response_model=AlertRuleResponse, summary="Create a rule")
def create_rule(body: AlertRuleCreate, state: ServerState) -> AlertRuleResponse:
    with state.store.session() as session:
        condition = _condition(body.alert_type, body.condition, session)
        action = _action_json(body.action)
        _no_masks(action)
        row = AlertRuleRow(
            alert_id=new_id(), alert_name=body.alert_name, alert_type=body.alert_type,
            condition=condition, action=action, enabled=body.enabled, created_at=utc_now(),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return _response(session, row)


@router.get("", response_model=AlertRuleList, summary="List alert rules")
def list_rules(
    state: ServerState,
    *,
    page: Page = 1,
    page_size: PageSize = 50,
    alert_type: rule_models.AlertType | None = None,
    enabled: bool | None = None,
    firing: Annotated[bool | None, Query(description="Only rules firing now (or not).")] = None,
) -> AlertRuleList:
    conditions: list[Any] = []
    if alert_type is not None:
        conditions.append(AlertRuleRow.alert_type == alert_type)
    if enabled is not None:
        conditions.append(AlertRuleRow.enabled == enabled)
    if firing is not None:
        open_rules = select(AlertEventRow.alert_id).where(AlertEventRow.status == "firing")
        conditions.append(
            AlertRuleRow.alert_id.in_(open_rules)
            if firing
            else AlertRuleRow.alert_id.not_in(open_rules)
        )
    with state.store.session() as session:
        total = session.scalar(select(func.count(AlertRuleRow.alert_id)).where(*conditions))
        rows = session.scalars(
            select(AlertRuleRow)
            .where(*conditions)
            .order_by(AlertRuleRow.alert_name, AlertRuleRow.alert_id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        items = [_response(session, row) for row in rows]
    return AlertRuleList(items=items, total=total or 0, page=page, page_size=page_size)


@router.get("/{alert_id}", response_model=AlertRuleResponse, summary="Get a rule")
def get_rule(alert_id: str, state: ServerState) -> AlertRuleResponse:
    with state.store.session() as session:
        return _response(session, _get(session, alert_id))


@router.put("/{alert_id}", response_model=AlertRuleResponse, summary="Update a rule")
def update_rule(alert_id: str, body: AlertRuleUpdate, state: ServerState) -> AlertRuleResponse:
    with state.store.session() as session:
        row = _get(session, alert_id)
        alert_type = body.alert_type or row.alert_type
        if (
            body.alert_type is not None
            and body.alert_type != row.alert_type
            and body.condition is None
        ):
            raise InvalidRequestError(
                f"`condition` is needed to change `alert_type` to `{body.alert_type}`.",
                field="condition",
            )
        if body.condition is not None or alert_type != row.alert_type:
            row.condition = _condition(alert_type, body.condition or {}, session)
        row.alert_type = alert_type
        if body.action is not None:
            row.action = rule_models.unmask_action(_action_json(body.action), row.action)
        if body.alert_name is not None:
            row.alert_name = body.alert_name
        if body.enabled is not None:
            row.enabled = body.enabled
        session.flush()
        return _response(session, row)


@router.delete("/{alert_id}", status_code=204, summary="Delete a rule")
def delete_rule(alert_id: str, state: ServerState) -> Response:
    with state.store.session() as session:
        row = _get(session, alert_id)
        session.execute(AlertEventRow.__table__.delete().where(AlertEventRow.alert_id == alert_id))
        session.delete(row)
    return Response(status_code=204)


@router.get("/{alert_id}/events", response_model=AlertEventList, summary="A rule's events")
def list_events(
    alert_id: str,
    state: ServerState,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AlertEventList:
    """Its firings, newest first, with when each notified and how the deliveries went."""
    with state.store.session() as session:
        _get(session, alert_id)
        where = AlertEventRow.alert_id == alert_id
        total = session.scalar(select(func.count(AlertEventRow.event_id)).where(where))
        rows = session.scalars(
            select(AlertEventRow)
            .where(where)
            .order_by(AlertEventRow.started_at.desc())
            .limit(limit)
        )
        return AlertEventList(items=[_event(row) for row in rows], total=total or 0)


@router.post("/{alert_id}/test", summary="Send a test notification")
async def test_rule(alert_id: str, state: ServerState) -> dict[str, Any]:
    """Sends a `test` message to every channel of the rule now (no cooldown, no event);
    200 with each delivery's outcome."""

    def load() -> AlertRuleRow:
        with state.store.session() as session:
            return _get(session, alert_id)

    row = await asyncio.to_thread(load)
    action = rule_models.AlertAction.model_validate(row.action)
    now = utc_now()
    notification = Notification(
        alert_id=row.alert_id, alert_name=row.alert_name, alert_type=row.alert_type,
        subject="test", status="test", message="A test of this rule's channels.",
        started_at=now, at=now,
    )  # fmt: skip
    async with httpx.AsyncClient() as client:
        deliveries = await deliver(list(action.channels), notification, client)
    return {"deliveries": deliveries, "ok": all(d["ok"] for d in deliveries)}
