"""Operations view: sustain KPIs as tiles grouped by team, its CSV, constant queries."""

from __future__ import annotations

from kpis.models import Kpi, KpiHealth
from tests.conftest import build_org, page_queries, url
from tests.factories import KpiFactory, TeamFactory


def test_empty_operations_links_to_adding_a_kpi(org, admin_user, viewer, as_user):
    html = as_user(admin_user).get(url("dashboards:operations")).content.decode()
    assert "No KPIs to watch yet" in html
    assert "Download CSV" not in html
    assert "/kpis/new/" in html
    html = as_user(viewer).get(url("dashboards:operations")).content.decode()
    assert "An admin adds KPIs." in html and "/kpis/new/" not in html


def test_operations_shows_only_sustain_kpis_grouped_by_team(org, owner, as_user):
    data = build_org(org, owner, 2)
    html = as_user(owner).get(url("dashboards:operations")).content.decode()
    for kpi in data["kpis"]:
        assert (kpi.name in html) == (kpi.intent == Kpi.Intent.SUSTAIN)
    for team in data["teams"]:
        assert f"/teams/{team.slug}/" in html
    # Sparklines as inline SVG with their text alternative; no Plotly chart, no plotly.js.
    assert html.count('<svg class="sparkline" ') == sum(
        k.intent == Kpi.Intent.SUSTAIN for k in data["kpis"])
    assert 'role="img" aria-label="' in html and "last 8 values from" in html
    assert 'class="plot-data"' not in html and "plotly" not in html


def test_kpi_without_health_or_team_is_listed_as_no_data(org, owner, as_user):
    KpiFactory(organization=org, name="Lonely KPI")
    html = as_user(owner).get(url("dashboards:operations")).content.decode()
    assert "Lonely KPI" in html and "No team" in html and "No data" in html


def test_operations_queries_do_not_grow(org, owner, as_user):
    build_org(org, owner, 1)
    client = as_user(owner)
    client.get(url("dashboards:operations"))
    small = page_queries(client, url("dashboards:operations"))
    build_org(org, owner, 4)
    assert page_queries(client, url("dashboards:operations")) == small
    # session, user, membership (3); teams (1); status counts (1); total (1); the page's
    # ids, sorted narrow (1); those KPIs + health (1); their points (1); nav (1); the
    # page's failing data sources (1)
    assert small == 11


def test_operations_pages_and_filters(org, owner, as_user, settings):
    from dashboards.operations import selectors

    support = TeamFactory(organization=org, name="Support", slug="support")
    other = TeamFactory(organization=org, name="Other", slug="other")
    for i in range(selectors.OPERATIONS_PAGE_SIZE + 5):
        kpi = KpiFactory(organization=org, team=support, name=f"Support KPI {i:03d}")
        KpiHealth.objects.create(kpi=kpi, status="off_target" if i % 2 else "on_target")
    KpiFactory(organization=org, team=other, name="Other KPI")
    client = as_user(owner)
    first = client.get(url("dashboards:operations")).content.decode()
    assert "Page 1 of 2" in first and "Support KPI 000" in first
    assert "Support KPI 064" not in first and "Other KPI" in first  # Other sorts first
    second = client.get(url("dashboards:operations") + "?page=2").content.decode()
    assert "Support KPI 064" in second
    assert client.get(url("dashboards:operations") + "?page=abc").status_code == 200
    assert client.get(url("dashboards:operations") + "?page=99").status_code == 200  # last page
    team_only = client.get(url("dashboards:operations") + "?team=other").content.decode()
    assert "Other KPI" in team_only and "Support KPI 000" not in team_only
    off = client.get(url("dashboards:operations") + "?team=support&status=off_target").content.decode()
    assert "Support KPI 001" in off and "Support KPI 000" not in off
    assert "Page 1 of 1" not in off  # 32 KPIs: one page, no pager
    nothing = client.get(url("dashboards:operations") + "?status=stale").content.decode()
    assert "No KPI matches these filters." in nothing
    assert client.get(url("dashboards:operations") + "?team=globex-team&status=bogus").status_code == 200
    csv = client.get(url("dashboards:operations_csv") + "?team=other").content.decode("utf-8-sig")
    assert "Other KPI" in csv and "Support KPI" not in csv


def test_operations_csv(org, owner, as_user):
    team = TeamFactory(organization=org, name="Support")
    kpi = KpiFactory(organization=org, team=team, name="=HYPERLINK(evil)")
    KpiHealth.objects.create(kpi=kpi, status="off_target", latest_value=42, is_stale=True)
    response = as_user(owner).get(url("dashboards:operations_csv"))
    assert response["Content-Disposition"].startswith('attachment; filename="acme-operations-')
    text = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK(evil)" in text  # never a formula in a spreadsheet
    assert "Support" in text and "Off target" in text and ",42.0," in text
