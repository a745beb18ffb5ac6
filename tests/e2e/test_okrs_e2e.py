"""In the browser: a leader writes an objective with key results, then checks in from
the team's check-in page without a reload."""

from __future__ import annotations

import re

import pytest

from accounts.models import Role
from okrs.models import CheckIn, KeyResult, Objective
from tests.factories import (
    CycleFactory,
    MembershipFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def acme():
    org = OrganizationFactory(name="Acme", slug="acme")
    leader = UserFactory(name="Lena Leader", email="lena@example.com")
    MembershipFactory(user=leader, organization=org, role=Role.LEADER)
    team = TeamFactory(organization=org, name="Customer Support", slug="support")
    team.members.add(leader)
    cycle = CycleFactory(organization=org, name="This quarter")
    return {"org": org, "leader": leader, "team": team, "cycle": cycle}


def test_write_an_objective_and_check_in_without_reload(open_page, acme):
    w = open_page()
    w.enter_as(acme["leader"])
    w.goto("/o/acme/okrs/new/")
    w.page.fill("#id_title", "Delight our customers")
    w.page.select_option("#id_team", str(acme["team"].pk))
    w.page.fill("#id_kr-0-title", "Reply time down to 30 min")
    w.page.select_option("#id_kr-0-kind", KeyResult.Kind.METRIC)
    w.page.fill("#id_kr-0-start_value", "52")
    w.page.fill("#id_kr-0-target_value", "30")
    w.page.fill("#id_kr-1-title", "Launch the help centre")
    w.page.select_option("#id_kr-1-kind", KeyResult.Kind.MILESTONE)
    w.page.locator("form button[type=submit]").last.click()
    w.page.wait_for_url(re.compile(r"/o/acme/okrs/\d+/$"))
    w.assert_clean()
    objective = Objective.objects.get(title="Delight our customers")
    krs = list(objective.key_results.order_by("order", "pk"))
    assert [k.title for k in krs] == ["Reply time down to 30 min", "Launch the help centre"]
    assert "Reply time down to 30 min" in w.page.inner_text("main")
    w.goto("/o/acme/okrs/")
    assert "Delight our customers" in w.page.inner_text("main")

    # The team's weekly check-in page: check in on the metric KR in place.
    kr = krs[0]
    w.goto("/o/acme/teams/support/")  # the team page leads to its weekly check-in
    w.page.click("text=Weekly check-in")
    w.page.wait_for_url("**/teams/support/check-in/")
    w.assert_clean()
    w.page.evaluate("window.__notReloaded = true")
    row = w.page.locator(f"#kr-row-{kr.pk}")
    row.locator("input[name$='-value']").fill("44")
    row.locator("select[name$='-status']").select_option("on_track")
    row.locator("input[name$='-comment']").fill("New macros help")
    row.get_by_role("button", name="Check in", exact=True).click()  # not "No change"
    w.page.locator(f"#kr-row-{kr.pk}.ci-row--saved").wait_for()
    assert w.page.evaluate("window.__notReloaded === true"), "the page was reloaded"
    assert w.path() == "/o/acme/teams/support/check-in/"
    assert "44" in w.page.locator(f"#kr-row-{kr.pk} .ci-value").inner_text()
    w.assert_clean()
    checkin = CheckIn.objects.get(key_result=kr)
    assert (checkin.value, checkin.status, checkin.author) == (44.0, "on_track", acme["leader"])

    # A bad value stays in the row with a message; nothing stored, still no reload.
    row = w.page.locator(f"#kr-row-{kr.pk}")
    row.locator("input[name$='-value']").fill("lots")
    row.locator("select[name$='-status']").select_option("on_track")
    row.get_by_role("button", name="Check in", exact=True).click()  # not "No change"
    w.page.locator(f"#kr-row-{kr.pk}.ci-row--error").wait_for()
    assert w.page.evaluate("window.__notReloaded === true")
    assert CheckIn.objects.filter(key_result=kr).count() == 1
    w.assert_clean()

    # The KR's history page with its chart draws without console or CSP errors.
    w.goto(f"/o/acme/check-ins/kr/{kr.pk}/")
    assert "New macros help" in w.page.inner_text("main")
