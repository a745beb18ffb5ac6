"""Journeys in the browser (issue 14), as people of each role see them: sign-up → an
organisation → an invitation accepted; a member's weekly check-in with bad input, then good;
a viewer and a member refused with a clear page; a new organisation's owner in the scoped
admin; the check-in page and the dashboard on a 390 px phone."""

from __future__ import annotations

import re

import pytest

from accounts.models import Membership, Organization, Role
from okrs.models import CheckIn
from tests.conftest import make_world
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
REFUSED = "You do not have access to this"


def _sign_up(w, *, name: str, email: str, org: str) -> None:
    w.goto("/accounts/signup/")
    w.page.fill("#id_name", name)
    w.page.fill("#id_email", email)
    w.page.fill("#id_password", "a-long-pass-phrase-9")
    w.page.fill("#id_org_name", org)
    w.page.click("button[type=submit]")
    w.page.wait_for_url(re.compile(r"/o/[\w-]+/$"))
    w.assert_clean()


def _refused(w, path: str) -> str:
    """Open a page the user may not use: a 403 document with our words. (Chromium logs the
    403 of the document itself as a console error: that one line is expected.)"""
    response = w.page.goto(w.base + path)
    w.page.wait_for_load_state("load")
    w.problems[:] = [p for p in w.problems if "status of 403" not in p]
    w.assert_clean()
    assert response.status == 403, path
    return w.page.inner_text("main")


def test_sign_up_create_an_organisation_and_an_invitation_is_accepted(open_page, outbox):
    owner = open_page()
    _sign_up(owner, name="Nora New", email="nora@example.com", org="Initech Labs")
    assert "Initech Labs" in owner.page.inner_text(".org-name")
    owner.goto("/o/initech-labs/settings/members/")
    owner.page.fill("#id_email", "milo@example.com")
    owner.page.select_option("#id_role", Role.MEMBER)
    owner.page.click("text=Send invitation")
    owner.page.wait_for_url(re.compile(r"/settings/members/$"))
    owner.assert_clean()
    assert "milo@example.com" in owner.page.inner_text("main")
    [message] = outbox
    assert message.to == ["milo@example.com"]
    link = re.search(r"https?://\S+/accounts/invitation/\S+/", message.body).group(0)

    invitee = open_page()
    invitee.goto(re.sub(r"^https?://[^/]+", "", link))
    assert "Join Initech Labs" in invitee.page.inner_text("h1")
    invitee.page.fill("#id_name", "Milo Member")
    invitee.page.fill("#id_password", "another-long-pass-7")
    invitee.page.click("text=Create account and join")
    invitee.page.wait_for_url(re.compile(r"/o/initech-labs/$"))
    invitee.assert_clean()
    assert "Initech Labs" in invitee.page.inner_text(".org-name")
    org = Organization.objects.get(slug="initech-labs")
    assert Membership.objects.get(organization=org, user__email="milo@example.com").role \
        == Role.MEMBER
    owner.goto("/o/initech-labs/settings/members/")
    assert "Milo Member" in owner.page.inner_text("table")


def test_member_checks_in_with_bad_input_then_good(open_page):
    org = OrganizationFactory(name="Acme", slug="acme")
    member = UserFactory(name="Mark Member")
    MembershipFactory(user=member, organization=org, role=Role.MEMBER)
    teammate = UserFactory(name="Tess Teammate")
    MembershipFactory(user=teammate, organization=org, role=Role.MEMBER)
    team = TeamFactory(organization=org, name="Support", slug="support")
    team.members.add(member, teammate)
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org),
                                 team=team)
    kr = KeyResultFactory(objective=objective, start_value=0, target_value=200,
                          current_value=20, owner=teammate, title="Tickets closed")
    w = open_page()
    w.enter_as(member)
    w.goto("/o/acme/check-ins/mine/")
    w.page.click("text=Support check-in")
    w.page.wait_for_url("**/teams/support/check-in/")
    w.assert_clean()
    row = w.page.locator(f"#kr-row-{kr.pk}")  # a teammate's KR: theirs or their team's
    value = row.locator(f"input[name=kr{kr.pk}-value]")
    value.fill("-1e400")
    row.get_by_role("button", name="Check in", exact=True).click()  # not "No change"
    w.page.locator(f"#kr-row-{kr.pk}.ci-row--error").wait_for()
    row = w.page.locator(f"#kr-row-{kr.pk}")
    assert row.locator(".errorlist").first.inner_text().strip()  # the message in place
    assert row.locator(f"input[name=kr{kr.pk}-value]").input_value() == "-1e400"  # kept
    assert not CheckIn.objects.filter(key_result=kr).exists()
    w.assert_clean()

    row.locator(f"input[name=kr{kr.pk}-value]").fill("50")
    row.locator(f"select[name=kr{kr.pk}-status]").select_option("on_track")
    row.locator(f"input[name=kr{kr.pk}-comment]").fill("Macros help")
    row.get_by_role("button", name="Check in", exact=True).click()  # not "No change"
    w.page.locator(f"#kr-row-{kr.pk}.ci-row--saved").wait_for()
    assert w.page.locator(f"#kr-row-{kr.pk} .pct").inner_text() == "25%"
    # (not wait_for_function: it evaluates a string, which the CSP's script-src refuses)
    w.page.locator("#ci-summary", has_text="1 of 1").wait_for()
    w.assert_clean()
    checkin = CheckIn.objects.get(key_result=kr)
    assert (checkin.value, checkin.author, checkin.comment) == (50, member, "Macros help")


def test_a_viewer_and_a_member_are_refused_with_a_clear_message(open_page):
    world = make_world()
    viewer, member = world["users"][Role.VIEWER], world["users"][Role.MEMBER]
    w = open_page()
    w.enter_as(viewer)
    w.goto(f"/o/acme/okrs/{world['objective']}/")
    assert w.page.locator(f"a[href$='/okrs/{world['objective']}/edit/']").count() == 0
    text = _refused(w, f"/o/acme/okrs/{world['objective']}/edit/")
    assert REFUSED in text and "Ask an admin" in text

    m = open_page()
    m.enter_as(member)
    text = _refused(m, f"/o/acme/kpis/{world['kpi']}/edit/")
    assert REFUSED in text and "Ask an admin" in text
    text = _refused(m, "/o/acme/strategy/goal/edit/")
    assert REFUSED in text


def test_a_new_organisations_owner_uses_the_scoped_admin(open_page):
    other = OrganizationFactory(name="Globex", slug="globex")
    TeamFactory(organization=other, name="Globex secret team")
    w = open_page()
    _sign_up(w, name="Nora New", email="nora@example.com", org="Initech Labs")
    org = Organization.objects.get(slug="initech-labs")
    TeamFactory(organization=org, name="Initech support")
    w.goto("/o/initech-labs/")
    w.page.click("text=Admin site")
    w.page.wait_for_url("**/admin/")
    w.assert_clean()
    assert "not authorized" not in w.page.inner_text("body").lower()
    w.goto("/admin/accounts/team/")
    teams = w.page.inner_text("#result_list")
    assert "Initech support" in teams and "Globex secret team" not in teams
    w.goto("/admin/accounts/organization/")
    orgs = w.page.inner_text("#result_list")
    assert "Initech Labs" in orgs and "Globex" not in orgs


@pytest.mark.parametrize("path", ["/o/acme/teams/support/check-in/", "/o/acme/"])
def test_phone_width_has_no_horizontal_overflow(open_page, path):
    world = make_world()
    w = open_page(viewport=PHONE)
    w.enter_as(world["users"][Role.OWNER])
    w.goto(path)
    assert w.page.locator("h1").count() >= 1
    width = w.page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{path}: the page is {width[0]} px wide on a 390 px screen"
