"""The OKR and check-in endpoints: reads with progress, leader-only writes through the
services (audited, versioned: 409 on a stale version), check-ins under the page's rule."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from accounts.models import AuditEntry, Role
from okrs.models import CheckIn, KeyResult, Objective
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    OrganizationFactory,
    TeamFactory,
)
from tests.test_api import Api, make_token

pytestmark = pytest.mark.django_db


class JApi(Api):
    def send(self, method, path, body=None):
        return getattr(self.client, method)(f"/api/v1{path}", json.dumps(body or {}),
                                            content_type="application/json", **self.headers)


@pytest.fixture
def cycle(org):
    return CycleFactory(organization=org)


@pytest.fixture
def objective(org, cycle):
    o = ObjectiveFactory(organization=org, cycle=cycle, title="Grow")
    KeyResultFactory(objective=o, title="Revenue", start_value=0, target_value=100,
                     current_value=0)
    return o


@pytest.fixture
def leader_api(org, leader):
    return JApi(make_token(org, leader))


def test_check_in_moves_the_objectives_progress(org, leader_api, objective,
                                                 django_capture_on_commit_callbacks):
    kr = objective.key_results.get()
    assert leader_api.get(f"/objectives/{objective.pk}").json()["progress"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        r = leader_api.send("post", f"/key-results/{kr.pk}/check-ins",
                            {"value": 40, "status": "on_track", "confidence": 7,
                             "comment": "Two deals signed"})
    assert r.status_code == 201, r.content
    assert r.json()["value"] == 40 and r.json()["confidence"] == 7
    body = leader_api.get(f"/objectives/{objective.pk}").json()
    assert body["progress"] == 0.4 and body["key_results"][0]["current_value"] == 40
    history = leader_api.get(f"/key-results/{kr.pk}/check-ins").json()
    assert [c["comment"] for c in history["items"]] == ["Two deals signed"]
    assert AuditEntry.objects.filter(action="checked in").count() == 1


def test_check_in_rules_match_the_page(org, member_of, objective):
    kr = objective.key_results.get()
    member = member_of(Role.MEMBER)
    api = JApi(make_token(org, member))
    body = {"value": 10, "status": "on_track"}
    assert api.send("post", f"/key-results/{kr.pk}/check-ins", body).status_code == 403
    KeyResult.objects.filter(pk=kr.pk).update(owner=member)
    assert api.send("post", f"/key-results/{kr.pk}/check-ins", body).status_code == 201
    viewer = JApi(make_token(org, member_of(Role.VIEWER)))
    assert viewer.send("post", f"/key-results/{kr.pk}/check-ins", body).status_code == 403
    r = api.send("post", f"/key-results/{kr.pk}/check-ins", {"value": 10, "status": "great"})
    assert r.status_code == 422 and "status" in r.json()["errors"]
    r = api.send("post", f"/key-results/{kr.pk}/check-ins", {**body, "confidence": 11})
    assert r.status_code == 422 and "confidence" in r.json()["errors"]
    assert CheckIn.objects.count() == 1


def test_check_in_on_a_closed_cycle_is_409(org, leader_api, objective):
    from goals.models import Cycle

    Cycle.objects.filter(pk=objective.cycle_id).update(state=Cycle.State.CLOSED)
    kr = objective.key_results.get()
    r = leader_api.send("post", f"/key-results/{kr.pk}/check-ins",
                        {"value": 1, "status": "on_track"})
    assert r.status_code == 409 and r.json()["detail"]
    assert not CheckIn.objects.exists()


def test_leader_creates_updates_and_deletes_an_objective(org, leader_api, cycle):
    team = TeamFactory(organization=org)
    r = leader_api.send("post", "/objectives", {"title": "Delight", "cycle_id": cycle.pk,
                                                "team_id": team.pk})
    assert r.status_code == 201, r.content
    obj = r.json()
    assert obj["team_id"] == team.pk and obj["version"] == 1
    r = leader_api.send("post", f"/objectives/{obj['id']}/key-results",
                        {"title": "NPS", "start_value": 20, "target_value": 60})
    assert r.status_code == 201, r.content
    kr = r.json()
    r = leader_api.send("patch", f"/objectives/{obj['id']}", {"version": 1, "title": "Delight!"})
    assert r.status_code == 200 and r.json()["title"] == "Delight!" and r.json()["version"] == 2
    # a stale version: 409, nothing written
    r = leader_api.send("patch", f"/objectives/{obj['id']}", {"version": 1, "title": "Lost"})
    assert r.status_code == 409 and "version" in r.json()["errors"]
    assert Objective.objects.get(pk=obj["id"]).title == "Delight!"
    r = leader_api.send("patch", f"/key-results/{kr['id']}", {"version": kr["version"],
                                                              "target_value": 80})
    assert r.status_code == 200 and r.json()["target_value"] == 80
    # saved untouched: nothing changes but the version
    before = leader_api.get(f"/objectives/{obj['id']}").json()
    r = leader_api.send("patch", f"/objectives/{obj['id']}", {"version": before["version"]})
    after = r.json()
    assert {k: v for k, v in after.items() if k != "version"} == {
        k: v for k, v in before.items() if k != "version"}
    assert leader_api.send("delete", f"/key-results/{kr['id']}").status_code == 204
    assert leader_api.send("delete", f"/objectives/{obj['id']}").status_code == 204
    assert leader_api.get(f"/objectives/{obj['id']}").status_code == 404
    assert AuditEntry.objects.filter(object_type="okrs.objective").count() >= 3


def test_writes_need_a_leader_and_refuse_foreign_references(org, member_of, leader_api, cycle,
                                                             objective):
    member = JApi(make_token(org, member_of(Role.MEMBER)))
    r = member.send("post", "/objectives", {"title": "x", "cycle_id": cycle.pk})
    assert r.status_code == 403
    foreign_cycle = CycleFactory(organization=OrganizationFactory(slug="far"))
    r = leader_api.send("post", "/objectives", {"title": "x", "cycle_id": foreign_cycle.pk})
    assert r.status_code == 400 and "cycle_id" in r.json()["errors"]
    r = leader_api.send("post", "/objectives", {"title": "   ", "cycle_id": cycle.pk})
    assert r.status_code == 422 and "title" in r.json()["errors"]
    assert Objective.objects.count() == 1


def test_delete_refused_once_there_is_history(org, leader_api, objective):
    kr = objective.key_results.get()
    leader_api.send("post", f"/key-results/{kr.pk}/check-ins", {"value": 1, "status": "on_track"})
    r = leader_api.send("delete", f"/objectives/{objective.pk}")
    assert r.status_code == 400 and "check-ins" in r.json()["errors"]["body"][0]
    assert Objective.objects.alive().filter(pk=objective.pk).exists()


def test_list_objectives_with_filters(org, leader_api, cycle, objective):
    other = CycleFactory(organization=org, name="Next", start=cycle.end + dt.timedelta(days=1),
                         end=cycle.end + dt.timedelta(days=90))
    ObjectiveFactory(organization=org, cycle=other, title="Later", state="draft")
    ObjectiveFactory(organization=OrganizationFactory(slug="zz"), title="Foreign")
    titles = [o["title"] for o in leader_api.get("/objectives").json()["items"]]
    assert sorted(titles) == ["Grow", "Later"]
    assert [o["title"] for o in leader_api.get("/objectives", cycle=other.pk).json()["items"]] \
        == ["Later"]
    assert [o["title"] for o in leader_api.get("/objectives", state="draft").json()["items"]] \
        == ["Later"]
    page = leader_api.get(f"/cycles/{cycle.pk}/objectives").json()
    assert page["items"][0]["key_results"][0]["title"] == "Revenue"


@pytest.mark.parametrize("n", [2, 12])
def test_list_objectives_query_count_is_constant(org, leader_api, cycle,
                                                 django_assert_max_num_queries, n):
    for _ in range(n):
        o = ObjectiveFactory(organization=org, cycle=cycle)
        KeyResultFactory(objective=o)
        KeyResultFactory(objective=o)
    leader_api.get("/objectives")
    # token, membership, count, page, the cycle's stored figures (2; 0 when cached)
    with django_assert_max_num_queries(6):
        r = leader_api.get("/objectives", size=10)
    assert len(r.json()["items"]) == min(n, 10)
