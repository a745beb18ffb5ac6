"""The strategic review and its CSV."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.access import has_role, org_view
from accounts.models import Role
from dashboards import exports
from dashboards.links import Links, linked
from dashboards.params import cycle_query, page_number, shown_cycle
from dashboards.review import selectors


@org_view(Role.VIEWER)
def review(request: HttpRequest) -> HttpResponse:
    cycle, cycles = shown_cycle(request)
    links = Links(request.org.slug)
    data = selectors.review(request.org, cycle, cycles, links, page=page_number(request))
    data.at_risk = [(linked(r, links.obj("okrs:objective", r.objective.pk)), k)
                    for r, k in data.at_risk]
    for row in data.improve_without_okr:
        row.url = links.obj("kpis:detail", row.kpi.pk)
    ctx = {
        "r": data, "cycle": cycle, "cycle_query": cycle_query(cycle),
        "cycle_url": links.page("goals:cycle_create") if has_role(request, Role.ADMIN) else "",
        "candidates_url": links.page("kpis:candidates"),
        "today": timezone.localdate(),
    }
    return render(request, "dashboards/review.html", ctx)


@org_view(Role.VIEWER)
def review_csv(request: HttpRequest) -> HttpResponse:
    cycle, cycles = shown_cycle(request)
    data = selectors.review(request.org, cycle, cycles, Links(request.org.slug), per_page=10 ** 6)
    name = f"{request.org.slug}-review" + (f"-{cycle.name}" if cycle else "")
    return exports.csv_response(name.replace(" ", "-"), exports.REVIEW_HEADER,
                                exports.review_rows(data))
