"""In the browser (issue 14, defect 12): an admin changes a member's role only after
confirming it and undoes it; revokes an invitation and copies a new link for another; an
admin deletes a pillar after reading what happens to its objectives. Screenshots at 1280
and 390 px go to /tmp/journeys/ when that directory exists."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from accounts import services as account_services
from accounts.models import Invitation, Membership, Role
from goals.models import StrategicPillar
from okrs.models import Objective
from tests.factories import (
    CycleFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PillarFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/journeys")
PHONE = {"width": 390, "height": 844}


def _shot(w, name: str) -> None:
    if SHOTS.is_dir():
        w.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def acme():
    org = OrganizationFactory(name="Acme", slug="acme")
    owner = UserFactory(name="Olive Owner", email="olive@example.com")
    MembershipFactory(user=owner, organization=org, role=Role.OWNER)
    mia = UserFactory(name="Mia Member", email="mia@example.com")
    MembershipFactory(user=mia, organization=org, role=Role.MEMBER)
    return {"org": org, "owner": owner, "mia": mia}


def test_role_change_asks_first_and_can_be_undone(open_page, acme):
    w = open_page()
    w.enter_as(acme["owner"])
    w.goto("/o/acme/settings/members/")
    ms = Membership.objects.get(user=acme["mia"])
    select = w.page.locator(f"#role-{ms.pk}")
    select.select_option(Role.LEADER)
    w.page.wait_for_timeout(300)
    ms.refresh_from_db()
    assert ms.role == Role.MEMBER  # choosing is not changing
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    w.page.once("dialog", dismiss)
    w.page.locator(f"form.role-form:has(#role-{ms.pk}) button[type=submit]").click()
    w.page.wait_for_timeout(300)
    assert asked == ["Change the role of Mia Member from “Member” to “Leader”?"]
    ms.refresh_from_db()
    assert ms.role == Role.MEMBER  # "Cancel" changes nothing

    w.page.once("dialog", lambda dialog: dialog.accept())
    with w.page.expect_navigation():
        w.page.locator(f"form.role-form:has(#role-{ms.pk}) button[type=submit]").click()
    w.assert_clean()
    ms.refresh_from_db()
    assert ms.role == Role.LEADER
    main = w.page.inner_text("main")
    assert "Mia Member is now leader." in w.page.inner_text("body")
    assert "Changed by mistake? Mia Member was member." in main
    _shot(w, "members-undo-1280")
    with w.page.expect_navigation():
        w.page.click("text=Undo: make Mia Member member again")
    w.assert_clean()
    ms.refresh_from_db()
    assert ms.role == Role.MEMBER
    assert "Undone: Mia Member is member again." in w.page.inner_text("body")
    assert "Undo:" not in w.page.inner_text("main")


def test_invitations_revoked_and_a_new_link_copied(open_page, acme, client):
    late, _ = account_services.invitation_create(
        organization=acme["org"], email="late@example.com", role=Role.MEMBER,
        invited_by=acme["owner"])
    gone, _ = account_services.invitation_create(
        organization=acme["org"], email="gone@example.com", role=Role.VIEWER,
        invited_by=acme["owner"])
    w = open_page()
    w.page.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                     origin=w.base)
    w.enter_as(acme["owner"])
    w.goto("/o/acme/settings/members/")
    row = w.page.locator(f"#invitation-{late.pk}")
    with w.page.expect_navigation():
        row.get_by_role("button", name="New link to copy").click()
    w.assert_clean()
    assert "copy it now, it is shown only once" in w.page.inner_text("body")
    field = w.page.locator(f"#link-{late.pk}")
    link = field.input_value()
    assert "/accounts/invitation/" in link
    w.page.locator(f"#invitation-{late.pk}").get_by_role("button", name="Copy link").click()
    # (not wait_for_function: it evaluates a string, which the CSP's script-src refuses)
    w.page.locator(f"#invitation-{late.pk} [data-copy]", has_text="Copied").wait_for()
    assert w.page.evaluate("navigator.clipboard.readText()") == link
    _shot(w, "members-invitations-1280")

    w.page.once("dialog", lambda dialog: dialog.accept())
    with w.page.expect_navigation():
        w.page.locator(f"#invitation-{gone.pk}").get_by_role("button", name="Revoke").click()
    w.assert_clean()
    assert "Invitation for gone@example.com revoked" in w.page.inner_text("body")
    assert w.page.locator(f"#invitation-{gone.pk}").count() == 0
    assert Invitation.objects.get(pk=gone.pk).revoked_at is not None
    # The copied link works for the invitee.
    invitee = open_page()  # the link names SITE_URL: its path, on the test's server
    invitee.goto(urlparse(link).path)
    assert "Join Acme" in invitee.page.inner_text("main")

    phone = open_page(viewport=PHONE)
    phone.enter_as(acme["owner"])
    phone.goto("/o/acme/settings/members/")
    _shot(phone, "members-390")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_delete_a_pillar_after_reading_what_happens(open_page, acme):
    org = acme["org"]
    quarter = CycleFactory(organization=org, name="This quarter")
    growth = PillarFactory(organization=org, name="Growth")
    PillarFactory(organization=org, name="People")
    objective = ObjectiveFactory(organization=org, cycle=quarter, pillar=growth,
                                 title="Win the mid-market")
    w = open_page()
    w.enter_as(acme["owner"])
    w.goto("/o/acme/strategy/goal/pillars/")
    _shot(w, "pillars-1280")
    w.page.locator("tr", has_text="Growth").get_by_role("link", name="Delete").click()
    w.page.wait_for_url(f"**/pillars/{growth.pk}/delete/")
    w.assert_clean()
    text = w.page.inner_text("main")
    assert "1 objective is aligned to this pillar (1 in open cycles)." in text
    assert "It stays, with its key results and check-ins, but without a pillar" in text
    _shot(w, "pillar-delete-1280")
    with w.page.expect_navigation():
        w.page.get_by_role("button", name="Delete pillar").click()
    w.assert_clean()
    assert "Pillar “Growth” deleted." in w.page.inner_text("body")
    assert "Growth" not in w.page.inner_text("main table")
    assert not StrategicPillar.objects.filter(pk=growth.pk).exists()
    objective = Objective.objects.get(pk=objective.pk)
    assert objective.pillar_id is None

    phone = open_page(viewport=PHONE)
    phone.enter_as(acme["owner"])
    phone.goto("/o/acme/strategy/goal/pillars/")
    _shot(phone, "pillars-390")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
