"""Recording many points from a data source run: the same rules as a manual correction,
in a few queries whatever the number of points.

``kpi_record_batch`` takes already-validated rows (``services.Row``) for KPIs of one
organisation. It locks the KPIs (primary-key order, like ``services``), reads their
existing points for the periods in one query, then inserts the new ones in bulk, replaces
the changed ones (each replacement keeps the old value, note and source in a revision,
as a manual correction does) and leaves the equal ones alone: the same data twice writes
nothing and creates no revision. Health is queued only for KPIs that changed, in one task
for all of them (kpis.tasks.evaluate_kpi_list).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from core.events import emit_many

from .models import DataPoint, DataPointRevision, Kpi
from .services import Row, _data_changed

CHUNK = 2000


@dataclass
class BatchOutcome:
    created: int = 0
    replaced: int = 0
    unchanged: int = 0
    changed_kpi_ids: set[int] = field(default_factory=set)


def _insert(points: list[dict], *, now, source: str, source_ref: str, author_id) -> None:
    """Insert new points. On PostgreSQL with COPY, from plain rows: the ORM's bulk INSERT
    spends most of a 100,000-point run building model instances and preparing values in
    Python (bench/sources_run.py). Every concrete column is written (fields set here, the
    rest their model default), and the table's constraints (one point per period, finite
    values) still hold: COPY is checked like INSERT."""
    if not points:
        return
    common = {"source": source, "source_ref": source_ref, "author_id": author_id,
              "created_at": now, "updated_at": now}
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        DataPoint.objects.bulk_create([DataPoint(**p, **common) for p in points],
                                      batch_size=CHUNK)
        return
    fields = [f for f in DataPoint._meta.concrete_fields if not f.primary_key]
    per_row = ("kpi_id", "period_start", "value", "note")
    fixed = [f for f in fields if f.attname not in per_row]
    # COPY's text format, written whole: psycopg's write_row() adapts each value in
    # Python, and was most of the insert's time. Per-row columns first, the same
    # constant tail (source, run, author, times, defaults) on every line.
    tail = "\t".join(_copy_text(common[f.attname] if f.attname in common else f.get_default())
                     for f in fixed)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [
        *(DataPoint._meta.get_field(n.removesuffix("_id")) for n in per_row), *fixed])
    table = connection.ops.quote_name(DataPoint._meta.db_table)
    lines = [f"{p['kpi_id']}\t{p['period_start'].isoformat()}\t{p['value']!r}\t"
             f"{_copy_text(p['note']) if p['note'] else ''}\t{tail}\n" for p in points]
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {table} ({columns}) FROM STDIN") as copy:
        for start in range(0, len(lines), CHUNK):
            copy.write("".join(lines[start:start + CHUNK]))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """One value in COPY's text format (NULL is \\N; text escaped; the rest as PostgreSQL
    reads it). Values are already checked: finite floats, text without NUL."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value).translate(_COPY_ESCAPES)


@transaction.atomic
def kpi_record_batch(*, rows: Sequence[Row], source: str, source_ref: str = "",
                     author=None) -> BatchOutcome:
    """Record ``rows`` all or nothing. One row per (KPI, period): the caller checks that."""
    outcome = BatchOutcome()
    if not rows:
        return outcome
    kpi_ids = sorted({r.kpi.id for r in rows})
    list(Kpi.objects.select_for_update().filter(pk__in=kpi_ids).order_by("pk")
         .values_list("pk", flat=True))
    periods = {r.period_start for r in rows}
    # Plain tuples, not model instances: a run compares 100,000 points and changes few
    # (bench/sources_run.py); only the changed ones become DataPoint objects.
    existing: dict[tuple[int, object], tuple] = {}
    for start in range(0, len(kpi_ids), CHUNK):
        for row in DataPoint.objects.filter(
                kpi_id__in=kpi_ids[start:start + CHUNK], period_start__in=periods,
        ).values_list("kpi_id", "period_start", "id", "value", "note", "source", "source_ref"):
            existing[(row[0], row[1])] = row
    now = timezone.now()
    new_points, changed, revisions = [], [], []
    for row in rows:
        kpi_id = row.kpi.id  # .pk costs a property call per row (100,000 a run)
        found = existing.get((kpi_id, row.period_start))
        if found is None:
            new_points.append({"kpi_id": kpi_id, "period_start": row.period_start,
                               "value": row.value, "note": row.note})
            outcome.changed_kpi_ids.add(kpi_id)
            continue
        if found[3] == row.value and found[4] == row.note:
            outcome.unchanged += 1
            continue
        point = DataPoint(id=found[2], kpi_id=found[0], period_start=found[1], value=found[3],
                          note=found[4], source=found[5], source_ref=found[6])
        revisions.append(DataPointRevision(
            point=point, old_value=point.value, new_value=row.value, old_note=point.note,
            old_source=point.source, old_source_ref=point.source_ref, new_source=source,
            changed_by=author))
        point.value, point.note, point.source = row.value, row.note, source
        point.source_ref, point.author, point.updated_at = source_ref, author, now
        changed.append(point)
        outcome.changed_kpi_ids.add(kpi_id)
    _insert(new_points, now=now, source=source, source_ref=source_ref,
            author_id=getattr(author, "pk", None))
    DataPoint.objects.bulk_update(changed, ["value", "note", "source", "source_ref", "author",
                                            "updated_at"], batch_size=CHUNK)
    DataPointRevision.objects.bulk_create(revisions, batch_size=CHUNK)
    outcome.created, outcome.replaced = len(new_points), len(changed)
    if outcome.changed_kpi_ids:
        org_ids = {r.kpi.organization_id for r in rows}
        _data_changed(outcome.changed_kpi_ids, org_ids, one_task=True)
        _emit_points(rows, new_points, changed, source)
    return outcome


def _emit_points(rows: Sequence[Row], new_points: list[dict], changed: list, source: str) -> None:
    """One outbox event per KPI that changed (its latest changed period), not one per point:
    a run may change thousands of points (activity: webhooks, Slack, Teams)."""
    kpis = {r.kpi.pk: r.kpi for r in rows}
    latest: dict[int, list] = {}
    for kpi_id, period, value in ([(p["kpi_id"], p["period_start"], p["value"]) for p in new_points]
                                  + [(p.kpi_id, p.period_start, p.value) for p in changed]):
        entry = latest.setdefault(kpi_id, [period, value, 0])
        if period >= entry[0]:
            entry[0], entry[1] = period, value
        entry[2] += 1
    emit_many([(kpis[k].organization_id, "kpi.point_recorded", {"kpi_id": k, "kpi_name": kpis[k].name, "team_id": kpis[k].team_id, "point_id": None, "period_start": period, "value": value, "previous_value": None, "note": "", "source": source, "points": count}) for k, (period, value, count) in sorted(latest.items())])
