"""Races: 20 concurrent writers on PostgreSQL, through the pages and the API as people and
scripts send them. Every accepted value is kept (as the point or a revision, as a check-in),
and the only refusal is the documented one (409 for a stale edit; a message for a second
promotion). Skipped on SQLite (it serialises whole-database writes); CI runs PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, Role
from kpis.models import DataPoint, DataPointRevision, KpiHealth
from kpis.periods import period_start
from okrs.models import CheckIn, KeyResult, Objective
from tests.conftest import url
from tests.factories import (
    CycleFactory,
    DataPointFactory,
    KeyResultFactory,
    KpiFactory,
    MembershipFactory,
    ObjectiveFactory,
)
from tests.html_forms import page_forms

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 20


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: real row locks and concurrent transactions")


def run_together(n: int, work) -> list:
    """Run work(i) in n threads released at the same instant; return each result or the
    exception it raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def one(i):
        try:
            barrier.wait(10)
            results[i] = work(i)
        except BaseException as exc:  # reported by the caller
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def logged_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def token_for(org, user) -> str:
    raw, prefix, hashed = ApiToken.new_token()
    ApiToken.objects.create(organization=org, user=user, name="race", prefix=prefix,
                            token_hash=hashed)
    return raw


@pytest.fixture
def team_world(org, admin_user):
    kpi = KpiFactory(organization=org, owner=admin_user, frequency="weekly")
    last = period_start(timezone.localdate(), "weekly") - dt.timedelta(weeks=1)
    return {"kpi": kpi, "period": last, "admin": admin_user}


def _values(i: int) -> float:
    return 100.0 + i


def _assert_every_value_kept(kpi, period, written: list[float]):
    point = DataPoint.objects.get(kpi=kpi, period_start=period)
    revisions = list(DataPointRevision.objects.filter(point=point).order_by("changed_at", "pk"))
    kept = {point.value} | {r.old_value for r in revisions} | {r.new_value for r in revisions}
    missing = set(written) - kept
    assert not missing, f"values lost: {sorted(missing)}"
    # Each replacement is one revision: the chain of old → new ends at the point's value.
    assert revisions[-1].new_value == point.value if revisions else True


@pytest.mark.parametrize("existing", [False, True], ids=["new period", "existing period"])
def test_twenty_api_writers_on_one_kpi_period_lose_nothing(org, team_world, existing):
    kpi, period = team_world["kpi"], team_world["period"]
    if existing:
        DataPointFactory(kpi=kpi, period_start=period, value=1.0)
    token = token_for(org, team_world["admin"])

    def push(i):
        body = json.dumps({"period": period.isoformat(), "value": _values(i)})
        return Client().post(f"/api/v1/kpis/{kpi.pk}/points", body,
                             content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {token}").status_code

    statuses = run_together(WRITERS, push)
    assert Counter(statuses) == {200: WRITERS}, statuses
    _assert_every_value_kept(kpi, period, [_values(i) for i in range(WRITERS)])
    assert DataPointRevision.objects.filter(point__kpi=kpi).count() == WRITERS - (0 if existing else 1)


def test_twenty_form_writers_on_a_new_kpi_period_lose_nothing(org, team_world):
    kpi, period = team_world["kpi"], team_world["period"]
    users = [team_world["admin"]] + [
        MembershipFactory(organization=org, role=Role.ADMIN).user for _ in range(WRITERS - 1)]
    clients = [logged_in(u) for u in users]
    path = url("kpis:add_value", org, pk=kpi.pk)

    def post(i):
        return clients[i].post(path, {"period": period.isoformat(), "value": str(_values(i)),
                                      "note": f"writer {i}"}).status_code

    statuses = run_together(WRITERS, post)
    assert Counter(statuses) == {302: WRITERS}, statuses
    _assert_every_value_kept(kpi, period, [_values(i) for i in range(WRITERS)])


def test_twenty_checkins_of_one_key_result_are_all_kept(org):
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org))
    owners = [MembershipFactory(organization=org, role=Role.LEADER).user for _ in range(WRITERS)]
    kr = KeyResultFactory(objective=objective, start_value=0, target_value=100, current_value=0,
                          owner=owners[0])
    clients = [logged_in(u) for u in owners]
    path = url("checkins:row", org, pk=kr.pk)
    p = f"kr{kr.pk}-"

    def post(i):
        return clients[i].post(path, {p + "value": str(i + 1), p + "status": "on_track",
                                      p + "comment": f"c{i}"}, HTTP_HX_REQUEST="true").status_code

    statuses = run_together(WRITERS, post)
    assert Counter(statuses) == {200: WRITERS}, statuses
    rows = list(CheckIn.objects.filter(key_result=kr).order_by("created_at", "pk"))
    assert sorted(c.value for c in rows) == [float(i + 1) for i in range(WRITERS)]
    kr.refresh_from_db()
    assert kr.current_value == rows[-1].value  # the latest check-in is the KR's value


def test_twenty_stale_edits_of_one_objective_one_wins_the_rest_409(org, leader):
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org),
                                 owner=leader, title="Original")
    path = url("okrs:objective_edit", org, pk=objective.pk)
    clients = [logged_in(leader) for _ in range(WRITERS)]
    form = next(f for f in page_forms(clients[0].get(path).content.decode())
                if f.method == "post" and "version" in f.data)  # not the log-out form
    assert "version" in form.data

    def post(i):
        return clients[i].post(path, {**form.values(), "title": f"Edit {i}"}).status_code

    statuses = run_together(WRITERS, post)
    assert Counter(statuses) == {302: 1, 409: WRITERS - 1}, statuses
    objective.refresh_from_db()
    assert objective.title.startswith("Edit ")
    assert objective.version == int(form.values()["version"]) + 1  # one write, not twenty


def test_a_promotion_clicked_twenty_times_creates_one_objective(org, leader):
    CycleFactory(organization=org, start=timezone.localdate() - dt.timedelta(days=10),
                 end=timezone.localdate() + dt.timedelta(days=80))
    kpi = KpiFactory(organization=org, target_rule="at_most", target_value=10)
    DataPointFactory(kpi=kpi, value=30.0)
    KpiHealth.objects.create(kpi=kpi, status=KpiHealth.Status.OFF_TARGET, latest_value=30.0,
                             candidate=KpiHealth.Candidate.CANDIDATE,
                             candidate_reason="Off target")
    clients = [logged_in(leader) for _ in range(WRITERS)]
    path = url("okrs:promote_kpi", org, kpi_pk=kpi.pk)

    statuses = run_together(WRITERS, lambda i: clients[i].post(path).status_code)
    assert Counter(statuses) == {302: WRITERS}, statuses
    assert KeyResult.objects.filter(kpi=kpi).count() == 1
    assert Objective.objects.filter(organization=org, key_results__kpi=kpi).count() == 1
