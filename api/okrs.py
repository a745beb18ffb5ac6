"""The OKR endpoints: cycles, objectives and key results (read and, for leaders, write).

Writes go through okrs.services, like the pages, under the pages' rule (leaders and above
edit OKRs; a closed cycle is read-only); the services audit them. An edit carries the
``version`` it read: a stale one is a 409 and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from ninja import Field, Query, Router, Schema, Status

from accounts.access import has_role
from accounts.models import Membership, Role, Team
from goals.models import Cycle
from kpis.models import Kpi
from okrs import services
from okrs.access import get_cycle_for_member, get_key_result_for_member, get_objective_for_member
from okrs.models import KeyResult, Objective
from okrs.selectors import stored_rows

from .errors import documented
from .idempotency import KEY_HEADER, run_once
from .pagination import PageIn, page_of, paginate
from .schemas import MAX_ID, Number, Slug, Text, Weight, id_path

router = Router()

OptionalId = int | None
_ID = {"ge": 1, "le": MAX_ID}


class KeyResultOut(Schema):
    id: int
    objective_id: int
    title: str
    kind: str
    unit: str
    start_value: float
    target_value: float
    current_value: float | None
    done: bool
    weight: float
    progress: float
    status: str
    last_checkin_at: dt.datetime | None
    owner_id: int | None
    kpi_id: int | None
    version: int


class ObjectiveOut(Schema):
    id: int
    title: str
    description: str
    kind: str
    state: str
    progress: float = Field(..., description="0 to 1, as the objective's page shows it")
    status: str | None
    team: str | None
    team_id: int | None
    owner: str | None
    owner_id: int | None
    parent_id: int | None
    cycle_id: int
    version: int
    key_results: list[KeyResultOut]


class CycleOut(Schema):
    id: int
    name: str
    kind: str
    start: dt.date
    end: dt.date
    state: str


class ObjectiveFilters(PageIn):
    cycle: int | None = Field(None, ge=1, le=MAX_ID, description="A cycle's id")
    team: Slug = Field("", description="A team's slug")
    state: Literal["", *Objective.State.values] = ""


class ObjectiveIn(Schema):
    title: Text(200, min_length=1, pattern=r"\S")
    description: Text(10_000) = ""
    cycle_id: int = Field(..., **_ID)
    kind: Literal[*Objective.Kind.values] = Objective.Kind.COMMITTED
    state: Literal[*Objective.State.values] = Objective.State.ACTIVE
    progress_from: Literal[*Objective.ProgressFrom.values] = Objective.ProgressFrom.KRS
    team_id: OptionalId = Field(None, **_ID)
    owner_id: OptionalId = Field(None, **_ID)
    parent_id: OptionalId = Field(None, **_ID)


class ObjectivePatch(Schema):
    version: int = Field(..., ge=1, le=2**31 - 1, description="The version you read (409 if stale)")
    title: Text(200, min_length=1, pattern=r"\S") | None = None
    description: Text(10_000) | None = None
    kind: Literal[*Objective.Kind.values] | None = None
    state: Literal[*Objective.State.values] | None = None
    progress_from: Literal[*Objective.ProgressFrom.values] | None = None
    team_id: OptionalId = Field(None, **_ID)
    owner_id: OptionalId = Field(None, **_ID)
    parent_id: OptionalId = Field(None, **_ID)


class KeyResultIn(Schema):
    title: Text(200, min_length=1, pattern=r"\S")
    kind: Literal[*KeyResult.Kind.values] = KeyResult.Kind.METRIC
    unit: Text(30) = ""
    start_value: Number = 0
    target_value: Number = 100
    guard: Literal["", *KeyResult.Guard.values] = ""
    weight: Weight = 1
    owner_id: OptionalId = Field(None, **_ID)
    kpi_id: OptionalId = Field(None, **_ID)


class KeyResultPatch(Schema):
    version: int = Field(..., ge=1, le=2**31 - 1, description="The version you read (409 if stale)")
    title: Text(200, min_length=1, pattern=r"\S") | None = None
    unit: Text(30) | None = None
    start_value: Number | None = None
    target_value: Number | None = None
    weight: Weight | None = None
    owner_id: OptionalId = Field(None, **_ID)


# --- Rendering --------------------------------------------------------------------------


def _kr_out(kr: KeyResult, progress: float, status: str | None) -> dict:
    return {
        "id": kr.pk, "objective_id": kr.objective_id, "title": kr.title, "kind": kr.kind,
        "unit": kr.unit, "start_value": kr.start_value, "target_value": kr.target_value,
        "current_value": kr.current_value, "done": kr.done, "weight": kr.weight,
        "progress": round(progress, 4), "status": status or kr.status or "",
        "last_checkin_at": kr.last_checkin_at, "owner_id": kr.owner_id, "kpi_id": kr.kpi_id,
        "version": kr.version,
    }


def _objectives_out(request, objectives: list[Objective]) -> list[dict]:
    """The objectives with the progress their pages show, from their stored figures (one
    query for their KRs, whatever their number or cycles)."""
    by_id = {r.objective.pk: r for r in stored_rows(request.org, objectives)}
    out = []
    for o in objectives:
        row = by_id.get(o.pk)
        krs = [_kr_out(k.kr, k.progress, k.status) for k in row.krs] if row else []
        out.append({
            "id": o.pk, "title": o.title, "description": o.description, "kind": o.kind,
            "state": o.state, "progress": round(row.progress, 4) if row else 0.0,
            "status": row.status if row else None,
            "team": o.team.name if o.team else None, "team_id": o.team_id,
            "owner": o.owner.email if o.owner else None, "owner_id": o.owner_id,
            "parent_id": o.parent_id, "cycle_id": o.cycle_id, "version": o.version,
            "key_results": krs,
        })
    return out


def _objective_out(request, o: Objective) -> dict:
    return _objectives_out(request, [o])[0]


def _cycle_out(c: Cycle) -> dict:
    return {"id": c.pk, "name": c.name, "kind": c.kind, "start": c.start, "end": c.end,
            "state": c.state}


# --- Resolving ids inside the organisation ----------------------------------------------


def sent_values(payload: Schema, names) -> dict:
    """The fields of ``names`` the client sent with a value (a PATCH leaves the rest alone)."""
    return {k: getattr(payload, k) for k in names
            if k in payload.model_fields_set and getattr(payload, k) is not None}


def _resolve(request, payload: Schema, fields: dict[str, tuple[str, object]]) -> dict:
    """Ids in the body → this organisation's rows; another organisation's id reads as a
    missing one (a 400 naming the field), never as a reference."""
    data, errors = {}, {}
    sent = payload.model_fields_set
    for attr, (name, qs) in fields.items():
        if attr not in sent:
            continue
        pk = getattr(payload, attr)
        if pk is None:
            data[name] = None
            continue
        obj = qs.filter(pk=pk).first()
        if obj is None:
            errors[attr] = ["Choose one of this organisation's."]
        else:
            data[name] = obj
    if errors:
        raise ValidationError(errors)
    return data


def _people(request):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(
        pk__in=Membership.objects.filter(organization=request.org).values("user_id"))


def _require_leader(request) -> None:
    if not has_role(request, Role.LEADER):
        raise PermissionDenied("Editing OKRs needs the Leader role or higher.")


# --- Cycles -----------------------------------------------------------------------------
# operation_id: the ids published while the API lived in config/api.py; clients generated
# from the schema call the operations by them.


@router.get("/cycles", response=documented({200: page_of(CycleOut)}),
            summary="The organisation's cycles (paged, newest start first)",
            operation_id="config_api_list_cycles")
def list_cycles(request, paging: Query[PageIn]):
    qs = Cycle.objects.filter(organization=request.org).order_by("-start", "-id")
    return paginate(request, qs, paging, _cycle_out)


@router.get("/cycles/{cycle_id}", response=documented({200: CycleOut}, 404),
            summary="One cycle", operation_id="get_cycle")
def get_cycle(request, cycle_id: int = id_path()):
    return _cycle_out(get_cycle_for_member(request, cycle_id))


@router.get("/cycles/{cycle_id}/objectives", response=documented({200: page_of(ObjectiveOut)}, 404),
            summary="Objectives and key results of a cycle (paged)",
            operation_id="config_api_cycle_objectives")
def cycle_objectives(request, paging: Query[PageIn], cycle_id: int = id_path()):
    cycle = get_cycle_for_member(request, cycle_id)
    qs = (Objective.objects.alive().filter(organization=request.org, cycle=cycle)
          .select_related("team", "owner", "cycle").order_by("order", "id"))
    page = paginate(request, qs, paging, lambda o: o)
    page["items"] = _objectives_out(request, page["items"])
    return page


# --- Objectives ---------------------------------------------------------------------------


@router.get("/objectives", response=documented({200: page_of(ObjectiveOut)}),
            summary="List objectives with their key results and progress (paged)",
            operation_id="list_objectives")
def list_objectives(request, filters: Query[ObjectiveFilters]):
    qs = (Objective.objects.alive().filter(organization=request.org)
          .select_related("team", "owner", "cycle").order_by("cycle__start", "order", "id"))
    if filters.cycle:
        qs = qs.filter(cycle_id=filters.cycle)
    if filters.team:
        qs = qs.filter(Q(team__slug=filters.team))
    if filters.state:
        qs = qs.filter(state=filters.state)
    page = paginate(request, qs, filters, lambda o: o)
    page["items"] = _objectives_out(request, page["items"])
    return page


@router.get("/objectives/{objective_id}", response=documented({200: ObjectiveOut}, 404),
            summary="One objective with its key results and progress",
            operation_id="get_objective")
def get_objective(request, objective_id: int = id_path()):
    return _objective_out(request, get_objective_for_member(request, objective_id))


def _objective_refs(request):
    org = request.org
    return {
        "team_id": ("team", Team.objects.filter(organization=org)),
        "owner_id": ("owner", _people(request)),
        "parent_id": ("parent", Objective.objects.alive().filter(organization=org)),
    }


@router.post("/objectives", response=documented({201: ObjectiveOut}, 400, 403, 413),
             summary="Create an objective (leaders)", operation_id="create_objective")
def create_objective(request, payload: ObjectiveIn, idempotency_key: str | None = KEY_HEADER):
    return run_once(request, idempotency_key, lambda: _create_objective(request, payload))


def _create_objective(request, payload: ObjectiveIn):
    _require_leader(request)
    refs = _resolve(request, payload, {
        "cycle_id": ("cycle", Cycle.objects.filter(organization=request.org)),
        **_objective_refs(request)})
    data = {k: getattr(payload, k) for k in ("title", "description", "kind", "state",
                                              "progress_from")}
    objective = services.objective_create(organization=request.org, actor=request.user,
                                          data={**data, **refs})
    created = get_objective_for_member(request, objective.pk)
    return Status(201, _objective_out(request, created))


@router.patch("/objectives/{objective_id}",
              response=documented({200: ObjectiveOut}, 400, 403, 404, 409, 413),
              summary="Change an objective (leaders; send the version you read)",
              operation_id="update_objective")
def update_objective(request, payload: ObjectivePatch, objective_id: int = id_path()):
    objective = get_objective_for_member(request, objective_id)
    _require_leader(request)
    data = sent_values(payload, ("title", "description", "kind", "state", "progress_from"))
    data.update(_resolve(request, payload, _objective_refs(request)))
    services.objective_update(objective=objective, actor=request.user,
                              version=payload.version, data=data)
    return _objective_out(request, get_objective_for_member(request, objective_id))


@router.delete("/objectives/{objective_id}", response=documented({204: None}, 400, 403, 404),
               summary="Delete an objective (leaders; refused once it has history)",
               operation_id="delete_objective")
def delete_objective(request, objective_id: int = id_path()):
    objective = get_objective_for_member(request, objective_id)
    _require_leader(request)
    services.objective_delete(objective=objective, actor=request.user)
    return Status(204, None)


# --- Key results --------------------------------------------------------------------------


def _kr_refs(request):
    return {"owner_id": ("owner", _people(request)),
            "kpi_id": ("kpi", Kpi.objects.filter(organization=request.org))}


def _kr_read(request, kr_id: int) -> dict:
    kr = get_key_result_for_member(request, kr_id)
    rows = stored_rows(request.org, [kr.objective])
    for k in rows[0].krs if rows else ():
        if k.kr.pk == kr.pk:
            return _kr_out(k.kr, k.progress, k.status)
    return _kr_out(kr, 0.0, None)


@router.get("/key-results/{kr_id}", response=documented({200: KeyResultOut}, 404),
            summary="One key result", operation_id="get_key_result")
def get_key_result(request, kr_id: int = id_path()):
    return _kr_read(request, kr_id)


@router.post("/objectives/{objective_id}/key-results",
             response=documented({201: KeyResultOut}, 400, 403, 404, 413),
             summary="Add a key result to an objective (leaders)",
             operation_id="create_key_result")
def create_key_result(request, payload: KeyResultIn, objective_id: int = id_path(),
                      idempotency_key: str | None = KEY_HEADER):
    return run_once(request, idempotency_key,
                    lambda: _create_key_result(request, payload, objective_id))


def _create_key_result(request, payload: KeyResultIn, objective_id: int):
    objective = get_objective_for_member(request, objective_id)
    _require_leader(request)
    data = {k: getattr(payload, k) for k in ("title", "kind", "unit", "start_value",
                                              "target_value", "guard", "weight")}
    data.update(_resolve(request, payload, _kr_refs(request)))
    kr = services.key_result_create(objective=objective, actor=request.user, data=data)
    return Status(201, _kr_read(request, kr.pk))


@router.patch("/key-results/{kr_id}",
              response=documented({200: KeyResultOut}, 400, 403, 404, 409, 413),
              summary="Change a key result's definition (leaders; send the version you read)",
              operation_id="update_key_result")
def update_key_result(request, payload: KeyResultPatch, kr_id: int = id_path()):
    kr = get_key_result_for_member(request, kr_id)
    _require_leader(request)
    data = sent_values(payload, ("title", "unit", "start_value", "target_value", "weight"))
    data.update(_resolve(request, payload, {"owner_id": ("owner", _people(request))}))
    services.key_result_update(key_result=kr, actor=request.user, version=payload.version,
                               data=data)
    return _kr_read(request, kr_id)


@router.delete("/key-results/{kr_id}", response=documented({204: None}, 400, 403, 404),
               summary="Delete a key result (leaders; refused once it has history)",
               operation_id="delete_key_result")
def delete_key_result(request, kr_id: int = id_path()):
    kr = get_key_result_for_member(request, kr_id)
    _require_leader(request)
    services.key_result_delete(key_result=kr, actor=request.user)
    return Status(204, None)
