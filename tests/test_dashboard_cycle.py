"""The leader dashboard's cycle selector (issue 14: "the dashboard has no cycle selector")
and its stored figures (issue 16: company-level rows only, nothing kept between requests).

By default the dashboard shows the cycle goals.selectors.pick_current_cycle picks (a
quarter closed early stays the quarter until its last day); ?cycle=<pk> shows another of
the organisation's cycles; an unknown or foreign id falls back to the default."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from goals.models import Cycle
from okrs.checkins.services import checkin_create
from tests.conftest import url
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    OrganizationFactory,
    TeamFactory,
    UltimateGoalFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycles(org):
    today = timezone.localdate()
    year = CycleFactory(organization=org, name="The year", kind=Cycle.Kind.YEAR,
                        start=today - dt.timedelta(days=100), end=today + dt.timedelta(days=200))
    quarter = CycleFactory(organization=org, name="The quarter", parent=year,
                           start=today - dt.timedelta(days=30), end=today + dt.timedelta(days=40))
    UltimateGoalFactory(organization=org)
    ObjectiveFactory(organization=org, cycle=quarter, title="Quarter company objective")
    ObjectiveFactory(organization=org, cycle=year, title="Year company objective")
    team = TeamFactory(organization=org)
    ObjectiveFactory(organization=org, cycle=quarter, team=team, title="A team's objective")
    return {"year": year, "quarter": quarter}


def test_default_is_the_one_rule_and_the_selector_lists_every_cycle(org, owner, as_user, cycles):
    response = as_user(owner).get(url("dashboards:home"))
    html = response.content.decode()
    assert response.context["d"].cycle == cycles["quarter"]
    assert "Quarter company objective" in html and "Year company objective" not in html
    assert "A team's objective" not in html  # company level only
    assert 'id="home-cycle"' in html
    assert f'<option value="{cycles["quarter"].pk}" selected>The quarter</option>' in html
    assert f'<option value="{cycles["year"].pk}">The year</option>' in html


def test_another_cycle_is_shown_when_asked_and_the_csv_follows(org, owner, as_user, cycles):
    client = as_user(owner)
    year = cycles["year"]
    html = client.get(url("dashboards:home") + f"?cycle={year.pk}").content.decode()
    assert "Year company objective" in html and "Quarter company objective" not in html
    assert f'<option value="{year.pk}" selected>The year</option>' in html
    assert f'dashboard.csv?cycle={year.pk}"' in html
    text = client.get(url("dashboards:home_csv") + f"?cycle={year.pk}").content.decode("utf-8-sig")
    assert "Year company objective" in text and "Quarter company objective" not in text


@pytest.mark.parametrize("requested", ["999999", "abc", "", "-1", "١"])
def test_an_unknown_or_foreign_cycle_falls_back_to_the_default(org, owner, as_user, cycles,
                                                               requested):
    other = OrganizationFactory(slug="other")
    foreign = CycleFactory(organization=other, name="Foreign")
    for value in (requested, str(foreign.pk)):
        response = as_user(owner).get(url("dashboards:home") + f"?cycle={value}")
        assert response.status_code == 200
        assert response.context["d"].cycle == cycles["quarter"]
        assert "Foreign" not in response.content.decode()


def test_a_quarter_closed_early_stays_the_default(org, owner, as_user, cycles):
    quarter = cycles["quarter"]
    Cycle.objects.filter(pk=quarter.pk).update(state=Cycle.State.CLOSED,
                                               closed_at=timezone.now())
    html = as_user(owner).get(url("dashboards:home")).content.decode()
    assert f'<option value="{quarter.pk}" selected>The quarter (closed)</option>' in html


def test_a_check_in_shows_on_the_next_request(org, owner, member, as_user, cycles):
    """No figure is kept between requests: the stored figures move with the write."""
    objective = cycles["quarter"].objectives.get(title="Quarter company objective")
    kr = KeyResultFactory(objective=objective, owner=member, start_value=0, target_value=100,
                          current_value=0)
    client = as_user(owner)
    before = client.get(url("dashboards:home")).context["d"].company_rows[0]
    assert before.pct == 0
    checkin_create(key_result=kr, author=member, status="on_track", value=40)
    after = client.get(url("dashboards:home")).context["d"].company_rows[0]
    assert after.pct == 40
    assert after.status == "on_track"
