"""Issue 14, defect 9: a past week's check-in completion is what it was that week.

The team's weekly completion counts the key results that were due that week; a key result
added, copied by a carry-over or deleted afterwards, or the cycle being closed, must not
change a past week's figure (it read 33 % → 29 % → 25 % as KRs were added)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from goals.models import Cycle
from okrs import services
from okrs.checkins.selectors import completion_by_week
from okrs.checkins.services import week_start_for
from okrs.models import KeyResult, Objective
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db


def _figures(team) -> list[tuple[dt.date, int, int]]:
    return [(w.week_start, w.done, w.total) for w in completion_by_week(team, 4)]


@pytest.fixture
def world(org, leader):
    today = timezone.localdate()
    year = CycleFactory(organization=org, name="The year", kind=Cycle.Kind.YEAR,
                        start=today - dt.timedelta(days=120), end=today + dt.timedelta(days=200))
    quarter = CycleFactory(organization=org, name="The quarter", parent=year,
                           start=today - dt.timedelta(days=60), end=today + dt.timedelta(days=30))
    team = TeamFactory(organization=org, name="Support", slug="support")
    objective = ObjectiveFactory(organization=org, cycle=quarter, team=team,
                                 title="Clear the backlog")
    krs = [KeyResultFactory(objective=objective, title=f"KR {i}") for i in range(3)]
    long_ago = timezone.now() - dt.timedelta(weeks=8)
    Objective.objects.filter(pk=objective.pk).update(created_at=long_ago)
    KeyResult.objects.filter(pk__in=[k.pk for k in krs]).update(created_at=long_ago)
    week = week_start_for(org)
    last_week = week - dt.timedelta(weeks=1)
    CheckInFactory(key_result=krs[0], week_start=last_week)
    CheckInFactory(key_result=krs[0], week_start=week - dt.timedelta(weeks=2))
    CheckInFactory(key_result=krs[1], week_start=week - dt.timedelta(weeks=2))
    return {"year": year, "quarter": quarter, "team": team, "objective": objective,
            "krs": krs, "week": week, "leader": leader}


def test_past_weeks_do_not_change_when_key_results_are_added_or_deleted(world):
    team, objective, leader = world["team"], world["objective"], world["leader"]
    before = _figures(team)
    week = world["week"]
    assert before[-2] == (week - dt.timedelta(weeks=1), 1, 3)  # last week: 1 of 3
    assert before[-3] == (week - dt.timedelta(weeks=2), 2, 3)

    services.key_result_create(objective=objective, actor=leader,
                               data={"title": "A new one", "kind": "metric",
                                     "start_value": 0, "target_value": 10})
    after_add = _figures(team)
    assert after_add[:-1] == before[:-1]  # the old code read 1 of 4 for last week
    assert after_add[-1][2] == 4  # this week counts the new key result

    services.key_result_delete(key_result=world["krs"][2], actor=leader)
    after_delete = _figures(team)
    assert after_delete[:-1] == before[:-1]  # the deleted one was due last week
    assert after_delete[-1][2] == 3


def test_past_weeks_do_not_change_when_the_quarter_is_closed_and_carried_over(world):
    team, quarter, year, leader = world["team"], world["quarter"], world["year"], world["leader"]
    before = _figures(team)
    quarter.refresh_from_db()
    services.cycle_close(cycle=quarter, actor=leader, version=quarter.version)
    copies = services.objectives_carry_over(source=quarter, target=year, actor=leader)
    assert copies and KeyResult.objects.filter(objective__in=copies).count() == 3
    after = _figures(team)
    # The copies live in the year, which overlaps the past weeks: the old code counted
    # them there (1 of 6 = 17 % for last week instead of 33 %).
    assert after[:-1] == before[:-1]
    # This week counts the closed quarter's KRs (closed objectives still count) and the copies.
    assert after[-1][2] == 6


def test_a_key_result_checked_in_and_deleted_in_the_same_week_counts_as_done(org, world):
    team, objective = world["team"], world["objective"]
    kr = KeyResultFactory(objective=objective, title="Short-lived")
    two_weeks_ago = world["week"] - dt.timedelta(weeks=2)
    start = dt.datetime.combine(two_weeks_ago, dt.time(9), tzinfo=org.tz)
    KeyResult.objects.filter(pk=kr.pk).update(created_at=start,
                                              deleted_at=start + dt.timedelta(days=2))
    CheckInFactory(key_result=kr, week_start=two_weeks_ago)
    figures = {ws: (done, total) for ws, done, total in _figures(team)}
    assert figures[two_weeks_ago] == (3, 4)
    assert figures[two_weeks_ago + dt.timedelta(weeks=1)] == (1, 3)


def test_a_delete_before_anyone_read_the_weeks_stores_them_first(world):
    """A key result without check-ins is deleted for good: the team's ended weeks are
    stored before its row goes (nobody had opened a page showing them)."""
    from okrs.models import WeekCompletion

    team, leader = world["team"], world["leader"]
    assert not WeekCompletion.objects.filter(team=team).exists()
    services.key_result_delete(key_result=world["krs"][2], actor=leader)
    assert not KeyResult.objects.filter(pk=world["krs"][2].pk).exists()
    stored = WeekCompletion.objects.filter(team=team).count()
    assert stored == 8  # the ended weeks a page shows
    week = world["week"]
    figures = {ws: (done, total) for ws, done, total in _figures(team)}
    assert figures[week - dt.timedelta(weeks=1)] == (1, 3)
    assert figures[week][1] == 2


def test_completion_history_reads_a_constant_number_of_queries(world, django_assert_num_queries):
    team = world["team"]
    completion_by_week(team, 8)  # stores the ended weeks
    for i in range(20):
        KeyResultFactory(objective=world["objective"], title=f"More {i}")
    team.refresh_from_db()
    # the team's organisation, the stored weeks, this week's key results, their check-ins
    with django_assert_num_queries(4):
        completion_by_week(team, 8)


def test_a_cascade_stores_nothing_for_rows_being_deleted(org, world):
    """Key results deleted with their objective: the objective's delete stores the team's
    weeks once; a team deleted takes its stored weeks with it."""
    from okrs.models import WeekCompletion

    completion_by_week(world["team"], 8)
    assert WeekCompletion.objects.filter(team=world["team"]).exists()
    world["team"].delete()
    assert not WeekCompletion.objects.exists()


def test_deleting_an_objective_stores_its_team_weeks_once(world):
    from okrs.models import WeekCompletion

    objective = world["objective"]
    KeyResult.objects.filter(objective=objective).exclude(pk=world["krs"][0].pk).delete()
    objective.delete()
    assert WeekCompletion.objects.filter(team=world["team"]).count() == 8
