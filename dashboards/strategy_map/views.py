"""The strategy map, a subtree of it (htmx, or a page of its own without JavaScript) and
its CSV."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import org_view
from accounts.models import Role
from dashboards import exports
from dashboards.getting_started import unfinished_steps
from dashboards.links import Links
from dashboards.params import cycle_query, shown_cycle
from dashboards.strategy_map import selectors

NODE_KINDS = {"pillar", "objective", "unaligned"}


@org_view(Role.VIEWER)
def strategy_map(request: HttpRequest) -> HttpResponse:
    cycle, cycles = shown_cycle(request)
    links = Links(request.org.slug)
    smap = selectors.strategy_map(request.org, cycle, cycles, links)
    ctx = {
        "m": smap, "cycle": cycle, "cycle_query": cycle_query(cycle),
        "steps": unfinished_steps(request)
        if (smap.goal is None or not smap.pillars or cycle is None) else [],
        "goal_url": links.page("okrs:goal"),
    }
    return render(request, "dashboards/strategy_map.html", ctx)


@org_view(Role.VIEWER)
def strategy_node(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in NODE_KINDS:
        raise Http404("No such node.")
    cycle, cycles = shown_cycle(request)
    found = selectors.map_subtree(request.org, cycle, cycles, kind, pk, Links(request.org.slug))
    if found is None:
        raise Http404("No such node in this cycle.")
    krs, objectives, title = found
    ctx = {"krs": krs, "objectives": objectives, "cycle": cycle, "node_title": title,
           "cycle_query": cycle_query(cycle), "kind": kind, "pk": pk}
    if request.htmx:
        return render(request, "dashboards/strategy_map.html#subtree", ctx)
    # Without JavaScript, a node opens as its own page.
    ctx["node_page"] = True
    ctx["m"] = None
    return render(request, "dashboards/strategy_map.html", ctx)


@org_view(Role.VIEWER)
def strategy_csv(request: HttpRequest) -> HttpResponse:
    cycle, cycles = shown_cycle(request)
    smap = selectors.strategy_map(request.org, cycle, cycles, Links(request.org.slug),
                                  whole=True)
    name = f"{request.org.slug}-strategy" + (f"-{cycle.name}" if cycle else "")
    return exports.csv_response(name.replace(" ", "-"), exports.STRATEGY_HEADER,
                                exports.strategy_rows(smap))
