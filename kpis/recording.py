"""Recording many points from a data source run: the same rules as a manual correction,
in a few queries whatever the number of points.

``kpi_record_batch`` takes already-validated rows (``services.Row``) for KPIs of one
organisation. It locks the KPIs (primary-key order, like ``services``), reads their
existing points for the periods in one query, then inserts the new ones in bulk, replaces
the changed ones (each replacement keeps the old value, note and source in a revision,
as a manual correction does) and leaves the equal ones alone: the same data twice writes
nothing and creates no revision. Health is queued only for KPIs that changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from .models import DataPoint, DataPointRevision, Kpi
from .services import Row, _data_changed

CHUNK = 2000


@dataclass
class BatchOutcome:
    created: int = 0
    replaced: int = 0
    unchanged: int = 0
    changed_kpi_ids: set[int] = field(default_factory=set)


@transaction.atomic
def kpi_record_batch(*, rows: Sequence[Row], source: str, source_ref: str = "",
                     author=None) -> BatchOutcome:
    """Record ``rows`` all or nothing. One row per (KPI, period): the caller checks that."""
    outcome = BatchOutcome()
    if not rows:
        return outcome
    kpi_ids = sorted({r.kpi.pk for r in rows})
    list(Kpi.objects.select_for_update().filter(pk__in=kpi_ids).order_by("pk")
         .values_list("pk", flat=True))
    periods = {r.period_start for r in rows}
    existing: dict[tuple[int, object], DataPoint] = {}
    for start in range(0, len(kpi_ids), CHUNK):
        for point in DataPoint.objects.filter(kpi_id__in=kpi_ids[start:start + CHUNK],
                                              period_start__in=periods):
            existing[(point.kpi_id, point.period_start)] = point
    now = timezone.now()
    new_points, changed, revisions = [], [], []
    for row in rows:
        point = existing.get((row.kpi.pk, row.period_start))
        if point is None:
            new_points.append(DataPoint(kpi_id=row.kpi.pk, period_start=row.period_start,
                                        value=row.value, note=row.note, source=source,
                                        source_ref=source_ref, author=author))
            outcome.changed_kpi_ids.add(row.kpi.pk)
            continue
        if point.value == row.value and point.note == row.note:
            outcome.unchanged += 1
            continue
        revisions.append(DataPointRevision(
            point=point, old_value=point.value, new_value=row.value, old_note=point.note,
            old_source=point.source, old_source_ref=point.source_ref, new_source=source,
            changed_by=author))
        point.value, point.note, point.source = row.value, row.note, source
        point.source_ref, point.author, point.updated_at = source_ref, author, now
        changed.append(point)
        outcome.changed_kpi_ids.add(row.kpi.pk)
    DataPoint.objects.bulk_create(new_points, batch_size=CHUNK)
    DataPoint.objects.bulk_update(changed, ["value", "note", "source", "source_ref", "author",
                                            "updated_at"], batch_size=CHUNK)
    DataPointRevision.objects.bulk_create(revisions, batch_size=CHUNK)
    outcome.created, outcome.replaced = len(new_points), len(changed)
    if outcome.changed_kpi_ids:
        org_ids = {r.kpi.organization_id for r in rows}
        _data_changed(outcome.changed_kpi_ids, org_ids)
    return outcome
