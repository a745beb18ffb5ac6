"""KPI status counts kept by the health engine (issue 16, kpis.status_counts): one stored
row per organisation, recounted when a KPI's status, staleness or loop state changes, a
KPI is closed, reopened or deleted; read in one query; always equal to a fresh count."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import Organization
from kpis import health, services
from kpis.models import DataPoint, Kpi, KpiStatusCount
from kpis.selectors import status_counts
from kpis.status_counts import StatusCounts
from tests.factories import KpiFactory, OrganizationFactory


def _weeks(n):
    last = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday() + 7)
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


def _fresh(org) -> StatusCounts:
    """The counts as a person would make them, KPI by KPI."""
    counts = dict.fromkeys(StatusCounts.__dataclass_fields__, 0)
    for kpi in Kpi.objects.filter(organization=org, active=True).select_related("health"):
        h = getattr(kpi, "health", None)
        counts[h.status if h else "no_data"] += 1
        counts["stale"] += bool(h and h.is_stale)
        if h and h.is_stale:
            counts[f"stale_{h.status}"] += 1
        counts["candidates"] += bool(h and h.candidate == "candidate")
        counts["in_improvement"] += bool(h and h.candidate == "in_improvement")
        counts["total"] += 1
    return StatusCounts(**counts)


def _points(kpi, values):
    DataPoint.objects.bulk_create([DataPoint(kpi=kpi, period_start=w, value=v)
                                   for w, v in zip(_weeks(len(values)), values, strict=True)])


def test_counts_follow_the_health(org, admin_user, django_assert_num_queries,
                                  django_capture_on_commit_callbacks):
    other = OrganizationFactory(slug="globex")
    on = KpiFactory(organization=org, target_value=30)  # at most 30
    off = KpiFactory(organization=org, target_value=30)
    none = KpiFactory(organization=org, target_rule="none", target_value=None)
    KpiFactory(organization=org)  # no data, never evaluated
    KpiFactory(organization=other)
    _points(on, [20, 21, 22])
    _points(off, [40, 41, 42])  # off target three periods running: a candidate
    _points(none, [5, 6])
    health.evaluate_kpis([on.pk, off.pk, none.pk])
    with django_assert_num_queries(1):
        counts = status_counts(org)
    assert counts == StatusCounts(on_target=1, off_target=1, no_target=1, no_data=1,
                                  candidates=1, total=4)
    assert counts == _fresh(org)
    assert status_counts(other) == StatusCounts(no_data=1, total=1)  # counted when missing

    # A value that brings the off-target KPI back: recounted by its evaluation.
    services.kpi_record_value(kpi=off, period=_weeks(1)[0], value=10, author=admin_user)
    health.evaluate_kpi(off)
    assert status_counts(org).on_target == 2 and status_counts(org) == _fresh(org)

    # Closed: no longer counted; reopened: counted again.
    services.kpi_update(kpi=on, actor=admin_user, version=on.version, active=False)
    assert status_counts(org).total == 3 and status_counts(org) == _fresh(org)
    on.refresh_from_db()
    services.kpi_update(kpi=on, actor=admin_user, version=on.version, active=True)
    assert status_counts(org) == _fresh(org)

    # Deleted: recounted once the deletion is committed.
    with django_capture_on_commit_callbacks(execute=True):
        none.delete()
    assert status_counts(org).no_target == 0 and status_counts(org) == _fresh(org)


def test_an_unchanged_sweep_recounts_nothing(org, django_assert_num_queries):
    kpi = KpiFactory(organization=org)
    _points(kpi, [20, 21, 22])
    health.evaluate_kpi(kpi)
    row = KpiStatusCount.objects.get(organization=org)
    health.evaluate_kpi(kpi)  # nothing changed: the row is not rewritten
    assert KpiStatusCount.objects.get(organization=org).counted_at == row.counted_at


def test_an_organisation_with_kpis_still_deletes(org, django_capture_on_commit_callbacks):
    kpi = KpiFactory(organization=org)
    _points(kpi, [20, 21])
    health.evaluate_kpi(kpi)
    assert KpiStatusCount.objects.filter(organization=org).exists()
    with django_capture_on_commit_callbacks(execute=True):
        Organization.objects.filter(pk=org.pk).delete()
    assert not KpiStatusCount.objects.exists() and not Kpi.objects.exists()
