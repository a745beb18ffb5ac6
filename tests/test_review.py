"""The strategic review: improvement OKRs with their KPIs' XmR charts, KRs at risk, CSV,
print stylesheet hooks, constant queries."""

from __future__ import annotations

import json
import re

from accounts.models import Organization
from kpis.models import Kpi
from okrs.models import KeyResult
from tests.conftest import build_org, page_queries, url
from tests.factories import CycleFactory, KeyResultFactory, KpiFactory, ObjectiveFactory


def link_krs_to_kpis(data):
    """Make the company objectives improvement OKRs: their KR targets an improve KPI."""
    improve = [k for k in data["kpis"] if k.intent == Kpi.Intent.IMPROVE]
    company = [o for o in data["objectives"] if o.team_id is None]
    for obj, kpi in zip(company, improve, strict=False):
        KeyResult.objects.filter(objective=obj).update(kpi=kpi)
    return company, improve


def test_no_cycle_links_to_opening_one(org, owner, viewer, as_user):
    html = as_user(owner).get(url("dashboards:review")).content.decode()
    assert "No cycle yet" in html and "/cycles/new/" in html
    html = as_user(viewer).get(url("dashboards:review")).content.decode()
    assert "An admin opens cycles." in html and "/cycles/new/" not in html


def test_cycle_without_improvement_okrs_says_how_to_get_one(org, owner, as_user):
    CycleFactory(organization=org)
    html = as_user(owner).get(url("dashboards:review")).content.decode()
    assert "No improvement OKRs in" in html
    assert "No key result is at risk." in html


def test_improvement_objectives_with_their_kpi_chart_and_text(org, owner, viewer, as_user):
    data = build_org(org, owner, 2)
    company, improve = link_krs_to_kpis(data)
    html = as_user(viewer).get(url("dashboards:review")).content.decode()
    for obj in company:
        assert obj.title in html
    for kpi in improve:
        assert kpi.name in html
    # business as usual stays out: sustain KPIs are not on the review
    for kpi in data["kpis"]:
        if kpi.intent == Kpi.Intent.SUSTAIN:
            assert kpi.name not in html
    blocks = re.findall(r'<script type="application/json" class="plot-data" '
                        r'data-target="([^"]+)">(.*?)</script>', html, re.S)
    assert len(blocks) == len(company)
    assert len({target for target, _ in blocks}) == len(blocks)  # unique chart ids
    fig = json.loads(blocks[0][1])
    assert any(trace.get("name") == "Centre line" for trace in fig["data"])
    # the KPI page's XmR chart (kpis.charts.xmr_data), made compact for the review
    assert fig["layout"]["margin"] == {"l": 44, "r": 8, "t": 8, "b": 30}
    assert fig["layout"]["legend"]["y"] == -0.25
    assert fig["layout"]["legend"]["font"]["size"] == 10
    assert fig["layout"]["height"] == 230
    assert "centre line" in html and "natural process limits" in html  # text alternative
    assert "print-only" in html


def test_kpi_to_improve_without_okr_is_listed(org, owner, as_user):
    CycleFactory(organization=org)
    KpiFactory(organization=org, name="Lonely improve", intent=Kpi.Intent.IMPROVE)
    html = as_user(owner).get(url("dashboards:review")).content.decode()
    assert "KPIs to improve without an OKR" in html and "Lonely improve" in html


def test_key_results_at_risk(org, owner, as_user):
    cycle = CycleFactory(organization=org)
    obj = ObjectiveFactory(organization=org, cycle=cycle)
    bad = KeyResultFactory(objective=obj, title="Badly off", status="off_track",
                           current_value=90)
    fine = KeyResultFactory(objective=obj, title="Just fine", status="on_track",
                            current_value=95)
    html = as_user(owner).get(url("dashboards:review")).content.decode()
    assert bad.title in html and fine.title not in html


def test_foreign_cycle_parameter_falls_back_to_the_current_cycle(org, owner, outsider,
                                                                  as_user):
    mine = CycleFactory(organization=org, name="Ours")
    theirs = CycleFactory(organization=Organization.objects.get(slug="globex"),
                          name="Theirs")
    response = as_user(owner).get(url("dashboards:review") + f"?cycle={theirs.pk}")
    assert response.status_code == 200
    assert response.context["cycle"] == mine
    assert as_user(owner).get(url("dashboards:review") + "?cycle=abc").status_code == 200


def test_review_queries_do_not_grow(org, owner, as_user):
    data = build_org(org, owner, 1)
    link_krs_to_kpis(data)
    client = as_user(owner)
    client.get(url("dashboards:review"))
    small = page_queries(client, url("dashboards:review"))
    more = build_org(org, owner, 4)
    link_krs_to_kpis(more)
    KpiFactory(organization=org, intent=Kpi.Intent.IMPROVE)
    assert page_queries(client, url("dashboards:review")) == small
    # session, user, membership (3); cycles (1); KPIs to improve without OKR (1);
    # objectives, KRs (2); targeted KPIs + health (1); their points (1); nav (1)
    assert small == 10


def test_review_csv(org, owner, as_user):
    data = build_org(org, owner, 1)
    company, improve = link_krs_to_kpis(data)
    text = as_user(owner).get(url("dashboards:review_csv")).content.decode("utf-8-sig")
    assert "Improvement objective" in text and company[0].title in text
    assert "Targeted KPI" in text and improve[0].name in text


def test_improvement_objectives_are_paged(org, owner, as_user):
    from dashboards.review import selectors

    cycle = CycleFactory(organization=org)
    kpi = KpiFactory(organization=org, intent=Kpi.Intent.IMPROVE)
    n = selectors.REVIEW_PAGE_SIZE + 2
    for i in range(n):
        obj = ObjectiveFactory(organization=org, cycle=cycle, title=f"Improve {i:02d}")
        KeyResultFactory(objective=obj, kpi=kpi, current_value=99, status="on_track")
    client = as_user(owner)
    first = client.get(url("dashboards:review")).content.decode()
    assert "Improve 00" in first and f"Improve {n - 1:02d}" not in first
    assert "Page 1 of 2" in first
    second = client.get(url("dashboards:review") + f"?cycle={cycle.pk}&page=2").content.decode()
    assert f"Improve {n - 1:02d}" in second
    assert client.get(url("dashboards:review") + "?page=x").status_code == 200
    csv = client.get(url("dashboards:review_csv")).content.decode("utf-8-sig")
    assert all(f"Improve {i:02d}" in csv for i in range(n))  # the CSV has them all


def test_kpi_linked_kr_progress_against_the_ideal_line(org, owner, as_user):
    import datetime as dt

    from okrs import progress as P
    from tests.factories import DataPointFactory

    cycle = CycleFactory(organization=org)
    kpi = KpiFactory(organization=org, intent=Kpi.Intent.IMPROVE, target_value=30)
    DataPointFactory(kpi=kpi, period_start=cycle.start - dt.timedelta(days=7), value=60)
    DataPointFactory(kpi=kpi, period_start=cycle.start, value=50)
    DataPointFactory(kpi=kpi, period_start=cycle.start + dt.timedelta(days=14), value=40)
    obj = ObjectiveFactory(organization=org, cycle=cycle)
    kr = KeyResultFactory(objective=obj, kpi=kpi, start_value=50, target_value=30,
                          current_value=40, title="Reply time to 30")
    html = as_user(owner).get(url("dashboards:review")).content.decode()
    blocks = dict(re.findall(r'<script type="application/json" class="plot-data" '
                             r'data-target="([^"]+)">(.*?)</script>', html, re.S))
    fig = json.loads(blocks[f"krp-{kr.pk}"])
    ideal, progress = fig["data"]
    assert ideal["y"] == [0, 100]
    # the points inside the cycle, through okrs.progress: 50 -> 0 %, 40 -> 50 %
    assert progress["y"] == [0.0, round(P.metric_progress(50, 30, 40) * 100, 1)] == [0.0, 50.0]
    assert "Reply time to 30: 0% on" in html and "the ideal line is at" in html
