"""Accessibility in the browser (issue 23): axe-core reports no WCAG 2.2 AA violation (rules
tagged wcag2a, wcag2aa, wcag21a, wcag21aa, wcag22aa) on every organisation page of the
URL-access table, at 1280 px and at 390 px, as the owner; on the public pages logged out; and
on a member's and a viewer's own pages. Plus what axe cannot see on its own: a skip link that
moves the focus to the content, a visible focus, the strategy map's branch opened (its
htmx-loaded children checked too), a table that scrolls sideways at 390 px reachable by the
keyboard with a name, and a check-in saved with htmx announced in a live region."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.conftest import make_world
from tests.e2e.axe import describe, violations, walk
from tests.url_table import ORG_ROUTES, PUBLIC_ROUTES, TABLE, build

pytestmark = pytest.mark.e2e

PAGES = [r for r in ORG_ROUTES if TABLE[r].get == 200 and not r.endswith(".csv")]
PHONE = {"width": 390, "height": 844}


def _walk(w, paths) -> list[str]:
    return walk(w, paths)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["1280", "390"])
def test_every_page_has_no_axe_violation(open_page, viewport):
    world = make_world()
    w = open_page(viewport)
    public = [build(r, TABLE[r].args, world) for r in PUBLIC_ROUTES
              if TABLE[r].anon == 200 and r != "healthz"] + ["/api/v1/docs"]
    failures = _walk(w, public)
    w.enter_as(world["users"][Role.OWNER])  # every page kind, the admins' pages included
    failures += _walk(w, [build(r, TABLE[r].args, world, TABLE[r].query) for r in PAGES])
    assert len(PAGES) >= 20
    assert not failures, "\n".join(failures)


def test_a_member_and_a_viewer_see_no_axe_violation_on_a_phone(open_page):
    world = make_world()
    slug = world["org"].slug
    failures = []
    for role, paths in ((Role.MEMBER, ["/", "/check-ins/mine/", "/teams/support/check-in/"]),
                        (Role.VIEWER, ["/", "/okrs/", "/kpis/", "/strategy/"])):
        w = open_page(PHONE)
        w.enter_as(world["users"][role])
        failures += _walk(w, [f"/o/{slug}{p}" for p in paths])
    assert not failures, "\n".join(failures)


def test_keyboard_skip_link_focus_map_tables_and_live_region(open_page):
    world = make_world()
    slug = world["org"].slug
    w = open_page(PHONE)
    w.enter_as(world["users"][Role.MEMBER])

    # The first Tab reaches the skip link, which is then visible; Enter moves to <main>.
    w.goto(f"/o/{slug}/")
    w.page.keyboard.press("Tab")
    assert w.page.evaluate("document.activeElement.className") == "skip-link"
    assert w.page.evaluate("document.activeElement.getBoundingClientRect().left") >= 0
    outline = w.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused skip link shows no outline"
    w.page.keyboard.press("Enter")
    assert w.page.evaluate("location.hash") == "#main"

    # The strategy map: a pillar opened from the keyboard; its loaded branch is clean too.
    w.goto(f"/o/{slug}/strategy/")
    summary = w.page.locator(f"#node-pillar-{world['pillar']} summary").first
    summary.focus()
    w.page.keyboard.press("Enter")
    w.page.locator(f"#node-objective-{world['objective']}").wait_for()
    found = violations(w.page)
    assert not found, describe(found)

    # A table wider than the phone is a focusable, named region.
    w.goto(f"/o/{slug}/kpis/{world['kpi']}/")
    region = w.page.locator(".table-wrap[role=region]").first
    region.wait_for(state="attached")
    assert region.get_attribute("tabindex") == "0" and region.get_attribute("aria-label")

    # A check-in saved with htmx is announced in the live region.
    w.goto(f"/o/{slug}/teams/support/check-in/")
    row = w.page.locator(f"#kr-row-{world['kr']}")
    row.locator("input[name$='value']").first.fill("3")
    row.locator("button[type=submit]").first.click()
    live = w.page.locator("#toast[role=status][aria-live=polite]")
    for _ in range(50):  # (wait_for_function would evaluate a string: the CSP refuses eval)
        if live.text_content().strip():
            break
        w.page.wait_for_timeout(200)
    assert "saved" in live.text_content().lower() or "checked in" in live.text_content().lower()
    w.assert_clean()
