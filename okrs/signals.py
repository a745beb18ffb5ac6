"""Model signals of the OKR app.

Saves and deletes of objectives and key results refresh the stored figures (okrs.figures)
in the same transaction; a past week's check-in completion is stored before a delete
changes it. (Issue 16 removed the per-process figure store and the signals that bumped its
generation on every write in the organisation.)"""

from __future__ import annotations

import threading

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from goals.models import StrategicPillar
from okrs import figures
from okrs.models import KeyResult, Objective

# Writes through QuerySet.update()/bulk_update() send no signals: the services that write
# that way (check-ins, versioned edits, KPI points on linked KRs, cycle close) call
# okrs.figures.refresh themselves.

_FIGURE_ONLY = set(figures.FIGURE_FIELDS) | {"figure_cycle_id"}
# Objectives being deleted in this thread: their KRs' deletes (which come first) must not
# put them back into the pillar figures.
_deleting = threading.local()


def _being_deleted() -> set[int]:
    if not hasattr(_deleting, "ids"):
        _deleting.ids = set()
    return _deleting.ids


@receiver(post_save, sender=Objective, dispatch_uid="okrs.figures.objective.save")
def _objective_saved(sender, instance, update_fields=None, raw=False, **kwargs) -> None:
    if raw or (update_fields and set(update_fields) <= _FIGURE_ONLY | {"order"}):
        return
    figures.refresh([instance.pk])


@receiver(pre_delete, sender=Objective, dispatch_uid="okrs.figures.objective.pre_delete")
def _objective_deleting(sender, instance, **kwargs) -> None:
    _being_deleted().add(instance.pk)
    figures.forget(instance)
    # Its aligned objectives lose their parent (SET_NULL, an UPDATE): refresh them after.
    instance._figure_children = list(Objective.objects.filter(parent_id=instance.pk)
                                     .values_list("id", flat=True))


@receiver(post_delete, sender=Objective, dispatch_uid="okrs.figures.objective.delete")
def _objective_deleted(sender, instance, **kwargs) -> None:
    _being_deleted().discard(instance.pk)
    figures.refresh([instance.parent_id, *getattr(instance, "_figure_children", [])])


@receiver(post_save, sender=KeyResult, dispatch_uid="okrs.figures.kr.save")
def _key_result_saved(sender, instance, update_fields=None, raw=False, **kwargs) -> None:
    if raw or (update_fields and set(update_fields) <= {"progress", "order"}):
        return
    figures.refresh([instance.objective_id])


@receiver(post_delete, sender=KeyResult, dispatch_uid="okrs.figures.kr.delete")
def _key_result_deleted(sender, instance, **kwargs) -> None:
    if instance.objective_id not in _being_deleted():
        figures.refresh([instance.objective_id])


@receiver(post_delete, sender=StrategicPillar, dispatch_uid="okrs.figures.pillar.delete")
def _pillar_deleted(sender, instance, **kwargs) -> None:
    """Objectives lose the pillar (SET_NULL, an UPDATE) and its figures are gone (CASCADE):
    every objective that showed or counted it drops it from its stored pillars first — a
    refresh would otherwise take its old contribution out of a figure of a pillar that no
    longer exists, creating rows the deferred foreign key refuses at commit — then those
    objectives refresh (issue 14: deleting pillars)."""
    pid, affected = instance.pk, []
    for oid, shown, counted in (Objective.objects.filter(
            organization_id=instance.organization_id)
            .values_list("id", "pillar_ids", "figure_pillars")):
        if pid in (shown or ()) or pid in (counted or ()):
            affected.append(oid)
            Objective.objects.filter(pk=oid).update(
                pillar_ids=[p for p in shown or () if p != pid],
                figure_pillars=[p for p in counted or () if p != pid])
    figures.refresh(affected)


# ---------------------------------------------------------------- past weeks' completion
# A deleted key result or objective must not change a past week's check-in completion
# (issue 14, defect 9): the team's ended weeks are stored first.


def _deleted_for_itself(origin, model) -> bool:
    """Whether the delete started at a row of `model` (not a cascade from a team, a cycle
    or the organisation, whose weeks go with it: storing them then would point at rows
    being deleted)."""
    return isinstance(origin, model) or getattr(origin, "model", None) is model


@receiver(pre_delete, sender=KeyResult, dispatch_uid="okrs.weeks.kr.pre_delete")
def _key_result_deleting_freezes_weeks(sender, instance, origin=None, **kwargs) -> None:
    if not _deleted_for_itself(origin, KeyResult):
        return  # an objective's delete stores its team's weeks once, before its KRs go
    from okrs.checkins.selectors import freeze_past_weeks

    team_id = (Objective.objects.filter(pk=instance.objective_id)
               .values_list("team_id", flat=True).first())
    freeze_past_weeks([team_id])


@receiver(pre_delete, sender=Objective, dispatch_uid="okrs.weeks.objective.pre_delete")
def _objective_deleting_freezes_weeks(sender, instance, origin=None, **kwargs) -> None:
    if not _deleted_for_itself(origin, Objective):
        return
    from okrs.checkins.selectors import freeze_past_weeks

    freeze_past_weeks([instance.team_id])
