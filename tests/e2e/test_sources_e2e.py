"""In the browser: an admin connects the demo warehouse, writes and tests a query, saves
it on a daily schedule, runs it now and sees the KPI fill in with its health; renames the
table in the warehouse and sees the failure on the KPI with the database's message; a
webhook source's page shows the curl line that adds a point."""

from __future__ import annotations

import re
import sqlite3

import pytest

from accounts.models import Role
from kpis.models import DataPoint, Kpi, KpiHealth
from sources import demo
from sources.models import DataSource, SourceRun
from tests.factories import KpiFactory, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_connect_test_schedule_run_and_see_failure(open_page, settings, tmp_path):
    settings.HEADWAY_SOURCE_SQLITE_DIRS = [str(tmp_path)]
    warehouse = demo.build_warehouse(tmp_path / "demo_warehouse.sqlite3")
    org = OrganizationFactory(name="Acme", slug="acme")
    admin = UserFactory(name="Ana Admin", email="ana@example.com")
    MembershipFactory(user=admin, organization=org, role=Role.ADMIN)
    kpi = KpiFactory(organization=org, name="Tickets opened", unit="tickets",
                     frequency=Kpi.Frequency.WEEKLY, target_rule=Kpi.TargetRule.AT_MOST,
                     target_value=170, owner=admin)

    w = open_page()
    w.enter_as(admin)
    w.goto("/o/acme/kpis/")
    w.page.get_by_role("link", name="Data sources").click()
    w.page.get_by_role("link", name="New data source").first.click()
    w.page.fill("#id_name", "Support warehouse")
    w.page.select_option("#id_kind", "sql")
    w.page.fill("#id_url", f"sqlite:///{warehouse}")
    w.page.fill("#id_query", "select week, opened from support_tickets order by week")
    w.page.select_option("#id_kpi", str(kpi.pk))
    w.page.select_option("#id_schedule", "daily")
    w.page.fill("#id_run_at", "06:00")
    w.page.get_by_role("button", name="Test").click()
    w.assert_clean()
    result = w.page.locator("#test-result")
    assert "104 rows read" in result.inner_text()
    assert "Would create 104, replace 0" in result.inner_text()
    assert not DataPoint.objects.exists() and not DataSource.objects.exists()  # wrote nothing

    w.page.get_by_role("button", name="Create data source").click()
    w.page.wait_for_url(re.compile(r"/o/acme/sources/\d+/$"))
    w.assert_clean()
    source = DataSource.objects.get(organization=org)
    assert source.schedule == "daily" and source.next_run_at is not None
    assert "Every" not in w.page.locator("h1 + p").inner_text()  # "Daily at a time 06:00"

    w.page.get_by_role("button", name="Run now").click()
    w.assert_clean()
    runs = w.page.locator("#runs tbody tr")
    assert "Succeeded" in runs.first.inner_text() and "104" in runs.first.inner_text()

    w.page.get_by_role("link", name="Tickets opened").click()
    w.assert_clean()
    body = w.page.locator("main").inner_text()
    assert "Fed by the data source Support warehouse" in body
    assert "104 values" in body
    health = KpiHealth.objects.get(kpi=kpi)  # evaluated through the (eager) worker
    assert health.points_count == 104 and health.status in ("on_target", "off_target")
    assert health.get_status_display() in body

    # The edit form saved untouched changes nothing (the URL stays, no secret is lost).
    before = DataSource.objects.filter(pk=source.pk).values().get()
    w.goto(f"/o/acme/sources/{source.pk}/edit/")
    w.page.get_by_role("button", name="Save").click()
    w.page.wait_for_url(re.compile(rf"/o/acme/sources/{source.pk}/$"))
    after = DataSource.objects.filter(pk=source.pk).values().get()
    for field in ("url_encrypted", "url_display", "query", "schedule", "run_at", "next_run_at",
                  "timeout_seconds", "row_cap", "secret_encrypted"):
        assert before[field] == after[field], field

    con = sqlite3.connect(warehouse)
    con.execute("alter table support_tickets rename to tickets_archive")
    con.commit()
    con.close()
    w.page.get_by_role("button", name="Run now").click()
    w.assert_clean()
    assert "no such table: support_tickets" in w.page.locator("#source-failing").inner_text()
    assert SourceRun.objects.filter(source=source, status="failed").count() == 1
    w.goto(f"/o/acme/kpis/{kpi.pk}/")
    feed = w.page.locator("#kpi-feed").inner_text()
    assert "Source failing since" in feed and "no such table: support_tickets" in feed
    w.goto("/o/acme/kpis/")
    assert w.page.get_by_text("Source failing").count() == 1
    assert DataPoint.objects.filter(kpi=kpi).count() == 104  # nothing lost


def test_webhook_curl_line_adds_a_point(open_page, live_server):
    import json
    import urllib.request

    org = OrganizationFactory(name="Acme", slug="acme")
    admin = UserFactory(name="Ana Admin", email="ana@example.com")
    MembershipFactory(user=admin, organization=org, role=Role.ADMIN)
    kpi = KpiFactory(organization=org, name="Deploys", frequency=Kpi.Frequency.WEEKLY)
    w = open_page()
    w.enter_as(admin)
    w.goto("/o/acme/sources/new/")
    w.page.fill("#id_name", "CI webhook")
    w.page.select_option("#id_kind", "webhook")
    w.page.select_option("#id_kpi", str(kpi.pk))
    w.page.get_by_role("button", name="Create data source").click()
    w.page.wait_for_url(re.compile(r"/o/acme/sources/\d+/$"))
    w.assert_clean()
    w.goto(f"/o/acme/kpis/{kpi.pk}/")
    curl = w.page.locator("#webhook-curl").inner_text()
    hook = re.search(r"(http\S+/hooks/sources/\S+/)", curl).group(1)
    path = hook[hook.index("/hooks/"):]
    body = json.loads(re.search(r"-d '([^']+)'", curl).group(1))
    request = urllib.request.Request(live_server.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:  # noqa: S310 - the test's own server
        assert json.load(response)["created"] == 1
    w.goto(f"/o/acme/kpis/{kpi.pk}/")
    assert "1 value" in w.page.locator("main").inner_text()
    assert DataPoint.objects.get(kpi=kpi).source == "webhook"
