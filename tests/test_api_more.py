"""Teams and members, improvement candidates, and Idempotency-Key on POSTs."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry, Role
from api.models import IdempotentRequest
from kpis.models import DataPoint, KpiHealth
from okrs.models import CheckIn, Objective
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    KpiFactory,
    ObjectiveFactory,
    OrganizationFactory,
    TeamFactory,
)
from tests.test_api import make_token, weeks_back
from tests.test_api_okrs import JApi

pytestmark = pytest.mark.django_db


def test_teams_and_members(org, member, leader):
    team = TeamFactory(organization=org, name="Support", slug="support")
    team.members.add(member)
    TeamFactory(organization=OrganizationFactory(slug="zz"), name="Foreign")
    api = JApi(make_token(org, member))
    teams = api.get("/teams").json()["items"]
    assert [(t["slug"], t["member_ids"]) for t in teams] == [("support", [member.pk])]
    assert api.get(f"/teams/{team.pk}").json()["name"] == "Support"
    people = {m["email"]: m["role"] for m in api.get("/members").json()["items"]}
    assert people == {member.email: "member", leader.email: "leader"}


@pytest.fixture
def candidate(org):
    kpi = KpiFactory(organization=org, name="Churn")
    DataPoint.objects.bulk_create([DataPoint(kpi=kpi, period_start=p, value=40 + i)
                                   for i, p in enumerate(weeks_back(6))])
    KpiHealth.objects.create(kpi=kpi, candidate=KpiHealth.Candidate.CANDIDATE)
    CycleFactory(organization=org)
    return kpi


def test_candidates_list_dismiss_and_promote(org, leader, member, candidate):
    api = JApi(make_token(org, leader))
    assert [k["name"] for k in api.get("/improvement-candidates").json()["items"]] == ["Churn"]
    member_api = JApi(make_token(org, member))
    path = f"/improvement-candidates/{candidate.pk}"
    assert member_api.send("post", path + "/dismiss", {"note": "no"}).status_code == 403
    r = api.send("post", path + "/promote")
    assert r.status_code == 201, r.content
    assert Objective.objects.get(pk=r.json()["objective_id"]).state == "draft"
    r = api.send("post", path + "/dismiss", {"note": "later"})
    assert r.status_code == 400  # no longer a candidate: it is in improvement


def test_dismiss_a_candidate_with_a_note(org, leader, candidate):
    api = JApi(make_token(org, leader))
    r = api.send("post", f"/improvement-candidates/{candidate.pk}/dismiss", {"note": " "})
    assert r.status_code == 422
    r = api.send("post", f"/improvement-candidates/{candidate.pk}/dismiss",
                 {"note": "Seasonal"})
    assert r.status_code == 200 and r.json()["health"]["candidate"] == "dismissed"
    assert AuditEntry.objects.filter(action="candidate dismissed").count() == 1
    assert api.get("/improvement-candidates").json()["items"] == []


def test_idempotency_key_replays_the_first_answer(org, leader):
    cycle = CycleFactory(organization=org)
    kr = KeyResultFactory(objective=ObjectiveFactory(organization=org, cycle=cycle))
    api = JApi(make_token(org, leader))
    api.headers["HTTP_IDEMPOTENCY_KEY"] = "nightly-2026-12-01"
    body = {"value": 12, "status": "on_track"}
    first = api.send("post", f"/key-results/{kr.pk}/check-ins", body)
    again = api.send("post", f"/key-results/{kr.pk}/check-ins", body)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert CheckIn.objects.count() == 1 and IdempotentRequest.objects.count() == 1
    # the same key for another request is a script's bug
    r = api.send("post", f"/key-results/{kr.pk}/check-ins", {**body, "value": 13})
    assert r.status_code == 409 and CheckIn.objects.count() == 1
    # a new key writes again; another token's same key is its own
    api.headers["HTTP_IDEMPOTENCY_KEY"] = "nightly-2026-12-02"
    assert api.send("post", f"/key-results/{kr.pk}/check-ins", body).status_code == 201
    assert CheckIn.objects.count() == 2


def test_failed_request_with_a_key_can_be_retried(org, admin_user):
    kpi = KpiFactory(organization=org)
    api = JApi(make_token(org, admin_user))
    api.headers["HTTP_IDEMPOTENCY_KEY"] = "k1"
    r = api.send("post", f"/kpis/{kpi.pk}/points", {"period": "2999-01-01", "value": 1})
    assert r.status_code == 400 and not IdempotentRequest.objects.exists()
    period = weeks_back(1)[0].isoformat()
    api.headers["HTTP_IDEMPOTENCY_KEY"] = "k2"
    for _ in range(2):
        r = api.send("post", f"/kpis/{kpi.pk}/points", {"period": period, "value": 5})
        assert r.status_code == 200 and r.json()["results"][0]["created"] is True
    assert DataPoint.objects.count() == 1


def test_bad_idempotency_key_is_422(org, admin_user):
    kpi = KpiFactory(organization=org)
    api = JApi(make_token(org, admin_user))
    api.headers["HTTP_IDEMPOTENCY_KEY"] = "x" * 201
    r = api.send("post", f"/kpis/{kpi.pk}/points", {"period": weeks_back(1)[0].isoformat(),
                                                    "value": 5})
    assert r.status_code == 422 and not DataPoint.objects.exists()


def test_viewer_reads_teams_but_member_role_is_not_needed(org, member_of):
    api = JApi(make_token(org, member_of(Role.VIEWER)))
    assert api.get("/teams").status_code == 200


def test_admin_defines_and_changes_a_kpi(org, admin_user, leader):
    api = JApi(make_token(org, admin_user))
    r = api.send("post", "/kpis", {"name": "Lead time", "unit": "d", "frequency": "weekly",
                                   "target_rule": "at_most", "target_value": 3})
    assert r.status_code == 201, r.content
    kpi = r.json()
    assert kpi["target"].startswith("at most") and kpi["version"] == 1
    assert api.send("post", "/kpis", {"name": "lead time"}).status_code == 400  # unique
    r = api.send("post", "/kpis", {"name": "X", "target_rule": "at_least"})
    assert r.status_code == 400 and "target_value" in r.json()["errors"]
    r = api.send("patch", f"/kpis/{kpi['id']}", {"version": 1, "unit": "days"})
    assert r.status_code == 200 and r.json()["unit"] == "days" and r.json()["version"] == 2
    r = api.send("patch", f"/kpis/{kpi['id']}", {"version": 1, "unit": "h"})
    assert r.status_code == 409
    assert api.get(f"/kpis/{kpi['id']}/definition").json()["unit"] == "days"
    leader_api = JApi(make_token(org, leader))
    assert leader_api.send("post", "/kpis", {"name": "Nope"}).status_code == 403
    assert AuditEntry.objects.filter(object_type="kpis.kpi").count() == 2
