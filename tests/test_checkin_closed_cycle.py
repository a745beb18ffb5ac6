"""Check-in pages after the quarter is closed early (issue 14, defect 8): the dashboard keeps
showing the closed quarter, so the check-in pages say it was closed on <date> and point to
the next cycle instead of "Nothing to check in"; its key results take no check-in. And the
KPI form shows the loop-owned intent read-only (it cannot be posted)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from goals.models import Cycle
from kpis.models import Kpi
from okrs.checkins.selectors import closed_current_cycle
from tests.conftest import client_for, url
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    KpiFactory,
    ObjectiveFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_quarter(org, member):
    quarter = CycleFactory(organization=org, name="Q now")
    if quarter.end <= timezone.localdate():
        pytest.skip("today is the quarter's last day")
    team = TeamFactory(organization=org, slug="support", name="Support")
    team.members.add(member)
    kr = KeyResultFactory(objective=ObjectiveFactory(organization=org, cycle=quarter,
                                                     team=team), owner=member)
    start = quarter.end + dt.timedelta(days=1)
    following = CycleFactory(organization=org, name="Q next", start=start,
                             end=start + dt.timedelta(days=90))
    Cycle.objects.filter(pk=quarter.pk).update(state=Cycle.State.CLOSED,
                                               closed_at=timezone.now())
    return {"quarter": quarter, "next": following, "team": team, "kr": kr}


@pytest.mark.parametrize("page", ["team", "mine"])
def test_the_page_says_the_quarter_was_closed_and_points_to_the_next(closed_quarter, member,
                                                                     page, org):
    path = (url("checkins:team", team="support") if page == "team"
            else url("checkins:mine"))
    html = client_for(member).get(path).content.decode()
    today = timezone.localdate()
    assert f"Q now was closed on {today.day} {today:%B %Y}" in html
    assert f'?cycle={closed_quarter["next"].pk}">Q next</a>' in html
    assert "Nothing to check in" not in html and "You own no key results" not in html
    assert "Q now is closed" in html
    assert f'id="kr-row-{closed_quarter["kr"].pk}"' not in html  # no check-in on it


def test_no_notice_while_the_quarter_is_open(org, member):
    CycleFactory(organization=org, name="Q open")
    assert closed_current_cycle(org) is None
    html = client_for(member).get(url("checkins:mine")).content.decode()
    assert "ci-closed" not in html


def test_the_year_is_the_next_cycle_when_no_later_one_is_open(org, member):
    quarter = CycleFactory(organization=org, name="Q now")
    year = CycleFactory(organization=org, name="This year", kind=Cycle.Kind.YEAR,
                        start=quarter.start - dt.timedelta(days=400),
                        end=quarter.end + dt.timedelta(days=400))
    Cycle.objects.filter(pk=quarter.pk).update(state=Cycle.State.CLOSED,
                                               closed_at=timezone.now())
    closed = closed_current_cycle(org)
    assert (closed.cycle.pk, closed.next_cycle.pk) == (quarter.pk, year.pk)


def test_the_kpi_form_shows_intent_read_only(org, admin_user):
    kpi = KpiFactory(organization=org, name="Reply time")
    client = client_for(admin_user)
    html = client.get(url("kpis:edit", pk=kpi.pk)).content.decode()
    assert 'name="intent"' not in html and "The loop sets it" in html
    form = client.get(url("kpis:create")).content.decode()
    assert 'name="intent"' not in form
    response = client.post(url("kpis:edit", pk=kpi.pk), {
        "name": kpi.name, "decimals": kpi.decimals, "frequency": kpi.frequency,
        "intent": "improve", "version": kpi.version, "active": "on"})
    assert response.status_code == 302
    kpi.refresh_from_db()
    assert kpi.intent == Kpi.Intent.SUSTAIN  # a posted intent is ignored
