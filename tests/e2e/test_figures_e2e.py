"""In the browser (issue 16 and issue 14's cycle selector): the leader dashboard follows the
cycle picked in its selector; the OKR list's owner field suggests members as one types and
filters by the one picked. Screenshots at 1280 and 390 px into /tmp/figures/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from goals.models import Cycle
from tests.factories import (
    CycleFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    UltimateGoalFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/figures")


@pytest.fixture
def acme():
    org = OrganizationFactory(name="Acme", slug="acme")
    lena = UserFactory(name="Lena Leader", email="lena@example.com")
    MembershipFactory(user=lena, organization=org, role=Role.LEADER)
    zoe = UserFactory(name="Zoë Quist", email="zoe@example.com")
    MembershipFactory(user=zoe, organization=org, role=Role.MEMBER)
    today = timezone.localdate()
    year = CycleFactory(organization=org, name="The year", kind=Cycle.Kind.YEAR,
                        start=today - dt.timedelta(days=100), end=today + dt.timedelta(days=200))
    quarter = CycleFactory(organization=org, name="The quarter", parent=year,
                           start=today - dt.timedelta(days=30), end=today + dt.timedelta(days=40))
    UltimateGoalFactory(organization=org)
    ObjectiveFactory(organization=org, cycle=quarter, title="Quarter objective", owner=lena)
    ObjectiveFactory(organization=org, cycle=quarter, title="Zoë's objective", owner=zoe)
    ObjectiveFactory(organization=org, cycle=year, title="Year objective", owner=lena)
    return {"org": org, "lena": lena, "year": year, "quarter": quarter}


@pytest.mark.parametrize("width", [1280, 390])
def test_the_dashboard_follows_the_cycle_picked(open_page, acme, width):
    SHOTS.mkdir(exist_ok=True)
    w = open_page(viewport={"width": width, "height": 900})
    w.enter_as(acme["lena"])
    w.goto("/o/acme/")
    main = w.page.inner_text("main")
    assert "Quarter objective" in main and "Year objective" not in main
    w.page.screenshot(path=str(SHOTS / f"dashboard-{width}.png"), full_page=True)
    with w.page.expect_navigation():
        w.page.select_option("#home-cycle", str(acme["year"].pk))
    assert f"cycle={acme['year'].pk}" in w.page.url
    main = w.page.inner_text("main")
    assert "Year objective" in main and "Quarter objective" not in main
    assert w.page.eval_on_selector("#home-cycle", "s => s.selectedOptions[0].text") == "The year"
    overflow = w.page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow
    w.assert_clean()


def test_the_okr_list_owner_field_suggests_and_filters(open_page, acme):
    w = open_page()
    w.enter_as(acme["lena"])
    w.goto(f"/o/acme/okrs/?cycle={acme['quarter'].pk}")
    assert "Zoë's objective" in w.page.inner_text("main")
    w.page.click("#f-owner")
    w.page.keyboard.type("quis")
    expect(w.page.locator("#owner-options option")).to_have_count(1)
    assert w.page.eval_on_selector("#owner-options option", "o => o.value") == "zoe@example.com"
    w.page.fill("#f-owner", "zoe@example.com")
    w.page.press("#f-owner", "Enter")
    expect(w.page.locator("#okr-groups")).not_to_contain_text("Quarter objective")
    main = w.page.inner_text("main")
    assert "Zoë's objective" in main and "Quarter objective" not in main
    w.page.screenshot(path=str(SHOTS / "okr-list-owner-1280.png"), full_page=True)
    w.assert_clean()


@pytest.mark.parametrize("width", [1280, 390])
def test_goal_page_and_a_paged_team_group(open_page, acme, width):
    """The goal page lists each pillar's first objectives from the stored figures; on a long
    OKR list a team group opens with 50 objectives and "Show more" adds the rest in place."""
    from accounts.models import Team
    from goals.models import StrategicPillar
    from okrs.models import Objective

    org, quarter = acme["org"], acme["quarter"]
    pillar = StrategicPillar.objects.create(organization=org, name="Customers", order=0)
    for i in range(8):
        ObjectiveFactory(organization=org, cycle=quarter, title=f"Pillar objective {i}",
                         pillar=pillar, owner=acme["lena"])
    team = Team.objects.create(organization=org, name="Big team", slug="big")
    Objective.objects.bulk_create([Objective(organization=org, cycle=quarter, team=team,
                                             title=f"Team objective {i:02d}", order=i)
                                   for i in range(70)])
    SHOTS.mkdir(exist_ok=True)
    w = open_page(viewport={"width": width, "height": 900})
    w.enter_as(acme["lena"])
    w.goto(f"/o/acme/strategy/goal/?cycle={quarter.pk}")
    card = w.page.locator("section.card", has_text="Customers")
    expect(card).to_contain_text("8 objectives")
    expect(card.locator("li")).to_have_count(6)
    w.page.screenshot(path=str(SHOTS / f"goal-{width}.png"), full_page=True)
    assert w.page.evaluate("document.documentElement.scrollWidth") <= width

    w.goto(f"/o/acme/okrs/?cycle={quarter.pk}")
    group = w.page.locator("details", has_text="Big team")
    group.locator("summary").click()
    expect(group.locator("tbody tr")).to_have_count(50)
    group.get_by_role("button", name="Show more").click()
    expect(group.locator("tbody tr")).to_have_count(70)
    expect(group.get_by_role("button", name="Show more")).to_have_count(0)
    w.page.screenshot(path=str(SHOTS / f"okr-list-paged-{width}.png"), full_page=False)
    assert w.page.evaluate("document.documentElement.scrollWidth") <= width
