"""Journeys in the browser (issue 14): a new owner sets up goal and pillars and reads the
strategy map; a leader writes an objective with a metric, a milestone and a guardrail KR
aligned under a company objective and a pillar and sees the roll-up; an admin closes a
quarter early and carries an objective over, and the check-in page says the quarter is
closed instead of "Nothing to check in". What the person sees is asserted on the page."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from accounts.models import Role
from goals.models import Cycle, StrategicPillar, UltimateGoal
from okrs.models import KeyResult, Objective
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PillarFactory,
    TeamFactory,
    UltimateGoalFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def acme():
    org = OrganizationFactory(name="Acme", slug="acme")
    owner = UserFactory(name="Olive Owner", email="olive@example.com")
    MembershipFactory(user=owner, organization=org, role=Role.OWNER)
    leader = UserFactory(name="Lena Leader", email="lena@example.com")
    MembershipFactory(user=leader, organization=org, role=Role.LEADER)
    team = TeamFactory(organization=org, name="Customer Support", slug="support")
    team.members.add(leader)
    quarter = CycleFactory(organization=org, name="This quarter")
    return {"org": org, "owner": owner, "leader": leader, "team": team, "quarter": quarter}


def test_goal_pillars_and_the_strategy_map(open_page, acme):
    w = open_page()
    w.enter_as(acme["owner"])
    w.goto("/o/acme/strategy/goal/")
    assert "No ultimate goal yet" in w.page.inner_text("main")
    w.page.click("text=Write the goal")
    w.page.wait_for_url("**/strategy/goal/edit/")
    w.page.fill("#id_title", "The most loved support in Europe")
    w.page.fill("#id_mission", "Every customer helped the first time")
    w.page.locator("main form button[type=submit]").click()
    w.page.wait_for_load_state("load")
    w.assert_clean()
    assert UltimateGoal.objects.filter(organization=acme["org"], is_active=True).count() == 1

    w.goto("/o/acme/strategy/goal/pillars/")
    for name in ("Customer delight", "Operational excellence"):
        w.page.fill("#id_name", name)
        w.page.click("text=Add pillar")
        w.page.wait_for_load_state("load")
        w.assert_clean()
    pillars = list(StrategicPillar.objects.filter(organization=acme["org"]).order_by("order", "pk"))
    assert [p.name for p in pillars] == ["Customer delight", "Operational excellence"]
    page_text = w.page.inner_text("main")
    assert "Customer delight" in page_text and "#0" not in page_text  # numbered from 1

    # An objective under the first pillar, then the goal page and the map show it.
    objective = ObjectiveFactory(organization=acme["org"], cycle=acme["quarter"],
                                 pillar=pillars[0], title="Answer within the hour")
    KeyResultFactory(objective=objective, start_value=0, target_value=10, current_value=5)
    w.goto("/o/acme/strategy/goal/")
    heading = w.page.inner_text("h1")
    assert heading == "The most loved support in Europe"
    card = w.page.locator("section.card", has_text="Customer delight")
    assert "1 objective" in card.inner_text() and "Answer within the hour" in card.inner_text()

    w.goto("/o/acme/strategy/")
    node = w.page.locator(f"#node-pillar-{pillars[0].pk}")
    assert "Answer within the hour" not in node.inner_text()  # children load when opened
    w.page.evaluate("window.__notReloaded = true")
    node.locator("summary").first.click()
    line = node.locator(f"#node-objective-{objective.pk}")
    line.wait_for()
    assert "Answer within the hour" in line.inner_text()
    assert w.page.evaluate("window.__notReloaded === true")
    assert line.locator(".pct").first.inner_text() == "50%"
    w.assert_clean()


def test_leader_writes_an_aligned_objective_with_three_kinds_and_sees_the_rollup(open_page,
                                                                                 acme):
    org, quarter = acme["org"], acme["quarter"]
    UltimateGoalFactory(organization=org)
    pillar = PillarFactory(organization=org, name="Customer delight")
    company = ObjectiveFactory(organization=org, cycle=quarter, pillar=pillar, team=None,
                               title="Customers love us", progress_from="children")
    w = open_page()
    w.enter_as(acme["leader"])
    w.goto("/o/acme/okrs/new/")
    w.page.fill("#id_title", "Support that delights")
    w.page.select_option("#id_team", str(acme["team"].pk))
    w.page.select_option("#id_pillar", str(pillar.pk))
    w.page.select_option("#id_parent", str(company.pk))
    # A metric (52 → 30, now 41), a milestone (done), a guardrail (at or above 85, now 88).
    w.page.fill("#id_kr-0-title", "Reply time down to 30 min")
    w.page.select_option("#id_kr-0-kind", KeyResult.Kind.METRIC)
    w.page.fill("#id_kr-0-start_value", "52")
    w.page.fill("#id_kr-0-target_value", "30")
    w.page.fill("#id_kr-0-current_value", "41")
    w.page.fill("#id_kr-1-title", "Launch the help centre")
    w.page.select_option("#id_kr-1-kind", KeyResult.Kind.MILESTONE)
    assert not w.page.locator("#id_kr-1-target_value").is_visible()  # only its kind's fields
    w.page.check("#id_kr-1-done")
    w.page.fill("#id_kr-2-title", "Keep CSAT at or above 85 %")
    w.page.select_option("#id_kr-2-kind", KeyResult.Kind.GUARDRAIL)
    assert w.page.locator("#id_kr-2-guard").is_visible()
    assert not w.page.locator("#id_kr-2-start_value").is_visible()
    w.page.select_option("#id_kr-2-guard", KeyResult.Guard.AT_LEAST)
    w.page.fill("#id_kr-2-target_value", "85")
    w.page.fill("#id_kr-2-current_value", "88")
    w.page.locator("form button[type=submit]", has_text="Create objective").click()
    w.page.wait_for_url(re.compile(r"/o/acme/okrs/\d+/$"))
    w.assert_clean()

    objective = Objective.objects.get(title="Support that delights")
    assert (objective.parent_id, objective.pillar_id) == (company.pk, pillar.pk)
    metric, milestone, guard = objective.key_results.order_by("order", "pk")
    assert (metric.kind, milestone.kind, guard.kind) == ("metric", "milestone", "guardrail")
    assert guard.guard == "at_least" and milestone.done
    main = w.page.inner_text("main")
    assert "Stay at or above" in main or "at or above 85" in main
    pct = int(re.search(r"(\d+) %", w.page.locator(".stat.num").first.inner_text()).group(1))
    assert 50 < pct < 100  # the metric half-way, the milestone and the guardrail held

    # The roll-up: the company objective (progress from aligned objectives) shows it.
    w.goto(f"/o/acme/okrs/{company.pk}/")
    assert f"{pct} %" in w.page.locator(".stat.num").first.inner_text()
    assert "Support that delights" in w.page.inner_text("main")
    w.goto("/o/acme/strategy/")
    node = w.page.locator(f"#node-pillar-{pillar.pk}")
    node.locator("summary").first.click()
    company_node = node.locator(f"#node-objective-{company.pk}")
    company_node.wait_for()
    assert f"{pct}%" in company_node.locator(".pct").first.inner_text()
    w.assert_clean()


def test_close_a_quarter_early_and_carry_over(open_page, acme):
    org, quarter, team = acme["org"], acme["quarter"], acme["team"]
    if quarter.end <= dt.date.today():
        pytest.skip("today is the quarter's last day: it cannot be closed early")
    next_start = quarter.end + dt.timedelta(days=1)
    following = CycleFactory(organization=org, name="Next quarter", start=next_start,
                             end=next_start + dt.timedelta(days=89))
    unfinished = ObjectiveFactory(organization=org, cycle=quarter, team=team,
                                  title="Halve the backlog")
    KeyResultFactory(objective=unfinished, start_value=100, target_value=50, current_value=80,
                     owner=acme["leader"])
    w = open_page()
    w.enter_as(acme["owner"])
    w.goto(f"/o/acme/okrs/cycles/{quarter.pk}/close/")
    assert "has not ended yet" in w.page.inner_text("#close-early")
    w.page.check("#id_confirm")
    w.page.locator("button", has_text="Close This quarter").click()
    w.page.wait_for_url(re.compile(r"/carry-over/$"))
    w.assert_clean()
    assert "Carry unfinished objectives over" in w.page.inner_text("h1")
    box = w.page.get_by_label("Halve the backlog")
    assert not box.is_checked()  # nothing ticked for you
    assert w.page.locator("#id_target option:checked").inner_text() == "Next quarter"
    box.check()
    w.page.locator("main form button[type=submit]", has_text="Carry over").click()
    w.page.wait_for_url(lambda u: "/carry-over/" not in u)
    w.assert_clean()
    quarter.refresh_from_db()
    assert quarter.state == Cycle.State.CLOSED
    copy = Objective.objects.get(cycle=following, title="Halve the backlog")
    w.goto(f"/o/acme/okrs/?cycle={following.pk}")
    assert "Halve the backlog" in w.page.inner_text("main")
    assert copy.key_results.get().current_value == 80

    # The dashboard still shows the closed quarter; the check-in page does not pretend
    # there is nothing to do: it says the quarter closed today and points to the next.
    w.goto("/o/acme/")
    assert "This quarter" in w.page.inner_text("main")
    w.enter_as(acme["leader"])
    w.goto("/o/acme/teams/support/check-in/")
    notice = w.page.inner_text("#ci-closed")
    assert "This quarter was closed on" in notice and "Next quarter" in notice
    assert "Nothing to check in" not in w.page.inner_text("main")
    w.page.locator("#ci-closed a", has_text="Next quarter").click()
    w.page.wait_for_load_state("load")
    assert "Halve the backlog" in w.page.inner_text("main")
    w.assert_clean()
