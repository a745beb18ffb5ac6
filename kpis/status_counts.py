"""Per-organisation counts of KPI statuses, kept by the health engine (issue 16): the
dashboards read one row instead of counting every KPI's health.

``KpiStatusCount`` (one row per organisation) counts the organisation's *active* KPIs:
by status (on target, off target, no target, no data: a KPI not evaluated yet counts as
no data), how many are stale (and of those, how many by status: the dashboards count stale
KPIs apart from their status), improvement candidates and in improvement.

The health engine recounts an organisation in the chunk's transaction when a KPI's
status, staleness or loop state changed (kpis.health: one aggregate query per
organisation, none when nothing changed); a KPI deleted, closed or reopened recounts its
organisation too. A recount is exact (it counts, it does not add deltas), so a missed
one is repaired by the next. Two chunks of one organisation committing at once may
leave the row one change behind until the next recount (the sweep runs one at a time).
``status_counts(org)`` reads the row (one query), counting it first when it is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

STATUSES = ("on_target", "off_target", "no_target", "no_data")
STALE_BY_STATUS = tuple(f"stale_{s}" for s in STATUSES)  # of `stale`, by status (dashboards)
FIELDS = (*STATUSES, "stale", *STALE_BY_STATUS, "candidates", "in_improvement", "total")


class KpiStatusCount(models.Model):
    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        primary_key=True, related_name="kpi_status_count")
    on_target = models.PositiveIntegerField(default=0)
    off_target = models.PositiveIntegerField(default=0)
    no_target = models.PositiveIntegerField(default=0)
    no_data = models.PositiveIntegerField(default=0)
    stale = models.PositiveIntegerField(default=0)
    stale_on_target = models.PositiveIntegerField(default=0)
    stale_off_target = models.PositiveIntegerField(default=0)
    stale_no_target = models.PositiveIntegerField(default=0)
    stale_no_data = models.PositiveIntegerField(default=0)
    candidates = models.PositiveIntegerField(default=0)
    in_improvement = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    counted_at = models.DateTimeField()

    class Meta:
        verbose_name = gettext_lazy("KPI status count")

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.total} KPIs"


@dataclass(frozen=True)
class StatusCounts:
    on_target: int = 0
    off_target: int = 0
    no_target: int = 0
    no_data: int = 0
    stale: int = 0
    stale_on_target: int = 0
    stale_off_target: int = 0
    stale_no_target: int = 0
    stale_no_data: int = 0
    candidates: int = 0
    in_improvement: int = 0
    total: int = 0


def _aggregates() -> dict:
    no_data = Q(health__isnull=True) | Q(health__status="no_data")
    out = {s: Count("pk", filter=Q(health__status=s)) for s in STATUSES if s != "no_data"}
    return {**out, "no_data": Count("pk", filter=no_data),
            "stale": Count("pk", filter=Q(health__is_stale=True)),
            **{f"stale_{s}": Count("pk", filter=Q(health__is_stale=True, health__status=s))
               for s in STATUSES},
            "candidates": Count("pk", filter=Q(health__candidate="candidate")),
            "in_improvement": Count("pk", filter=Q(health__candidate="in_improvement")),
            "total": Count("pk")}


def recount(organization_ids: Iterable[int]) -> None:
    """Count these organisations' active KPIs again and store the rows (one aggregate
    query per organisation and one upsert)."""
    from .models import Kpi

    ids = sorted(set(organization_ids))
    if not ids:
        return
    now = timezone.now()
    rows = []
    for org_id in ids:
        figures = Kpi.objects.filter(organization_id=org_id, active=True).aggregate(
            **_aggregates())
        rows.append(KpiStatusCount(organization_id=org_id, counted_at=now, **figures))
    KpiStatusCount.objects.bulk_create(rows, update_conflicts=True,
                                       unique_fields=["organization"],
                                       update_fields=[*FIELDS, "counted_at"])


def recount_after_delete(sender, instance, **kwargs) -> None:
    """A KPI deleted (the admin, a script): recount its organisation once the deletion is
    committed, unless the organisation went with it."""
    from django.db import transaction

    from accounts.models import Organization

    org_id = instance.organization_id

    def again():
        if Organization.objects.filter(pk=org_id).exists():
            recount([org_id])

    transaction.on_commit(again)


def status_counts(org) -> StatusCounts:
    """The organisation's stored counts (one query; counted first when missing)."""
    org_id = getattr(org, "pk", org)
    row = KpiStatusCount.objects.filter(organization_id=org_id).values(*FIELDS).first()
    if row is None:
        recount([org_id])
        row = KpiStatusCount.objects.filter(organization_id=org_id).values(*FIELDS).first()
    return StatusCounts(**row)
