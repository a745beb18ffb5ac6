"""One rule for the cycle a page shows (goals.selectors.pick_current_cycle), and closing a
quarter early (issue 14, defect 8)."""

from __future__ import annotations

import datetime as dt

import pytest

from goals.models import Cycle
from goals.selectors import current_cycle, pick_current_cycle
from okrs import services as okr_services
from tests.conftest import client_for, url
from tests.factories import CycleFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db

D = dt.date


def _cycles(org):
    year = CycleFactory(organization=org, name="2026", kind=Cycle.Kind.YEAR,
                        start=D(2026, 1, 1), end=D(2026, 12, 31))
    q3 = CycleFactory(organization=org, name="2026 Q3", start=D(2026, 7, 1), end=D(2026, 9, 30),
                      state=Cycle.State.CLOSED)
    q4 = CycleFactory(organization=org, name="2026 Q4", start=D(2026, 10, 1),
                      end=D(2026, 12, 31))
    return year, q3, q4


def test_the_rule(org):
    year, q3, q4 = _cycles(org)
    cycles = [year, q3, q4]
    assert pick_current_cycle(cycles, D(2026, 12, 1)) == q4  # the shortest containing today
    q4.state = Cycle.State.CLOSED  # closed early, on 1 December
    assert pick_current_cycle(cycles, D(2026, 12, 1)) == q4  # still this quarter, not the year
    assert pick_current_cycle(cycles, D(2027, 1, 5)) == q4  # after every cycle: the latest
    nxt = CycleFactory.build(organization=org, name="2027 Q1", start=D(2027, 1, 1),
                             end=D(2027, 3, 31))
    assert pick_current_cycle([*cycles, nxt], D(2026, 12, 1)) == q4
    assert pick_current_cycle([*cycles, nxt], D(2027, 1, 5)) == nxt


def test_writes_still_ask_for_an_open_cycle(org):
    year, _, q4 = _cycles(org)
    Cycle.objects.filter(pk=q4.pk).update(state=Cycle.State.CLOSED)
    assert current_cycle(org, D(2026, 12, 1), open_only=True) == year
    assert current_cycle(org, D(2026, 12, 1)) == q4


def test_close_form_warns_before_the_cycle_ends(org, leader):
    cycle = CycleFactory(organization=org, name="This quarter")  # ends after today
    page = client_for(leader).get(url("okrs:cycle_close", pk=cycle.pk)).content.decode()
    assert "This quarter has not ended yet" in page
    ended = CycleFactory(organization=org, name="Old", start=D(2020, 1, 1), end=D(2020, 3, 31))
    page = client_for(leader).get(url("okrs:cycle_close", pk=ended.pk)).content.decode()
    assert "has not ended yet" not in page


def test_dashboard_and_review_agree_after_an_early_close(org, leader):
    quarter = CycleFactory(organization=org, name="The quarter")
    CycleFactory(organization=org, name="The year", kind=Cycle.Kind.YEAR,
                 start=quarter.start.replace(month=1, day=1),
                 end=quarter.end.replace(month=12, day=31))
    ObjectiveFactory(organization=org, cycle=quarter, title="Ship the thing")
    quarter.refresh_from_db()
    okr_services.cycle_close(cycle=quarter, actor=leader, version=quarter.version)
    client = client_for(leader)
    for name in ("dashboards:home", "dashboards:review", "okrs:list", "dashboards:strategy_map"):
        page = client.get(url(name)).content.decode()
        assert "The quarter" in page, name
    assert "Ship the thing" in client.get(url("okrs:list")).content.decode()
