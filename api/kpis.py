"""The KPI endpoints: KPIs with their health, their data points, and pushing values."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from pydantic import StrictFloat, StrictInt, StrictStr, StringConstraints

from kpis import rules as R
from kpis import services as kpi_services
from kpis.access import can_add_data
from kpis.health import is_pending
from kpis.loop import SUSTAIN
from kpis.loop import label as loop_label
from kpis.models import DataPoint, Kpi, KpiHealth

from .errors import documented
from .idempotency import KEY_HEADER, run_once
from .pagination import PageIn, page_of, paginate, trusted_json
from .schemas import IsoDate, Slug, Text, id_path

MAX_BATCH = 1000

router = Router()


class HealthOut(Schema):
    status: str
    is_stale: bool
    pending: bool
    latest_value: float | None
    latest_period: dt.date | None
    center: float | None
    lower_limit: float | None
    upper_limit: float | None
    capability: str
    candidate: str
    candidate_reason: str
    signals: list[dict[str, Any]]
    evaluated_at: dt.datetime | None


class KpiOut(Schema):
    id: int
    name: str
    unit: str
    decimals: int
    frequency: str
    intent: str
    target_rule: str
    target_value: float | None
    target_upper: float | None
    target: str
    team: str | None
    owner: str | None
    active: bool
    loop_state: str = Field(description="The KPI's place in the loop (kpis.loop): none "
                            "(sustain), candidate, dismissed or in_improvement")
    loop_label: str = Field(description="The same state in the words every page shows")
    health: HealthOut | None


class PointOut(Schema):
    period: dt.date
    value: float
    note: str
    source: str
    updated_at: dt.datetime


NumberText = Annotated[StrictStr, StringConstraints(
    max_length=40, pattern=r"^\s*[-\u2212]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")]


class PointIn(Schema):
    period: Text(10, pattern=r"^\d{4}-(\d{2}(-\d{2})?|[Qq][1-4])$") = Field(
        ..., description="Any day in the period (YYYY-MM-DD), YYYY-MM or YYYY-Q3; not after "
                         "the current period")
    value: StrictFloat | StrictInt | NumberText = Field(
        ..., description="A finite number (or its text), below 1e15 in size")
    note: Text(kpi_services.MAX_NOTE) = ""


class PointsIn(Schema):
    points: list[PointIn] = Field(..., min_length=1, max_length=MAX_BATCH,
                                  description=f"1 to {MAX_BATCH} points, periods distinct")


class KpiFilters(PageIn):
    intent: Literal["", *Kpi.Intent.values] = Field("", description="improve or sustain")
    status: Literal["", *KpiHealth.Status.values] = Field("", description="Health status")
    team: Slug = Field("", description="A team's slug")


class PointFilters(PageIn):
    since: IsoDate | None = Field(None, description="Periods starting on or after (YYYY-MM-DD)")
    until: IsoDate | None = Field(None, description="Periods starting on or before")


class PointResult(Schema):
    period: dt.date
    value: float
    created: bool
    replaced: float | None


class PushOut(Schema):
    count: int
    results: list[PointResult]


HEALTH_FIELDS = ("status", "is_stale", "latest_value", "latest_period", "center",
                 "lower_limit", "upper_limit", "capability", "candidate", "candidate_reason",
                 "signals", "evaluated_at")
KPI_FIELDS = ("id", "name", "unit", "decimals", "frequency", "intent", "target_rule",
              "target_value", "target_upper", "active", "data_changed_at")
# One KPI as plain values: what the list reads with values() (no model instances: a page
# of 500 KPIs spends most of its time building them) and what _kpi_out takes from a model.
ROW = (*KPI_FIELDS, "team__name", "owner__email", "health__kpi_id",
       *(f"health__{f}" for f in HEALTH_FIELDS))


def _row_of(kpi: Kpi) -> dict:
    row = {f: getattr(kpi, f) for f in KPI_FIELDS}
    row["team__name"] = kpi.team.name if kpi.team_id else None
    row["owner__email"] = kpi.owner.email if kpi.owner_id else None
    try:
        h = kpi.health
    except KpiHealth.DoesNotExist:
        h = None
    row["health__kpi_id"] = kpi.pk if h is not None else None
    row.update({f"health__{f}": getattr(h, f, None) for f in HEALTH_FIELDS})
    return row


def _kpi_row_out(r: dict) -> dict:
    """The KpiOut of one ROW (the one rendering: lists, reads and writes all use it)."""
    health = None
    if r["health__kpi_id"] is not None:
        health = {f: r[f"health__{f}"] for f in HEALTH_FIELDS}
        health["pending"] = is_pending(SimpleNamespace(data_changed_at=r["data_changed_at"]),
                                       SimpleNamespace(evaluated_at=health["evaluated_at"]))
    state = r["health__candidate"] or SUSTAIN  # KpiHealth.loop_state
    low, high = R.bounds(r["target_rule"], r["target_value"], r["target_upper"])
    return {
        "id": r["id"], "name": r["name"], "unit": r["unit"], "decimals": r["decimals"],
        "frequency": r["frequency"], "intent": r["intent"], "target_rule": r["target_rule"],
        "target_value": r["target_value"], "target_upper": r["target_upper"],
        "target": R.describe_target(r["target_rule"], low, high, r["unit"], r["decimals"]),
        "team": r["team__name"], "owner": r["owner__email"], "active": r["active"],
        "loop_state": state, "loop_label": loop_label(state), "health": health,
    }


def _kpi_out(kpi: Kpi) -> dict:
    return _kpi_row_out(_row_of(kpi))


def _kpis(request):
    return Kpi.objects.filter(organization=request.org).select_related("health", "team", "owner")


def _get_kpi(request, kpi_id: int) -> Kpi:
    kpi = _kpis(request).filter(pk=kpi_id).first()
    if kpi is None:
        raise Http404
    return kpi


# operation_id: the ids published while the API lived in config/api.py; clients generated
# from the schema call the operations by them.


@router.get("/kpis", response=documented({200: page_of(KpiOut)}),
            summary="List KPIs with their health (paged, by name)",
            operation_id="config_api_list_kpis")
def list_kpis(request, filters: Query[KpiFilters]):
    qs = _kpis(request).order_by("name", "id")
    if filters.intent:
        qs = qs.filter(intent=filters.intent)
    if filters.status:
        qs = qs.filter(health__status=filters.status)
    if filters.team:
        qs = qs.filter(Q(team__slug=filters.team) | Q(team__name=filters.team))
    # values() rows rendered by _kpi_row_out, answered without a second validation of
    # every field (tests/test_api_paging.py holds the answer to KpiPage)
    return trusted_json(paginate(request, qs.values(*ROW), filters, _kpi_row_out, by_ids=True))


@router.get("/kpis/{kpi_id}", response=documented({200: KpiOut}, 404),
            summary="One KPI with its health", operation_id="config_api_get_kpi")
def get_kpi(request, kpi_id: int = id_path()):
    return _kpi_out(_get_kpi(request, kpi_id))


def _point_out(p: DataPoint) -> dict:
    return {"period": p.period_start, "value": p.value, "note": p.note, "source": p.source,
            "updated_at": p.updated_at}


@router.get("/kpis/{kpi_id}/points", response=documented({200: page_of(PointOut)}, 404),
            summary="A KPI's data points (paged, oldest first)",
            operation_id="config_api_list_points")
def list_points(request, filters: Query[PointFilters], kpi_id: int = id_path()):
    kpi = _get_kpi(request, kpi_id)
    qs = DataPoint.objects.filter(kpi=kpi).order_by("period_start", "id")
    if filters.since:
        qs = qs.filter(period_start__gte=filters.since)
    if filters.until:
        qs = qs.filter(period_start__lte=filters.until)
    return paginate(request, qs, filters, _point_out)


def _push(request, kpi: Kpi, points: list[PointIn]) -> dict:
    if not can_add_data(request, kpi):
        raise HttpError(403, "This token's user cannot add data to this KPI.")
    if not points:
        raise ValidationError({"points": ["Send at least one point."]})
    if len(points) > MAX_BATCH:
        raise ValidationError({"points": [f"At most {MAX_BATCH} points per request."]})
    rows, errors, seen = [], {}, {}
    for i, p in enumerate(points):
        prefix = f"points.{i}." if len(points) > 1 else ""
        try:
            period = kpi_services.clean_period(kpi, p.period)
        except ValidationError as exc:
            errors[prefix + "period"] = exc.message_dict["period"]
            period = None
        try:
            value = kpi_services.clean_value(p.value)
        except ValidationError as exc:
            errors[prefix + "value"] = exc.message_dict["value"]
            value = None
        try:
            note = kpi_services.clean_note(p.note)
        except ValidationError as exc:
            errors[prefix + "note"] = exc.message_dict["note"]
            note = ""
        if period is not None:
            if period in seen:
                errors[prefix + "period"] = [
                    f"Duplicate period {period.isoformat()} (also points.{seen[period]})."]
            seen[period] = i
        rows.append(kpi_services.Row(kpi=kpi, period_start=period, value=value, note=note))
    if errors:
        raise ValidationError(errors)
    outcomes = kpi_services.kpi_record_values(rows=rows, source=DataPoint.Source.API,
                                              author=request.user)
    return {"count": len(outcomes), "results": [
        {"period": o.point.period_start, "value": o.point.value, "created": o.created,
         "replaced": o.replaced} for o in outcomes]}


@router.post("/kpis/{kpi_id}/points", response=documented({200: PushOut}, 400, 403, 404, 413),
             summary="Push one point (upsert by period)", operation_id="config_api_push_point")
def push_point(request, payload: PointIn, kpi_id: int = id_path(), idempotency_key: str | None = KEY_HEADER):
    return run_once(request, idempotency_key,
                    lambda: _push(request, _get_kpi(request, kpi_id), [payload]))


@router.post("/kpis/{kpi_id}/points/batch",
             response=documented({200: PushOut}, 400, 403, 404, 413),
             summary="Push many points, all or nothing (upsert by period)",
             operation_id="config_api_push_points")
def push_points(request, payload: PointsIn, kpi_id: int = id_path(), idempotency_key: str | None = KEY_HEADER):
    return run_once(request, idempotency_key,
                    lambda: _push(request, _get_kpi(request, kpi_id), payload.points))
