"""Closing a cycle (frozen values and scores, closing statuses, read-only) and carrying
unfinished objectives into the next cycle."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from core.versioning import StaleVersion
from goals.models import Cycle
from okrs import services
from okrs.models import KeyResult, Objective
from tests.conftest import url
from tests.factories import CheckInFactory, CycleFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def q1(org):
    return CycleFactory(organization=org, name="Q1", start=dt.date(2026, 1, 1),
                        end=dt.date(2026, 3, 31))


@pytest.fixture
def q2(org):
    return CycleFactory(organization=org, name="Q2", start=dt.date(2026, 4, 1),
                        end=dt.date(2026, 6, 30))


@pytest.fixture
def okrs(org, q1, leader):
    done = ObjectiveFactory(organization=org, cycle=q1, title="Done one", kind="committed")
    KeyResultFactory(objective=done, start_value=0, target_value=10, current_value=12)
    half = ObjectiveFactory(organization=org, cycle=q1, title="Half way", kind="aspirational")
    KeyResultFactory(objective=half, start_value=52, target_value=30, current_value=41,
                     weight=3)  # 0.5
    KeyResultFactory(objective=half, kind="milestone", start_value=0, target_value=1,
                     done=True, current_value=1, weight=1)  # 1.0
    child = ObjectiveFactory(organization=org, cycle=q1, title="Child", parent=half)
    KeyResultFactory(objective=child, start_value=0, target_value=100, current_value=80)
    return {"done": done, "half": half, "child": child}


def test_close_freezes_scores_and_statuses(org, q1, okrs, leader):
    services.cycle_close(cycle=q1, actor=leader, version=q1.version)
    q1.refresh_from_db()
    assert q1.state == Cycle.State.CLOSED and q1.closed_by == leader and q1.closed_at
    done = Objective.objects.get(pk=okrs["done"].pk)
    assert done.state == "closed" and done.score == 1.0 and done.closing_status == "achieved"
    half = Objective.objects.get(pk=okrs["half"].pk)
    assert half.score == pytest.approx(0.62)  # (0.5*3 + 1*1) / 4 = 0.625 -> 0.62
    assert half.closing_status == "partially"  # aspirational below 0.7
    kr = half.key_results.get(kind="metric")
    assert (kr.final_value, kr.final_score) == (41, 0.5)
    milestone = half.key_results.get(kind="milestone")
    assert (milestone.final_value, milestone.final_score) == (1.0, 1.0)


def test_close_uses_the_leaders_decisions(org, q1, okrs, leader):
    services.cycle_close(cycle=q1, actor=leader, version=q1.version, decisions={
        okrs["half"].pk: {"closing_status": "postponed", "score": 0.7, "note": "Learned a lot"}})
    half = Objective.objects.get(pk=okrs["half"].pk)
    assert (half.closing_status, half.score, half.closing_note) == (
        "postponed", 0.7, "Learned a lot")


def test_closed_cycle_is_read_only(org, q1, okrs, leader):
    services.cycle_close(cycle=q1, actor=leader, version=q1.version)
    q1.refresh_from_db()
    obj = Objective.objects.get(pk=okrs["done"].pk)
    kr = obj.key_results.first()
    with pytest.raises(ValidationError):
        services.objective_update(objective=obj, actor=leader, version=obj.version,
                                  data={"title": "New"})
    with pytest.raises(ValidationError):
        services.key_result_update(key_result=kr, actor=leader, version=kr.version,
                                   data={"title": "New"})
    with pytest.raises(ValidationError):
        services.key_result_create(objective=obj, actor=leader, data={"title": "More"})
    with pytest.raises(ValidationError):
        services.objective_delete(objective=obj, actor=leader)
    with pytest.raises(ValidationError):
        services.cycle_close(cycle=q1, actor=leader, version=q1.version)


def test_closing_twice_with_a_stale_version_is_refused(org, q1, okrs, leader):
    version = q1.version
    Cycle.objects.filter(pk=q1.pk).update(version=version + 1)
    with pytest.raises(StaleVersion):
        services.cycle_close(cycle=q1, actor=leader, version=version)
    assert not Objective.objects.filter(state="closed").exists()


def test_frozen_values_survive_later_changes(org, q1, okrs, leader, as_user, viewer):
    services.cycle_close(cycle=q1, actor=leader, version=q1.version)
    KeyResult.objects.filter(objective=okrs["done"]).update(current_value=0)
    html = as_user(viewer).get(url("okrs:list", org) + f"?cycle={q1.pk}").content.decode()
    assert "Achieved" in html and "1.00" in html


def test_close_view(org, q1, okrs, leader, as_user):
    client = as_user(leader)
    page = client.get(url("okrs:cycle_close", org, pk=q1.pk))
    assert page.status_code == 200
    assert "Half way" in page.content.decode()
    data = {"version": q1.version}
    for o in okrs.values():
        data.update({f"status_{o.pk}": "missed", f"score_{o.pk}": "0.3", f"note_{o.pk}": "n"})
    # without the confirmation box nothing happens
    assert client.post(url("okrs:cycle_close", org, pk=q1.pk), data).status_code == 200
    assert Cycle.objects.get(pk=q1.pk).state == "open"
    data["confirm"] = "on"
    data[f"score_{okrs['done'].pk}"] = "1.5"  # out of range
    assert client.post(url("okrs:cycle_close", org, pk=q1.pk), data).status_code == 200
    assert Cycle.objects.get(pk=q1.pk).state == "open"
    data[f"score_{okrs['done'].pk}"] = "0.9"
    response = client.post(url("okrs:cycle_close", org, pk=q1.pk), data)
    assert response.status_code == 302
    assert response["Location"] == url("okrs:carry_over", org, pk=q1.pk)
    done = Objective.objects.get(pk=okrs["done"].pk)
    assert (done.closing_status, done.score) == ("missed", 0.9)


def test_edit_pages_of_a_closed_cycle_redirect(org, q1, okrs, leader, as_user):
    services.cycle_close(cycle=q1, actor=leader, version=q1.version)
    client = as_user(leader)
    o = okrs["done"]
    response = client.post(url("okrs:objective_edit", org, pk=o.pk), {"title": "Hacked"})
    assert response.status_code == 302
    assert Objective.objects.get(pk=o.pk).title == "Done one"
    html = client.get(url("okrs:objective", org, pk=o.pk)).content.decode()
    assert "read-only" in html
    assert url("okrs:objective_edit", org, pk=o.pk) not in html


def test_carry_over_copies_unfinished_with_current_as_start(org, q1, q2, okrs, leader):
    services.cycle_close(cycle=q1, actor=leader, version=q1.version)
    copies = services.objectives_carry_over(source=q1, target=q2, actor=leader)
    titles = sorted(c.title for c in copies)
    assert titles == ["Child", "Half way"]  # "Done one" was achieved
    half = Objective.objects.get(cycle=q2, title="Half way")
    assert half.carried_from_id == okrs["half"].pk and half.state == "active"
    metric = half.key_results.get(kind="metric")
    assert (metric.start_value, metric.target_value, metric.current_value) == (41, 30, 41)
    milestone = half.key_results.get(kind="milestone")
    assert milestone.done is False
    child = Objective.objects.get(cycle=q2, title="Child")
    assert child.parent == half  # alignment follows the copy
    # running it again copies nothing twice
    assert services.objectives_carry_over(source=q1, target=q2, actor=leader) == []


def test_carry_over_refuses_closed_or_same_or_foreign_target(org, q1, okrs, leader, outsider):
    with pytest.raises(ValidationError):
        services.objectives_carry_over(source=q1, target=q1, actor=leader)
    foreign = CycleFactory(organization=outsider.memberships.get().organization)
    with pytest.raises(ValidationError):
        services.objectives_carry_over(source=q1, target=foreign, actor=leader)


def test_carry_over_view(org, q1, q2, okrs, leader, as_user, outsider):
    services.cycle_close(cycle=q1, actor=leader, version=q1.version)
    client = as_user(leader)
    page = client.get(url("okrs:carry_over", org, pk=q1.pk)).content.decode()
    assert "Half way" in page and "Done one" not in page
    foreign = CycleFactory(organization=outsider.memberships.get().organization)
    response = client.post(url("okrs:carry_over", org, pk=q1.pk),
                           {"target": foreign.pk, "objectives": [okrs["half"].pk]})
    assert response.status_code == 200
    assert not Objective.objects.filter(cycle=foreign).exists()
    response = client.post(url("okrs:carry_over", org, pk=q1.pk),
                           {"target": q2.pk, "objectives": [okrs["half"].pk]})
    assert response.status_code == 302
    assert list(Objective.objects.filter(cycle=q2).values_list("title", flat=True)) == [
        "Half way"]


def test_checkins_are_kept_when_closing(org, q1, okrs, leader):
    kr = okrs["done"].key_results.first()
    CheckInFactory(key_result=kr)
    services.cycle_close(cycle=q1, actor=leader, version=q1.version)
    assert kr.checkins.count() == 1


def test_partial_kr_update_keeps_other_definitions(org, q1, leader):
    o = ObjectiveFactory(organization=org, cycle=q1)
    kr = KeyResultFactory(objective=o, kind="guardrail", guard="at_most", start_value=2,
                          target_value=5, weight=3, current_value=4)
    kr = services.key_result_update(key_result=kr, actor=leader, version=kr.version,
                                    data={"title": "Renamed"})
    assert (kr.title, kr.guard, kr.weight, kr.target_value, kr.current_value, kr.version) == (
        "Renamed", "at_most", 3, 5, 4, 2)
