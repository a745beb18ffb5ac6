"""The leader dashboard and its CSV. Improvement candidates are promoted and dismissed in
place by okrs.promotion_views and kpis.views (their htmx answers swap the card)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import has_role, org_view
from accounts.models import Role
from dashboards import exports
from dashboards.getting_started import setup_steps, unfinished_steps
from dashboards.home.selectors import dashboard
from dashboards.kpi_rows import link_kpi_rows
from dashboards.links import Links, linked
from dashboards.params import cycle_query, shown_cycle


@org_view(Role.VIEWER)
def home(request: HttpRequest) -> HttpResponse:
    org = request.org
    if request.session.get("last_org") != org.slug:
        request.session["last_org"] = org.slug
    links = Links(org.slug)
    cycle, cycles = shown_cycle(request)  # ?cycle=<pk>, else goals' one rule (one query)
    data = dashboard(org, links, cycle=cycle, cycles=cycles)
    if data.goal is None and data.cycle is None and not data.kpi_total:
        return render(request, "dashboards/home.html",
                      {"empty": True, "steps": setup_steps(request)})
    data.company_rows = [linked(r, links.obj("okrs:objective", r.objective.pk))
                         for r in data.company_rows]
    link_kpi_rows(links, data.attention + data.candidates)
    for row in data.candidates:  # the promote / dismiss form actions
        row.promote_url = links.obj("okrs:promote_kpi", row.kpi.pk, "kpi_pk")
        row.dismiss_url = links.obj("kpis:dismiss", row.kpi.pk)
    for c in data.completion:
        c.url = links.obj("dashboards:team", c.team.slug, "team")
    ctx = {
        "d": data,
        "can_promote": has_role(request, Role.LEADER),
        "steps": unfinished_steps(request)
        if (data.goal is None or data.cycle is None or not data.kpi_total) else [],
        "strategy_url": links.page("dashboards:strategy_map"),
        "goal_url": links.page("okrs:goal"),
        "okrs_url": links.page("okrs:list"),
        "review_url": links.page("dashboards:review"),
        "operations_url": links.page("dashboards:operations"),
        "next_url": links.page("dashboards:home"),  # candidate forms posted without htmx
        "cycle_query": cycle_query(cycle),
    }
    return render(request, "dashboards/home.html", ctx)


@org_view(Role.VIEWER)
def home_csv(request: HttpRequest) -> HttpResponse:
    org = request.org
    cycle, cycles = shown_cycle(request)
    data = dashboard(org, Links(org.slug), cycle=cycle, cycles=cycles)
    return exports.csv_response(f"{org.slug}-dashboard", exports.HOME_HEADER,
                                exports.home_rows(data))
