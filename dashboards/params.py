"""What the dashboard pages read from the query string: the page number and the cycle."""

from __future__ import annotations

from goals.selectors import cycles_for, pick_cycle


def page_number(request) -> int:
    try:
        return int(request.GET.get("page", "1"))
    except ValueError:
        return 1


def shown_cycle(request):
    """(cycle, cycles): ?cycle=<pk> among the organisation's cycles, else the current one
    (goals.selectors.pick_cycle). One query."""
    cycles = cycles_for(request.org)
    return pick_cycle(request.org, cycles, request.GET.get("cycle", "")), cycles


def cycle_query(cycle) -> str:
    """The query string that keeps a page's links on the cycle shown."""
    return f"?cycle={cycle.pk}" if cycle else ""
