"""Faults: with Redis unreachable pages load and writes succeed; a database error
inside a service leaves nothing half-written."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError
from django.db.models.query import QuerySet
from django.urls import NoReverseMatch, reverse

from accounts import services as account_services
from accounts.models import AuditEntry, Membership, Organization, Role, User
from kpis.models import DataPoint, DataPointRevision
from okrs.models import CheckIn, KeyResult, Objective
from tests.factories import (
    CycleFactory,
    DataPointFactory,
    KeyResultFactory,
    KpiFactory,
    ObjectiveFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings):
    """Cache and broker point at a port where nothing listens; tasks are not eager."""
    from config.celery import app

    settings.REDIS_URL = DEAD_REDIS
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}
    settings.RATELIMIT_ENABLED = True  # the limiter touches the cache on every write
    old = {k: app.conf[k] for k in ("broker_url", "task_always_eager",
                                    "broker_transport_options", "broker_connection_retry",
                                    "broker_connection_max_retries")}
    app.conf.update(broker_url=DEAD_REDIS, task_always_eager=False,
                    broker_transport_options={"socket_connect_timeout": 0.5, "max_retries": 0},
                    broker_connection_retry=False, broker_connection_max_retries=0)
    app.pool.force_close_all()
    app._pool = None
    with pytest.raises(Exception):  # noqa: B017 - the point: Redis is really unreachable
        cache.set("probe", 1)
    yield
    app.conf.update(old)
    app.pool.force_close_all()
    app._pool = None
    # The producer pool keeps a reference to the closed connection pool: drop it too,
    # or every later test that queues a task fails with "Acquire on closed pool".
    app.amqp._producer_pool = None
    from kombu import pools

    pools.reset()  # kombu's global producer pools hold the closed pool as well


@pytest.fixture
def world(org, owner, member):
    team = TeamFactory(organization=org, name="Support", slug="support")
    team.members.add(member)
    kpi = KpiFactory(organization=org, owner=member, team=team)
    for i in range(3):
        DataPointFactory(kpi=kpi, value=20.0 + i)
    cycle = CycleFactory(organization=org)
    objective = ObjectiveFactory(organization=org, cycle=cycle, owner=owner, team=team)
    kr = KeyResultFactory(objective=objective, owner=member, target_value=10.0)
    return {"team": team, "kpi": kpi, "objective": objective, "kr": kr}


PAGES = [
    ("dashboards:home", {}), ("dashboards:operations", {}), ("dashboards:review", {}),
    ("dashboards:strategy_map", {}), ("dashboards:team", {"team": "support"}),
    ("okrs:list", {}), ("okrs:objective", {"pk": "objective"}),
    ("checkins:mine", {}), ("checkins:team", {"team": "support"}), ("checkins:kr", {"pk": "kr"}),
    ("kpis:list", {}), ("kpis:detail", {"pk": "kpi"}), ("kpis:candidates", {}),
    ("accounts:members", {}), ("accounts:teams", {}), ("accounts:settings", {}),
]


def _pages(org, world):
    out = []
    for name, kwargs in PAGES:
        kwargs = {k: (world[v].pk if v in world else v) for k, v in kwargs.items()}
        try:
            out.append(reverse(name, kwargs={"org_slug": org.slug, **kwargs}))
        except NoReverseMatch:
            continue  # a page not built yet
    return out


def test_every_page_loads_with_redis_down(redis_down, org, owner, world, as_user):
    pages = _pages(org, world)
    assert len(pages) >= 8
    c = as_user(owner)
    for url in pages:
        response = c.get(url)
        assert response.status_code == 200, f"{url} → {response.status_code}"


@pytest.mark.django_db(transaction=False)
def test_every_url_of_the_access_table_answers_with_redis_down(redis_down,
                                                              django_capture_on_commit_callbacks):
    """Every organisation page (GET as the owner) and every form (an empty POST by the
    role it needs) answers as in the URL-access table: nothing fails for lack of Redis."""
    from accounts.models import Role as R
    from tests.conftest import client_for, make_world
    from tests.url_table import ORG_ROUTES, TABLE, Run, build

    world = make_world()
    run = Run()
    owner = client_for(world["users"][R.OWNER])
    for route in ORG_ROUTES:
        entry = TABLE[route]
        path = build(route, entry.args, world, entry.query)
        run.expect(f"owner GET {path}", entry.overrides.get(R.OWNER, entry.get), owner.get, path)
        if entry.post is not None:
            role = R(entry.post_role or entry.role)
            c = client_for(world["users"][role])
            with django_capture_on_commit_callbacks(execute=True):
                run.expect(f"{role} POST {path}", entry.overrides.get(role, entry.post),
                           c.post, path)
    run.done()


def test_kpi_value_is_stored_with_redis_down(redis_down, org, member, world, as_user,
                                            django_capture_on_commit_callbacks, caplog):
    kpi = world["kpi"]
    url = reverse("kpis:add_value", kwargs={"org_slug": org.slug, "pk": kpi.pk})
    with caplog.at_level(logging.WARNING, logger="config.celery"), \
            django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = as_user(member).post(url, {"period": "2026-06-10", "value": "31.5",
                                              "note": "late"})
    assert response.status_code == 302
    assert DataPoint.objects.filter(kpi=kpi, value=31.5).exists()
    assert callbacks, "the health evaluation was queued after commit"
    assert "Could not queue" in caplog.text  # ...and its failure only logged


def test_checkin_is_stored_with_redis_down(redis_down, org, member, world, as_user,
                                          django_capture_on_commit_callbacks):
    kr = world["kr"]
    url = reverse("checkins:row", kwargs={"org_slug": org.slug, "pk": kr.pk})
    with django_capture_on_commit_callbacks(execute=True):
        p = f"kr{kr.pk}-"
        response = as_user(member).post(url, {p + "value": "4", p + "status": "on_track",
                                              p + "comment": "fine"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content.decode()[:2000]
    assert CheckIn.objects.filter(key_result=kr, value=4.0).exists(), response.content.decode()
    kr.refresh_from_db()
    assert kr.current_value == 4.0


def test_signup_and_invitation_work_with_redis_down(redis_down, client, org, owner, as_user,
                                                   django_capture_on_commit_callbacks):
    response = client.post(reverse("accounts:signup"), {
        "name": "Nora", "email": "nora@example.com", "password": "a-long-pass-phrase-9",
        "org_name": "Initech", "org_slug": ""})
    assert response.status_code == 302
    assert Organization.objects.filter(name="Initech").exists()
    url = reverse("accounts:members", kwargs={"org_slug": org.slug})
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post(url, {"email": "inv@example.com", "role": Role.MEMBER})
    assert response.status_code == 302


# --- A database error inside a service: all or nothing ------------------------------------

def test_signup_rolls_back_the_user_when_the_organisation_fails(monkeypatch):
    def boom(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(account_services, "audit_record", boom)
    with pytest.raises(DatabaseError):
        account_services.user_signup(email="a@example.com", password="a-long-pass-phrase-9",
                                     name="A", org_name="Half")
    assert not User.objects.filter(email="a@example.com").exists()
    assert not Organization.objects.filter(name="Half").exists()
    assert not Membership.objects.exists()


def test_replacing_a_kpi_value_is_all_or_nothing(org, owner, monkeypatch):
    from kpis import services as kpi_services

    kpi = KpiFactory(organization=org)
    point = DataPointFactory(kpi=kpi, value=25.0)

    def boom(*args, **kwargs):
        raise IntegrityError("lost connection")

    monkeypatch.setattr(kpi_services.points_changed, "send", boom)
    with pytest.raises(IntegrityError):
        kpi_services.kpi_record_value(kpi=kpi, period=point.period_start.isoformat(),
                                      value="99", author=owner, today=point.period_start)
    point.refresh_from_db()
    assert point.value == 25.0
    assert not DataPointRevision.objects.exists()


def test_checkin_is_all_or_nothing(org, member, monkeypatch):
    from okrs.checkins.services import checkin_create

    kr = KeyResultFactory(objective=ObjectiveFactory(organization=org), owner=member,
                          target_value=10.0)
    real_update = QuerySet.update

    def failing_update(self, **kwargs):
        if self.model is KeyResult:
            raise DatabaseError("deadlock")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", failing_update)
    with pytest.raises(DatabaseError):
        checkin_create(key_result=kr, author=member, status="on_track", value=5.0)
    assert not CheckIn.objects.exists()
    kr.refresh_from_db()
    assert kr.current_value == kr.start_value
    assert kr.last_checkin_at is None


def test_objective_with_key_results_is_all_or_nothing(org, owner, monkeypatch):
    from okrs import services as okr_services

    cycle = CycleFactory(organization=org)
    calls = []
    real = okr_services.key_result_create

    def second_fails(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise DatabaseError("connection reset")
        return real(**kwargs)

    monkeypatch.setattr(okr_services, "key_result_create", second_fails)
    kr = {"title": "KR", "kind": "metric", "start_value": 0.0, "target_value": 10.0}
    with pytest.raises(DatabaseError):
        okr_services.objective_create(organization=org, actor=owner,
                                      data={"title": "Half", "cycle": cycle},
                                      key_results=[kr, {**kr, "title": "KR 2"}])
    assert not Objective.objects.filter(title="Half").exists()
    assert not KeyResult.objects.exists()
    assert not AuditEntry.objects.filter(object_type="okrs.objective").exists()
