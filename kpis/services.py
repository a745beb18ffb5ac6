"""Writes for KPIs: definitions, values (with revision history), targets, rebase, candidacy.

Every function is keyword-only and atomic. Bad input raises ``ValidationError`` with a dict
naming the field; nothing is stored then. After a change the KPI's health evaluation is
queued on commit (a broker that is down never fails the write: the scheduled sweep
catches up, and the pages say the health is pending meanwhile).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record, diff, snapshot
from config.celery import enqueue_on_commit
from core.events import emit
from core.numbers import NumberError, parse_for_reader
from core.text import check_text
from core.versioning import locked_current, versioned_update

from . import periods as P
from . import rules as R
from .models import (
    DataPoint,
    DataPointRevision,
    HealthEvent,
    Kpi,
    KpiHealth,
    KpiInput,
    TargetChange,
)
from .signals import points_changed

MAX_NOTE = 500


# --- Validation shared by forms, CSV and API ----------------------------------------------


def clean_value(raw, field: str = "value") -> float:
    """A finite, sane number from a form/CSV/API value (str, int, float, Decimal), read by
    the one rule for numbers people type (core.numbers)."""
    try:
        return parse_for_reader(raw.strip() if isinstance(raw, str) else raw)
    except NumberError as exc:
        raise ValidationError({field: str(exc)}) from None


def parse_period(raw, field: str = "period") -> dt.date:
    """A date from ISO text (2026-08-03), a month (2026-08) or a quarter (2026-Q3)."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw or "").strip()
    if not text:
        raise ValidationError({field: _("Enter a date (YYYY-MM-DD).")})
    try:
        if len(text) == 7 and text[4] == "-" and text[5:].upper().startswith("Q"):
            year, quarter = int(text[:4]), int(text[6])
            if not 1 <= quarter <= 4:
                raise ValueError
            return dt.date(year, 3 * (quarter - 1) + 1, 1)
        if len(text) == 7 and text[4] == "-":
            return dt.date(int(text[:4]), int(text[5:]), 1)
        return dt.date.fromisoformat(text)
    except (ValueError, IndexError):
        raise ValidationError({field: _("“%(text)s” is not a date (use YYYY-MM-DD).") % {"text": text}})


def clean_period(kpi: Kpi, raw, *, today: dt.date | None = None, field: str = "period") -> dt.date:
    """The normalised period start, refusing dates outside reason and the far future."""
    day = parse_period(raw, field)
    if day < P.EARLIEST:
        raise ValidationError({field: _("%(day)s is too far in the past.") % {"day": day.isoformat()}})
    today = today or timezone.localdate()
    start = P.period_start(day, kpi.frequency)
    latest = P.latest_allowed(today, kpi.frequency)
    if start > latest:
        raise ValidationError(
            {field: _("%(day)s is in the future: values can be entered up to the period starting "
                      "%(latest)s.") % {"day": day.isoformat(), "latest": latest.isoformat()}}
        )
    return start


def clean_note(raw) -> str:
    note = check_text((raw or "").strip(), "note")  # a CSV cell or API field: no NUL
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": _("Keep the note under %(n)s characters.") % {"n": MAX_NOTE}})
    return note


def clean_target(rule: str, value, upper) -> tuple[str, float | None, float | None]:
    """(rule, target_value, target_upper) in the stored form, or ValidationError."""
    if rule not in Kpi.TargetRule.values:
        raise ValidationError({"target_rule": _("Choose a target rule.")})
    if rule == Kpi.TargetRule.NONE:
        return rule, None, None
    v = clean_value(value, "target_value")
    if rule != Kpi.TargetRule.BETWEEN:
        return rule, v, None
    u = clean_value(upper, "target_upper")
    if v > u:
        raise ValidationError({"target_upper": _("The high end must not be below the low end.")})
    return rule, v, u


# --- Health bookkeeping ---------------------------------------------------------------------


def _data_changed(kpi_ids: Iterable[int], organization_ids: Iterable[int], *,
                  one_task: bool = False) -> None:
    """Mark KPIs as changed, tell listeners (okrs keeps linked KRs in step), queue health,
    and bump the organisations' generation (pages keep figures per generation: the
    dashboard shows these points as sparklines). ``one_task``: one health task for all
    of them (a data-source run changes a thousand KPIs: one broker round trip, not one each)."""
    from . import derived
    from .tasks import evaluate_kpi, evaluate_kpi_list

    ids = sorted(set(kpi_ids))
    if not ids:
        return
    # The derived KPIs that read them, in this transaction (kpis.derived; one query when
    # none does).
    ids = sorted(set(ids) | set(derived.recompute(ids)))
    Kpi.objects.filter(pk__in=ids).update(data_changed_at=timezone.now())
    points_changed.send(sender=Kpi, kpi_ids=ids)
    if one_task and len(ids) > 1:
        enqueue_on_commit(evaluate_kpi_list, tuple(ids))
        return
    for kpi_id in ids:
        enqueue_on_commit(evaluate_kpi, kpi_id)


# --- Values -----------------------------------------------------------------------------------


@dataclass
class RecordOutcome:
    point: DataPoint
    created: bool
    replaced: float | None = None  # the old value, when replaced


def _lock_kpis(kpi_ids: Iterable[int]) -> None:
    """Lock the KPI rows (in primary-key order, as the health sweep does: no deadlock)
    before their points are read. Locking the point itself is not enough: for a period
    with no point yet `select_for_update` locks nothing, and concurrent first writers
    would all insert, all but one failing on the unique period. Behind the KPI's lock the
    second writer sees the first one's point and keeps its value as a revision."""
    ids = sorted(set(kpi_ids))
    if ids:
        list(Kpi.objects.select_for_update().filter(pk__in=ids).order_by("pk")
             .values_list("pk", flat=True))


def _upsert_point(*, kpi: Kpi, period_start: dt.date, value: float, note: str, source: str,
                  author) -> RecordOutcome:
    """Insert or replace one period's point; the caller holds the KPI's lock (_lock_kpis)."""
    existing = DataPoint.objects.filter(kpi=kpi, period_start=period_start).first()
    if existing is None:
        point = DataPoint.objects.create(kpi=kpi, period_start=period_start, value=value,
                                         note=note, source=source, author=author)
        emit(kpi.organization_id, "kpi.point_recorded", {"kpi_id": kpi.pk, "kpi_name": kpi.name, "team_id": kpi.team_id, "point_id": point.pk, "period_start": period_start, "value": value, "previous_value": None, "note": note, "source": source, "points": 1})
        return RecordOutcome(point=point, created=True)
    if existing.value == value and existing.note == note:
        return RecordOutcome(point=existing, created=False)
    DataPointRevision.objects.create(
        point=existing, old_value=existing.value, new_value=value, old_note=existing.note,
        old_source=existing.source, changed_by=author,
    )
    old = existing.value
    existing.value, existing.note, existing.source, existing.author = value, note, source, author
    existing.save(update_fields=["value", "note", "source", "author", "updated_at"])
    emit(kpi.organization_id, "kpi.point_recorded", {"kpi_id": kpi.pk, "kpi_name": kpi.name, "team_id": kpi.team_id, "point_id": existing.pk, "period_start": period_start, "value": value, "previous_value": old, "note": note, "source": source, "points": 1})
    return RecordOutcome(point=existing, created=False, replaced=old)


@transaction.atomic
def kpi_record_value(*, kpi: Kpi, period, value, note: str = "", source: str = DataPoint.Source.MANUAL,
                     author=None, today: dt.date | None = None) -> RecordOutcome:
    """Record (or replace) the value of one period. A replaced value goes to its history."""
    errors = {}
    cleaned = {}
    for name, fn in (("period", lambda: clean_period(kpi, period, today=today)),
                     ("value", lambda: clean_value(value)),
                     ("note", lambda: clean_note(note))):
        try:
            cleaned[name] = fn()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if kpi.formula:
        errors.setdefault("value", []).append(_computed_message(kpi))
    if errors:
        raise ValidationError(errors)
    _lock_kpis([kpi.pk])
    outcome = _upsert_point(kpi=kpi, period_start=cleaned["period"], value=cleaned["value"],
                            note=cleaned["note"], source=source, author=author)
    _data_changed([kpi.pk], [kpi.organization_id])
    return outcome


def _computed_message(kpi: Kpi) -> str:
    return _("“%(name)s” is computed from its formula: record the values of the KPIs it uses "
             "instead.") % {"name": kpi.name}


@dataclass
class Row:
    """One value to import: already validated and normalised."""

    kpi: Kpi
    period_start: dt.date
    value: float
    note: str = ""


@transaction.atomic
def kpi_record_values(*, rows: Sequence[Row], source: str, author) -> list[RecordOutcome]:
    """Record many values at once, all or nothing (CSV import, API batch)."""
    for r in rows:
        if r.kpi.formula:
            raise ValidationError({"value": _computed_message(r.kpi)})
    _lock_kpis(r.kpi.pk for r in rows)
    outcomes = [
        _upsert_point(kpi=r.kpi, period_start=r.period_start, value=r.value, note=r.note,
                      source=source, author=author)
        for r in rows
    ]
    _data_changed([r.kpi.pk for r in rows], {r.kpi.organization_id for r in rows})
    return outcomes


# --- Definitions --------------------------------------------------------------------------------

DEFINITION_FIELDS = ["name", "description", "unit", "decimals", "owner", "team", "frequency",
                     "intent", "baseline_size", "active"]


@transaction.atomic
def kpi_create(*, organization, actor, name: str, target_rule: str = Kpi.TargetRule.NONE,
               target_value=None, target_upper=None, formula: str = "", **fields) -> Kpi:
    """``formula``: as typed, with the inputs' names in brackets (kpis.derived)."""
    from . import derived

    rule, value, upper = clean_target(target_rule, target_value, target_upper)
    if Kpi.objects.filter(organization=organization, name__iexact=name.strip()).exists():
        raise ValidationError({"name": _("A KPI with this name already exists.")})
    stored, input_ids = derived.clean_formula(
        organization=organization, text=formula,
        frequency=fields.get("frequency", Kpi.Frequency.MONTHLY))
    kpi = Kpi.objects.create(organization=organization, name=name.strip(), target_rule=rule,
                             target_value=value, target_upper=upper, formula=stored, **fields)
    audit_record(organization=organization, actor=actor, action="created", obj=kpi)
    if stored:
        derived.formula_set(kpi=kpi, stored=stored, input_ids=input_ids)
        _formula_event(kpi, actor)
    _data_changed([kpi.pk], [kpi.organization_id])
    return kpi


def _formula_event(kpi: Kpi, actor) -> None:
    from . import derived

    text = derived.named(kpi)
    HealthEvent.objects.create(
        kpi=kpi, kind="formula", new="derived" if text else "", actor=actor,
        message=f"Computed as {text}" if text else "No longer computed from a formula")


@transaction.atomic
def kpi_update(*, kpi: Kpi, actor, version: int, **fields) -> Kpi:
    """Edit the definition (not the target: that has its own service, with a reason)."""
    from . import derived

    unknown = set(fields) - set(DEFINITION_FIELDS) - {"formula"}
    if unknown:
        raise ValueError(f"kpi_update cannot change {sorted(unknown)}")
    input_ids = None
    if "formula" in fields:
        fields["formula"], input_ids = derived.clean_formula(
            organization=kpi.organization, text=fields["formula"],
            frequency=fields.get("frequency", kpi.frequency), kpi=kpi)
        if fields["formula"] == kpi.formula:
            del fields["formula"]
            input_ids = None
    if (fields.get("frequency", kpi.frequency) != kpi.frequency
            and (KpiInput.objects.filter(input=kpi).exists()
                 or (kpi.formula and input_ids is None))):
        raise ValidationError({"frequency": _("This KPI's formula links it to KPIs of its "
                                              "frequency: change the formula first.")})
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        if (Kpi.objects.filter(organization=kpi.organization, name__iexact=fields["name"])
                .exclude(pk=kpi.pk).exists()):
            raise ValidationError({"name": _("A KPI with this name already exists.")})
    before = snapshot(kpi, list(fields))
    versioned_update(kpi, version=version, **fields, updated_at=timezone.now())
    changes = diff(before, kpi)
    if changes:
        audit_record(organization=kpi.organization, actor=actor, action="updated", obj=kpi,
                     changes=changes)
    if "active" in changes:  # closed or reopened: the stored status counts follow
        from .status_counts import recount

        recount([kpi.organization_id])
    if input_ids is not None:
        derived.formula_set(kpi=kpi, stored=kpi.formula, input_ids=input_ids)
        _formula_event(kpi, actor)
    _data_changed([kpi.pk], [kpi.organization_id])
    return kpi


@transaction.atomic
def kpi_change_target(*, kpi: Kpi, actor, version: int, target_rule: str, target_value=None,
                      target_upper=None, reason: str) -> TargetChange:
    reason = (reason or "").strip()
    errors = {}
    try:
        rule, value, upper = clean_target(target_rule, target_value, target_upper)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not reason:
        errors["reason"] = [_("Say why the target changes: it is kept in the history.")]
    if errors:
        raise ValidationError(errors)
    current = locked_current(kpi, version=version)
    change = TargetChange.objects.create(
        kpi=current, old_rule=current.target_rule, old_value=current.target_value,
        old_upper=current.target_upper, new_rule=rule, new_value=value, new_upper=upper,
        reason=reason, changed_by=actor,
    )
    before = snapshot(current, ["target_rule", "target_value", "target_upper"])
    versioned_update(current, version=version, target_rule=rule, target_value=value,
                     target_upper=upper, updated_at=timezone.now())
    audit_record(organization=current.organization, actor=actor, action="target changed",
                 obj=current, changes=diff(before, current), note=reason)
    low, high = R.bounds(rule, value, upper)
    HealthEvent.objects.create(
        kpi=current, kind="target", old=change.old_rule, new=rule, actor=actor,
        message=f"Target now {R.describe_target(rule, low, high, current.unit, current.decimals)}"
                f": {reason}",
    )
    _data_changed([current.pk], [current.organization_id])
    kpi.refresh_from_db()
    return change


@transaction.atomic
def kpi_rebase(*, kpi: Kpi, actor, rebase_date, version: int, note: str = "") -> Kpi:
    """Compute the limits from this period on (after a known change); None clears it."""
    start = None
    if rebase_date not in (None, ""):
        start = clean_period(kpi, rebase_date, field="rebase_date")
    current = locked_current(kpi, version=version)
    before = snapshot(current, ["rebase_date"])
    versioned_update(current, version=version, rebase_date=start, updated_at=timezone.now())
    audit_record(organization=current.organization, actor=actor, action="rebased", obj=current,
                 changes=diff(before, current), note=note)
    HealthEvent.objects.create(
        kpi=current, kind="rebase", old=str(before["rebase_date"] or ""),
        new=str(start or ""), actor=actor,
        message=(f"Limits recomputed from {start.isoformat()}" if start
                 else "Limits computed from the first points again") + (f": {note}" if note else ""),
    )
    _data_changed([current.pk], [current.organization_id])
    kpi.refresh_from_db()
    return kpi


# --- Candidacy ------------------------------------------------------------------------------------


@transaction.atomic
def candidate_dismiss(*, kpi: Kpi, actor, note: str) -> KpiHealth:
    """Dismiss an improvement candidate; it stays dismissed until its state worsens."""
    from . import loop

    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why this KPI needs no improvement OKR now.")})
    health = KpiHealth.objects.select_for_update().filter(kpi=kpi).first()
    if health is None or health.candidate != loop.CANDIDATE:
        raise ValidationError({"note": _("This KPI is not an improvement candidate (any more).")})
    loop.transition(kpi=kpi, to=loop.DISMISSED, actor=actor, why=f"dismissed: {note}",
                    health=health, dismissed_keys=list(health.reason_keys),
                    dismissed_note=note, dismissed_at=timezone.now())
    audit_record(organization=kpi.organization, actor=actor, action="candidate dismissed",
                 obj=kpi, note=note)
    return health
