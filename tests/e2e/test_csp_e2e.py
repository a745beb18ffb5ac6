"""The Content Security Policy without 'unsafe-inline' in the browser (issue 15, defect 6).

Every organisation page is opened by tests/e2e/test_pages_e2e.py, which fails on any CSP
violation the page reports. This file adds what that walk does not do: the public pages and
the scoped admin, the policy each document is actually sent with, and the moments that draw
or inject after the load — a Plotly chart (drawn, hovered, downloaded), the strategy map's
htmx expansion — plus a check that static/css/plotly.css is still what the plotly.js bundle
would inject (it must not inject it: the policy refuses a <style> element).

Regenerate static/css/plotly.css after a plotly.js upgrade:
    .venv/bin/python -m tests.e2e.test_csp_e2e
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accounts.models import Role
from tests.conftest import make_world
from tests.factories import DataPointFactory, KpiFactory
from tests.url_table import PUBLIC_ROUTES, TABLE, build

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "static" / "vendor" / "plotly-strict.min.js"
PLOTLY_CSS = ROOT / "static" / "css" / "plotly.css"
GLOBAL_ID = "plotly.js-style-global"
# The bundle also injects MapLibre's map CSS under this id unless an element has it.
MAPLIBRE_ID = "9f215cf04c5486422605d13261cb87401f4e7763b6296af81e98efbc0130da53"

# Every violation the page sees, kept in the page (the console copy can be missed).
COLLECT = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' '
                    + (e.sample || '') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""


def bundle_styles(browser) -> tuple[list[str], list[str]]:
    """(ids of the <style> elements the bundle injects on a bare page, its global rules)."""
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><html><head></head><body></body></html>")
        page.add_script_tag(path=str(BUNDLE))
        ids = page.evaluate("Array.from(document.querySelectorAll('style')).map(s => s.id)")
        rules = page.evaluate(f"""Array.from(document.getElementById('{GLOBAL_ID}').sheet
                                  .cssRules).map(r => r.cssText)""")
        return ids, rules
    finally:
        page.close()


def file_rules() -> list[str]:
    text = PLOTLY_CSS.read_text()
    return [line for line in text.split("*/", 1)[1].splitlines() if line.strip()]


def test_plotly_css_is_what_the_bundle_would_inject(browser):
    ids, rules = bundle_styles(browser)
    assert sorted(ids) == sorted([GLOBAL_ID, MAPLIBRE_ID]), (
        f"plotly.js now injects {ids}: give each id an element in templates/includes/plotly.html")
    assert rules == file_rules(), (
        "static/css/plotly.css differs from the bundle's rules: "
        "run .venv/bin/python -m tests.e2e.test_csp_e2e")


def _strict(header: str) -> bool:
    directives = {p.split()[0]: p.split()[1:] for p in header.split(";") if p.split()}
    return "unsafe" not in header and directives.get("style-src") == ["'self'"]


def test_pages_charts_and_swaps_raise_no_violation(open_page):
    world = make_world()
    org = world["org"]
    kpi = KpiFactory(organization=org, owner=world["users"][Role.MEMBER], name="Reply time")
    for value in (30, 32, 29, 31, 35, 28, 33, 30, 41, 29, 31, 30):
        DataPointFactory(kpi=kpi, value=value)

    w = open_page()
    w.page.add_init_script(COLLECT)
    documents: list[tuple[str, str]] = []
    w.page.on("response", lambda r: documents.append(
        (r.url, r.headers.get("content-security-policy", "")))
        if r.request.resource_type == "document" else None)

    def violations() -> list[str]:
        return w.page.evaluate("window.__csp || []")

    failures: list[str] = []

    def check(where: str) -> None:
        w.page.wait_for_load_state("load")
        failures.extend(f"{where}: {v}" for v in violations())
        failures.extend(f"{where}: {p}" for p in w.problems)
        w.problems.clear()

    # Public pages (logged out) from the URL table.
    for route in PUBLIC_ROUTES:
        rule = TABLE[route]
        if rule.anon != 200:
            continue
        path = build(route, rule.args, world)
        w.page.goto(w.base + path)
        check(path)
    w.page.goto(w.base + "/api/v1/docs")
    check("/api/v1/docs")

    w.enter_as(world["users"][Role.OWNER])
    slug = org.slug

    # A KPI's XmR chart: drawn with plotly.css's rules, hovered, downloaded.
    w.page.goto(f"{w.base}/o/{slug}/kpis/{kpi.pk}/")
    w.page.wait_for_selector("#xmr-chart .main-svg")
    assert w.page.evaluate(
        "getComputedStyle(document.querySelector('#xmr-chart .main-svg')).position") \
        == "absolute", "plotly.css is not applied"
    # The hover label of the values' points (as a pointer over the ninth shows it).
    w.page.evaluate("""() => { const plot = document.getElementById('xmr-chart');
        const n = plot.data.findIndex(t => t.hovertemplate);
        Plotly.Fx.hover(plot, [{curveNumber: n, pointNumber: 8}]); }""")
    w.page.wait_for_selector("#xmr-chart .hoverlayer .hovertext")
    with w.page.expect_download() as download:
        w.page.click("button[data-format=png]")
    assert download.value.suggested_filename == f"kpi-{kpi.pk}-chart.png"
    check("KPI chart")

    # The strategy map opens a pillar with htmx (markup swapped in after the load).
    w.page.goto(f"{w.base}/o/{slug}/strategy/")
    w.page.locator("details[hx-get] > summary").first.click()
    w.page.wait_for_selector("details[hx-get][open] .tree-children .tree-line")
    check("strategy map")

    # The pages with charts or data-driven bars, and the admin.
    for path in (f"/o/{slug}/review/", f"/o/{slug}/teams/support/",
                 f"/o/{slug}/check-ins/kr/{world['kr']}/", f"/o/{slug}/teams/support/check-in/",
                 "/admin/", "/admin/kpis/kpi/", f"/admin/kpis/kpi/{kpi.pk}/change/",
                 "/admin/okrs/objective/add/"):
        w.page.goto(w.base + path)
        check(path)

    assert not failures, "\n".join(failures)
    loose = [url for url, header in documents if not _strict(header)]
    assert not loose, f"sent without the strict policy: {loose}"
    assert len(documents) >= 12


if __name__ == "__main__":  # regenerate static/css/plotly.css from the bundle
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import ARGS, CHROMIUM

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        _, found = bundle_styles(chromium)
        chromium.close()
    head = PLOTLY_CSS.read_text().split("*/", 1)[0] + "*/\n"
    version = re.search(r"plotly\.js v([\d.]+)", BUNDLE.read_text()[:2000])
    PLOTLY_CSS.write_text(head + "\n".join(found) + "\n")
    print(f"wrote {len(found)} rules to {PLOTLY_CSS} (bundle {version.group(1) if version else '?'})")
