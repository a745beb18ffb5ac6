"""Schedules (organisation time zone), the due-sources beat task, "run now" with the broker
down, the API (runs, run now), key rotation, the demo, and a real Celery worker running a
scheduled source end to end (CI: PostgreSQL and Redis)."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, Role
from core import secrets
from kpis.models import DataPoint, Kpi, KpiHealth
from sources import demo, services, tasks
from sources.models import DataSource, SourceRun
from sources.schedule import next_run
from tests.conftest import wait_for
from tests.factories import KpiFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.sources.test_runs import make_source

LONDON = zoneinfo.ZoneInfo("Europe/London")


def test_next_run_in_the_organisations_time_zone():
    summer = dt.datetime(2026, 7, 1, 4, 30, tzinfo=dt.UTC)  # 05:30 in London (BST)
    assert next_run(summer, "daily", tz=LONDON, at=dt.time(6, 0)) == dt.datetime(
        2026, 7, 1, 5, 0, tzinfo=dt.UTC)
    winter = dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)  # 07:00 London: today's 06:00 passed
    assert next_run(winter, "daily", tz=LONDON, at=dt.time(6, 0)) == dt.datetime(
        2026, 12, 2, 6, 0, tzinfo=dt.UTC)
    # Weekly on Monday 06:00; 2026-12-01 is a Tuesday.
    assert next_run(winter, "weekly", tz=LONDON, at=dt.time(6, 0), weekday=0) == dt.datetime(
        2026, 12, 7, 6, 0, tzinfo=dt.UTC)
    assert next_run(winter, "hourly", tz=LONDON) == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    assert next_run(winter, "manual", tz=LONDON) is None


@pytest.fixture
def kpi(org):
    return KpiFactory(organization=org, name="Tickets opened", frequency=Kpi.Frequency.WEEKLY)


def test_due_sources_run_once_and_are_rescheduled(org, kpi, sqlite_warehouse,
                                                   django_capture_on_commit_callbacks):
    source = make_source(org, kpi, url=f"sqlite:///{sqlite_warehouse}",
                         query="select week, opened from tickets", schedule="hourly")
    assert tasks.run_due_sources() == 0  # not due yet
    DataSource.objects.filter(pk=source.pk).update(next_run_at=timezone.now()
                                                   - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.run_due_sources() == 1
    source.refresh_from_db()
    assert source.next_run_at > timezone.now() and source.running_since is None
    assert SourceRun.objects.get().trigger == "schedule"
    assert tasks.run_due_sources() == 0


def test_run_now_with_the_broker_down_is_caught_up_by_beat(org, kpi, sqlite_warehouse,
                                                            django_capture_on_commit_callbacks):
    from config.celery import app

    source = make_source(org, kpi, url=f"sqlite:///{sqlite_warehouse}",
                         query="select week, opened from tickets")
    old = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.source_request_run(source=source)  # logs, never raises
    finally:
        app.conf.task_always_eager, app.conf.broker_url = old
    assert not SourceRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.run_due_sources() == 1  # the next beat
    assert DataPoint.objects.filter(kpi=kpi).count() == 6


def _token(user, org) -> str:
    raw, prefix, hashed = ApiToken.new_token()
    ApiToken.objects.create(organization=org, user=user, name="t", prefix=prefix,
                            token_hash=hashed)
    return raw


@pytest.mark.django_db(transaction=True)  # real commits: the queued run runs (eagerly) on commit
def test_api_lists_runs_and_runs_now(org, kpi, sqlite_warehouse, admin_user, member):
    source = make_source(org, kpi, url=f"sqlite:///{sqlite_warehouse}",
                         query="select week, opened from tickets", secret="never-shown")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {_token(admin_user, org)}"}
    c = Client()
    response = c.post(f"/api/v1/sources/{source.pk}/run", **auth)
    assert response.status_code == 202, response.content
    runs = c.get(f"/api/v1/sources/{source.pk}/runs", **auth).json()
    assert [(r["status"], r["created"], r["trigger"]) for r in runs] == [("ok", 6, "api")]
    listed = c.get("/api/v1/sources", **auth)
    assert listed.json()[0]["kpis"] == [kpi.pk]
    assert "never-shown" not in listed.content.decode()
    assert "url" not in json.dumps(listed.json()[0]).replace("last_run", "")
    member_auth = {"HTTP_AUTHORIZATION": f"Bearer {_token(member, org)}"}
    assert c.get("/api/v1/sources", **member_auth).status_code == 403
    assert c.post(f"/api/v1/sources/{source.pk}/run", **member_auth).status_code == 403
    other = OrganizationFactory(name="Globex", slug="globex")
    globex_admin = UserFactory()
    MembershipFactory(user=globex_admin, organization=other, role=Role.ADMIN)
    foreign = {"HTTP_AUTHORIZATION": f"Bearer {_token(globex_admin, other)}"}
    assert c.get(f"/api/v1/sources/{source.pk}/runs", **foreign).status_code == 404
    assert c.post(f"/api/v1/sources/{source.pk}/run", **foreign).status_code == 404
    assert c.get("/api/v1/sources", **foreign).json() == []


def test_rotate_secrets(org, kpi, sqlite_warehouse, settings):
    from cryptography.fernet import Fernet

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HEADWAY_SECRETS_KEYS = [old_key]
    source = make_source(org, kpi, url=f"sqlite:///{sqlite_warehouse}", query="select 1, 2",
                         secret="pw")
    settings.HEADWAY_SECRETS_KEYS = [new_key, old_key]
    call_command("rotate_secrets")
    settings.HEADWAY_SECRETS_KEYS = [new_key]
    source.refresh_from_db()
    assert secrets.decrypt(source.secret_encrypted) == "pw"
    assert secrets.decrypt(source.url_encrypted) == f"sqlite:///{sqlite_warehouse}"
    settings.HEADWAY_SECRETS_KEYS = [old_key]
    with pytest.raises(secrets.SecretError):
        secrets.decrypt(source.secret_encrypted)


def test_demo_loads_fed_kpis(db, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.HEADWAY_SOURCE_SQLITE_DIRS = [str(tmp_path)]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo")
    assert (tmp_path / demo.WAREHOUSE_NAME).is_file()
    warehouse = DataSource.objects.get(name="Support warehouse")
    assert warehouse.schedule == "daily" and warehouse.next_run_at is not None
    run = warehouse.runs.get()
    assert (run.status, run.created) == ("ok", 2 * demo.WEEKS)
    for name in ("Support tickets opened per week", "Tickets reopened"):
        kpi = Kpi.objects.get(name=name)
        assert kpi.points.count() == demo.WEEKS and kpi.health.points_count == demo.WEEKS


@pytest.fixture
def worker_sqlite_dir(tmp_path, monkeypatch, settings):
    """The folder SQLite sources may read, for this process and the worker it starts."""
    monkeypatch.setenv("HEADWAY_SOURCE_SQLITE_DIRS", str(tmp_path))
    settings.HEADWAY_SOURCE_SQLITE_DIRS = [str(tmp_path)]
    return tmp_path


@pytest.mark.worker
def test_a_real_worker_runs_a_scheduled_source(transactional_db, worker_sqlite_dir,
                                               celery_worker_process):
    path = demo.build_warehouse(worker_sqlite_dir / "w.sqlite3")
    org = OrganizationFactory(name="Acme", slug="acme")
    kpi = KpiFactory(organization=org, frequency=Kpi.Frequency.WEEKLY)
    source = make_source(org, kpi, url=f"sqlite:///{path}", query=demo.QUERY_OPENED,
                         schedule="hourly")
    DataSource.objects.filter(pk=source.pk).update(next_run_at=timezone.now())
    tasks.run_due_sources.apply_async()  # what beat sends, to the worker's queue
    wait_for(lambda: SourceRun.objects.filter(source=source, status="ok").exists(), 60)
    # The health of the fed KPI, evaluated by the same worker after the run.
    wait_for(lambda: KpiHealth.objects.filter(kpi=kpi, points_count=demo.WEEKS).exists(), 60)
