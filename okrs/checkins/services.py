"""Check-in services: the only code that writes CheckIn rows.

A check-in is append-only (a correction is a new check-in). The key result mirrors its
latest check-in: ``current_value``, ``done``, ``status`` and ``last_checkin_at`` are
written in the same transaction as the new row, under a row lock on the key result, so
two people checking in the same KR at the same moment are both recorded and the KR ends
with the value of the one that committed last.

Value rules (the form applies them too, the service is the last gate):

* metric and guardrail KRs need a finite value with ``|value| < 1e15``;
* **no negatives when the KR lives on the non-negative side**: if both the start and the
  target value are ``>= 0`` (tickets, %, macros, euros), a negative value is a typo and is
  refused. A KR whose start or target is negative (a temperature, a net balance) accepts
  negatives;
* milestone KRs take ``done`` (True/False) and no value;
* a KR linked to a KPI takes its value from the KPI's latest data point: the check-in
  only asks for status and comment (the value stored on the check-in is the KPI's latest
  value at that moment, so the history shows what the owner saw);
* a KR whose objective's cycle is closed, or whose objective or KR was deleted, cannot
  be checked in (``CheckInRefused``).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organization, Role
from core.generations import bump_org
from core.validators import validate_finite
from kpis.models import DataPoint
from okrs import figures
from okrs.models import CheckIn, KeyResult, Objective, Status


class CheckInRefused(Exception):
    """The key result cannot take a check-in (closed cycle, deleted, draft...)."""


def week_start_for(org: Organization, when: dt.datetime | None = None) -> dt.date:
    """Monday of the ISO week containing `when` (default: now), in the org's time zone."""
    local = (when or timezone.now()).astimezone(org.tz)
    day = local.date()
    return day - dt.timedelta(days=day.weekday())


def allows_negative(kr: KeyResult) -> bool:
    """A KR whose start and target are both >= 0 counts on the non-negative side."""
    return (kr.start_value or 0) < 0 or (kr.target_value or 0) < 0


def check_value(kr: KeyResult, value: float | None) -> float:
    """Validate a new value for a metric/guardrail KR; return it as a float."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError("Enter the new value.", code="required")
    validate_finite(value)
    number = float(value)
    if number < 0 and not allows_negative(kr):
        raise ValidationError(
            "This key result cannot go below zero (its start and target are not negative).",
            code="negative")
    return number


def refusal_reason(kr: KeyResult) -> str | None:
    """Why `kr` cannot take a check-in now, or None when it can."""
    objective = kr.objective
    if kr.deleted_at is not None or objective.deleted_at is not None:
        return "This key result was deleted."
    if objective.cycle.is_closed:
        return f"The cycle {objective.cycle.name} is closed: its key results are frozen."
    if objective.state == Objective.State.CLOSED:
        return "This objective is closed."
    if objective.state == Objective.State.DRAFT:
        return "This objective is still a draft: check-ins start once it is active."
    return None


def user_team_ids(user, org: Organization) -> set[int]:
    """Ids of the org's teams the user is a member of (one query)."""
    return set(user.teams.filter(organization=org).values_list("id", flat=True))


def can_check_in(*, user, membership: Membership | None, kr: KeyResult,
                 team_ids: set[int] | None = None) -> bool:
    """The KR's owner, a member of its objective's team, or a leader and above.

    A viewer never checks in, even on a KR they own (the viewer role only reads).
    `team_ids` (from `user_team_ids`) avoids a query per row on list pages.
    """
    if membership is None or membership.organization_id != kr.organization_id:
        return False
    if not membership.has_role(Role.MEMBER):
        return False
    if membership.has_role(Role.LEADER):
        return True
    if kr.owner_id is not None and kr.owner_id == user.id:
        return True
    team_id = kr.objective.team_id
    if team_id is None:
        return False
    if team_ids is None:
        return user.teams.filter(organization_id=kr.organization_id, pk=team_id).exists()
    return team_id in team_ids


def kpi_latest_value(kpi_id: int) -> float | None:
    point = DataPoint.objects.filter(kpi_id=kpi_id).order_by("-period_start").first()
    return point.value if point else None


@transaction.atomic
def checkin_create(
    *,
    key_result: KeyResult,
    author,
    status: str,
    value: float | None = None,
    done: bool | None = None,
    comment: str = "",
    confidence: int | None = None,
    now: dt.datetime | None = None,
) -> CheckIn:
    """Record a check-in and make it the KR's current state, atomically.

    Raises ValidationError (bad value/status/confidence) or CheckInRefused. The caller
    checks permissions (`can_check_in`).
    """
    # Lock the KR row: concurrent check-ins on one KR are serialised, none is lost, and the
    # KR ends up mirroring the one that commits last.
    kr = (KeyResult.objects.select_for_update(of=("self",))
          .select_related("objective", "objective__cycle", "organization")
          .get(pk=key_result.pk, organization_id=key_result.organization_id))
    reason = refusal_reason(kr)
    if reason:
        raise CheckInRefused(reason)
    if status not in Status.values:
        raise ValidationError({"status": "Choose a status."})
    if confidence is not None and not (0 <= int(confidence) <= 10):
        raise ValidationError({"confidence": "Confidence goes from 0 to 10."})
    comment = (comment or "").strip()

    kr_update: dict = {}
    if kr.kpi_id is not None:
        value = kpi_latest_value(kr.kpi_id)
        done = False
        if value is not None:
            kr_update["current_value"] = value
    elif kr.kind == KeyResult.Kind.MILESTONE:
        done = bool(done)
        value = 1.0 if done else 0.0
        kr_update.update(done=done, current_value=value)
    else:
        try:
            value = check_value(kr, value)
        except ValidationError as exc:
            raise ValidationError({"value": exc.messages}) from None
        done = False
        kr_update["current_value"] = value

    if status == Status.ACCOMPLISHED and kr.kind == KeyResult.Kind.MILESTONE and not done:
        raise ValidationError({"status": "Mark the milestone done to call it accomplished."})

    moment = now or timezone.now()
    checkin = CheckIn(
        organization=kr.organization, key_result=kr, value=value, done=bool(done),
        status=status, confidence=confidence, comment=comment, author=author,
        week_start=week_start_for(kr.organization, moment))
    # Constraints are checked above (status, confidence) and by the database on insert;
    # validating them here would cost six queries per check-in.
    checkin.full_clean(exclude=["organization", "key_result", "author"],
                       validate_constraints=False)
    checkin.save()
    if now is not None:  # created_at is auto_now_add; tests and imports may pin the moment
        CheckIn.objects.filter(pk=checkin.pk).update(created_at=now)
        checkin.created_at = now
    KeyResult.objects.filter(pk=kr.pk).update(
        status=status, last_checkin_at=checkin.created_at, updated_at=timezone.now(),
        **kr_update)
    bump_org(kr.organization_id)  # the KR moved through an UPDATE
    figures.refresh([kr.objective_id])  # its objective, parents and pillars, now
    for field, new in {"status": status, "last_checkin_at": checkin.created_at,
                       **kr_update}.items():
        setattr(key_result, field, new)
    return checkin
