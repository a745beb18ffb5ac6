"""A real Celery worker on the local Redis runs evaluate_kpi and the health row appears.

Skipped without REDIS_URL (and PostgreSQL: the worker process must see the test data).
"""

from __future__ import annotations

import datetime as dt

import pytest

from kpis import services
from kpis.models import DataPoint, KpiHealth
from tests.conftest import wait_for
from tests.factories import KpiFactory


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_evaluates_a_kpi_after_a_value_is_recorded(org, celery_worker_process):
    kpi = KpiFactory(organization=org, frequency="monthly", target_rule="at_most",
                     target_value=30)
    DataPoint.objects.bulk_create([
        DataPoint(kpi=kpi, period_start=dt.date(2026, m, 1), value=25 + m) for m in range(1, 8)
    ])
    # The service queues evaluate_kpi on commit; the worker process picks it up.
    services.kpi_record_value(kpi=kpi, period="2026-08-01", value=41, today=dt.date(2026, 8, 20))
    row = wait_for(lambda: KpiHealth.objects.filter(kpi=kpi, points_count=8).first(), timeout=30)
    assert row.latest_value == 41
    assert row.status == KpiHealth.Status.OFF_TARGET
    assert row.center is not None
