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
from django.db.models import BooleanField, CharField, FloatField, Value
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.audit import audit_record
from accounts.models import AuditEntry

from . import limits as L
from .batch import id_set
from .models import ExcludedPoint, HealthEvent, Kpi, LimitPeriod
from .services import _data_changed, clean_period

REASON_REQUIRED = gettext_lazy("Say why (a known change, a special cause): it is kept in the KPI's "
                               "history.")


def divisions_by_kpi(kpi_ids: Iterable[int]) -> dict[int, L.Divisions]:
    """Every KPI's divisions, in one query (periods and exclusions in one UNION ALL)."""
    ids = list(kpi_ids)
    if not ids:
        return {}
    periods = LimitPeriod.objects.filter(kpi_id__in=id_set(ids)).order_by().values_list(
        "kpi_id", "start", "status", "locked_center", "locked_moving_range", "auto_lock")
    excluded = ExcludedPoint.objects.filter(kpi_id__in=id_set(ids)).order_by().values_list(
        "kpi_id", "period_start", Value("excluded", output_field=CharField()),
        Value(None, output_field=FloatField()), Value(None, output_field=FloatField()),
        Value(False, output_field=BooleanField()))
    rows = periods.union(excluded, all=True)
    parts: dict[int, dict] = defaultdict(lambda: {"starts": [], "locked": [], "excluded": set(),
                                                  "declined": set(), "manual": set()})
    for kpi_id, day, kind, centre, mr, auto in rows:
        part = parts[kpi_id]
        if kind == "excluded":
            part["excluded"].add(day)
        elif kind == LimitPeriod.Status.DECLINED:
            part["declined"].add(day)
        else:
            part["starts"].append(day)
            if centre is not None and mr is not None:
                part["locked"].append((day, centre, mr))
            if not auto:
                part["manual"].add(day)
    return {
        kpi_id: L.Divisions(starts=tuple(sorted(p["starts"])), locked=tuple(sorted(p["locked"])),
                            excluded=frozenset(p["excluded"]), declined=frozenset(p["declined"]),
                            manual=frozenset(p["manual"]))
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
        declined=frozenset(p.start for p in periods if p.status == LimitPeriod.Status.DECLINED),
        manual=frozenset(p.start for p in active if not p.auto_lock))


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
        raise ValidationError({"reason": _("Keep the reason under 1,000 characters.")})
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
    """A day in a stored history line ("3 Aug 2026")."""
    return f"{value.day} {value:%b %Y}"


def _shown_day(value: dt.date) -> str:
    """A day in a refusal, in the reader's language ("3 Aug 2026", "3. August 2026")."""
    return formats.date_format(value, "DATE_FORMAT")


@transaction.atomic
def period_add(*, kpi: Kpi, actor, start, reason: str, suggested: bool = False) -> LimitPeriod:
    """A new limit period from ``start`` (a confirmed suggestion, or one a leader adds)."""
    day = clean_period(kpi, start, field="start")
    reason = _reason(reason)
    period, created = LimitPeriod.objects.select_for_update().get_or_create(
        kpi=kpi, start=day, defaults={"reason": reason, "created_by": actor})
    if not created:
        if period.status == LimitPeriod.Status.ACTIVE:
            raise ValidationError({"start": _("A limit period already starts on %(day)s.")
                                  % {"day": _shown_day(day)}})
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
        raise ValidationError({"start": _("The period from %(day)s was already decided.")
                              % {"day": _shown_day(day)}})
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
        raise ValidationError({"reason": _("That limit period does not exist (any more).")})
    day = period.start
    period.delete()
    period.pk = period_id
    _changed(kpi, actor=actor, kind="limit_period", action="limit_period_removed", obj=period,
             old=day.isoformat(), reason=reason, changes={"start": [day.isoformat(), None]},
             message=f"Limit period from {_day(day)} removed: {reason}")


def _lock_figures(kpi: Kpi, period: LimitPeriod) -> tuple[float, float]:
    """The (centre, moving range) the period's limits lock at: its segment's figures as
    the chart shows them, once its baseline is complete."""
    from .selectors import kpi_detail

    points = kpi_detail(kpi).points
    periods = [x.period_start for x in points]
    analysis = kpi_analysis(kpi, periods, [x.value for x in points])
    seg = next((s for s in analysis.segments
                if s.start < len(periods) and periods[s.start] >= period.start), None)
    if seg is None or not seg.has_limits or not seg.baseline_complete:
        raise ValidationError({"reason": _("Its baseline is not complete yet: the limits lock "
                                           "once it has its full number of points.")})
    return seg.center, seg.moving_range


@transaction.atomic
def period_lock(*, kpi: Kpi, actor, period_id: int) -> None:
    """Lock a period's limits at the figures shown (its baseline must be complete): the
    button that locks them again after someone unlocked them."""
    period = LimitPeriod.objects.select_for_update().filter(
        kpi=kpi, pk=period_id, status=LimitPeriod.Status.ACTIVE).first()
    if period is None:
        raise ValidationError({"reason": _("That limit period does not exist (any more).")})
    if period.is_locked:
        raise ValidationError({"reason": _("Those limits are already locked.")})
    period.locked_center, period.locked_moving_range = _lock_figures(kpi, period)
    period.locked_at = timezone.now()
    period.save(update_fields=["locked_center", "locked_moving_range", "locked_at"])
    _changed(kpi, actor=actor, kind="limits_locked", action="limits_locked", obj=period,
             new="locked", message=f"Limits of the period from {_day(period.start)} locked.")


AUTO_LOCK_NOTE = "baseline complete: locked automatically"


def auto_lock(locks: dict[Kpi, list[tuple[dt.date, float, float]]]) -> list[HealthEvent]:
    """Lock the limits of periods whose baseline just completed (kpis.health, in the
    sweep's chunk transaction; ``locks`` from kpis.limits.to_lock). Each lock is audited
    (no actor: Headway did it) and returns its event for the chunk's one insert. Three
    queries for the chunk, none when nothing locks."""
    wanted = {(kpi.pk, start): (kpi, centre, mr) for kpi, rows in locks.items()
              for start, centre, mr in rows}
    if not wanted:
        return []
    rows = list(LimitPeriod.objects.filter(
        kpi_id__in={k for k, _ in wanted}, status=LimitPeriod.Status.ACTIVE,
        locked_center__isnull=True, auto_lock=True).only("id", "kpi_id", "start"))
    rows = [r for r in rows if (r.kpi_id, r.start) in wanted]
    now = timezone.now()
    audits, events = [], []
    for period in rows:
        kpi, centre, mr = wanted[(period.kpi_id, period.start)]
        period.locked_center, period.locked_moving_range, period.locked_at = centre, mr, now
        audits.append(AuditEntry(
            organization_id=kpi.organization_id, actor=None, action="limits_locked",
            object_type=LimitPeriod._meta.label_lower, object_id=str(period.pk),
            object_repr=str(period)[:200], changes={"locked_center": [None, centre],
                                                    "locked_moving_range": [None, mr]},
            note=AUTO_LOCK_NOTE))
        events.append(HealthEvent(
            kpi=kpi, kind="limits_locked", new="locked",
            message=f"Limits of the period from {_day(period.start)} locked by themselves: "
                    f"its baseline is complete."))
    LimitPeriod.objects.bulk_update(rows, ["locked_center", "locked_moving_range", "locked_at"])
    AuditEntry.objects.bulk_create(audits)
    return events


@transaction.atomic
def period_unlock(*, kpi: Kpi, actor, period_id: int, reason: str) -> None:
    """Unlock (the limits follow the period's values again: a recalculation)."""
    reason = _reason(reason)
    period = LimitPeriod.objects.select_for_update().filter(kpi=kpi, pk=period_id).first()
    if period is None or not period.is_locked:
        raise ValidationError({"reason": _("Those limits are not locked.")})
    period.locked_center = period.locked_moving_range = period.locked_at = None
    period.auto_lock = False  # a person decided: only the button locks it again
    period.save(update_fields=["locked_center", "locked_moving_range", "locked_at",
                               "auto_lock"])
    _changed(kpi, actor=actor, kind="limits_locked", action="limits_unlocked", obj=period,
             old="locked", new="unlocked", reason=reason,
             message=f"Limits of the period from {_day(period.start)} unlocked and "
                     f"recalculated: {reason}")


@transaction.atomic
def point_exclude(*, kpi: Kpi, actor, period, reason: str) -> ExcludedPoint:
    day = clean_period(kpi, period, field="period")
    reason = _reason(reason)
    if not kpi.points.filter(period_start=day).exists():
        raise ValidationError({"period": _("There is no value for %(day)s.") % {"day": _shown_day(day)}})
    point, created = ExcludedPoint.objects.get_or_create(
        kpi=kpi, period_start=day, defaults={"reason": reason, "created_by": actor})
    if not created:
        raise ValidationError({"period": _("%(day)s is already left out of the limits.")
                               % {"day": _shown_day(day)}})
    _changed(kpi, actor=actor, kind="excluded", action="point_excluded", obj=point,
             new=day.isoformat(), reason=reason,
             message=f"{_day(day)} left out of the limit calculation: {reason}")
    return point


@transaction.atomic
def point_include(*, kpi: Kpi, actor, excluded_id: int, reason: str = "") -> None:
    point = ExcludedPoint.objects.filter(kpi=kpi, pk=excluded_id).first()
    if point is None:
        raise ValidationError({"reason": _("That point is not excluded (any more).")})
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
        raise ValidationError({"method": _("Choose the average or the median moving range.")})
    reason = _reason(reason)
    old = Kpi.objects.select_for_update().values_list("limit_method", flat=True).get(pk=kpi.pk)
    if old == method:
        return
    Kpi.objects.filter(pk=kpi.pk).update(limit_method=method, updated_at=timezone.now())
    kpi.limit_method = method
    _changed(kpi, actor=actor, kind="limit_method", action="limit_method_changed", obj=kpi,
             old=old, new=method, reason=reason, changes={"limit_method": [old, method]},
             message=f"Limits from the {method} moving range: {reason}")
