"""The KPI endpoints: KPIs with their health, their data points, and pushing values."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from pydantic import StrictFloat, StrictInt, StrictStr

from kpis import rules as R
from kpis import services as kpi_services
from kpis.access import can_add_data
from kpis.health import is_pending
from kpis.models import DataPoint, Kpi, KpiHealth

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
    health: HealthOut | None


class PointOut(Schema):
    period: dt.date
    value: float
    note: str
    source: str
    updated_at: dt.datetime


class PointIn(Schema):
    period: str = Field(..., description="Any day in the period (YYYY-MM-DD), YYYY-MM or YYYY-Q3")
    value: StrictFloat | StrictInt | StrictStr = Field(..., description="A finite number")
    note: str = ""


class PointsIn(Schema):
    points: list[PointIn] = Field(..., description=f"At most {MAX_BATCH} points")


class PointResult(Schema):
    period: dt.date
    value: float
    created: bool
    replaced: float | None


class PushOut(Schema):
    count: int
    results: list[PointResult]


def _health_out(kpi: Kpi) -> dict | None:
    try:
        h = kpi.health
    except KpiHealth.DoesNotExist:
        return None
    return {
        "status": h.status, "is_stale": h.is_stale, "pending": is_pending(kpi, h),
        "latest_value": h.latest_value, "latest_period": h.latest_period, "center": h.center,
        "lower_limit": h.lower_limit, "upper_limit": h.upper_limit, "capability": h.capability,
        "candidate": h.candidate, "candidate_reason": h.candidate_reason, "signals": h.signals,
        "evaluated_at": h.evaluated_at,
    }


def _kpi_out(kpi: Kpi) -> dict:
    low, high = R.bounds(kpi.target_rule, kpi.target_value, kpi.target_upper)
    return {
        "id": kpi.pk, "name": kpi.name, "unit": kpi.unit, "decimals": kpi.decimals,
        "frequency": kpi.frequency, "intent": kpi.intent, "target_rule": kpi.target_rule,
        "target_value": kpi.target_value, "target_upper": kpi.target_upper,
        "target": R.describe_target(kpi.target_rule, low, high, kpi.unit, kpi.decimals),
        "team": kpi.team.name if kpi.team else None,
        "owner": kpi.owner.email if kpi.owner else None,
        "active": kpi.active, "health": _health_out(kpi),
    }


def _kpis(request):
    return Kpi.objects.filter(organization=request.org).select_related("health", "team", "owner")


def _get_kpi(request, kpi_id: int) -> Kpi:
    kpi = _kpis(request).filter(pk=kpi_id).first()
    if kpi is None:
        raise Http404
    return kpi


# operation_id: the ids published while the API lived in config/api.py; clients generated
# from the schema call the operations by them.


@router.get("/kpis", response=list[KpiOut], summary="List KPIs with their health",
            operation_id="config_api_list_kpis")
def list_kpis(request, intent: str = "", status: str = "", team: str = ""):
    qs = _kpis(request).order_by("name")
    if intent:
        qs = qs.filter(intent=intent)
    if status:
        qs = qs.filter(health__status=status)
    if team:
        qs = qs.filter(Q(team__slug=team) | Q(team__name=team))
    return [_kpi_out(k) for k in qs]


@router.get("/kpis/{kpi_id}", response=KpiOut, summary="One KPI with its health",
            operation_id="config_api_get_kpi")
def get_kpi(request, kpi_id: int):
    return _kpi_out(_get_kpi(request, kpi_id))


@router.get("/kpis/{kpi_id}/points", response=list[PointOut], summary="A KPI's data points",
            operation_id="config_api_list_points")
def list_points(request, kpi_id: int, since: dt.date | None = None, until: dt.date | None = None):
    kpi = _get_kpi(request, kpi_id)
    qs = DataPoint.objects.filter(kpi=kpi).order_by("period_start")
    if since:
        qs = qs.filter(period_start__gte=since)
    if until:
        qs = qs.filter(period_start__lte=until)
    return [{"period": p.period_start, "value": p.value, "note": p.note, "source": p.source,
             "updated_at": p.updated_at} for p in qs]


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


@router.post("/kpis/{kpi_id}/points", response={200: PushOut},
             summary="Push one point (upsert by period)", operation_id="config_api_push_point")
def push_point(request, kpi_id: int, payload: PointIn):
    return _push(request, _get_kpi(request, kpi_id), [payload])


@router.post("/kpis/{kpi_id}/points/batch", response={200: PushOut},
             summary="Push many points, all or nothing (upsert by period)",
             operation_id="config_api_push_points")
def push_points(request, kpi_id: int, payload: PointsIn):
    return _push(request, _get_kpi(request, kpi_id), payload.points)
