"""The leader dashboard: empty state, content, candidates promoted / dismissed in place,
query count constant at two sizes, and progress equal to okrs.progress on the demo."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization, User
from kpis.models import Kpi, KpiHealth
from okrs import progress as P
from okrs.models import KeyResult, Objective
from tests.conftest import build_org, page_queries, url
from tests.factories import (
    CycleFactory,
    DataPointFactory,
    KeyResultFactory,
    KpiFactory,
    ObjectiveFactory,
    UltimateGoalFactory,
)

# session, user, membership (3); current cycle (1); goal, pillars (2); objectives, KRs
# (2); KPI counts (1); attention: the ids (its four groups, each walking the
# (organization, name) index, in one UNION ALL), those KPIs, their points (3);
# candidates (1); completion aggregate + teams (2); feed: check-ins, health events,
# audit (3); nav memberships (1).
PINNED_HOME = 19  # the stored pillar figures (one row a pillar) and the company objectives
# only (one query, their key results not read: issue 16), nothing kept between requests


# --- Empty states ----------------------------------------------------------------------


def test_new_organisation_gets_the_getting_started_checklist(org, owner, as_user):
    response = as_user(owner).get(url("dashboards:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Set up your strategy" in html
    assert "Write the ultimate goal" in html and "Add KPIs" in html


def test_new_organisation_csv_is_just_a_header(org, owner, as_user):
    response = as_user(owner).get(url("dashboards:home_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode("utf-8-sig").strip().count("\n") == 0


def test_kpis_only_shows_the_dashboard_with_what_is_left_to_set_up(org, owner, as_user):
    kpi = KpiFactory(organization=org)
    KpiHealth.objects.create(kpi=kpi, status=KpiHealth.Status.OFF_TARGET, latest_value=50)
    html = as_user(owner).get(url("dashboards:home")).content.decode()
    assert "Finish setting up" in html and "Open a cycle" in html
    assert "KPI health" in html and kpi.name in html
    assert "Open a cycle to set objectives for it." in html


# --- Content ------------------------------------------------------------------------------


def test_dashboard_shows_goal_pillars_objectives_kpis_candidates_completion(
        org, owner, as_user):
    data = build_org(org, owner, 2)
    html = as_user(owner).get(url("dashboards:home")).content.decode()
    assert data["goal"].title in html
    for pillar in data["pillars"]:
        assert pillar.name in html
    company = [o for o in data["objectives"] if o.team_id is None]
    team_level = [o for o in data["objectives"] if o.team_id is not None]
    for obj in company:
        assert obj.title in html
    for obj in team_level:  # only company-level objectives on the dashboard
        assert obj.title not in html
    candidates = [k for k in data["kpis"] if k.health.candidate == "candidate"]
    for kpi in candidates:
        assert f'id="candidate-{kpi.pk}"' in html
    assert "Promote to OKR" in html
    for team in data["teams"]:
        assert team.name in html
    assert "Recent changes" in html and "checked in on" in html


def test_viewer_sees_candidates_without_buttons(org, owner, viewer, as_user):
    build_org(org, owner, 1)
    html = as_user(viewer).get(url("dashboards:home")).content.decode()
    assert "Improvement candidates" in html
    assert "Promote to OKR" not in html


def test_attention_sparklines_are_inline_svg_without_plotly(org, owner, as_user):
    data = build_org(org, owner, 1)
    html = as_user(owner).get(url("dashboards:home")).content.decode()
    attention = [k for k in data["kpis"] if k.health.status == "off_target"]
    assert attention
    for kpi in attention:  # the SVG carries the text alternative the Plotly chart had
        assert f'<svg class="sparkline" width="100%" height="40" role="img" ' \
               f'aria-label="{kpi.name}, last ' in html
    # No Plotly chart is left on the dashboard: no figure JSON, no plotly.js.
    assert 'class="plot-data"' not in html and "plotly" not in html


def test_sparkline_label_is_escaped(org, owner, as_user):
    data = build_org(org, owner, 1)
    kpi = next(k for k in data["kpis"] if k.health.status == "off_target")
    Kpi.objects.filter(pk=kpi.pk).update(name='</svg><script>alert(1)</script>"')
    html = as_user(owner).get(url("dashboards:home")).content.decode()
    assert "<script>alert(1)" not in html
    assert 'aria-label="&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;, last ' in html


def test_dashboard_queries_do_not_grow_with_the_organisation(owner, as_user, org):
    build_org(org, owner, 1)
    client = as_user(owner)
    client.get(url("dashboards:home"))  # warm the session
    small = page_queries(client, url("dashboards:home"))
    build_org(org, owner, 4)
    large = page_queries(client, url("dashboards:home"))
    assert small == large
    assert small == PINNED_HOME, small


def test_dashboard_csv_has_goal_pillars_objectives_and_kpis(org, owner, as_user):
    data = build_org(org, owner, 1)
    text = as_user(owner).get(url("dashboards:home_csv")).content.decode("utf-8-sig")
    assert data["goal"].title in text
    assert data["pillars"][0].name in text
    assert "Improvement candidate" in text


# --- Candidates: promote and dismiss in place ------------------------------------------


@pytest.fixture
def candidate(org, owner):
    CycleFactory(organization=org)
    kpi = KpiFactory(organization=org, owner=owner, name="Reply time", target_value=30)
    for w in range(8):
        DataPointFactory(kpi=kpi, value=50 + w, period_start=dt.date(2026, 1, 5)
                         + dt.timedelta(weeks=w))
    KpiHealth.objects.create(kpi=kpi, status=KpiHealth.Status.OFF_TARGET, latest_value=57,
                             center=53.5, candidate=KpiHealth.Candidate.CANDIDATE,
                             candidate_reason="Off target for 8 weeks")
    return kpi


def test_leader_promotes_a_candidate_in_place(org, leader, candidate, as_user):
    response = as_user(leader).post(url("okrs:promote_kpi", kpi_pk=candidate.pk),
                                    HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<li class="candidate" id="candidate-')
    assert "Promoted into the draft objective" in html
    assert "toast" in response["HX-Trigger"]
    objective = Objective.objects.get(organization=org, key_results__kpi=candidate)
    assert objective.state == Objective.State.DRAFT
    assert KpiHealth.objects.get(kpi=candidate).candidate == KpiHealth.Candidate.IN_IMPROVEMENT


def test_promoting_twice_says_why_not(org, leader, candidate, as_user):
    client = as_user(leader)
    client.post(url("okrs:promote_kpi", kpi_pk=candidate.pk), HTTP_HX_REQUEST="true")
    response = client.post(url("okrs:promote_kpi", kpi_pk=candidate.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "already targets this KPI" in response.content.decode()
    assert Objective.objects.filter(organization=org).count() == 1


def test_promote_without_htmx_redirects_with_a_message(org, leader, candidate, as_user):
    # The dashboard card's form names the page to return to.
    response = as_user(leader).post(url("okrs:promote_kpi", kpi_pk=candidate.pk),
                                    {"next": url("dashboards:home")}, follow=True)
    assert response.redirect_chain[-1][0] == url("dashboards:home")
    assert "Promoted into a draft objective" in response.content.decode()


def test_dismiss_needs_a_note(org, leader, candidate, as_user):
    client = as_user(leader)
    response = client.post(url("kpis:dismiss", pk=candidate.pk), {"note": "  "},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Say why" in response.content.decode()
    assert KpiHealth.objects.get(kpi=candidate).candidate == KpiHealth.Candidate.CANDIDATE
    response = client.post(url("kpis:dismiss", pk=candidate.pk),
                           {"note": "Seasonal peak"}, HTTP_HX_REQUEST="true")
    assert "Dismissed: Seasonal peak" in response.content.decode()
    health = KpiHealth.objects.get(kpi=candidate)
    assert health.candidate == KpiHealth.Candidate.DISMISSED
    assert health.dismissed_note == "Seasonal peak"


def test_candidate_of_another_organisation_is_404(org, leader, as_user, outsider):
    other = Organization.objects.get(slug="globex")
    foreign = KpiFactory(organization=other)
    KpiHealth.objects.create(kpi=foreign, status="off_target", candidate="candidate")
    client = as_user(leader)
    assert client.post(url("okrs:promote_kpi", kpi_pk=foreign.pk)).status_code == 404
    assert client.post(url("kpis:dismiss", pk=foreign.pk),
                       {"note": "x"}).status_code == 404
    assert KpiHealth.objects.get(kpi=foreign).candidate == "candidate"


def test_member_cannot_promote(org, member, candidate, as_user):
    response = as_user(member).post(url("okrs:promote_kpi", kpi_pk=candidate.pk))
    assert response.status_code == 403
    assert not Objective.objects.filter(organization=org).exists()


def test_promote_is_post_only(org, leader, candidate, as_user):
    assert as_user(leader).get(url("okrs:promote_kpi", kpi_pk=candidate.pk)).status_code == 405


# --- Numbers agree (demo) ------------------------------------------------------------------


def _independent_progress(org):
    """Objective, pillar and goal progress straight from okrs.progress and the rows."""
    from goals.selectors import current_cycle

    cycle = current_cycle(org)
    objs = list(Objective.objects.alive().filter(organization=org, cycle=cycle))
    nodes = []
    for o in objs:
        krs = []
        for kr in KeyResult.objects.alive().filter(objective=o):
            current = (1 if kr.done else 0) if kr.kind == "milestone" else kr.current_value
            krs.append(P.KR(kind=kr.kind, start=kr.start_value, target=kr.target_value,
                            current=current, weight=kr.weight, guardrail_op=kr.guard or None))
        nodes.append(P.ObjectiveNode(id=o.pk, parent_id=o.parent_id, pillar_id=o.pillar_id,
                                     progress_from=o.progress_from, krs=krs))
    live = [n for n in nodes if Objective.objects.get(pk=n.id).state != "draft"]
    values = P.tree_progress(live)
    pillar_ids = list(org.pillars.filter(archived=False).values_list("pk", flat=True))
    pillars = P.pillar_progress(pillar_ids, live, values)
    return values, pillars, P.goal_progress(pillars.values())


@pytest.mark.django_db
def test_dashboard_progress_equals_okrs_progress_on_the_demo():
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    org = Organization.objects.get(slug="acme")
    olivia = User.objects.get(email="olivia@acme.test")
    from django.test import Client

    client = Client()
    client.force_login(olivia)
    response = client.get(url("dashboards:home"))
    d = response.context["d"]
    objectives, pillars, goal = _independent_progress(org)
    assert d.company_rows, "the demo has company objectives"
    for row in d.company_rows:
        assert row.progress == pytest.approx(objectives[row.objective.pk])
    for line in d.pillars:
        assert line.progress == pytest.approx(pillars[line.pillar.pk])
    assert d.goal_progress == pytest.approx(goal)
    html = response.content.decode()
    assert f"{round(goal * 100)}%" in html
    # The goal page shows the same goal and pillar percentages.
    goal_page = client.get(reverse("okrs:goal", kwargs={"org_slug": "acme"})).content.decode()
    shown = re.findall(r"(\d+)(?:\s|&nbsp;)?%", goal_page)  # "52 %" or "52%"
    assert str(round(goal * 100)) in shown
    for line in d.pillars:
        assert str(round(pillars[line.pillar.pk] * 100)) in shown
    # The objective page shows the same percentage (when the OKR pages are installed).
    for row in d.company_rows:
        try:
            detail = reverse("okrs:objective", kwargs={"org_slug": "acme", "pk": row.objective.pk})
        except Exception:  # noqa: BLE001 - page not built (yet)
            break
        page = client.get(detail)
        assert page.status_code == 200
        assert re.search(rf"\b{round(objectives[row.objective.pk] * 100)}(?:\s|&nbsp;)?%",
                         page.content.decode())



def test_many_company_objectives_show_the_weakest_twelve(org, owner, as_user):
    cycle = CycleFactory(organization=org)
    UltimateGoalFactory(organization=org)
    for i in range(14):
        obj = ObjectiveFactory(organization=org, cycle=cycle, title=f"Company {i:02d}")
        KeyResultFactory(objective=obj, current_value=50,
                         status="off_track" if i == 13 else "on_track",
                         last_checkin_at=timezone.now())
    html = as_user(owner).get(url("dashboards:home")).content.decode()
    assert "The 12 weakest of 14 company objectives." in html
    assert "Company 13" in html  # off track sorts first


def test_feed_times_read_naturally():
    from dashboards.home.feed import FeedItem

    now = timezone.now()
    assert FeedItem(at=now, kind="kpi", actor="", text="x").ago == "just now"
    assert FeedItem(at=now - dt.timedelta(days=5, hours=3), kind="kpi", actor="",
                    text="x").ago == "5\xa0days ago"


def test_every_setup_step_links_somewhere(org, owner, as_user):
    html = as_user(owner).get(url("dashboards:home")).content.decode()
    steps = re.findall(r'<li class="">○ (<a href="[^"]+">)?([^<]+)', html)
    assert len(steps) == 5 and all(link for link, _label in steps), steps


def test_setup_steps_do_not_link_a_viewer_to_pages_they_cannot_open(org, viewer, leader,
                                                                     as_user):
    html = as_user(viewer).get(url("dashboards:home")).content.decode()
    assert "Write the ultimate goal" in html and "(an admin does this)" in html
    assert "<a href" not in html.split("Set up your strategy")[1].split("</ol>")[0]
    html = as_user(leader).get(url("dashboards:home")).content.decode()
    assert "/okrs/new/" in html and "(a leader does this)" not in html
