"""Writes for initiatives. Edits carry a version; a closed cycle is read-only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record, diff, snapshot
from accounts.models import Membership, User
from core.versioning import locked_current, versioned_update
from initiatives.models import Initiative
from okrs.models import KeyResult, Objective
from okrs.services import ensure_cycle_open

FIELDS = ["title", "description", "owner", "status", "due_date", "percent_complete"]


def _cycle_of(initiative: Initiative):
    parent = initiative.key_result.objective if initiative.key_result_id else initiative.objective
    return parent.cycle


def _check(organization, data):
    owner = data.get("owner")
    if owner is not None and not Membership.objects.filter(organization=organization,
                                                           user=owner).exists():
        raise ValidationError({"owner": _("The owner must be a member of this organisation.")})
    pct = data.get("percent_complete")
    if pct is not None and not 0 <= pct <= 100:
        raise ValidationError({"percent_complete": _("Between 0 and 100.")})
    if data.get("status") == Initiative.Status.DONE and pct is not None and pct < 100:
        data["percent_complete"] = 100


@transaction.atomic
def initiative_create(*, actor: User, data: Mapping[str, Any],
                      key_result: KeyResult | None = None,
                      objective: Objective | None = None) -> Initiative:
    if (key_result is None) == (objective is None):
        raise ValidationError(_("An initiative hangs under one key result or one objective."))
    parent = key_result or objective
    organization = parent.organization
    cycle = key_result.objective.cycle if key_result else objective.cycle
    ensure_cycle_open(cycle)
    data = {k: v for k, v in data.items() if k in FIELDS}
    _check(organization, data)
    siblings = Initiative.objects.filter(key_result=key_result) if key_result else \
        Initiative.objects.filter(objective=objective)
    last = siblings.aggregate(m=Max("order"))["m"]
    initiative = Initiative.objects.create(
        organization=organization, key_result=key_result, objective=objective,
        order=(last if last is not None else -1) + 1, **data)
    audit_record(organization=organization, actor=actor, action="created", obj=initiative)
    return initiative


@transaction.atomic
def initiative_update(*, initiative: Initiative, actor: User, version: int,
                      data: Mapping[str, Any]) -> Initiative:
    fresh = locked_current(initiative, version=version)
    ensure_cycle_open(_cycle_of(initiative))
    data = {k: v for k, v in data.items() if k in FIELDS}
    _check(fresh.organization, data)
    before = snapshot(fresh, FIELDS)
    versioned_update(fresh, version=version, **data, updated_at=timezone.now())
    audit_record(organization=fresh.organization, actor=actor, action="updated", obj=fresh,
                 changes=diff(before, fresh))
    return fresh


@transaction.atomic
def initiative_delete(*, initiative: Initiative, actor: User) -> None:
    ensure_cycle_open(_cycle_of(initiative))
    audit_record(organization=initiative.organization, actor=actor, action="deleted",
                 obj=initiative)
    initiative.delete()
