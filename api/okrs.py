"""The OKR endpoints: cycles, and a cycle's objectives with their key results."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from ninja import Router, Schema

from goals.models import Cycle
from okrs import progress as P
from okrs.models import KeyResult, Objective
from okrs.selectors import kr_input

router = Router()


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


# operation_id: the ids published while the API lived in config/api.py; clients generated
# from the schema call the operations by them.


@router.get("/cycles", response=list[CycleOut], summary="The organisation's cycles",
            operation_id="config_api_list_cycles")
def list_cycles(request):
    return [{"id": c.pk, "name": c.name, "kind": c.kind, "start": c.start, "end": c.end,
             "state": c.state} for c in Cycle.objects.filter(organization=request.org)]


@router.get("/cycles/{cycle_id}/objectives", response=list[ObjectiveOut],
            summary="Objectives and key results of a cycle",
            operation_id="config_api_cycle_objectives")
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
