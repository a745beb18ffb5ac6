"""The leader dashboard's KPI status counts come from the row the health engine keeps
(kpis.status_counts, issue 16), and say what counting every KPI says: stale KPIs apart
from their target status."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboards.kpi_rows import kpi_status_counts, stored_status_counts
from kpis import health
from kpis.models import DataPoint
from tests.conftest import count_queries
from tests.factories import KpiFactory

pytestmark = pytest.mark.django_db


def _points(kpi, values, *, weeks_ago: int = 1):
    last = (timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
            - dt.timedelta(weeks=weeks_ago))
    DataPoint.objects.bulk_create([
        DataPoint(kpi=kpi, period_start=last - dt.timedelta(weeks=len(values) - 1 - i), value=v)
        for i, v in enumerate(values)])


def test_stored_counts_equal_the_counted_ones_with_stale_kpis(org):
    fresh_on = KpiFactory(organization=org, target_value=30)
    fresh_off = KpiFactory(organization=org, target_value=30)
    stale_on = KpiFactory(organization=org, target_value=30)
    stale_off = KpiFactory(organization=org, target_value=30)
    no_target = KpiFactory(organization=org, target_rule="none", target_value=None)
    KpiFactory(organization=org)  # never evaluated: no data
    KpiFactory(organization=org, active=False)  # closed: not counted
    _points(fresh_on, [20, 21, 22])
    _points(fresh_off, [40, 41, 42])
    _points(stale_on, [20, 21, 22], weeks_ago=10)
    _points(stale_off, [40, 41, 42], weeks_ago=10)
    _points(no_target, [5, 6])
    health.evaluate_kpis([k.pk for k in (fresh_on, fresh_off, stale_on, stale_off, no_target)])
    counted = kpi_status_counts(org)
    assert {k: n for k, _l, n in counted}["stale"] == 2
    with count_queries() as queries:
        stored = stored_status_counts(org)
    assert queries == 1
    assert stored == counted


def test_the_dashboard_shows_the_stored_counts(org, owner, as_user):
    kpi = KpiFactory(organization=org, target_value=30)
    _points(kpi, [20, 21, 22], weeks_ago=10)
    health.evaluate_kpis([kpi.pk])
    page = as_user(owner).get(reverse("dashboards:home", kwargs={"org_slug": org.slug}))
    html = page.content.decode()
    assert 'status-count--stale"><span class="stat num">1<' in html
    assert 'status-count--on_target"><span class="stat num">0<' in html
