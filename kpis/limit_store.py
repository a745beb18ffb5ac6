"""Limit periods, locked limits, excluded points and the moving range method: reads (one
query for a whole chunk of KPIs) and writes (services: audited, an event in the KPI's
history, the KPI re-evaluated through the worker on commit).

The arithmetic is pure, in ``kpis.limits`` and ``kpis.xmr``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, FloatField, Value
from django.utils import timezone

from accounts.audit import audit_record

from . import limits as L
from .models import ExcludedPoint, HealthEvent, Kpi, LimitPeriod
from .services import _data_changed, clean_period

REASON_REQUIRED = "Say why (a known change, a special cause): it is kept in the KPI's history."


def divisions_by_kpi(kpi_ids: Iterable[int]) -> dict[int, L.Divisions]:
    """Every KPI's divisions, in one query (periods and exclusions in one UNION ALL)."""
    ids = list(kpi_ids)
    if not ids:
        return {}
    periods = LimitPeriod.objects.filter(kpi_id__in=ids).order_by().values_list(
        "kpi_id", "start", "status", "locked_center", "locked_moving_range")
    excluded = ExcludedPoint.objects.filter(kpi_id__in=ids).order_by().values_list(
        "kpi_id", "period_start", Value("excluded", output_field=CharField()),
        Value(None, output_field=FloatField()), Value(None, output_field=FloatField()))
    rows = periods.union(excluded, all=True)
    parts: dict[int, dict] = defaultdict(lambda: {"starts": [], "locked": [], "excluded": set(),
                                                  "declined": set()})
    for kpi_id, day, kind, centre, mr in rows:
        part = parts[kpi_id]
        if kind == "excluded":
            part["excluded"].add(day)
        elif kind == LimitPeriod.Status.DECLINED:
            part["declined"].add(day)
        else:
            part["starts"].append(day)
            if centre is not None and mr is not None:
                part["locked"].append((day, centre, mr))
    return {
        kpi_id: L.Divisions(starts=tuple(sorted(p["starts"])), locked=tuple(sorted(p["locked"])),
                            excluded=frozenset(p["excluded"]), declined=frozenset(p["declined"]))
        for kpi_id, p in parts.items()
    }


def divisions_from(periods: Iterable[LimitPeriod], excluded: Iterable[ExcludedPoint]) -> L.Divisions:
    """One KPI's divisions from its rows already loaded (the KPI page shows them too)."""
    periods = list(periods)
    active = [p for p in periods if p.status == LimitPeriod.Status.ACTIVE]
    return L.Divisions(
        starts=tuple(sorted(p.start for p in active)),
        locked=tuple(sorted((p.start, p.locked_center, p.locked_moving_range)
                            for p in active if p.is_locked)),
        excluded=frozenset(e.period_start for e in excluded),
        declined=frozenset(p.start for p in periods if p.status == LimitPeriod.Status.DECLINED))


def divisions_of(kpi: Kpi) -> L.Divisions:
    return divisions_by_kpi([kpi.pk]).get(kpi.pk, L.NONE)


def kpi_analysis(kpi: Kpi, periods, values, divisions: L.Divisions | None = None):
    """The analysis the KPI page, the review and the promotion use (as the sweep does)."""
    return L.analysis_for(periods, values, baseline_size=kpi.baseline_size,
                          method=kpi.limit_method,
                          divisions=divisions_of(kpi) if divisions is None else divisions,
                          rebase_date=kpi.rebase_date)


# --- Writes ----------------------------------------------------------------------------------


def _reason(raw) -> str:
    reason = (raw or "").strip()
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    if len(reason) > 1000:
        raise ValidationError({"reason": "Keep the reason under 1,000 characters."})
    return reason


def _changed(kpi: Kpi, *, actor, kind: str, action: str, obj, message: str, old="", new="",
             changes: dict | None = None, reason: str = "") -> None:
    audit_record(organization=kpi.organization, actor=actor, action=action, obj=obj,
                 changes=changes or {}, note=reason)
    HealthEvent.objects.create(kpi=kpi, kind=kind, old=str(old)[:30], new=str(new)[:30],
                               actor=actor if getattr(actor, "is_authenticated", False) else None,
                               message=message)
    _data_changed([kpi.pk], [kpi.organization_id])


def _day(value: dt.date) -> str:
    return f"{value.day} {value:%b %Y}"


@transaction.atomic
def period_add(*, kpi: Kpi, actor, start, reason: str, suggested: bool = False) -> LimitPeriod:
    """A new limit period from ``start`` (a confirmed suggestion, or one a leader adds)."""
    day = clean_period(kpi, start, field="start")
    reason = _reason(reason)
    period, created = LimitPeriod.objects.select_for_update().get_or_create(
        kpi=kpi, start=day, defaults={"reason": reason, "created_by": actor})
    if not created:
        if period.status == LimitPeriod.Status.ACTIVE:
            raise ValidationError({"start": f"A limit period already starts on {_day(day)}."})
        period.status, period.reason, period.created_by = LimitPeriod.Status.ACTIVE, reason, actor
        period.save(update_fields=["status", "reason", "created_by"])
    what = "Suggested limit period confirmed" if suggested else "New limit period"
    _changed(kpi, actor=actor, kind="limit_period", action="limit_period_added", obj=period,
             new=day.isoformat(), reason=reason, changes={"start": [None, day.isoformat()]},
             message=f"{what} from {_day(day)}: {reason}")
    return period


@transaction.atomic
def period_decline(*, kpi: Kpi, actor, start, reason: str) -> LimitPeriod:
    """Decline a suggested period: kept so the same start is not suggested again."""
    day = clean_period(kpi, start, field="start")
    reason = _reason(reason)
    period, created = LimitPeriod.objects.select_for_update().get_or_create(
        kpi=kpi, start=day, defaults={"reason": reason, "created_by": actor,
                                      "status": LimitPeriod.Status.DECLINED})
    if not created:
        raise ValidationError({"start": f"The period from {_day(day)} was already decided."})
    audit_record(organization=kpi.organization, actor=actor, action="limit_period_declined",
                 obj=period, note=reason)
    HealthEvent.objects.create(kpi=kpi, kind="limit_period", old="", new="declined",
                               actor=actor, message=f"Suggested limit period from {_day(day)} "
                                                    f"declined: {reason}")
    return period


@transaction.atomic
def period_remove(*, kpi: Kpi, actor, period_id: int, reason: str) -> None:
    reason = _reason(reason)
    period = LimitPeriod.objects.select_for_update().filter(kpi=kpi, pk=period_id).first()
    if period is None:
        raise ValidationError({"reason": "That limit period does not exist (any more)."})
    day = period.start
    period.delete()
    period.pk = period_id
    _changed(kpi, actor=actor, kind="limit_period", action="limit_period_removed", obj=period,
             old=day.isoformat(), reason=reason, changes={"start": [day.isoformat(), None]},
             message=f"Limit period from {_day(day)} removed: {reason}")


@transaction.atomic
def period_lock(*, kpi: Kpi, actor, period_id: int, center: float, moving_range: float) -> None:
    """Lock a period's limits at the figures shown (its baseline is complete)."""
    period = LimitPeriod.objects.select_for_update().filter(
        kpi=kpi, pk=period_id, status=LimitPeriod.Status.ACTIVE).first()
    if period is None:
        raise ValidationError({"reason": "That limit period does not exist (any more)."})
    period.locked_center, period.locked_moving_range = center, moving_range
    period.locked_at = timezone.now()
    period.save(update_fields=["locked_center", "locked_moving_range", "locked_at"])
    _changed(kpi, actor=actor, kind="limits_locked", action="limits_locked", obj=period,
             new="locked", message=f"Limits of the period from {_day(period.start)} locked.")


@transaction.atomic
def period_unlock(*, kpi: Kpi, actor, period_id: int, reason: str) -> None:
    """Unlock (the limits follow the period's values again: a recalculation)."""
    reason = _reason(reason)
    period = LimitPeriod.objects.select_for_update().filter(kpi=kpi, pk=period_id).first()
    if period is None or not period.is_locked:
        raise ValidationError({"reason": "Those limits are not locked."})
    period.locked_center = period.locked_moving_range = period.locked_at = None
    period.save(update_fields=["locked_center", "locked_moving_range", "locked_at"])
    _changed(kpi, actor=actor, kind="limits_locked", action="limits_unlocked", obj=period,
             old="locked", new="unlocked", reason=reason,
             message=f"Limits of the period from {_day(period.start)} unlocked and "
                     f"recalculated: {reason}")


@transaction.atomic
def point_exclude(*, kpi: Kpi, actor, period, reason: str) -> ExcludedPoint:
    day = clean_period(kpi, period, field="period")
    reason = _reason(reason)
    if not kpi.points.filter(period_start=day).exists():
        raise ValidationError({"period": f"There is no value for {_day(day)}."})
    point, created = ExcludedPoint.objects.get_or_create(
        kpi=kpi, period_start=day, defaults={"reason": reason, "created_by": actor})
    if not created:
        raise ValidationError({"period": f"{_day(day)} is already left out of the limits."})
    _changed(kpi, actor=actor, kind="excluded", action="point_excluded", obj=point,
             new=day.isoformat(), reason=reason,
             message=f"{_day(day)} left out of the limit calculation: {reason}")
    return point


@transaction.atomic
def point_include(*, kpi: Kpi, actor, excluded_id: int, reason: str = "") -> None:
    point = ExcludedPoint.objects.filter(kpi=kpi, pk=excluded_id).first()
    if point is None:
        raise ValidationError({"reason": "That point is not excluded (any more)."})
    day = point.period_start
    point.delete()
    point.pk = excluded_id
    note = (reason or "").strip()
    _changed(kpi, actor=actor, kind="excluded", action="point_included", obj=point,
             old=day.isoformat(), reason=note,
             message=f"{_day(day)} counts towards the limits again" + (f": {note}" if note else "."))


@transaction.atomic
def method_set(*, kpi: Kpi, actor, method: str, reason: str) -> None:
    if method not in ("average", "median"):
        raise ValidationError({"method": "Choose the average or the median moving range."})
    reason = _reason(reason)
    old = Kpi.objects.select_for_update().values_list("limit_method", flat=True).get(pk=kpi.pk)
    if old == method:
        return
    Kpi.objects.filter(pk=kpi.pk).update(limit_method=method, updated_at=timezone.now())
    kpi.limit_method = method
    _changed(kpi, actor=actor, kind="limit_method", action="limit_method_changed", obj=kpi,
             old=old, new=method, reason=reason, changes={"limit_method": [old, method]},
             message=f"Limits from the {method} moving range: {reason}")
