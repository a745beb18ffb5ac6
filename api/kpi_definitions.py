"""KPI definitions for admins: create (with its first target) and change (with the
``version`` read; 409 when stale). The same services and rules as the KPI pages
(kpis.services.kpi_create / kpi_update: unique names, audited); the target of an
existing KPI changes on its page, where a reason is asked and kept."""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import PermissionDenied
from ninja import Field, Schema, Status

from accounts.access import has_role
from accounts.models import Membership, Role, Team
from kpis import services as kpi_services
from kpis.models import Kpi

from .errors import documented
from .idempotency import KEY_HEADER, run_once
from .kpis import (
    KpiOut,
    _get_kpi,
    _kpi_out,
    router,  # the same paths as the reads: one router per path
)
from .okrs import _resolve, sent_values
from .schemas import MAX_ID, Number, Text, id_path

_ID = {"ge": 1, "le": MAX_ID}
FORMULA_DOC = (
    "A derived KPI (issue 20): its values are computed from other KPIs of the same frequency, "
    "never pushed. KPI names in square brackets, numbers, + - * / (also × ÷) and parentheses: "
    "`[Resolved first time] / [Tickets] * 100`. Empty: an ordinary KPI. A formula naming an "
    "unknown KPI, the KPI itself, another frequency, or making a cycle is a 400 with the reason.")


class KpiIn(Schema):
    name: Text(150, min_length=1, pattern=r"\S")
    description: Text(10_000) = ""
    unit: Text(30) = ""
    decimals: int = Field(1, ge=0, le=6)
    frequency: Literal[*Kpi.Frequency.values] = Kpi.Frequency.MONTHLY
    intent: Literal[*Kpi.Intent.values] = Kpi.Intent.SUSTAIN
    target_rule: Literal[*Kpi.TargetRule.values] = Kpi.TargetRule.NONE
    target_value: Number | None = None
    target_upper: Number | None = None
    baseline_size: int = Field(20, ge=6, le=200)
    owner_id: int | None = Field(None, **_ID)
    team_id: int | None = Field(None, **_ID)
    formula: Text(500) = Field("", description=FORMULA_DOC)


class KpiPatch(Schema):
    version: int = Field(..., ge=1, le=2**31 - 1, description="The version you read (409 if stale)")
    name: Text(150, min_length=1, pattern=r"\S") | None = None
    description: Text(10_000) | None = None
    unit: Text(30) | None = None
    decimals: int | None = Field(None, ge=0, le=6)
    intent: Literal[*Kpi.Intent.values] | None = None
    baseline_size: int | None = Field(None, ge=6, le=200)
    active: bool | None = None
    owner_id: int | None = Field(None, **_ID)
    team_id: int | None = Field(None, **_ID)
    formula: Text(500) | None = Field(None, description=FORMULA_DOC + " Send \"\" to make "
                                      "it an ordinary KPI again.")


class KpiDefinitionOut(KpiOut):
    version: int
    formula: str = Field(description="The formula with its inputs' current names (\"\" when "
                                     "the KPI is not derived)")


def _out(request, kpi_id: int) -> dict:
    from kpis.derived import named

    kpi = _get_kpi(request, kpi_id)
    return {**_kpi_out(kpi), "version": kpi.version, "formula": named(kpi)}


def _require_admin(request) -> None:
    if not has_role(request, Role.ADMIN):
        raise PermissionDenied("Defining KPIs needs the Admin role or higher.")


def _refs(request):
    from django.contrib.auth import get_user_model

    people = get_user_model().objects.filter(
        pk__in=Membership.objects.filter(organization=request.org).values("user_id"))
    return {"owner_id": ("owner", people),
            "team_id": ("team", Team.objects.filter(organization=request.org))}


@router.post("/kpis", response=documented({201: KpiDefinitionOut}, 400, 403, 413),
             summary="Define a KPI with its first target (admins)", operation_id="create_kpi")
def create_kpi(request, payload: KpiIn, idempotency_key: str | None = KEY_HEADER):
    return run_once(request, idempotency_key, lambda: _create(request, payload))


def _create(request, payload: KpiIn):
    _require_admin(request)
    fields = payload.model_dump(exclude={"owner_id", "team_id"})
    fields.update(_resolve(request, payload, _refs(request)))
    kpi = kpi_services.kpi_create(organization=request.org, actor=request.user, **fields)
    return Status(201, _out(request, kpi.pk))


@router.get("/kpis/{kpi_id}/definition", response=documented({200: KpiDefinitionOut}, 404),
            summary="One KPI with its definition's version (for PATCH)",
            operation_id="get_kpi_definition")
def get_kpi_definition(request, kpi_id: int = id_path()):
    return _out(request, kpi_id)


@router.patch("/kpis/{kpi_id}", response=documented({200: KpiDefinitionOut}, 400, 403, 404, 409),
              summary="Change a KPI's definition (admins; send the version you read)",
              operation_id="update_kpi")
def update_kpi(request, payload: KpiPatch, kpi_id: int = id_path()):
    kpi = _get_kpi(request, kpi_id)
    _require_admin(request)
    fields = sent_values(payload, set(payload.model_fields) - {"version", "owner_id", "team_id"})
    fields.update(_resolve(request, payload, _refs(request)))
    kpi_services.kpi_update(kpi=kpi, actor=request.user, version=payload.version, **fields)
    return _out(request, kpi_id)
