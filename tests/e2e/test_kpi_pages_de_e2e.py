"""In the browser, in German: the KPI, data-source and initiative pages at 1280 and 390 px —
German words, nothing wider than the screen (German's long words wrap), the JavaScript catalogue
answering German, and the charts drawn with German month names and number separators.
Screenshots: /tmp/i18n2/<page>-de-<width>.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from accounts.models import Role

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/i18n2")


def _world():
    from kpis import health
    from kpis.models import DataPoint
    from tests.conftest import make_world
    from tests.factories import KpiFactory

    world = make_world()
    admin = world["users"][Role.ADMIN]
    admin.language = "de"
    admin.save()
    kpi = KpiFactory(organization=world["org"], name="Antwortzeit im Kundendienst", unit="min",
                     decimals=1, target_rule="at_most", target_value=30.0)
    start = dt.date(2026, 1, 5)
    values = [20.5, 21, 19.5, 20, 22, 20, 21, 19, 20, 21, 20, 1234.5]
    DataPoint.objects.bulk_create([
        DataPoint(kpi=kpi, period_start=start + dt.timedelta(weeks=i), value=v)
        for i, v in enumerate(values)])
    health.evaluate_all()
    return world, admin, kpi


def _pages(world, kpi):
    return [
        ("kpi-list", "/o/acme/kpis/", "Verbesserungskandidaten"),
        ("kpi-detail", f"/o/acme/kpis/{kpi.pk}/", "Prozessverhaltensdiagramm"),
        ("kpi-new", "/o/acme/kpis/new/", "Neuer KPI"),
        ("kpi-candidates", "/o/acme/kpis/candidates/", "Verbesserungskandidaten"),
        ("kpi-legend", "/o/acme/kpis/legend/", "KPI-Diagramme lesen"),
        ("kpi-import", "/o/acme/kpis/import/", "Werte importieren"),
        ("source-list", "/o/acme/sources/", "Datenquellen"),
        ("source-detail", f"/o/acme/sources/{world['source']}/", "Läufe"),
        ("source-new", "/o/acme/sources/new/", "Neue Datenquelle"),
        ("initiative-edit", f"/o/acme/initiatives/{world['initiative']}/edit/",
         "Initiative bearbeiten"),
    ]


def test_kpi_and_source_pages_in_german_at_both_widths(open_page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    world, admin, kpi = _world()
    for width, height in ((1280, 900), (390, 844)):
        w = open_page(viewport={"width": width, "height": height})
        w.enter_as(admin)
        w.page.set_default_timeout(90000)  # the shared machine is slow; the pages are not
        for name, path, words in _pages(world, kpi):
            w.goto(path)
            assert w.page.locator("html").get_attribute("lang") == "de"
            assert words in w.page.inner_text("main"), f"{path}: no “{words}”"
            w.page.screenshot(path=str(SHOTS / f"{name}-de-{width}.png"), full_page=True)
            wide = w.page.evaluate(
                "() => document.scrollingElement.scrollWidth - window.innerWidth")
            # What sticks out (outside the scrolling table wrappers, which may scroll).
            culprits = w.page.evaluate("""() => Array.from(document.querySelectorAll('main *'))
                .filter(e => !e.closest('.table-wrap, pre')
                             && e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 8).map(e => e.tagName + '.' + e.className + ' «'
                                      + (e.textContent || '').trim().slice(0, 40) + '»')""")
            assert wide <= 1, f"{path} at {width} px: {wide} px wider: {culprits}"
        # The JavaScript catalogue is German, and so are the chart's months and separators.
        w.goto(f"/o/acme/kpis/{kpi.pk}/")
        assert w.page.evaluate("() => window.gettext('Saved')") == "Gespeichert"
        w.page.wait_for_function(
            "() => document.getElementById('xmr-chart').dataset.drawn === '1'")
        chart = w.page.evaluate("""() => {
            const el = document.getElementById('xmr-chart');
            return {locale: el._context.locale, separators: el._fullLayout.separators,
                    months: Array.from(el.querySelectorAll('.xtick text')).map(t => t.textContent),
                    names: el.data.map(t => t.name)};
        }""")
        assert chart["locale"] == "de" and chart["separators"] == ",."
        assert "Mittellinie" in chart["names"] and "Wert" in chart["names"]
        assert any("Mär" in m or "Jan" in m or "Feb" in m for m in chart["months"]), chart
        # The signal sentence in German with the German number (1.234,5 min).
        assert "Eine Woche über dem üblichen Bereich: 1.234,5 min" in w.page.inner_text("main")


@pytest.mark.parametrize("lang,words", [("fr", "Graphique du comportement du processus"),
                                        ("es", "Gráfico de comportamiento del proceso")])
def test_kpi_pages_in_french_and_spanish_at_390(open_page, lang, words):
    """The same pages at phone width in French and Spanish: nothing wider than the screen."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    world, admin, kpi = _world()
    admin.language = lang
    admin.save()
    w = open_page(viewport={"width": 390, "height": 844})
    w.enter_as(admin)
    w.page.set_default_timeout(90000)
    for name, path, _german in _pages(world, kpi):
        w.goto(path)
        assert w.page.locator("html").get_attribute("lang") == lang
        w.page.screenshot(path=str(SHOTS / f"{name}-{lang}-390.png"), full_page=True)
        wide = w.page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
        assert wide <= 1, f"{path} in {lang} at 390 px: {wide} px wider than the screen"
    w.goto(f"/o/acme/kpis/{kpi.pk}/")
    assert words in w.page.inner_text("main")
