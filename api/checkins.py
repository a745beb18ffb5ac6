"""Check-ins: a key result's history, and checking in (value, status, confidence, comment).

The same service and permission rule as the check-in page (okrs.checkins): the KR's owner,
a member of its objective's team, or a leader and above; a viewer never. A KR that cannot
take a check-in (closed cycle, draft objective) is a 409.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import PermissionDenied
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from accounts.audit import audit_record
from okrs.access import get_key_result_for_member
from okrs.checkins.services import CheckInRefused, can_check_in, checkin_create
from okrs.models import CheckIn
from okrs.models import Status as KrStatus

from .errors import documented
from .idempotency import KEY_HEADER, run_once
from .pagination import PageIn, page_of, paginate
from .schemas import Number, Text, id_path

router = Router()


class CheckInIn(Schema):
    status: Literal[*KrStatus.values] = Field(..., description="on_track, at_risk, off_track...")
    value: Number | None = Field(None, description="The KR's new value (metric and guardrail "
                                         "KRs; a KPI-linked KR takes its KPI's)")
    done: bool | None = Field(None, description="Milestones: done or not")
    confidence: int | None = Field(None, ge=0, le=10, description="0 to 10")
    comment: Text(5000) = ""


class CheckInOut(Schema):
    id: int
    key_result_id: int
    value: float | None
    done: bool
    status: str
    confidence: int | None
    comment: str
    author: str | None
    created_at: dt.datetime
    week_start: dt.date


def _out(c: CheckIn) -> dict:
    return {"id": c.pk, "key_result_id": c.key_result_id, "value": c.value, "done": c.done,
            "status": c.status, "confidence": c.confidence, "comment": c.comment,
            "author": c.author.email if c.author else None, "created_at": c.created_at,
            "week_start": c.week_start}


@router.get("/key-results/{kr_id}/check-ins", response=documented({200: page_of(CheckInOut)}, 404),
            summary="A key result's check-ins (paged, newest first)",
            operation_id="list_check_ins")
def list_check_ins(request, paging: Query[PageIn], kr_id: int = id_path()):
    kr = get_key_result_for_member(request, kr_id)
    qs = (CheckIn.objects.filter(organization=request.org, key_result=kr)
          .select_related("author").order_by("-created_at", "-id"))
    return paginate(request, qs, paging, _out)


@router.post("/key-results/{kr_id}/check-ins",
             response=documented({201: CheckInOut}, 400, 403, 404, 409, 413),
             summary="Check in on a key result", operation_id="create_check_in")
def create_check_in(request, payload: CheckInIn, kr_id: int = id_path(), idempotency_key: str | None = KEY_HEADER):
    return run_once(request, idempotency_key, lambda: _create_check_in(request, payload, kr_id))


def _create_check_in(request, payload: CheckInIn, kr_id: int):
    kr = get_key_result_for_member(request, kr_id)
    if not can_check_in(user=request.user, membership=request.membership, kr=kr):
        raise PermissionDenied("Only the key result's owner, its team or a leader may check in.")
    try:
        checkin = checkin_create(
            key_result=kr, author=request.user, status=payload.status,
            value=payload.value, done=payload.done,
            comment=payload.comment, confidence=payload.confidence)
    except CheckInRefused as exc:
        raise HttpError(409, str(exc)) from None
    audit_record(organization=request.org, actor=request.user, action="checked in",
                 obj=checkin, changes={"status": checkin.status, "value": checkin.value},
                 note="API")
    return Status(201, _out(checkin))
