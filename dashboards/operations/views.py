"""Operations (business as usual) and its CSV."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import has_role, org_view
from accounts.models import Role
from dashboards import exports
from dashboards.kpi_rows import KPI_STATUS_LABELS, link_kpi_rows
from dashboards.links import Links
from dashboards.operations.selectors import operations_csv_rows, operations_page
from dashboards.params import page_number
from kpis import feeds as kpi_feeds


@org_view(Role.VIEWER)
def operations(request: HttpRequest) -> HttpResponse:
    data = operations_page(request.org, team_value=request.GET.get("team", ""),
                           status=request.GET.get("status", ""), page=page_number(request))
    links = Links(request.org.slug)
    link_kpi_rows(links, data.rows)
    failing = kpi_feeds.failing([r.kpi.pk for r in data.rows])  # one query: failing sources
    for r in data.rows:
        r.source_failing = failing.get(r.kpi.pk)
    query = urlencode({k: v for k, v in (("team", data.team_value), ("status", data.status))
                       if v})
    ctx = {
        "p": data,
        "query": query,
        "status_choices": list(KPI_STATUS_LABELS.items()),
        "any_kpi": data.total or data.filtered or any(n for _k, _l, n in data.counts),
        "add_kpi_url": links.page("kpis:create"),
        "kpis_url": links.page("kpis:list"),
        "can_admin": has_role(request, Role.ADMIN),
    }
    return render(request, "dashboards/operations.html", ctx)


@org_view(Role.VIEWER)
def operations_csv(request: HttpRequest) -> HttpResponse:
    rows = operations_csv_rows(request.org, team_value=request.GET.get("team", ""),
                               status=request.GET.get("status", ""))
    return exports.csv_response(f"{request.org.slug}-operations", exports.KPI_HEADER,
                                exports.kpi_csv_rows(rows))
