"""End to end, in headless Chromium: a member updates three key results on the team
check-in page without a reload; each row swaps in place with its new progress."""

from __future__ import annotations

import os
import threading

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import Role
from okrs.models import CheckIn, KeyResult
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)

CHROMIUM = "/usr/bin/chromium"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def run_in_browser(drive) -> dict:
    """Run `drive(context, out)` with its own Playwright in a fresh thread.

    A thread of its own: the tests/e2e suite keeps a session-wide Playwright (and so an
    asyncio loop) open in the main thread, and the sync API refuses to start inside it.
    """
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    out: dict = {}

    def target():
        try:
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM,
                                            args=["--no-sandbox", "--disable-gpu"])
                try:
                    drive(browser.new_context(viewport={"width": 390, "height": 844}), out)
                finally:
                    browser.close()
        except BaseException as exc:  # reported in the test's thread
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the browser run did not finish in time"
    if "error" in out:
        raise out["error"]
    return out


def test_member_checks_in_three_krs_without_a_reload(live_server):
    org = OrganizationFactory(slug="e2e")
    user = UserFactory()
    MembershipFactory(user=user, organization=org, role=Role.MEMBER)
    team = TeamFactory(organization=org, slug="support")
    team.members.add(user)
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org),
                                 team=team)
    krs = [KeyResultFactory(objective=objective, start_value=0, target_value=100,
                            current_value=10, owner=user) for _ in range(3)]
    ids = [kr.pk for kr in krs]
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    url = f"{live_server.url}/o/{org.slug}/teams/{team.slug}/check-in/"

    def drive(context, out):
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session,
                              "url": live_server.url}])
        page = context.new_page()
        page.goto(url)
        page.evaluate("window.__noReload = 'still here'")
        out["pct"] = []
        for i, pk in enumerate(ids):
            row = page.locator(f"#kr-row-{pk}")
            row.locator(f"input[name=kr{pk}-value]").fill(str(40 + 10 * i))
            row.locator(f"select[name=kr{pk}-status]").select_option("needs_attention")
            row.locator("button[type=submit]").click()
            page.locator(f"#kr-row-{pk}.ci-row--saved").wait_for(timeout=10_000)
            out["pct"].append(page.locator(f"#kr-row-{pk} .pct").inner_text())
        # A bad value is refused in the row, the typed text kept.
        first = page.locator(f"#kr-row-{ids[0]}")
        first.locator(f"input[name=kr{ids[0]}-value]").fill("lots")
        first.locator("button[type=submit]").click()
        page.locator(f"#kr-row-{ids[0]}.ci-row--error").wait_for(timeout=10_000)
        out["error_row"] = page.locator(f"#kr-row-{ids[0]}").inner_text()
        out["kept"] = page.locator(f"input[name=kr{ids[0]}-value]").input_value()
        page.wait_for_function("document.querySelector('#ci-summary').innerText"
                               ".includes('3 of 3')", timeout=10_000)
        out["still_here"] = page.evaluate("window.__noReload")

    out = run_in_browser(drive)
    assert out["pct"] == ["40%", "50%", "60%"]
    assert "is not a number" in out["error_row"] and out["kept"] == "lots"
    assert out["still_here"] == "still here"
    assert CheckIn.objects.filter(key_result__in=krs).count() == 3
    assert sorted(KeyResult.objects.filter(pk__in=ids)
                  .values_list("current_value", flat=True)) == [40, 50, 60]
