"""The JSON API, /api/v1/ (django-ninja; the OpenAPI schema is at /api/v1/openapi.json).

Authentication: ``Authorization: Bearer <token>``. A token belongs to one user in one
organisation (admins create and revoke them on the KPIs → API tokens page; only a hash is
stored). Every object is looked up inside the token's organisation: another
organisation's KPI is a 404, exactly like a missing one. Bad input is a 4xx with a JSON
body naming the field; nothing is stored then (a batch is all or nothing).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import render
from django.utils import timezone
from ninja import Field, NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import DocsBase
from ninja.security import HttpBearer
from pydantic import StrictFloat, StrictInt, StrictStr

from accounts.models import ApiToken, Membership, Role
from goals.models import Cycle
from kpis import rules as R
from kpis import services as kpi_services
from kpis.models import DataPoint, Kpi
from okrs import progress as P
from okrs.models import KeyResult, Objective
from okrs.selectors import kr_input

MAX_BATCH = 1000
_UNION_TAGS = {"float", "int", "str", "bool"}


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        if not token or len(token) > 200:
            return None
        found = (
            ApiToken.objects.select_related("organization", "user")
            .filter(token_hash=ApiToken.hash(token), revoked_at__isnull=True)
            .first()
        )
        if found is None or not found.user.is_active:
            return None
        membership = Membership.objects.filter(user=found.user, organization=found.organization
                                               ).first()
        if membership is None:  # the user left the organisation: the token is dead
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > dt.timedelta(minutes=1):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.org = found.organization
        request.user = found.user
        request.membership = membership
        return found


class PlainDocs(DocsBase):
    """A server-rendered reference built from the OpenAPI schema.

    Swagger UI and Redoc load from a CDN and run inline scripts; our CSP allows neither
    (and Headway never loads code from a CDN). The schema itself is at openapi.json.
    """

    def render_page(self, request, api, **kwargs):
        schema = api.get_openapi_schema(path_params=kwargs)
        operations = []
        for path, methods in schema["paths"].items():
            for method, op in methods.items():
                body = (op.get("requestBody", {}).get("content", {})
                        .get("application/json", {}).get("schema", {}))
                operations.append({
                    "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                    "params": [p["name"] + (" (required)" if p.get("required") else "")
                               for p in op.get("parameters", [])],
                    "body": body.get("$ref", "").rsplit("/", 1)[-1],
                    "responses": sorted(op.get("responses", {})),
                })
        return render(request, "kpis/api_docs.html", {
            "schema": schema, "operations": operations,
            "schema_url": self.get_openapi_url(api, kwargs),
            "components": sorted(schema.get("components", {}).get("schemas", {}).items()),
        })


api = NinjaAPI(
    title="Headway API",
    version="1.0",
    description=__doc__,
    auth=TokenAuth(),
    urls_namespace="api",
    docs=PlainDocs(),
)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", [])
               if p not in ("body", "payload", "query", "path") and p not in _UNION_TAGS]
        key = ".".join(loc) or "body"
        msg = "Enter a number." if key.endswith("value") else err.get("msg", "Invalid.")
        if msg not in errors.get(key, []):
            errors.setdefault(key, []).append(msg)
    return api.create_response(request, {"detail": "Invalid input.", "errors": errors}, status=422)


@api.exception_handler(ValidationError)
def _django_validation_error(request, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        errors = exc.message_dict
    else:
        errors = {"body": exc.messages}
    return api.create_response(request, {"detail": "Invalid input.", "errors": errors}, status=400)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": "Not found."}, status=404)


# --- Schemas ---------------------------------------------------------------------------------


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


class KeyResultOut(Schema):
    id: int
    title: str
    kind: str
    unit: str
    start_value: float
    target_value: float
    current_value: float | None
    progress: float
    status: str
    kpi_id: int | None


class ObjectiveOut(Schema):
    id: int
    title: str
    state: str
    team: str | None
    owner: str | None
    parent_id: int | None
    cycle_id: int
    key_results: list[KeyResultOut]


class CycleOut(Schema):
    id: int
    name: str
    kind: str
    start: dt.date
    end: dt.date
    state: str


# --- Helpers -----------------------------------------------------------------------------------


def _health_out(kpi: Kpi) -> dict | None:
    from kpis.health import is_pending
    from kpis.models import KpiHealth

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


def _can_add_data(request, kpi: Kpi) -> bool:
    m = request.membership
    if m.has_role(Role.ADMIN):
        return True
    if not m.has_role(Role.MEMBER):
        return False
    if kpi.owner_id == request.user.pk:
        return True
    return bool(kpi.team_id and kpi.team.members.filter(pk=request.user.pk).exists())


# --- KPIs ----------------------------------------------------------------------------------------


@api.get("/kpis", response=list[KpiOut], summary="List KPIs with their health")
def list_kpis(request, intent: str = "", status: str = "", team: str = ""):
    qs = _kpis(request).order_by("name")
    if intent:
        qs = qs.filter(intent=intent)
    if status:
        qs = qs.filter(health__status=status)
    if team:
        qs = qs.filter(Q(team__slug=team) | Q(team__name=team))
    return [_kpi_out(k) for k in qs]


@api.get("/kpis/{kpi_id}", response=KpiOut, summary="One KPI with its health")
def get_kpi(request, kpi_id: int):
    return _kpi_out(_get_kpi(request, kpi_id))


@api.get("/kpis/{kpi_id}/points", response=list[PointOut], summary="A KPI's data points")
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
    if not _can_add_data(request, kpi):
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


@api.post("/kpis/{kpi_id}/points", response={200: PushOut}, summary="Push one point (upsert by period)")
def push_point(request, kpi_id: int, payload: PointIn):
    return _push(request, _get_kpi(request, kpi_id), [payload])


@api.post("/kpis/{kpi_id}/points/batch", response={200: PushOut},
          summary="Push many points, all or nothing (upsert by period)")
def push_points(request, kpi_id: int, payload: PointsIn):
    return _push(request, _get_kpi(request, kpi_id), payload.points)


# --- OKRs ----------------------------------------------------------------------------------------


@api.get("/cycles", response=list[CycleOut], summary="The organisation's cycles")
def list_cycles(request):
    return [{"id": c.pk, "name": c.name, "kind": c.kind, "start": c.start, "end": c.end,
             "state": c.state} for c in Cycle.objects.filter(organization=request.org)]


@api.get("/cycles/{cycle_id}/objectives", response=list[ObjectiveOut],
         summary="Objectives and key results of a cycle")
def cycle_objectives(request, cycle_id: int):
    cycle = Cycle.objects.filter(organization=request.org, pk=cycle_id).first()
    if cycle is None:
        raise Http404
    objectives = list(
        Objective.objects.alive().filter(organization=request.org, cycle=cycle)
        .select_related("team", "owner").order_by("order", "id")
    )
    krs: dict[int, list] = {}
    for kr in KeyResult.objects.alive().filter(objective__in=objectives).order_by("order", "id"):
        krs.setdefault(kr.objective_id, []).append({
            "id": kr.pk, "title": kr.title, "kind": kr.kind, "unit": kr.unit,
            "start_value": kr.start_value, "target_value": kr.target_value,
            "current_value": kr.current_value,
            "progress": round(P.kr_progress(kr_input(kr, frozen=cycle.is_closed)), 4),
            "status": kr.status, "kpi_id": kr.kpi_id,
        })
    return [{
        "id": o.pk, "title": o.title, "state": o.state,
        "team": o.team.name if o.team else None, "owner": o.owner.email if o.owner else None,
        "parent_id": o.parent_id, "cycle_id": o.cycle_id, "key_results": krs.get(o.pk, []),
    } for o in objectives]
