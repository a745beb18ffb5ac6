"""Faults: a real Celery worker SIGKILLed mid-sweep. After a new worker starts, the
remainder of the killed run is evaluated within a minute, and every KPI exactly once
(counted by its health events: one status event each). Needs PostgreSQL and Redis (CI).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from django.db.models import Count

from kpis import tasks
from kpis.models import DataPoint, EvaluationLock, HealthEvent, Kpi, KpiHealth
from kpis.sweep import LEASE
from tests.conftest import start_celery_worker, wait_for

N = 3000


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setenv("HEADWAY_KPI_CHUNK_SIZE", "50")


@pytest.mark.worker
@pytest.mark.alone  # "within a minute" is a time: run by make test after the parallel run
@pytest.mark.django_db(transaction=True)
def test_a_sweep_killed_mid_run_is_resumed_and_evaluates_each_kpi_once(
        org, small_chunks, celery_worker_process):
    Kpi.objects.bulk_create([
        Kpi(organization=org, name=f"K{i:04}", frequency="monthly", target_rule="at_most",
            target_value=30) for i in range(N)])
    ids = list(Kpi.objects.filter(organization=org).values_list("pk", flat=True))
    DataPoint.objects.bulk_create([
        DataPoint(kpi_id=k, period_start=dt.date(2025, m, 1), value=20 + (k + m) % 15)
        for k in ids for m in range(1, 13)])
    tasks.evaluate_all.apply_async()
    wait_for(lambda: KpiHealth.objects.count() >= 200, timeout=60, interval=0.01)
    celery_worker_process.send_signal(signal.SIGKILL)  # main process and all: no cleanup
    celery_worker_process.wait(timeout=10)
    done = KpiHealth.objects.count()
    assert 0 < done < N, "the sweep should have been interrupted half-way"
    lock = EvaluationLock.objects.get()
    assert lock.run_started is not None and lock.cursor  # the unfinished run, where it got to

    # A new worker; beat's next minutely tick sends evaluate_pending.
    env_cmd = celery_worker_process.args
    worker = start_celery_worker(env_cmd, worker_env())
    try:
        back = time.monotonic()
        tasks.evaluate_pending.apply_async()
        tasks.evaluate_pending.apply_async(countdown=LEASE.total_seconds() + 1)
        wait_for(lambda: KpiHealth.objects.count() == N, timeout=60, interval=0.2)
        caught_up = time.monotonic() - back
        wait_for(lambda: EvaluationLock.objects.get().run_started is None, timeout=30)
    finally:
        worker.terminate()
        worker.wait(10)
    per_kpi = HealthEvent.objects.filter(kind="status").values("kpi").annotate(n=Count("id"))
    assert {row["n"] for row in per_kpi} == {1}, "a KPI was evaluated into two status events"
    assert len(per_kpi) == N
    assert EvaluationLock.objects.get().last_count == N  # the resumed run counted the whole sweep
    print(f"\nkilled after {done} of {N}; remainder evaluated {caught_up:.1f}s after the new worker")



def worker_env() -> dict:
    """The environment of the fixture's worker: this test database, the private queue."""
    from django.conf import settings

    from config.celery import app

    db = settings.DATABASES["default"]
    return {**os.environ, "CELERY_QUEUE": app.conf.task_default_queue,
            "REDIS_URL": settings.REDIS_URL, "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
                            f"{db['PORT'] or 5432}/{db['NAME']}"}
