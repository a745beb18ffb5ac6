"""A team's page and its CSV."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import get_team_for_member, has_role, org_view
from accounts.models import Role
from core import charts
from dashboards import exports
from dashboards.kpi_rows import link_kpi_rows
from dashboards.links import Links, linked
from dashboards.team.selectors import team_page
from okrs.checkins.charts import completion_bars


@org_view(Role.VIEWER)
def team(request: HttpRequest, team: str) -> HttpResponse:
    team_obj = get_team_for_member(request, team)
    page = team_page(request.org, team_obj)
    links = Links(request.org.slug)
    link_kpi_rows(links, page.kpis)
    ctx = {
        "team": team_obj, "cycle": page.cycle,
        "objectives": [linked(r, links.obj("okrs:objective", r.objective.pk))
                       for r in page.objectives],
        "expected": page.expected, "kpis": page.kpis, "more_kpis": page.more_kpis,
        "lead": team_obj.lead,
        "operations_url": links.page("dashboards:operations") + f"?team={team_obj.slug}",
        "members": list(team_obj.members.order_by("name", "email")),  # 1 query
        "completion": page.completion,
        "completion_json": charts.to_json(completion_bars(
            [(w.week_start, w.done, w.total) for w in page.weeks])) if page.has_due else "",
        "completion_label": page.completion_label,
        "teams_url": links.page("accounts:teams"),
        "checkin_url": links.obj("checkins:team", team_obj.slug, "team"),
        "new_objective_url": links.page("okrs:objective_create")
        if has_role(request, Role.LEADER) else "",
    }
    return render(request, "dashboards/team.html", ctx)


@org_view(Role.VIEWER)
def team_csv(request: HttpRequest, team: str) -> HttpResponse:
    team_obj = get_team_for_member(request, team)
    return exports.csv_response(f"{request.org.slug}-team-{team_obj.slug}",
                                exports.TEAM_HEADER,
                                exports.team_rows(team_page(request.org, team_obj)))
