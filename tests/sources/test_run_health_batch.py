"""A run that changes many KPIs queues their health as one task (issue 17's benchmark:
one broker round trip per KPI was a large share of a 1,000-KPI run), and that task
evaluates every one of them. A single KPI's manual point still queues its own task."""

from __future__ import annotations

import sqlite3

import pytest
from celery.signals import task_prerun

from kpis import services as kpi_services
from kpis.models import DataPoint, KpiHealth
from sources import services
from tests.factories import KpiFactory
from tests.sources.test_runs import make_source
from tests.sources.warehouses import weeks

pytestmark = pytest.mark.django_db


@pytest.fixture
def started_tasks():
    names: list[tuple[str, tuple]] = []

    def record(sender=None, args=None, **_):
        names.append((sender.name, tuple(args or ())))

    task_prerun.connect(record, weak=False)
    yield names
    task_prerun.disconnect(record)


def test_one_health_task_for_every_kpi_a_run_changed(org, sqlite_warehouse, started_tasks,
                                                      django_capture_on_commit_callbacks):
    teams = ["support", "sales", "ops"]
    kpis = {t: KpiFactory(organization=org, name=f"{t} tickets") for t in teams}
    con = sqlite3.connect(sqlite_warehouse)
    for t in teams[1:]:
        con.executemany("insert into tickets values (?, ?, ?)",
                        [(w.isoformat(), t, 5 + i) for i, w in enumerate(weeks(6))])
    con.commit()
    source = make_source(org, url=f"sqlite:///{sqlite_warehouse}",
                         query="select team, week, opened from tickets")
    for t, kpi in kpis.items():
        services.feed_add(source=source, kpi=kpi, key=t)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.source_run(source_id=source.pk, trigger="manual")
    assert (run.status, run.created) == ("ok", 18), run.error
    health_tasks = [(n, a) for n, a in started_tasks if n.startswith("kpis.tasks.")]
    assert health_tasks == [("kpis.tasks.evaluate_kpi_list",
                             (sorted(k.pk for k in kpis.values()),))]
    for kpi in kpis.values():  # the one task evaluated them all (eager here: in process)
        assert KpiHealth.objects.get(kpi=kpi).points_count == 6

    started_tasks.clear()
    kpi = kpis["ops"]
    with django_capture_on_commit_callbacks(execute=True):
        kpi_services.kpi_record_value(kpi=kpi, period=DataPoint.objects.filter(
            kpi=kpi).latest("period_start").period_start, value=99, source="manual", author=None)
    assert [n for n, _ in started_tasks if n.startswith("kpis.tasks.")] == [
        "kpis.tasks.evaluate_kpi"]
