"""The initiative endpoints: the work under a key result or an objective.

The pages' rule (DESIGN.md roles): members and above write initiatives and edit the ones
they own; leaders edit every one and choose its owner (a member's initiative is their
own). Writes go through initiatives.services, which audit them; an edit carries the
``version`` it read (409 when stale); a closed cycle is read-only (400).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from ninja import Field, Query, Router, Schema, Status
from pydantic import BeforeValidator
from pydantic import Field as PydanticField

from accounts.access import has_role
from accounts.models import Role
from initiatives import services
from initiatives.access import get_initiative_for_editor, get_initiative_for_member
from initiatives.models import Initiative
from okrs.access import get_key_result_for_member, get_objective_for_member

from .errors import documented
from .idempotency import KEY_HEADER, run_once
from .okrs import _people, _resolve, sent_values
from .pagination import PageIn, page_of, paginate
from .schemas import MAX_ID, IsoDate, Text, id_path

router = Router()

_ID = {"ge": 1, "le": MAX_ID}


def _json_integer(value):
    """A JSON integer: 74 or 74.0 (JSON Schema counts both), never "74", true or 74.5."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Enter a whole number.")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("Enter a whole number.")
        return int(value)
    return value


Percent = Annotated[int, PydanticField(ge=0, le=100), BeforeValidator(_json_integer)]
StatusName = Literal[*Initiative.Status.values]
FIELDS = ("title", "description", "status", "due_date", "percent_complete")


class InitiativeOut(Schema):
    id: int
    title: str
    description: str
    status: str
    due_date: dt.date | None
    percent_complete: int
    key_result_id: int | None
    objective_id: int = Field(..., description="The objective it serves (its key result's "
                                               "objective when it hangs under a key result)")
    owner_id: int | None
    owner: str | None
    version: int
    updated_at: dt.datetime


class InitiativeFilters(PageIn):
    key_result: int | None = Field(None, **_ID, description="A key result's id")
    objective: int | None = Field(None, **_ID, description="An objective's id (its own "
                                  "initiatives and its key results')")
    status: Literal["", *Initiative.Status.values] = ""
    owner: int | None = Field(None, **_ID, description="The owner's user id")


class InitiativeIn(Schema):
    title: Text(200, min_length=1, pattern=r"\S")
    description: Text(10_000) = ""
    key_result_id: int | None = Field(None, **_ID, description="Hang it under this key "
                                      "result (send this or objective_id, not both)")
    objective_id: int | None = Field(None, **_ID, description="Or under this objective")
    status: StatusName = Initiative.Status.PLANNED
    due_date: IsoDate | None = None
    percent_complete: Percent = 0
    owner_id: int | None = Field(None, **_ID, description="Leaders only; a member's "
                                 "initiative is their own")


class InitiativePatch(Schema):
    version: int = Field(..., ge=1, le=2**31 - 1, description="The version you read (409 if stale)")
    title: Text(200, min_length=1, pattern=r"\S") | None = None
    description: Text(10_000) | None = None
    status: StatusName | None = None
    due_date: IsoDate | None = None
    percent_complete: Percent | None = None
    owner_id: int | None = Field(None, **_ID, description="Leaders only")


def _out(i: Initiative) -> dict:
    return {
        "id": i.pk, "title": i.title, "description": i.description, "status": i.status,
        "due_date": i.due_date, "percent_complete": i.percent_complete,
        "key_result_id": i.key_result_id,
        "objective_id": i.key_result.objective_id if i.key_result_id else i.objective_id,
        "owner_id": i.owner_id, "owner": i.owner.email if i.owner_id else None,
        "version": i.version, "updated_at": i.updated_at,
    }


def _initiatives(request):
    return (Initiative.objects.filter(organization=request.org)
            .select_related("key_result", "owner"))


def _owner(request, payload: Schema) -> dict:
    """The owner the body names, inside the organisation; only leaders name another."""
    if "owner_id" not in payload.model_fields_set:
        return {}
    if not has_role(request, Role.LEADER) and payload.owner_id != request.user.pk:
        raise PermissionDenied("Only a leader can choose an initiative's owner.")
    return _resolve(request, payload, {"owner_id": ("owner", _people(request))})


@router.get("/initiatives", response=documented({200: page_of(InitiativeOut)}),
            summary="List initiatives (paged, oldest first; filter by key result, "
                    "objective, status, owner)",
            operation_id="list_initiatives")
def list_initiatives(request, filters: Query[InitiativeFilters]):
    qs = _initiatives(request).order_by("id")
    if filters.key_result:
        qs = qs.filter(key_result_id=filters.key_result)
    if filters.objective:
        qs = qs.filter(Q(objective_id=filters.objective)
                       | Q(key_result__objective_id=filters.objective))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    return paginate(request, qs, filters, _out)


@router.get("/initiatives/{initiative_id}", response=documented({200: InitiativeOut}, 404),
            summary="One initiative", operation_id="get_initiative")
def get_initiative(request, initiative_id: int = id_path()):
    return _out(get_initiative_for_member(request, initiative_id))


@router.post("/initiatives", response=documented({201: InitiativeOut}, 400, 403, 404, 413),
             summary="Add an initiative under a key result or an objective (members)",
             operation_id="create_initiative")
def create_initiative(request, payload: InitiativeIn, idempotency_key: str | None = KEY_HEADER):
    return run_once(request, idempotency_key, lambda: _create(request, payload))


def _create(request, payload: InitiativeIn):
    if not has_role(request, Role.MEMBER):
        raise PermissionDenied("Writing initiatives needs the Member role or higher.")
    if (payload.key_result_id is None) == (payload.objective_id is None):
        raise ValidationError({"key_result_id": [
            "Send key_result_id or objective_id (one of them)."]})
    key_result = objective = None
    if payload.key_result_id is not None:
        key_result = get_key_result_for_member(request, payload.key_result_id)
    else:
        objective = get_objective_for_member(request, payload.objective_id)
    data = {k: getattr(payload, k) for k in FIELDS}
    data["owner"] = request.user
    data.update(_owner(request, payload))
    initiative = services.initiative_create(actor=request.user, data=data,
                                            key_result=key_result, objective=objective)
    return Status(201, _out(get_initiative_for_member(request, initiative.pk)))


@router.patch("/initiatives/{initiative_id}",
              response=documented({200: InitiativeOut}, 400, 403, 404, 409, 413),
              summary="Change an initiative (its owner or a leader; send the version you read)",
              operation_id="update_initiative")
def update_initiative(request, payload: InitiativePatch, initiative_id: int = id_path()):
    initiative = get_initiative_for_editor(request, initiative_id)
    data = sent_values(payload, FIELDS)
    if "due_date" in payload.model_fields_set and payload.due_date is None:
        data["due_date"] = None  # null clears the due date
    data.update(_owner(request, payload))
    if data.get("status") == Initiative.Status.DONE and "percent_complete" not in data:
        # the service's rule (done is 100 %) judges the stored figure, as on the page
        data["percent_complete"] = initiative.percent_complete
    services.initiative_update(initiative=initiative, actor=request.user,
                               version=payload.version, data=data)
    return _out(get_initiative_for_member(request, initiative_id))


@router.delete("/initiatives/{initiative_id}", response=documented({204: None}, 400, 403, 404),
               summary="Delete an initiative (its owner or a leader)",
               operation_id="delete_initiative")
def delete_initiative(request, initiative_id: int = id_path()):
    initiative = get_initiative_for_editor(request, initiative_id)
    services.initiative_delete(initiative=initiative, actor=request.user)
    return Status(204, None)
