"""Reads for the leader dashboard. A fixed number of queries of a bounded number of small
rows, whatever the size of the organisation (pinned by tests/test_dashboard*.py).

Progress is never computed here: the company-level objectives' figures and the pillars'
running sums are read as okrs.figures stored them on write (issue 16), and only what
moves with the clock (expected progress, overdue statuses) is derived at read time; no
other objective or key result is read. Check-in completion is counted per team with
okrs.checkins' rule. KPI health comes from the ``KpiHealth`` rows that ``kpis.health``
writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Organization, Team
from dashboards.home.feed import FeedItem, recent_changes
from dashboards.kpi_rows import (
    LIGHT,
    SPARK_POINTS,
    KpiRow,
    kpi_queryset,
    kpi_rows,
    stored_status_counts,
    with_points,
)
from dashboards.strategy_map.selectors import PillarLine, pillar_lines
from goals.models import Cycle
from goals.selectors import active_goal
from kpis.models import Kpi, KpiHealth
from okrs import figures
from okrs import progress as P
from okrs.checkins.selectors import _counted_krs
from okrs.checkins.services import week_start_for
from okrs.models import CheckIn, Objective
from okrs.selectors import ObjectiveRow

ATTENTION_LIMIT = 8
CANDIDATE_LIMIT = 10


@dataclass
class TeamLine:
    """A team's check-in completion for one week (okrs.checkins.selectors counts it)."""

    team: Team
    done: int
    total: int
    url: str = ""
    behind_below: float = 0.8

    @property
    def share(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def pct(self) -> int:
        return round(self.share * 100)

    @property
    def behind(self) -> bool:
        return self.share < self.behind_below


def team_completion_lines(org: Organization, week_start: dt.date) -> list[TeamLine]:
    """The teams with key results to check in on in the week starting `week_start`, with
    how many were checked in, weakest first. Two queries: one aggregate, the teams.

    The figures of okrs.checkins.selectors.team_completion (the same key results, from
    its _counted_krs), but "checked in" is read from that week's check-ins through the
    (organization, week_start) index, where team_completion joins every check-in of
    every key result to count the week's."""
    week_krs = (CheckIn.objects.filter(organization=org, week_start=week_start, undone=False)
                .values("key_result_id"))
    counts = {row["objective__team_id"]: row for row in (
        _counted_krs(org, week_start).values("objective__team_id")
        .annotate(total=Count("id"), done=Count("id", filter=Q(id__in=week_krs)))
        .order_by())}  # query 1
    lines = [TeamLine(team=team, done=counts[team.pk]["done"], total=counts[team.pk]["total"])
             for team in Team.objects.filter(organization=org) if team.pk in counts]  # 2
    lines.sort(key=lambda c: (c.share, c.team.name))
    return lines


# The attention list's order — off target first, then those with an unfavourable signal,
# then by name — as four groups that together are kpi_rows.ATTENTION. Sorting all of
# ATTENTION by a CASE cannot use an index (every KPI needing attention joined and sorted
# on every request); each group read by name walks the unique (organization, name) index
# and stops after `limit` matches.
ATTENTION_GROUPS = (  # SQL conditions on the health row `h`; %s is "off_target"
    "h.status = %s AND h.has_unfavourable_signal",
    "h.status = %s AND NOT h.has_unfavourable_signal",
    "h.status <> %s AND h.has_unfavourable_signal",
    "h.status <> %s AND NOT h.has_unfavourable_signal AND h.is_stale",
)


def _attention_ids(org: Organization, limit: int) -> list[int]:
    """The ids of the first `limit` KPIs needing attention, in order: one query, the four
    groups each `ORDER BY name LIMIT limit` inside a UNION ALL. Plain SQL: the ORM puts no
    LIMIT inside a union's parts on SQLite."""
    kpi, health = Kpi._meta.db_table, KpiHealth._meta.db_table
    parts, params = [], []
    for i, condition in enumerate(ATTENTION_GROUPS):
        parts.append(
            f"SELECT * FROM (SELECT k.id, {i} AS attention_group, k.name FROM {kpi} k "  # noqa: S608 (no user input)
            f"JOIN {health} h ON h.kpi_id = k.id WHERE k.organization_id = %s AND k.active "
            f"AND {condition} ORDER BY k.name LIMIT %s) AS group_{i}")
        params += [org.pk, KpiHealth.Status.OFF_TARGET.value, limit]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        found = cursor.fetchall()
    found.sort(key=lambda row: (row[1], row[2]))
    return [row[0] for row in found[:limit]]


def attention_rows(org: Organization, *, limit: int = ATTENTION_LIMIT,
                   spark_points: int = SPARK_POINTS) -> list[KpiRow]:
    """The first `limit` active KPIs needing attention (kpi_rows.ATTENTION): off target
    first, then those with an unfavourable signal, then by name; with their newest points.
    Three queries of a few rows each: the ids, those KPIs with health, team and owner,
    their points."""
    ids = _attention_ids(org, limit)  # 1 query
    kpis = {k.pk: k for k in kpi_queryset(org, ids=ids, defer=LIGHT)}  # 1 query
    return with_points([kpis[pk] for pk in ids if pk in kpis], spark_points)  # 1 query


def company_rows(org: Organization, cycle: Cycle, *, now: dt.datetime) -> list[ObjectiveRow]:
    """The cycle's company-level objectives (no team) that are not closed, weakest first,
    with the figures stored on write (one query; their key results are not read)."""
    today = timezone.localtime(now, org.tz).date()
    expected = P.expected_progress(cycle.start, cycle.end, today)
    rows = []
    for o in (Objective.objects.alive()
              .filter(organization=org, cycle=cycle, team__isnull=True)
              .exclude(state=Objective.State.CLOSED)
              .select_related("owner", "cycle").order_by("order", "id")):
        rows.append(ObjectiveRow(
            objective=o, progress=o.progress, rollup=o.rollup, expected=expected,
            status=figures.objective_status(o.status_summary or {}, now,
                                            closed=figures.is_closed(o)),
            pillar_ids=set(o.pillar_ids or ())))
    rows.sort(key=lambda r: (P.status_rank(r.status), r.objective.order, r.objective.id))
    return rows


@dataclass
class Dashboard:
    goal: object | None
    goal_progress: float | None
    pillars: list[PillarLine]
    cycle: object | None
    cycles: list
    expected: float | None  # the cycle's elapsed share (None without a cycle)
    company_rows: list
    kpi_counts: list
    attention: list[KpiRow]
    candidates: list[KpiRow]
    completion: list
    week_start: dt.date | None
    feed: list[FeedItem]

    @property
    def goal_pct(self) -> int | None:
        return None if self.goal_progress is None else round(self.goal_progress * 100)

    @property
    def expected_pct(self) -> int | None:
        return None if self.expected is None else round(self.expected * 100)

    @property
    def kpi_total(self) -> int:
        return sum(n for _k, _l, n in self.kpi_counts)

    @property
    def cycle_progress(self):
        """What the page's bars read as `d.cycle_progress.expected_pct`: the cycle's
        elapsed share (None without a cycle). No CycleProgress is built any more."""
        return self if self.expected is not None else None


def dashboard(org: Organization, links, *, cycle: Cycle | None = None, cycles=None,
              now: dt.datetime | None = None) -> Dashboard:
    """Everything on the leader dashboard for `cycle` (the view picks it: ?cycle=, else
    goals' one rule). Nothing is kept between requests: every figure is a stored row."""
    now = now or timezone.now()
    goal = active_goal(org)  # query
    lines = pillar_lines(org, cycle)  # 2 queries (1 without pillars or cycle)
    goal_value = P.goal_progress(line.progress for line in lines) if (goal and lines) else None
    company = company_rows(org, cycle, now=now) if cycle else []  # query
    expected = (P.expected_progress(cycle.start, cycle.end, timezone.localtime(now, org.tz).date())
                if cycle else None)
    counts = stored_status_counts(org)  # 1 query of the row the health engine keeps
    attention = attention_rows(org)  # 3 queries
    candidates = kpi_rows(org, where=Q(health__candidate=KpiHealth.Candidate.CANDIDATE),
                          limit=CANDIDATE_LIMIT, order_by=("name",), spark_points=0,
                          defer=LIGHT)  # 1 query
    week = week_start_for(org, now)
    completion = team_completion_lines(org, week)  # 2 queries
    return Dashboard(goal=goal, goal_progress=goal_value, pillars=lines, cycle=cycle,
                     cycles=list(cycles or []), expected=expected, company_rows=company,
                     kpi_counts=counts, attention=attention, candidates=candidates,
                     completion=completion, week_start=week,
                     feed=recent_changes(org, links))  # 3 queries
