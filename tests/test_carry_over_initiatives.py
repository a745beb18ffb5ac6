"""Issue 14, defect 12: open initiatives are carried over with their objective (through the
hook okrs.hooks that initiatives fills: okrs may not import initiatives)."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import AuditEntry
from initiatives.models import Initiative
from okrs import hooks, services
from okrs.models import KeyResult, Objective
from tests.conftest import url
from tests.factories import CycleFactory, InitiativeFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org, leader, member):
    q1 = CycleFactory(organization=org, name="Q1", start=dt.date(2026, 1, 1),
                      end=dt.date(2026, 3, 31))
    q2 = CycleFactory(organization=org, name="Q2", start=dt.date(2026, 4, 1),
                      end=dt.date(2026, 6, 30))
    half = ObjectiveFactory(organization=org, cycle=q1, title="Half way")
    kr = KeyResultFactory(objective=half, start_value=0, target_value=10, current_value=4)
    gone = KeyResultFactory(objective=half, start_value=0, target_value=10, current_value=1)
    done = ObjectiveFactory(organization=org, cycle=q1, title="Done one")
    KeyResultFactory(objective=done, start_value=0, target_value=10, current_value=12)

    def initiative(title, status, **where):
        where.setdefault("key_result", None)  # under the objective alone
        return InitiativeFactory(organization=org, title=title, status=status, owner=member,
                                 due_date=dt.date(2026, 5, 1), percent_complete=40, **where)

    rows = {
        "planned": initiative("Planned on KR", "planned", key_result=kr),
        "progress": initiative("In progress on objective", "in_progress", objective=half),
        "blocked": initiative("Blocked on KR", "blocked", key_result=kr),
        "done": initiative("Done on KR", "done", key_result=kr),
        "cancelled": initiative("Cancelled", "cancelled", objective=half),
        "finished_obj": initiative("On the achieved objective", "in_progress", objective=done),
        "deleted_kr": initiative("On a deleted KR", "planned", key_result=gone),
    }
    KeyResult.objects.filter(pk=gone.pk).update(deleted_at=dt.datetime(2026, 2, 1,
                                                                       tzinfo=dt.UTC))
    services.cycle_close(cycle=q1, actor=leader, version=q1.version)
    return {"q1": q1, "q2": q2, "half": half, "kr": kr, "achieved": done, **rows}


def test_open_initiatives_move_with_their_objective(world, leader):
    services.objectives_carry_over(source=world["q1"], target=world["q2"], actor=leader)
    copy = Objective.objects.get(cycle=world["q2"], title="Half way")
    new_kr = copy.key_results.get()
    got = {i.title: i for i in Initiative.objects.all()}
    assert got["Planned on KR"].key_result_id == new_kr.pk
    assert got["Blocked on KR"].key_result_id == new_kr.pk
    assert got["In progress on objective"].objective_id == copy.pk
    moved = got["Planned on KR"]
    assert (moved.status, moved.owner, moved.due_date, moved.percent_complete) == \
        ("planned", world["planned"].owner, dt.date(2026, 5, 1), 40)
    # The record stays behind: done and cancelled ones, and those under a deleted KR.
    assert got["Done on KR"].key_result_id == world["kr"].pk
    assert got["Cancelled"].objective_id == world["half"].pk
    assert got["On a deleted KR"].key_result_id != new_kr.pk
    # The achieved objective is not carried, nor its initiatives.
    assert got["On the achieved objective"].objective_id == world["achieved"].pk
    notes = set(AuditEntry.objects.filter(object_type="initiatives.initiative")
                .values_list("note", flat=True))
    assert notes == {"Carried over with “Half way” into Q2"}


def test_carrying_twice_moves_nothing_twice(world, leader):
    services.objectives_carry_over(source=world["q1"], target=world["q2"], actor=leader)
    before = list(Initiative.objects.order_by("id").values_list("id", "key_result",
                                                               "objective", "version"))
    services.objectives_carry_over(source=world["q1"], target=world["q2"], actor=leader)
    after = list(Initiative.objects.order_by("id").values_list("id", "key_result",
                                                              "objective", "version"))
    assert before == after


def test_initiatives_registered_their_handler():
    from initiatives.carry_over import move_open_initiatives

    assert move_open_initiatives in hooks._carry_handlers


def test_the_moved_initiative_is_editable_in_the_open_cycle(world, leader, member, as_user):
    services.objectives_carry_over(source=world["q1"], target=world["q2"], actor=leader)
    moved = Initiative.objects.get(title="Planned on KR")
    page = as_user(member).get(url("initiatives:edit", pk=moved.pk))
    assert page.status_code == 200


def test_the_carry_over_page_says_initiatives_move(world, leader, as_user):
    page = as_user(leader).get(url("okrs:carry_over", pk=world["q1"].pk)).content.decode()
    assert "Its open initiatives (planned, in progress or blocked) move with it" in page
