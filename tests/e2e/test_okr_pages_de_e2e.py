"""In the browser, in German: the goal, OKR, check-in and dashboard pages (engineer i18n1's
part of issue 23) at 1280 and 390 px — German words, nothing wider than the screen (German's
long words wrap). Screenshots: /tmp/i18n1/<page>-de-<width>.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.models import Role

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/i18n1")


def _world():
    from okrs.models import Objective
    from tests.conftest import make_world
    from tests.factories import ObjectiveFactory

    world = make_world()
    owner = world["users"][Role.OWNER]
    owner.language = "de"
    owner.save()
    objective = Objective.objects.get(pk=world["objective"])
    # A long German-ish title: a word wider than a phone's column must still wrap.
    ObjectiveFactory(organization=world["org"], cycle=objective.cycle, team=None,
                     pillar=objective.pillar, owner=owner, parent=objective,
                     title="Kundenzufriedenheitsverbesserungsmaßnahmenkatalog umsetzen")
    return world, owner


def _pages(world):
    o, kr = world["objective"], world["kr"]
    return [
        ("dashboard", "/o/acme/", "Letzte Änderungen"),
        ("goal", "/o/acme/strategy/goal/", "Strategische Säulen"),
        ("pillars", "/o/acme/strategy/goal/pillars/", "Säule hinzufügen"),
        ("cycles", "/o/acme/cycles/", "Neuer Zyklus"),
        ("okr-list", "/o/acme/okrs/", "Neues Objective"),
        ("objective", f"/o/acme/okrs/{o}/", "Ausgerichtete Objectives"),
        ("objective-edit", f"/o/acme/okrs/{o}/edit/", "Objective speichern"),
        ("kr-new", f"/o/acme/okrs/{o}/key-results/new/", "Neues Key Result"),
        ("kr-history", f"/o/acme/check-ins/kr/{kr}/", "Wert über den Zyklus"),
        ("team-checkin", "/o/acme/teams/support/check-in/", "Alle erfassen"),
        ("strategy-map", "/o/acme/strategy/", "Strategiekarte"),
        ("review", "/o/acme/review/", "Gefährdete Key Results"),
        ("operations", "/o/acme/operations/", "Regelbetrieb"),
        ("team", "/o/acme/teams/support/", "Check-in-Quote"),
        ("cycle-close", f"/o/acme/okrs/cycles/{world['cycle']}/close/", "Abschlussstatus"),
    ]


def test_okr_pages_in_german_at_both_widths(open_page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    world, owner = _world()
    problems = []
    for width, height in ((1280, 900), (390, 844)):
        w = open_page(viewport={"width": width, "height": height})
        w.enter_as(owner)
        w.page.set_default_timeout(90000)  # the shared machine is slow; the pages are not
        for name, path, words in _pages(world):
            w.goto(path)
            assert w.page.locator("html").get_attribute("lang") == "de"
            assert words in w.page.inner_text("main"), f"{path}: no “{words}”"
            w.page.screenshot(path=str(SHOTS / f"{name}-de-{width}.png"), full_page=True)
            wide = w.page.evaluate(
                "() => document.scrollingElement.scrollWidth - window.innerWidth")
            culprits = w.page.evaluate("""() => Array.from(document.querySelectorAll('main *'))
                .filter(e => !e.closest('.table-wrap, pre')
                             && e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 8).map(e => e.tagName + '.' + e.className + ' «'
                                      + (e.textContent || '').trim().slice(0, 40) + '»')""")
            if wide > 1:
                problems.append(f"{path} at {width} px: {wide} px wider: {culprits}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_okr_pages_in_french_and_spanish_at_390(open_page, lang):
    """French and Spanish at the phone width: nothing wider than the screen either."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    world, owner = _world()
    owner.language = lang
    owner.save()
    w = open_page(viewport={"width": 390, "height": 844})
    w.enter_as(owner)
    w.page.set_default_timeout(90000)
    problems = []
    for name, path, _words in _pages(world):
        w.goto(path)
        assert w.page.locator("html").get_attribute("lang") == lang
        w.page.screenshot(path=str(SHOTS / f"{name}-{lang}-390.png"), full_page=True)
        wide = w.page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
        if wide > 1:
            problems.append(f"{path}: {wide} px wider")
    assert not problems, "\n".join(problems)
