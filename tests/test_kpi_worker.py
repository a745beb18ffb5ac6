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


@pytest.fixture
def small_chunks(monkeypatch):
    """The worker process evaluates in chunks of 10 (read from the environment at import)."""
    monkeypatch.setenv("HEADWAY_KPI_CHUNK_SIZE", "10")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_sweep_loses_and_duplicates_nothing(org, small_chunks,
                                                                    celery_worker_process):
    import signal
    import time

    from kpis import health, tasks
    from kpis.models import EvaluationLock, HealthEvent, Kpi

    n = 1500
    Kpi.objects.bulk_create([
        Kpi(organization=org, name=f"K{i:04}", frequency="monthly", target_rule="at_most",
            target_value=30) for i in range(n)
    ])
    ids = list(Kpi.objects.filter(organization=org).values_list("pk", flat=True))
    DataPoint.objects.bulk_create([
        DataPoint(kpi_id=k, period_start=dt.date(2025, m, 1), value=20 + (k + m) % 15)
        for k in ids for m in range(1, 13)
    ])
    tasks.evaluate_all.apply_async()
    # Kill the worker (SIGKILL: no cleanup) once some chunks are written.
    deadline = time.monotonic() + 60
    while KpiHealth.objects.count() < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    celery_worker_process.send_signal(signal.SIGKILL)
    celery_worker_process.wait(timeout=10)
    done = KpiHealth.objects.count()
    assert 0 < done < n, "the sweep should have been interrupted half-way"
    assert done % 10 == 0  # whole chunks only: the interrupted one was rolled back
    # The dead worker's claim blocks a second sweep only until it expires.
    assert health.evaluate_all() is None
    EvaluationLock.objects.update(locked_until=None)
    outcome = health.evaluate_all()
    assert outcome.evaluated == n - done  # the killed run is resumed after its last chunk
    assert KpiHealth.objects.count() == n
    events = list(HealthEvent.objects.values_list("kpi_id", "kind", "old", "new"))
    assert len(events) == len(set(events))  # no event recorded twice
    assert health.evaluate_all().changed == 0
