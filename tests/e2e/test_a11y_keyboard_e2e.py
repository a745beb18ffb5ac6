"""Keyboard only (issue 23): the main journeys done with Tab, Shift+Tab, Enter, Space, Escape,
arrows and typing — no click, no fill — with the focus visible at every control used: log in,
check in on a key result, create an objective, record a KPI value, comment. Plus the
strategy map's ARIA tree (one tab stop, arrows, aria-expanded), a chart's data-table toggle,
the phone menu (a disclosure that gives the focus back on Escape, no trap, no focus on a
link off the screen) and the live region after htmx swaps. axe runs on every page these
tests leave or check (tests/e2e/conftest.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from accounts.models import Role
from activity.models import Comment
from kpis.models import DataPoint
from okrs.models import CheckIn, Objective
from tests.conftest import make_world
from tests.e2e.axe import describe, violations
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("HEADWAY_SHOTS", "/tmp/a11y/shots"))


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))

# What has the focus: enough to match it and to see that it is visible on the screen.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), id: el.id,
          index: Array.prototype.indexOf.call(document.getElementsByTagName('*'), el), name: el.getAttribute('name') || '',
          text: (el.innerText || el.value || '').trim().slice(0, 60),
          role: el.getAttribute('role') || '', expanded: el.getAttribute('aria-expanded'),
          level: el.getAttribute('aria-level'), li: (el.closest('li') || {}).id || '',
          onScreen: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
                    && r.left < innerWidth && r.top < innerHeight && cs.visibility !== 'hidden',
          outlined: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0)
                    || cs.boxShadow !== 'none'};
}"""


def focused(page) -> dict | None:
    return page.evaluate(FOCUSED)


def tab_to(page, want, limit: int = 120, back: bool = False) -> dict:
    """Press Tab (Shift+Tab with back) until the focused element satisfies `want` (a dict ->
    bool); every control passed on the way is on the screen (nothing focusable hidden or
    off the screen) and the one reached shows its focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        now = focused(page)
        if now is None:
            continue
        assert now["onScreen"], f"the focus went to something not on the screen: {now}"
        if want(now):
            assert now["outlined"], f"no visible focus on {now}"
            return now
    raise AssertionError(f"not reached with {limit} Tabs")


def by(**attrs):
    return lambda f: all(re.search(v, f[k]) if k in ("text", "id", "name") else f[k] == v
                         for k, v in attrs.items())


def wait_text(locator, pattern: str, tries: int = 60):
    """(Page.wait_for_function would evaluate a string: the CSP refuses eval.)"""
    for _ in range(tries):
        text = locator.text_content() or ""
        if re.search(pattern, text, re.I):
            return text
        locator.page.wait_for_timeout(100)
    raise AssertionError(f"{pattern!r} never appeared (last: {text!r})")


def test_journeys_by_keyboard_alone(open_page):
    world = make_world()
    slug = world["org"].slug
    member, leader = world["users"][Role.MEMBER], world["users"][Role.LEADER]

    # Log in: the fields and the button reached with Tab, Enter submits.
    w = open_page()
    w.goto("/accounts/login/")
    tab_to(w.page, by(id="^id_username$"))
    w.page.keyboard.type(member.email)
    tab_to(w.page, by(id="^id_password$"))
    w.page.keyboard.type(PASSWORD)
    tab_to(w.page, by(tag="button", text="(?i)log in|sign in"))
    w.page.keyboard.press("Enter")
    w.page.wait_for_url(re.compile(r"/o/"))
    w.assert_clean()

    # Check in on a KR from the team's page: Tab to the value, type, Enter checks the row
    # in (htmx); the result is in the live region and the focus stays in the row.
    w.goto(f"/o/{slug}/teams/support/check-in/")
    kr = world["kr"]
    tab_to(w.page, by(name=rf"^kr{kr}-value$"))
    w.page.keyboard.type("4")
    w.page.keyboard.press("Enter")
    w.page.locator(f"#kr-row-{kr}.ci-row--saved").wait_for()
    wait_text(w.page.locator("#toast"), "checked in")
    assert w.page.evaluate(f"document.getElementById('kr-row-{kr}')"
                           ".contains(document.activeElement)"), focused(w.page)
    assert CheckIn.objects.filter(key_result_id=kr, value=4).exists()
    w.assert_clean()

    # Comment on the objective: Tab to the text box, type, Tab to "Comment", Enter; the
    # thread is swapped in with htmx, the focus stays in it, the live region says so.
    w.goto(f"/o/{slug}/okrs/{world['objective']}/")
    tab_to(w.page, by(tag="textarea", name="^body$"))
    w.page.keyboard.type("Macros help a lot")
    tab_to(w.page, by(tag="button", text="^Comment$"))
    w.page.keyboard.press("Enter")
    w.page.locator(".comment-body", has_text="Macros help a lot").wait_for()
    wait_text(w.page.locator("#toast"), "comment posted")
    assert w.page.evaluate("!!document.activeElement.closest('section.comments')"), focused(w.page)
    assert Comment.objects.filter(body="Macros help a lot").exists()
    w.assert_clean()

    # Record a KPI value (the member owns the KPI): the date typed into its segments.
    w.goto(f"/o/{slug}/kpis/{world['kpi']}/")
    tab_to(w.page, by(name="^period$", tag="input"))
    w.page.keyboard.type("2026-01-05" if w.page.evaluate(
        "document.activeElement.type") == "text" else "01052026")
    tab_to(w.page, by(name="^value$"))
    w.page.keyboard.type("47")
    tab_to(w.page, by(tag="button", text="^Save value$"))
    before = DataPoint.objects.filter(kpi_id=world["kpi"]).count()
    w.page.keyboard.press("Enter")
    w.page.wait_for_load_state("load")
    for _ in range(50):
        if DataPoint.objects.filter(kpi_id=world["kpi"]).count() > before:
            break
        w.page.wait_for_timeout(100)
    assert DataPoint.objects.filter(kpi_id=world["kpi"], value=47).exists()
    w.assert_clean()

    # Create an objective as a leader: title, a key result, and the button, by keyboard.
    lw = open_page()
    lw.enter_as(leader)
    lw.goto(f"/o/{slug}/okrs/new/")
    tab_to(lw.page, by(id="^id_title$"))
    lw.page.keyboard.type("Answer every ticket within a day")
    tab_to(lw.page, by(id="^id_kr-0-title$"))
    lw.page.keyboard.type("Median first reply under 4 hours")
    tab_to(lw.page, by(tag="button", text="^Create objective$"))
    lw.page.keyboard.press("Enter")
    lw.page.wait_for_url(re.compile(r"/okrs/\d+/$"))
    lw.assert_clean()
    objective = Objective.objects.get(title="Answer every ticket within a day")
    assert objective.key_results.filter(title="Median first reply under 4 hours").exists()


def test_the_strategy_map_is_an_aria_tree(open_page):
    world = make_world()
    w = open_page()
    w.enter_as(world["users"][Role.VIEWER])
    w.goto(f"/o/{world['org'].slug}/strategy/")
    tree = w.page.locator("ul.tree-root[role=tree]")
    assert tree.count() == 1 and tree.get_attribute("aria-label")
    assert w.page.locator("ul.tree-root [role=treeitem][aria-level='1']").count() >= 1
    assert w.page.locator("[role=treeitem][tabindex='0']").count() == 1  # one tab stop

    pillar = tab_to(w.page, by(role="treeitem"))
    assert pillar["li"] == f"node-pillar-{world['pillar']}" and pillar["expanded"] == "false"
    assert pillar["level"] == "1"
    w.page.keyboard.press("ArrowRight")  # opens it; its children load with htmx
    w.page.locator(f"#node-objective-{world['objective']} [role=treeitem]").first.wait_for()
    assert focused(w.page)["expanded"] == "true"
    wait_text(w.page.locator("#toast"), "branch loaded")
    w.page.keyboard.press("ArrowDown")  # the first child
    child = focused(w.page)
    shot(w.page, "tree-focus-1280")
    assert child["li"] == f"node-objective-{world['objective']}" and child["level"] == "2"
    assert child["outlined"]
    w.page.keyboard.press("ArrowLeft")  # a closed child: to its parent
    assert focused(w.page)["li"] == pillar["li"]
    w.page.keyboard.press("ArrowLeft")  # the open parent: closes
    assert focused(w.page)["expanded"] == "false"
    w.page.keyboard.press("Space")
    assert focused(w.page)["expanded"] == "true"
    w.page.keyboard.press("End")
    assert focused(w.page)["role"] == "treeitem"
    w.page.keyboard.press("Home")
    assert focused(w.page)["li"] == pillar["li"]
    # Tab leaves the tree (its links are not tab stops of their own), Shift+Tab comes back
    # to the item last focused.
    w.page.keyboard.press("Tab")
    assert focused(w.page) is None or focused(w.page)["role"] != "treeitem"
    w.page.keyboard.press("Shift+Tab")
    assert focused(w.page)["li"] == pillar["li"]
    found = violations(w.page, w)
    assert not found, describe(found)
    w.assert_clean()


def test_a_chart_shows_its_data_as_a_table(open_page):
    world = make_world()
    w = open_page(PHONE)
    w.enter_as(world["users"][Role.VIEWER])
    w.goto(f"/o/{world['org'].slug}/kpis/{world['kpi']}/")
    button = tab_to(w.page, by(tag="button", text="(?i)show the data as a table"))
    assert button["expanded"] == "false"
    w.page.keyboard.press("Enter")
    table = w.page.locator(".chart-table table").first
    table.wait_for()
    assert focused(w.page)["expanded"] == "true"
    assert table.locator("caption").inner_text().strip()
    values = table.locator("tbody tr").all_inner_texts()
    assert any("40" in row for row in values) and any("42" in row for row in values), values
    found = violations(w.page, w)
    assert not found, describe(found)
    table.scroll_into_view_if_needed()
    shot(w.page, "chart-table-390")
    w.page.keyboard.press("Space")  # and hides it again
    assert table.is_hidden() and focused(w.page)["expanded"] == "false"
    w.assert_clean()


def test_the_phone_menu_gives_the_focus_back_and_traps_nothing(open_page):
    world = make_world()
    w = open_page(PHONE)
    w.enter_as(world["users"][Role.MEMBER])
    w.goto(f"/o/{world['org'].slug}/")
    w.page.keyboard.press("Tab")
    assert focused(w.page)["text"]  # the skip link
    # Closed, the menu's links are not in the tab order: the next stop is the menu button.
    toggle = tab_to(w.page, by(role="button", text="☰"), limit=1)
    assert toggle["expanded"] == "false"
    w.page.keyboard.press("Enter")
    w.page.wait_for_timeout(400)  # the menu slides in (0.2 s)
    now = focused(w.page)
    assert now["onScreen"] and now["outlined"], now  # the focus went into the open menu
    assert w.page.locator(".menu-toggle").get_attribute("aria-expanded") == "true"
    shot(w.page, "menu-open-390")
    w.page.keyboard.press("Escape")
    assert focused(w.page)["text"] == "☰" and focused(w.page)["expanded"] == "false"
    # Open again and Tab through it: the focus leaves the menu (no trap), which closes it.
    w.page.keyboard.press("Space")
    assert w.page.locator(".menu-toggle").get_attribute("aria-expanded") == "true"
    inside = "!!document.activeElement.closest('#sidebar, .menu-toggle')"
    for _ in range(40):
        w.page.keyboard.press("Tab")
        if not w.page.evaluate(inside):
            break
    assert not w.page.evaluate(inside)  # past the menu and its button: in the page
    assert w.page.locator(".menu-toggle").get_attribute("aria-expanded") == "false"
    w.assert_clean()


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["1280", "390"])
def test_tab_goes_round_every_control_on_the_screen(open_page, viewport):
    """No focus trap and nothing focusable off the screen: Tab from the top of the
    dashboard, the check-in page, a KPI and an objective reaches the end of the page (then
    the browser's own controls), each stop visible with a focus ring."""
    world = make_world()
    slug = world["org"].slug
    w = open_page(viewport)
    w.enter_as(world["users"][Role.LEADER])
    for path in ("/", "/teams/support/check-in/", f"/kpis/{world['kpi']}/",
                 f"/okrs/{world['objective']}/"):
        w.goto(f"/o/{slug}{path}")
        seen, first, stops = set(), None, 0
        for _ in range(250):
            w.page.keyboard.press("Tab")
            now = focused(w.page)
            if now is None:
                break  # past the last control: the page let the focus go
            key = now["index"]
            if key == first:
                break  # round to the first control again
            assert key not in seen, f"{path}: the focus came back to {now} (a trap?)"
            first = first or key
            assert now["onScreen"], f"{path}: focus on something not on the screen: {now}"
            assert now["outlined"], f"{path}: no visible focus on {now}"
            seen.add(key)
            stops += 1
        assert stops > 5, f"{path}: only {stops} stops"
