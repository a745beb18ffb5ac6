"""End to end, in headless Chromium: a member updates three key results on the team
check-in page without a reload; each row swaps in place with its new progress."""

from __future__ import annotations

import os
import shutil

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


@pytest.fixture
def browser_page(monkeypatch):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip("needs /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 390, "height": 844})
        try:
            yield context
        finally:
            context.close()
            browser.close()


def test_member_checks_in_three_krs_without_a_reload(live_server, browser_page):
    org = OrganizationFactory(slug="e2e")
    user = UserFactory()
    MembershipFactory(user=user, organization=org, role=Role.MEMBER)
    team = TeamFactory(organization=org, slug="support")
    team.members.add(user)
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org),
                                 team=team)
    krs = [KeyResultFactory(objective=objective, start_value=0, target_value=100,
                            current_value=10, owner=user) for _ in range(3)]

    client = Client()
    client.force_login(user)
    browser_page.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": live_server.url}])
    page = browser_page.new_page()
    page.goto(f"{live_server.url}/o/{org.slug}/teams/{team.slug}/check-in/")
    page.evaluate("window.__noReload = 'still here'")

    for i, kr in enumerate(krs):
        row = page.locator(f"#kr-row-{kr.pk}")
        row.locator(f"input[name=kr{kr.pk}-value]").fill(str(40 + 10 * i))
        row.locator(f"select[name=kr{kr.pk}-status]").select_option("needs_attention")
        row.locator("button[type=submit]").click()
        page.locator(f"#kr-row-{kr.pk}.ci-row--saved").wait_for(timeout=10_000)
        assert f"{40 + 10 * i}%" in page.locator(f"#kr-row-{kr.pk} .pct").inner_text()

    # A bad value is refused in the row, the typed text kept.
    first = page.locator(f"#kr-row-{krs[0].pk}")
    first.locator(f"input[name=kr{krs[0].pk}-value]").fill("lots")
    first.locator("button[type=submit]").click()
    page.locator(f"#kr-row-{krs[0].pk}.ci-row--error").wait_for(timeout=10_000)
    assert "is not a number" in page.locator(f"#kr-row-{krs[0].pk}").inner_text()
    assert page.locator(f"input[name=kr{krs[0].pk}-value]").input_value() == "lots"

    page.wait_for_function("document.querySelector('#ci-summary').innerText"
                           ".includes('3 of 3')", timeout=10_000)
    assert page.evaluate("window.__noReload") == "still here"
    assert CheckIn.objects.filter(key_result__in=krs).count() == 3
    assert sorted(KeyResult.objects.filter(pk__in=[k.pk for k in krs])
                  .values_list("current_value", flat=True)) == [40, 50, 60]
