"""The OpenAPI 3.1 ``webhooks`` section: what Headway POSTs to a subscribed URL.

One entry per public event kind (core.events.PUBLIC_KINDS). Every request carries the
Standard Webhooks headers and the body ``{"type", "timestamp", "data"}``; the ``data``
models below are the payloads the services write to the outbox (tests/test_outbox_emitters.py
validates every emitted payload against them, extra fields refused).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, create_model

from core.events import PUBLIC_KINDS


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckinCreatedEvent(_Data):
    checkin_id: int
    key_result_id: int
    key_result_title: str
    objective_id: int
    team_id: int | None
    status: str
    value: float | None
    done: bool
    confidence: int | None
    note: str
    author_id: int | None
    author_name: str
    revision_of: int | None = None
    created_at: dt.datetime


class KpiPointRecordedEvent(_Data):
    kpi_id: int
    kpi_name: str
    team_id: int | None
    point_id: int | None  # None for a data-source run (one event per KPI it changed)
    period_start: dt.date
    value: float
    previous_value: float | None
    note: str
    source: str
    points: int  # how many of the KPI's points this write changed


class KpiHealthChangedEvent(_Data):
    kpi_id: int
    kpi_name: str
    team_id: int | None
    status: str
    previous_status: str
    unfavourable_signal: bool
    latest_value: float | None
    latest_period: dt.date | None
    message: str


class KpiCandidateFlaggedEvent(_Data):
    kpi_id: int
    kpi_name: str
    team_id: int | None
    reason: str
    reason_keys: list[str]


class ObjectiveEvent(_Data):
    objective_id: int
    title: str
    cycle_id: int
    team_id: int | None
    owner_id: int | None
    parent_id: int | None
    pillar_id: int | None
    kind: str
    state: str
    closing_status: str
    score: float | None
    changed: list[str] | None = None  # objective.updated: the fields that changed


class CycleClosedEvent(_Data):
    cycle_id: int
    name: str
    closed_at: dt.datetime
    objectives: int


DATA: dict[str, type[BaseModel]] = {
    "checkin.created": CheckinCreatedEvent,
    "kpi.point_recorded": KpiPointRecordedEvent,
    "kpi.health_changed": KpiHealthChangedEvent,
    "kpi.candidate_flagged": KpiCandidateFlaggedEvent,
    "objective.created": ObjectiveEvent,
    "objective.updated": ObjectiveEvent,
    "objective.closed": ObjectiveEvent,
    "cycle.closed": CycleClosedEvent,
}

HEADERS = [
    ("webhook-id", "The event id: the same on every retry of this event (de-duplicate on it)."),
    ("webhook-timestamp", "Unix time of this try."),
    ("webhook-signature", "v1,<base64 HMAC-SHA256 of id.timestamp.body> — one per signing "
                          "secret, space-separated (two during a secret's 24-hour rotation "
                          "grace). Verify with standardwebhooks.Webhook(secret).verify()."),
]


def _name(kind: str) -> str:
    return "Webhook_" + "".join(p.capitalize() for p in kind.replace(".", "_").split("_"))


def add_webhooks(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``webhooks`` section and the payloads' component schemas."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    webhooks = {}
    for kind, summary in PUBLIC_KINDS.items():
        envelope = create_model(_name(kind), type=(Literal[kind], ...),  # type: ignore[call-overload]
                                timestamp=(dt.datetime, ...), data=(DATA[kind], ...))
        body = envelope.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components[envelope.__name__] = body
        webhooks[kind] = {"post": {
            "summary": summary,
            "description": "Sent to each enabled subscription that chose this event; retried "
                           "with backoff (6 tries over about an hour) until a 2xx answer.",
            "operationId": f"webhook_{kind.replace('.', '_')}",
            "parameters": [{"name": n, "in": "header", "required": True, "description": d,
                            "schema": {"type": "string"}} for n, d in HEADERS],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{envelope.__name__}"}}}},
            "responses": {"2XX": {"description": "Received: no more tries."},
                          "default": {"description": "Not received: tried again later."}},
        }}
    schema["webhooks"] = webhooks
    return schema
