"""Improvement candidates: KPIs the loop flags (list), and a leader's answer — promote to a
draft objective or dismiss with a note — through the same services as the pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from ninja import Query, Router, Schema, Status

from accounts.access import has_role
from accounts.models import Role
from kpis import services as kpi_services
from kpis.models import KpiHealth
from okrs.promotion import kpi_promote

from .errors import documented
from .idempotency import KEY_HEADER, run_once
from .kpis import KpiOut, _get_kpi, _kpi_out, _kpis
from .pagination import PageIn, page_of, paginate
from .schemas import Text, id_path

router = Router()


class DismissIn(Schema):
    note: Text(1000, min_length=1, pattern=r"\S")


class PromotedOut(Schema):
    objective_id: int
    key_result_id: int


def _require_leader(request) -> None:
    if not has_role(request, Role.LEADER):
        raise PermissionDenied("Answering a candidate needs the Leader role or higher.")


@router.get("/improvement-candidates", response=documented({200: page_of(KpiOut)}),
            summary="KPIs flagged as improvement candidates (paged, by name)",
            operation_id="list_candidates")
def list_candidates(request, paging: Query[PageIn]):
    qs = (_kpis(request).filter(health__candidate=KpiHealth.Candidate.CANDIDATE)
          .order_by("name", "id"))
    return paginate(request, qs, paging, _kpi_out)


@router.post("/improvement-candidates/{kpi_id}/promote",
             response=documented({201: PromotedOut}, 400, 403, 404),
             summary="Promote a candidate to a draft improvement objective (leaders)",
             operation_id="promote_candidate")
def promote_candidate(request, kpi_id: int = id_path(), idempotency_key: str | None = KEY_HEADER):
    return run_once(request, idempotency_key, lambda: _promote(request, kpi_id))


def _promote(request, kpi_id: int):
    kpi = _get_kpi(request, kpi_id)
    _require_leader(request)
    objective, kr = kpi_promote(kpi=kpi, actor=request.user)
    return Status(201, {"objective_id": objective.pk, "key_result_id": kr.pk})


@router.post("/improvement-candidates/{kpi_id}/dismiss",
             response=documented({200: KpiOut}, 400, 403, 404, 413),
             summary="Dismiss a candidate with a note (leaders)",
             operation_id="dismiss_candidate")
def dismiss_candidate(request, payload: DismissIn, kpi_id: int = id_path(), idempotency_key: str | None = KEY_HEADER):
    return run_once(request, idempotency_key, lambda: _dismiss(request, payload, kpi_id))


def _dismiss(request, payload: DismissIn, kpi_id: int):
    kpi = _get_kpi(request, kpi_id)
    _require_leader(request)
    kpi_services.candidate_dismiss(kpi=kpi, actor=request.user, note=payload.note.strip())
    return _kpi_out(_get_kpi(request, kpi_id))
