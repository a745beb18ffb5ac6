"""The team page: objectives, KPIs, 8 weeks of check-in completion (chart + table), members."""

from __future__ import annotations

from kpis.models import Kpi
from okrs.models import Objective
from tests.conftest import build_org, page_queries, url
from tests.factories import TeamFactory, UserFactory


def test_team_page_shows_objectives_kpis_completion_and_members(org, owner, viewer, as_user):
    data = build_org(org, owner, 2)
    team = data["teams"][0]
    html = as_user(viewer).get(url("dashboards:team", team=team.slug)).content.decode()
    assert team.name in html
    own = [o for o in data["objectives"] if o.team_id == team.pk]
    other = [o for o in data["objectives"] if o.team_id not in (None, team.pk)]
    assert own and all(o.title in html for o in own)
    assert not any(o.title in html for o in other)
    assert all(k.name in html for k in data["kpis"] if k.team_id == team.pk)
    assert owner.display_name in html
    assert 'data-target="team-completion"' in html
    assert "plotly-strict.min.js" in html  # for the completion chart
    own_kpis = [k for k in data["kpis"] if k.team_id == team.pk]
    assert html.count('<svg class="sparkline" ') == len(own_kpis) > 0  # KPI tiles: SVG
    assert html.count('class="plot-data"') == 1  # the completion chart only
    assert "Check-in completion of" in html  # text alternative of the chart
    assert "<table>" in html


def test_team_without_anything_is_friendly(org, owner, as_user):
    team = TeamFactory(organization=org, name="New team")
    response = as_user(owner).get(url("dashboards:team", team=team.slug))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No objectives for this team" in html
    assert "This team owns no KPIs." in html
    assert "No key results to check in on yet." in html
    assert "plotly" not in html  # no chart on the page: no plotly.js


def test_team_of_another_organisation_is_404(org, owner, outsider, as_user):
    from accounts.models import Organization

    foreign = TeamFactory(organization=Organization.objects.get(slug="globex"))
    assert as_user(owner).get(url("dashboards:team", team=foreign.slug)).status_code == 404
    assert as_user(owner).get(url("dashboards:team_csv", team=foreign.slug)).status_code == 404


def test_team_page_queries_do_not_grow(org, owner, as_user):
    data = build_org(org, owner, 1)
    team = data["teams"][0]
    client = as_user(owner)
    client.get(url("dashboards:team", team=team.slug))
    small = page_queries(client, url("dashboards:team", team=team.slug))
    more = build_org(org, owner, 4)
    # Move everything of the bigger build onto this team: more objectives, KPIs, members.
    Objective.objects.filter(team__in=more["teams"]).update(team=team)
    Kpi.objects.filter(team__in=more["teams"]).update(team=team)
    team.members.add(*[UserFactory() for _ in range(4)])
    assert page_queries(client, url("dashboards:team", team=team.slug)) == small


def test_team_csv(org, owner, as_user):
    data = build_org(org, owner, 1)
    team = data["teams"][0]
    text = as_user(owner).get(url("dashboards:team_csv", team=team.slug)).content.decode("utf-8-sig")
    assert "Objective" in text and "KPI" in text and "Check-in week" in text


def test_a_team_with_many_kpis_shows_those_needing_attention_first(org, owner, as_user):
    from dashboards.team.selectors import TEAM_KPIS
    from kpis.models import KpiHealth
    from tests.factories import KpiFactory

    team = TeamFactory(organization=org, slug="big")
    for i in range(TEAM_KPIS + 3):
        kpi = KpiFactory(organization=org, team=team, name=f"Fine {i:02d}")
        KpiHealth.objects.create(kpi=kpi, status="on_target")
    bad = KpiFactory(organization=org, team=team, name="Zz broken")
    KpiHealth.objects.create(kpi=bad, status="off_target")
    html = as_user(owner).get(url("dashboards:team", team="big")).content.decode()
    assert "Zz broken" in html  # sorts last by name, first by status
    assert "All of them in Operations" in html and "?team=big" in html
    assert html.count('class="tile kpi-tile') == TEAM_KPIS
