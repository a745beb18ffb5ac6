"""In the browser: an admin connects an OpenID provider (tests/sso_idp.py, a real one on
127.0.0.1), tests the connection and enforces SSO; a new person signs in through it and
lands in the right organisation, role and team; a member's password is then refused."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache

from accounts.models import AuditEntry, Membership, Role, SsoConfig, User
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)
from tests.sso_idp import Provider

pytestmark = pytest.mark.e2e


@pytest.fixture
def idp():
    provider = Provider().start()
    cache.clear()  # discovery and keys are cached by issuer
    yield provider
    provider.stop()


def test_admin_connects_the_provider_and_a_new_person_signs_in(open_page, idp):
    org = OrganizationFactory(name="Globex", slug="globex")
    admin = UserFactory(name="Ada Admin", email="ada@globex.test")
    MembershipFactory(user=admin, organization=org, role=Role.ADMIN)
    TeamFactory(organization=org, name="Sales", slug="sales")
    TeamFactory(organization=org, name="Support", slug="support")

    # The admin connects the provider.
    w = open_page()
    w.login("ada@globex.test", PASSWORD)
    w.goto("/o/globex/settings/sso/")
    assert "/accounts/sso/callback/" in w.page.inner_text("main")
    w.page.fill("#id_issuer", idp.issuer)
    w.page.fill("#id_client_id", idp.client_id)
    w.page.fill("#id_client_secret", idp.client_secret)
    w.page.fill("#id_domains", "globex.test")
    w.page.select_option("#id_default_role", Role.VIEWER)
    w.page.fill("#id_groups_claim", "groups")
    w.page.fill("#id_group_map", json.dumps({"okr-leads": {"role": "leader", "team": "sales"}}))
    assert w.page.is_checked("#id_enabled")
    w.page.click("form:has(input[value=save]) button[type=submit]")
    w.page.wait_for_url(re.compile(r"/o/globex/settings/sso/$"))
    w.assert_clean()
    assert "Single sign-on settings saved." in w.page.inner_text("body")
    # The secret is never shown back, not even in the field.
    assert w.page.input_value("#id_client_secret") == ""
    assert idp.client_secret not in w.page.content()

    w.page.click("form:has(input[value=test]) button[type=submit]")
    w.page.wait_for_load_state("load")
    w.assert_clean()
    steps = w.page.locator("ul.sso-steps li")
    assert steps.count() >= 2
    assert w.page.locator("ul.sso-steps li.bad").count() == 0
    text = w.page.inner_text("ul.sso-steps")
    assert "Discovery document found" in text and "1 signing key(s)" in text

    # Saved untouched, the form changes nothing (the empty secret keeps the stored one).
    config = SsoConfig.objects.get(organization=org)
    before = (config.issuer, config.client_id, config.client_secret_encrypted, config.domains,
              config.default_role, config.group_map, config.enabled, config.enforce)
    audits = AuditEntry.objects.filter(organization=org).count()
    w.page.click("form:has(input[value=save]) button[type=submit]")
    w.page.wait_for_url(re.compile(r"/o/globex/settings/sso/$"))
    config.refresh_from_db()
    assert (config.issuer, config.client_id, config.client_secret_encrypted, config.domains,
            config.default_role, config.group_map, config.enabled, config.enforce) == before
    assert AuditEntry.objects.filter(organization=org).count() == audits

    # Enforce it.
    w.page.check("#id_enforce")
    w.page.click("form:has(input[value=save]) button[type=submit]")
    w.page.wait_for_url(re.compile(r"/o/globex/settings/sso/$"))
    w.assert_clean()
    assert w.page.is_checked("#id_enforce")
    config.refresh_from_db()
    assert config.enforce and config.enabled

    # A new person, in a browser of their own, signs in through the provider.
    idp.user.update(sub="nia-1", email="nia@globex.test", name="Nia Globex",
                    groups=["okr-leads"])
    p = open_page()
    p.goto("/accounts/login/")
    p.page.click("text=Sign in with your organisation")
    p.page.wait_for_url(re.compile(r"/accounts/sso/"))
    p.page.fill("#id_who", "nia@globex.test")
    navigations: list[str] = []  # redirects included (framenavigated sees only the last)
    p.page.on("request", lambda r: navigations.append(r.url) if r.is_navigation_request()
              else None)
    p.page.click("button[type=submit]")
    p.page.wait_for_url(re.compile(r"/o/globex/$"))
    p.assert_clean()
    # It went through the provider (which approves at once) and back.
    assert any(url.startswith(idp.issuer + "/authorize?") for url in navigations), navigations
    assert any("/accounts/sso/callback/?code=" in url for url in navigations), navigations
    assert "Nia Globex" in p.page.inner_text(".who")
    assert "Globex" in p.page.inner_text(".org-name")
    assert p.page.inner_text(".role-chip").strip() == "Leader"
    user = User.objects.get(email="nia@globex.test")
    assert Membership.objects.get(user=user, organization=org).role == Role.LEADER
    # The team page lists them in Sales, not in Support.
    p.goto("/o/globex/teams/")
    sales = p.page.locator(".tile", has=p.page.locator("h3", has_text="Sales"))
    support = p.page.locator(".tile", has=p.page.locator("h3", has_text="Support"))
    assert sales.locator('.avatar[title="Nia Globex"]').count() == 1
    assert support.locator('.avatar[title="Nia Globex"]').count() == 0
    p.goto("/o/globex/teams/sales/")
    assert "Nia Globex" in p.page.inner_text(".member-list")

    # The admin sees the sign-in in the log.
    w.goto("/o/globex/settings/sso/")
    assert "nia@globex.test signed in (new account) as leader" in w.page.inner_text(".sso-log")


def test_enforced_sso_refuses_a_members_password_on_the_page(open_page, idp):
    org = OrganizationFactory(name="Globex", slug="globex")
    SsoConfig.objects.create(organization=org, issuer=idp.issuer, client_id=idp.client_id,
                             domains="globex.test", enforce=True, enabled=True)
    member = UserFactory(name="Milo Member", email="milo@globex.test")
    MembershipFactory(user=member, organization=org, role=Role.MEMBER)
    w = open_page()
    w.goto("/accounts/login/")
    w.page.fill("#id_username", "milo@globex.test")
    w.page.fill("#id_password", PASSWORD)
    w.page.click("button[type=submit]")
    w.page.wait_for_load_state("load")
    w.assert_clean()
    assert w.path().startswith("/accounts/login/")
    alert = w.page.inner_text(".form-errors")
    assert "Globex requires single sign-on" in alert
    assert "Sign in with your organisation" in alert
    # Not logged in: the organisation's pages still send them to the log-in page.
    w.goto("/o/globex/")
    assert w.path().startswith("/accounts/login/")


def test_members_page_under_enforced_sso(open_page):
    from django.utils import timezone

    org = OrganizationFactory(name="Globex", slug="globex")
    admin = UserFactory(name="Ada Admin", email="ada@globex.test")
    MembershipFactory(user=admin, organization=org, role=Role.ADMIN)
    gone = UserFactory(name="Sam Suspended", email="sam@globex.test")
    MembershipFactory(user=gone, organization=org, role=Role.MEMBER, suspended_at=timezone.now())
    SsoConfig.objects.create(organization=org, issuer="https://idp.globex.test",
                             client_id="headway", domains="globex.test", enforce=True)
    w = open_page()
    w.enter_as(admin)
    w.goto("/o/globex/settings/members/")
    sam = w.page.locator("tr", has_text="Sam Suspended")
    assert sam.locator(".member-suspended").inner_text() == "Suspended"
    assert w.page.locator("tr", has_text="Ada Admin").locator(".member-suspended").count() == 0
    assert "invitations are off" in w.page.inner_text(".invite-refused")
    assert w.page.locator("button", has_text="Send invitation").count() == 0
