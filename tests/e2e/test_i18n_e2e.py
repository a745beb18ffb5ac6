"""In the browser: a person picks Deutsch on the settings page and the interface reads German."""

from __future__ import annotations

import re

import pytest

from accounts.models import Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.e2e
SHOTS = "/tmp/i18n/shots"


def test_pick_deutsch_on_the_settings_page(open_page):
    org = OrganizationFactory(name="Acme", slug="acme")
    user = UserFactory(name="Pat Person")
    MembershipFactory(user=user, organization=org, role=Role.MEMBER)
    w = open_page()
    w.enter_as(user)
    w.goto("/o/acme/settings/")
    nav = w.page.locator("nav.nav, nav[aria-label]").first
    assert "Settings" in nav.inner_text()
    # Untouched, the form saves nothing new.
    w.page.click("text=Save language")
    w.page.wait_for_url(re.compile(r"/o/acme/settings/$"))
    user.refresh_from_db()
    assert user.language == ""
    w.page.select_option("#id_me-language", label="Deutsch")
    w.page.click("text=Save language")
    w.page.wait_for_url(re.compile(r"/o/acme/settings/$"))
    w.assert_clean()
    user.refresh_from_db()
    assert user.language == "de"
    assert w.page.locator("html").get_attribute("lang") == "de"
    text = w.page.locator("nav").first.inner_text()
    for word in ("Übersicht", "Einstellungen", "Wartet auf Sie"):
        assert word in text
    assert "Sprache gespeichert." in w.page.inner_text(".messages")
    assert w.page.locator("h1").inner_text() == "Einstellungen"
    assert w.page.input_value("#id_me-language") == "de"
    w.page.screenshot(path=f"{SHOTS}/settings-de-1280.png", full_page=True)
    # The dashboard's navigation too, and the phone width.
    w.goto("/o/acme/")
    assert "Abmelden" in w.page.inner_text(".sidebar-foot")
    phone = open_page(viewport={"width": 390, "height": 844})
    phone.enter_as(user)
    phone.goto("/o/acme/settings/")
    assert phone.page.locator("h1").inner_text() == "Einstellungen"
    phone.page.screenshot(path=f"{SHOTS}/settings-de-390.png", full_page=True)
