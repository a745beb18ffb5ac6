"""In the browser, on a phone-sized screen: a member updates three key results on the team
check-in page without a reload; each row swaps in place with its new progress."""

from __future__ import annotations

import pytest

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

pytestmark = pytest.mark.e2e


def test_member_checks_in_three_krs_without_a_reload(open_page):
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
    w = open_page(viewport={"width": 390, "height": 844})
    w.enter_as(user)
    w.goto(f"/o/{org.slug}/teams/{team.slug}/check-in/")
    page = w.page
    page.evaluate("window.__noReload = 'still here'")
    pct = []
    for i, pk in enumerate(ids):
        row = page.locator(f"#kr-row-{pk}")
        row.locator(f"input[name=kr{pk}-value]").fill(str(40 + 10 * i))
        row.locator(f"select[name=kr{pk}-status]").select_option("needs_attention")
        row.locator("button[type=submit]").click()
        page.locator(f"#kr-row-{pk}.ci-row--saved").wait_for(timeout=10_000)
        pct.append(page.locator(f"#kr-row-{pk} .pct").inner_text())
    # A bad value is refused in the row, the typed text kept.
    first = page.locator(f"#kr-row-{ids[0]}")
    first.locator(f"input[name=kr{ids[0]}-value]").fill("lots")
    first.locator("button[type=submit]").click()
    page.locator(f"#kr-row-{ids[0]}.ci-row--error").wait_for(timeout=10_000)
    error_row = page.locator(f"#kr-row-{ids[0]}").inner_text()
    kept = page.locator(f"input[name=kr{ids[0]}-value]").input_value()
    page.wait_for_function("document.querySelector('#ci-summary').innerText"
                           ".includes('3 of 3')", timeout=10_000)
    still_here = page.evaluate("window.__noReload")
    w.assert_clean()

    assert pct == ["40%", "50%", "60%"]
    assert "is not a number" in error_row and kept == "lots"
    assert still_here == "still here"
    assert CheckIn.objects.filter(key_result__in=krs).count() == 3
    assert sorted(KeyResult.objects.filter(pk__in=ids)
                  .values_list("current_value", flat=True)) == [40, 50, 60]
