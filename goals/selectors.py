"""Reads for goals: the active goal, pillars and the cycle to show by default."""

from __future__ import annotations

import datetime as dt

from accounts.models import Organization
from goals.models import Cycle, PillarFigure, StrategicPillar, UltimateGoal


def org_today(organization: Organization) -> dt.date:
    return organization.local_now().date()


def active_goal(organization: Organization) -> UltimateGoal | None:
    return UltimateGoal.objects.filter(organization=organization, is_active=True).first()


def pillars_for(organization: Organization, *, include_archived: bool = False):
    qs = StrategicPillar.objects.filter(organization=organization)
    if not include_archived:
        qs = qs.filter(archived=False)
    return list(qs.order_by("order", "id"))


def cycles_for(organization: Organization) -> list[Cycle]:
    return list(Cycle.objects.filter(organization=organization).order_by("-start", "kind", "id"))


def open_cycle_on(cycles: list[Cycle], today: dt.date) -> Cycle | None:
    """The shortest open cycle containing today (a quarter before its year), if any."""
    containing = [c for c in cycles if c.state == Cycle.State.OPEN and c.start <= today <= c.end]
    if not containing:
        return None
    return min(containing, key=lambda c: ((c.end - c.start).days, -c.start.toordinal()))


def pick_current_cycle(cycles: list[Cycle], today: dt.date) -> Cycle | None:
    """The cycle every page shows by default, from an already loaded list (no query).

    The one rule (issue 14, defect 8):

    1. the shortest cycle containing today, open or closed (a quarter before its year): a
       quarter closed early is still this quarter until its last day, so the dashboard,
       the review, the strategy map and the OKR list keep showing it (its frozen scores),
       rather than jumping to the year with nothing in it;
    2. else (today lies outside every cycle) the open cycle starting soonest after today;
    3. else the most recently ended cycle.

    Writes that need an open cycle ask for one (``current_cycle(open_only=True)``).
    """
    if not cycles:
        return None
    containing = [c for c in cycles if c.start <= today <= c.end]
    if containing:
        return min(containing, key=lambda c: ((c.end - c.start).days, -c.start.toordinal(),
                                              c.state != Cycle.State.OPEN))
    upcoming = [c for c in cycles if c.state == Cycle.State.OPEN and c.start > today]
    if upcoming:
        return min(upcoming, key=lambda c: c.start)
    return max(cycles, key=lambda c: (c.end, c.start))


def current_cycle(organization: Organization, today: dt.date | None = None, *,
                  open_only: bool = False) -> Cycle | None:
    """The cycle to show by default, today in the organisation's time zone (one query).
    With ``open_only``, only an open cycle containing today (what a promoted KPI's
    objective goes into), else None."""
    cycles, today = cycles_for(organization), today or org_today(organization)
    return open_cycle_on(cycles, today) if open_only else pick_current_cycle(cycles, today)


def pick_cycle(organization: Organization, cycles: list[Cycle], requested: str = ""
               ) -> Cycle | None:
    """The cycle a page shows: the one asked for (``?cycle=<pk>``) among ``cycles`` (the
    organisation's, already loaded), else the current one in the organisation's time zone.
    No query. An unknown or foreign id falls back to the current cycle."""
    if requested.isascii() and requested.isdigit():
        pk = int(requested)
        for c in cycles:
            if c.pk == pk:
                return c
    return pick_current_cycle(cycles, org_today(organization))


def pillar_figures(cycle: Cycle) -> dict[int, PillarFigure]:
    """Every pillar's stored figure in a cycle, by pillar id (one query).

    The one rule for "how many objectives support a pillar" and its progress (issue 14,
    defect 10): the cycle's non-draft objectives that support it directly or through
    their parent chain, as okrs.figures keeps them on write. The goal page and the pillars
    page both read it, for the same cycle (pick_cycle)."""
    return {f.pillar_id: f for f in PillarFigure.objects.filter(cycle=cycle)}
