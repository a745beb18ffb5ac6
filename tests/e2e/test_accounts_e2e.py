"""In the browser: sign up and create an organisation; invite a member who accepts."""

from __future__ import annotations

import re

import pytest

from accounts.models import Membership, Organization, Role
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_sign_up_and_create_an_organisation(open_page):
    w = open_page()
    w.goto("/")
    assert w.path().startswith("/accounts/login/")
    w.goto("/accounts/signup/")
    w.page.fill("#id_name", "Nora New")
    w.page.fill("#id_email", "nora@example.com")
    w.page.fill("#id_password", "a-long-pass-phrase-9")
    w.page.fill("#id_org_name", "Initech Labs")
    w.page.click("button[type=submit]")
    w.page.wait_for_url(re.compile(r"/o/initech-labs/$"))
    w.assert_clean()
    assert "Initech Labs" in w.page.inner_text(".org-name")
    org = Organization.objects.get(slug="initech-labs")
    assert Membership.objects.get(organization=org).role == Role.OWNER
    for path in ("/o/initech-labs/settings/members/", "/o/initech-labs/teams/",
                 "/o/initech-labs/settings/"):
        w.goto(path)
        assert w.page.locator("h1").count() >= 1
    # a second organisation from the switcher
    w.goto("/accounts/new-organisation/")
    w.page.fill("#id_name", "Side Project")
    w.page.click("button[type=submit]")
    w.page.wait_for_url(re.compile(r"/o/side-project/$"))
    w.assert_clean()


def test_sign_up_errors_show_on_the_page(open_page):
    w = open_page()
    w.goto("/accounts/signup/")
    w.page.fill("#id_name", "X")
    w.page.fill("#id_email", "not-an-email")
    w.page.fill("#id_password", "123")
    w.page.fill("#id_org_name", "Y")
    w.page.click("button[type=submit]")
    w.page.wait_for_load_state("load")
    assert w.path().startswith("/accounts/signup/")
    assert w.page.locator(".errorlist").count() >= 2
    assert not Organization.objects.filter(name="Y").exists()
    w.assert_clean()


def test_invite_a_member_who_accepts(open_page, outbox):
    org = OrganizationFactory(name="Acme", slug="acme")
    owner = UserFactory(name="Olive Owner", email="olive@example.com")
    MembershipFactory(user=owner, organization=org, role=Role.OWNER)

    admin = open_page()
    admin.login(owner.email, PASSWORD)
    admin.goto("/o/acme/settings/members/")
    admin.page.fill("#id_email", "mark@example.com")
    admin.page.select_option("#id_role", Role.MEMBER)
    admin.page.click("text=Send invitation")
    admin.page.wait_for_url(re.compile(r"/settings/members/$"))
    admin.assert_clean()
    assert "mark@example.com" in admin.page.inner_text("body")
    [message] = outbox
    link = re.search(r"https?://\S+/accounts/invitation/\S+/", message.body).group(0)
    path = re.sub(r"^https?://[^/]+", "", link)

    invitee = open_page()
    invitee.goto(path)
    assert "Join Acme" in invitee.page.inner_text("h1")
    invitee.page.fill("#id_name", "Mark Member")
    invitee.page.fill("#id_password", "a-long-pass-phrase-9")
    invitee.page.click("text=Create account and join")
    invitee.page.wait_for_url(re.compile(r"/o/acme/$"))
    invitee.assert_clean()
    membership = Membership.objects.get(organization=org, user__email="mark@example.com")
    assert membership.role == Role.MEMBER
    # the link works once
    invitee.page.goto(invitee.base + path)
    assert invitee.page.locator("h1").count() == 1
    assert "Join Acme" not in invitee.page.inner_text("body")
    # the owner now sees the new member
    admin.goto("/o/acme/settings/members/")
    assert "Mark Member" in admin.page.inner_text("table")
