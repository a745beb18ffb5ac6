"""Journeys in the browser (issue 14): an admin's KPI work (a data point, a new target rule
and its revision history, a CSV import through its preview, an API token shown once, the API
docs), and the dashboards with their CSV downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import Role
from api.models import ApiToken
from dashboards import exports
from kpis.models import DataPoint, Kpi
from kpis.periods import period_start
from tests.conftest import make_world
from tests.factories import KpiFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.e2e


def _monday(weeks_ago: int) -> dt.date:
    return period_start(timezone.localdate(), "weekly") - dt.timedelta(weeks=weeks_ago)


def test_kpi_data_target_history_import_token_and_docs(open_page):
    org = OrganizationFactory(name="Acme", slug="acme")
    admin = UserFactory(name="Ana Admin", email="ana@example.com")
    MembershipFactory(user=admin, organization=org, role=Role.ADMIN)
    kpi = KpiFactory(organization=org, name="Reply time", unit="min", decimals=0,
                     frequency=Kpi.Frequency.WEEKLY, target_rule="at_most", target_value=60)
    w = open_page()
    w.enter_as(admin)
    w.goto(f"/o/acme/kpis/{kpi.pk}/")

    # A data point, through the page's form.
    form = w.page.locator(f"form[action$='/kpis/{kpi.pk}/value/']")
    form.locator("input[name=period]").fill(_monday(1).isoformat())
    form.locator("input[name=value]").fill("42")
    form.locator("button[type=submit]").click()
    w.page.wait_for_load_state("load")
    w.assert_clean()
    assert DataPoint.objects.get(kpi=kpi).value == 42
    assert "42" in w.page.inner_text("#data-h >> xpath=../..")

    # A new target rule with its reason: the history says it in words, not codes.
    target = w.page.locator(f"form[action$='/kpis/{kpi.pk}/target/']")
    target.locator("select[name=target_rule]").select_option("at_least")
    target.locator("input[name=target_value]").fill("10")
    target.locator("textarea[name=reason]").fill("We now count replies per hour")
    target.locator("button[type=submit]").click()
    w.page.wait_for_load_state("load")
    w.assert_clean()
    kpi.refresh_from_db()
    assert (kpi.target_rule, kpi.target_value) == ("at_least", 10)
    changes = w.page.inner_text("#targets-h >> xpath=../..")
    assert re.search(r"at most 60.*→.*at least 10", changes), changes
    assert "at_most" not in changes and "We now count replies per hour" in changes

    # CSV import: the preview first, nothing stored until confirmed.
    w.goto(f"/o/acme/kpis/{kpi.pk}/import/")
    body = f"period,value,note\n{_monday(3).isoformat()},12,\n{_monday(2).isoformat()},14,busy\n"
    w.page.set_input_files("input[type=file]", files=[{
        "name": "reply.csv", "mimeType": "text/csv", "buffer": body.encode()}])
    w.page.click("button:has-text('Preview')")
    w.page.wait_for_load_state("load")
    w.assert_clean()
    assert "2 rows ready" in w.page.inner_text("section[aria-labelledby=preview-h]")
    assert DataPoint.objects.filter(kpi=kpi).count() == 1
    w.page.click("button:has-text('Import 2 values')")
    w.page.wait_for_url(re.compile(rf"/o/acme/kpis/{kpi.pk}/$"))
    w.assert_clean()
    assert DataPoint.objects.filter(kpi=kpi).count() == 3

    # An API token, shown once; then the API docs.
    w.goto("/o/acme/kpis/api-tokens/")
    w.page.fill("#id_name", "Warehouse sync")
    w.page.click("button:has-text('Create token')")
    w.page.wait_for_load_state("load")
    w.assert_clean()
    shown = w.page.locator(".flash--success code").inner_text().strip()
    assert "shown only once" in w.page.inner_text(".flash--success") and len(shown) > 20
    assert ApiToken.objects.filter(organization=org, name="Warehouse sync").count() == 1
    w.goto("/o/acme/kpis/api-tokens/")
    assert shown not in w.page.content() and "Warehouse sync" in w.page.inner_text("main")
    w.page.click("text=API docs")
    w.page.wait_for_load_state("load")
    w.assert_clean()
    assert "Operations" in w.page.inner_text("main")
    assert "/api/v1/kpis" in w.page.inner_text("main")


DOWNLOADS = [
    ("/o/acme/", exports.HOME_HEADER),
    ("/o/acme/strategy/", exports.STRATEGY_HEADER),
    ("/o/acme/review/", exports.REVIEW_HEADER),
    ("/o/acme/operations/", exports.KPI_HEADER),
    ("/o/acme/teams/support/", exports.TEAM_HEADER),
]


def test_dashboards_and_their_csv_downloads(open_page):
    world = make_world()
    w = open_page()
    w.enter_as(world["users"][Role.LEADER])
    for path, header in DOWNLOADS:
        w.goto(path)
        assert w.page.locator("h1").inner_text().strip(), path
        link = w.page.locator("a", has_text="Download CSV").first
        href = link.get_attribute("href")
        response = w.page.request.get(w.base + href)
        assert response.status == 200 and response.headers["content-type"].startswith(
            "text/csv"), (href, response.status, response.headers.get("content-type"))
        with w.page.expect_download() as download:
            link.click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == header, (href, rows[0])
        assert download.value.suggested_filename.endswith(".csv")
    w.assert_clean()
