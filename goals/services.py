"""Writes for the ultimate goal, pillars and cycles (admins). Versions guard edits
(core.versioning: a stale version raises StaleVersion and nothing is written)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _

from accounts.audit import audit_record, diff, snapshot
from accounts.models import Organization, User
from core.versioning import locked_current, versioned_update
from goals.models import Cycle, StrategicPillar, UltimateGoal

GOAL_FIELDS = ["title", "mission", "vision"]
PILLAR_FIELDS = ["name", "description", "order", "archived"]
CYCLE_FIELDS = ["name", "kind", "start", "end", "parent"]


def _guarded_update(obj, version: int, data: Mapping[str, Any]):
    fresh = locked_current(obj, version=version)
    before = snapshot(fresh, list(data))
    versioned_update(fresh, version=version, **data)
    return fresh, diff(before, fresh)


@transaction.atomic
def goal_save(*, organization: Organization, actor: User, data: Mapping[str, Any],
              goal: UltimateGoal | None = None, version: int | None = None) -> UltimateGoal:
    data = {k: v for k, v in data.items() if k in GOAL_FIELDS}
    if goal is None:
        goal = UltimateGoal.objects.create(organization=organization, is_active=True, **data)
        StrategicPillar.objects.filter(organization=organization, goal__isnull=True).update(
            goal=goal)
        audit_record(organization=organization, actor=actor, action="created", obj=goal)
        return goal
    goal, changes = _guarded_update(goal, version or 0, data)
    audit_record(organization=organization, actor=actor, action="updated", obj=goal,
                 changes=changes)
    return goal


def _check_pillar_name(organization, name, exclude_pk=None):
    qs = StrategicPillar.objects.filter(organization=organization, name__iexact=name)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"name": _("Another pillar already has this name.")})


@transaction.atomic
def pillar_create(*, organization: Organization, actor: User,
                  data: Mapping[str, Any]) -> StrategicPillar:
    data = {k: v for k, v in data.items() if k in PILLAR_FIELDS and k != "archived"}
    _check_pillar_name(organization, data["name"])
    if data.get("order") is None:
        last = StrategicPillar.objects.filter(organization=organization).aggregate(
            m=Max("order"))["m"]
        data["order"] = (last if last is not None else -1) + 1
    goal = UltimateGoal.objects.filter(organization=organization, is_active=True).first()
    pillar = StrategicPillar.objects.create(organization=organization, goal=goal, **data)
    audit_record(organization=organization, actor=actor, action="created", obj=pillar)
    return pillar


@transaction.atomic
def pillar_update(*, pillar: StrategicPillar, actor: User, version: int,
                  data: Mapping[str, Any]) -> StrategicPillar:
    data = {k: v for k, v in data.items() if k in PILLAR_FIELDS}
    if data.get("order") is None:
        data.pop("order", None)
    _check_pillar_name(pillar.organization, data.get("name", pillar.name), pillar.pk)
    pillar, changes = _guarded_update(pillar, version, data)
    audit_record(organization=pillar.organization, actor=actor, action="updated", obj=pillar,
                 changes=changes)
    return pillar


def pillar_delete_impact(pillar: StrategicPillar) -> dict[str, int]:
    """What deleting a pillar touches, for its confirmation page (one query): the
    objectives aligned to it directly (alive), and how many of them are in open cycles."""
    return pillar.objectives.filter(deleted_at__isnull=True).aggregate(
        aligned=Count("id"), open=Count("id", filter=Q(cycle__state=Cycle.State.OPEN)))


@transaction.atomic
def pillar_delete(*, pillar: StrategicPillar, actor: User) -> dict[str, int]:
    """Delete a pillar. Objectives aligned to it are kept, without a pillar (the database
    sets it to NULL); objectives aligned under them no longer support it either; its
    figures per cycle go with it (okrs.signals brings the objectives' stored figures up to
    date in this transaction). Returns the impact it had (pillar_delete_impact)."""
    pillar = StrategicPillar.objects.select_for_update().get(pk=pillar.pk)
    impact = pillar_delete_impact(pillar)
    name = pillar.name
    audit_record(organization=pillar.organization, actor=actor, action="deleted", obj=pillar,
                 note=f"“{name}”; {impact['aligned']} aligned objective(s) kept without a "
                      "pillar")
    pillar.delete()
    return impact


def _check_cycle(organization: Organization, data: Mapping[str, Any], exclude_pk=None) -> None:
    errors = {}
    start, end = data.get("start"), data.get("end")
    if start and end and end <= start:
        errors["end"] = _("The end must come after the start.")
    parent = data.get("parent")
    if parent is not None:
        if parent.organization_id != organization.id:
            errors["parent"] = _("Choose one of this organisation's cycles.")
        elif exclude_pk and parent.pk == exclude_pk:
            errors["parent"] = _("A cycle cannot sit inside itself.")
        elif start and end and not (parent.start <= start and end <= parent.end):
            errors["parent"] = f"The dates must lie inside {parent.name} " \
                               f"({parent.start:%d %b %Y} – {parent.end:%d %b %Y})."
    name = data.get("name")
    if name:
        qs = Cycle.objects.filter(organization=organization, name__iexact=name)
        if exclude_pk:
            qs = qs.exclude(pk=exclude_pk)
        if qs.exists():
            errors["name"] = _("Another cycle already has this name.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def cycle_create(*, organization: Organization, actor: User, data: Mapping[str, Any]) -> Cycle:
    data = {k: v for k, v in data.items() if k in CYCLE_FIELDS}
    _check_cycle(organization, data)
    cycle = Cycle.objects.create(organization=organization, **data)
    audit_record(organization=organization, actor=actor, action="created", obj=cycle)
    return cycle


@transaction.atomic
def cycle_update(*, cycle: Cycle, actor: User, version: int, data: Mapping[str, Any]) -> Cycle:
    if cycle.is_closed:
        raise ValidationError(_("A closed cycle is read-only."))
    data = {k: v for k, v in data.items() if k in CYCLE_FIELDS}
    _check_cycle(cycle.organization, data, exclude_pk=cycle.pk)
    cycle, changes = _guarded_update(cycle, version, data)
    audit_record(organization=cycle.organization, actor=actor, action="updated", obj=cycle,
                 changes=changes)
    return cycle
