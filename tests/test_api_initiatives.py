"""The initiative endpoints (issue 21): the pages' rule (members write and edit their own,
leaders edit all and choose owners), versioned edits (409 when stale), a closed cycle
read-only, audited writes, filters and paging with a query count constant in the data."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry, Role
from goals.models import Cycle
from initiatives.models import Initiative
from tests.conftest import count_queries
from tests.factories import (
    CycleFactory,
    InitiativeFactory,
    KeyResultFactory,
    ObjectiveFactory,
    OrganizationFactory,
)
from tests.test_api import make_token
from tests.test_api_okrs import JApi

pytestmark = pytest.mark.django_db


@pytest.fixture
def kr(org):
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org))
    return KeyResultFactory(objective=objective, title="Revenue")


@pytest.fixture
def member_api(org, member):
    return JApi(make_token(org, member))


@pytest.fixture
def leader_api(org, leader):
    return JApi(make_token(org, leader))


def test_a_member_writes_an_initiative_of_their_own(org, member, leader, member_api, kr):
    r = member_api.send("post", "/initiatives", {
        "title": "Call lapsed customers", "key_result_id": kr.pk, "due_date": "2026-12-20",
        "percent_complete": 10})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["owner_id"] == member.pk and body["objective_id"] == kr.objective_id
    assert body["key_result_id"] == kr.pk and body["due_date"] == "2026-12-20"
    assert body["status"] == "planned" and body["version"] == 1
    initiative = Initiative.objects.get()
    assert initiative.owner == member and initiative.organization == org
    assert AuditEntry.objects.filter(action="created", object_id=str(initiative.pk)).exists()
    # A member cannot hand an initiative to someone else; nothing is written.
    r = member_api.send("post", "/initiatives", {"title": "For Leo", "key_result_id": kr.pk,
                                                 "owner_id": leader.pk})
    assert r.status_code == 403 and r.json()["detail"]
    assert Initiative.objects.count() == 1


def test_a_leader_chooses_the_owner_inside_the_organisation(org, member, leader_api, kr):
    r = leader_api.send("post", "/initiatives", {"title": "Pricing page",
                                                 "objective_id": kr.objective_id,
                                                 "owner_id": member.pk})
    assert r.status_code == 201, r.content
    assert r.json()["owner_id"] == member.pk and r.json()["key_result_id"] is None
    stranger = OrganizationFactory()
    from tests.factories import MembershipFactory, UserFactory

    outsider = UserFactory()
    MembershipFactory(user=outsider, organization=stranger, role=Role.MEMBER)
    r = leader_api.send("post", "/initiatives", {"title": "x", "objective_id": kr.objective_id,
                                                 "owner_id": outsider.pk})
    assert r.status_code == 400 and "owner_id" in r.json()["errors"]


def test_the_parent_is_one_of_this_organisations(leader_api, kr):
    foreign_kr = KeyResultFactory(objective=ObjectiveFactory())
    r = leader_api.send("post", "/initiatives", {"title": "x", "key_result_id": foreign_kr.pk})
    assert r.status_code == 404
    for body in ({"title": "x"}, {"title": "x", "key_result_id": kr.pk,
                                  "objective_id": kr.objective_id}):
        r = leader_api.send("post", "/initiatives", body)
        assert r.status_code == 400 and "key_result_id" in r.json()["errors"], body
    r = leader_api.send("post", "/initiatives", {"title": "x", "key_result_id": kr.pk,
                                                 "percent_complete": 45.0})
    assert r.status_code == 201 and r.json()["percent_complete"] == 45  # a JSON integer
    Initiative.objects.all().delete()
    for bad in ({"percent_complete": 101}, {"percent_complete": "50"},
                {"percent_complete": 45.5}, {"percent_complete": True},
                {"due_date": 0}, {"due_date": "20/12/2026"}, {"status": "maybe"},
                {"title": "   "}, {"title": "a\x00b"}):
        r = leader_api.send("post", "/initiatives", {"title": "x", "key_result_id": kr.pk,
                                                     **bad})
        assert r.status_code in (400, 422) and r.json()["detail"], bad
    assert Initiative.objects.count() == 0


def test_members_edit_their_own_leaders_edit_all(org, member, member_of, member_api,
                                                  leader_api, kr):
    mine = InitiativeFactory(key_result=kr, owner=member, title="Mine")
    theirs = InitiativeFactory(key_result=kr, owner=member_of(Role.MEMBER), title="Theirs")
    r = member_api.send("patch", f"/initiatives/{mine.pk}", {"version": 1, "status": "done"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "done" and r.json()["percent_complete"] == 100
    assert r.json()["version"] == 2 and r.json()["title"] == "Mine"
    r = member_api.send("patch", f"/initiatives/{theirs.pk}", {"version": 1, "title": "Hijack"})
    assert r.status_code == 403
    r = member_api.send("delete", f"/initiatives/{theirs.pk}")
    assert r.status_code == 403
    r = member_api.send("patch", f"/initiatives/{mine.pk}", {"version": 2,
                                                              "owner_id": theirs.owner_id})
    assert r.status_code == 403
    r = leader_api.send("patch", f"/initiatives/{theirs.pk}", {"version": 1, "title": "Renamed",
                                                               "owner_id": member.pk})
    assert r.status_code == 200 and r.json()["owner_id"] == member.pk
    theirs.refresh_from_db()
    assert theirs.title == "Renamed" and theirs.owner == member
    assert AuditEntry.objects.filter(action="updated").count() == 2


def test_a_stale_version_is_409_and_nothing_is_written(member, member_api, kr):
    mine = InitiativeFactory(key_result=kr, owner=member, title="Mine", version=3)
    r = member_api.send("patch", f"/initiatives/{mine.pk}", {"version": 2, "title": "Old"})
    assert r.status_code == 409 and "version" in r.json()["errors"]
    mine.refresh_from_db()
    assert mine.title == "Mine" and mine.version == 3


def test_an_untouched_patch_changes_nothing_but_the_version(member, member_api, kr):
    mine = InitiativeFactory(key_result=kr, owner=member, title="Mine", due_date="2026-12-01",
                             percent_complete=40, description="Keep me")
    before = member_api.get(f"/initiatives/{mine.pk}").json()
    r = member_api.send("patch", f"/initiatives/{mine.pk}", {"version": 1})
    assert r.status_code == 200
    after = r.json()
    for k in ("title", "description", "status", "due_date", "percent_complete", "owner_id"):
        assert after[k] == before[k], k
    r = member_api.send("patch", f"/initiatives/{mine.pk}", {"version": 2, "due_date": None})
    assert r.status_code == 200 and r.json()["due_date"] is None


def test_a_closed_cycle_is_read_only(member, member_api, kr):
    mine = InitiativeFactory(key_result=kr, owner=member)
    Cycle.objects.filter(pk=kr.objective.cycle_id).update(state=Cycle.State.CLOSED)
    r = member_api.send("patch", f"/initiatives/{mine.pk}", {"version": 1, "title": "Late"})
    assert r.status_code == 400 and "closed" in str(r.json()).lower()
    assert member_api.send("delete", f"/initiatives/{mine.pk}").status_code == 400
    r = member_api.send("post", "/initiatives", {"title": "x", "key_result_id": kr.pk})
    assert r.status_code == 400
    assert Initiative.objects.count() == 1


def test_delete_is_audited(member, member_api, kr):
    mine = InitiativeFactory(key_result=kr, owner=member)
    r = member_api.send("delete", f"/initiatives/{mine.pk}")
    assert r.status_code == 204
    assert not Initiative.objects.exists()
    assert AuditEntry.objects.filter(action="deleted", object_id=str(mine.pk)).exists()
    assert member_api.get(f"/initiatives/{mine.pk}").status_code == 404


def test_an_idempotency_key_writes_once(member_api, kr):
    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-123"}
    body = f'{{"title": "Once", "key_result_id": {kr.pk}}}'
    first = member_api.client.post("/api/v1/initiatives", body, content_type="application/json",
                                   **member_api.headers, **headers)
    again = member_api.client.post("/api/v1/initiatives", body, content_type="application/json",
                                   **member_api.headers, **headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Initiative.objects.count() == 1


def test_filters_and_paging(org, member, member_of, member_api, kr):
    other_kr = KeyResultFactory(objective=kr.objective)
    on_objective = InitiativeFactory(key_result=None, objective=kr.objective,
                                     organization=org, owner=member, status="blocked")
    a = InitiativeFactory(key_result=kr, owner=member, status="in_progress")
    b = InitiativeFactory(key_result=other_kr, owner=member_of(Role.MEMBER))
    elsewhere = InitiativeFactory(key_result=KeyResultFactory(
        objective=ObjectiveFactory(organization=org, cycle=kr.objective.cycle)))
    InitiativeFactory()  # another organisation's

    def ids(**params):
        r = member_api.get("/initiatives", **params)
        assert r.status_code == 200, r.content
        return [i["id"] for i in r.json()["items"]]

    assert ids() == [on_objective.pk, a.pk, b.pk, elsewhere.pk]
    assert ids(key_result=kr.pk) == [a.pk]
    assert ids(objective=kr.objective_id) == [on_objective.pk, a.pk, b.pk]
    assert ids(status="blocked") == [on_objective.pk]
    assert ids(owner=member.pk) == [on_objective.pk, a.pk]
    page = member_api.get("/initiatives", size=3).json()
    assert page["count"] == 4 and page["next"] and page["previous"] is None
    assert ids(size=3, page=2) == [elsewhere.pk]
    assert member_api.get("/initiatives", status="%00").status_code in (400, 422)
    assert member_api.get("/initiatives", page=0).status_code == 422


def _list_queries(api) -> int:
    with count_queries() as queries:
        r = api.get("/initiatives", size=500)
    assert r.status_code == 200
    return len(queries)


def test_the_list_query_count_is_constant(org, member, member_of, member_api, kr):
    InitiativeFactory.create_batch(3, key_result=kr, owner=member)
    _list_queries(member_api)  # the token's first use records it (one more query)
    small = _list_queries(member_api)
    owners = [member_of(Role.MEMBER) for _ in range(5)]
    for i in range(40):
        InitiativeFactory(key_result=KeyResultFactory(objective=kr.objective),
                          owner=owners[i % 5])
    assert _list_queries(member_api) == small


def test_the_openapi_document_lists_the_operations(client):
    schema = client.get("/api/v1/openapi.json").json()
    ops = {op["operationId"]: (path, method, op) for path, methods in schema["paths"].items()
           for method, op in methods.items()}
    for name in ("list_initiatives", "get_initiative", "create_initiative",
                 "update_initiative", "delete_initiative"):
        assert name in ops
    _, _, update = ops["update_initiative"]
    assert {"200", "403", "404", "409"} <= set(update["responses"])
    props = schema["components"]["schemas"]["InitiativeIn"]["properties"]
    assert props["percent_complete"]["maximum"] == 100
    assert props["title"]["maxLength"] == 200
