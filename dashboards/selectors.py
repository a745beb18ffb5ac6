"""Reads for the dashboards. Every function runs a fixed number of queries, whatever the
size of the organisation (pinned by tests/test_dashboard*.py, test_operations*.py, ...).

Progress is never computed here: objective / pillar / goal progress comes from
``okrs.selectors`` (which applies ``okrs.progress``), check-in completion from
``okrs.checkins.selectors``. KPI health comes from the ``KpiHealth`` rows that
``kpis.health`` writes.
"""

from __future__ import annotations

import copy
import datetime as dt
import weakref
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from django.db import connection
from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone

from accounts.models import Organization, Team
from core import generations
from goals import charts
from kpis import rules as R
from kpis import selectors as kpis_selectors
from kpis.models import DataPoint, HealthEvent, Kpi, KpiHealth
from kpis.selectors import recent_points

SPARK_POINTS = 12
TILE_SPARK_WIDTH = 200
ATTENTION_SPARK_WIDTH = 90

# The order KPI statuses are listed in (worst first).
KPI_STATUS_ORDER = ["off_target", "stale", "on_target", "no_target", "no_data"]
KPI_STATUS_LABELS = {
    "off_target": "Off target",
    "stale": "Stale",
    "on_target": "On target",
    "no_target": "No target",
    "no_data": "No data",
}


@dataclass
class KpiRow(kpis_selectors.KpiRow):
    """The KPI board's row (status, target, badges, freshness) with what the dashboards
    add: summary buckets, SVG sparklines and their text alternative."""

    @property
    def status_label(self) -> str:
        return KPI_STATUS_LABELS.get(self.status, self.status)

    @property
    def summary_status(self) -> str:
        """One bucket per KPI for counts: stale wins over the target status."""
        return "stale" if self.is_stale else self.status

    @property
    def latest_value(self) -> float | None:
        if self.health and self.health.latest_value is not None:
            return self.health.latest_value
        return self.values[-1] if self.values else None

    @property
    def latest_period(self) -> dt.date | None:
        if self.health and self.health.latest_period:
            return self.health.latest_period
        return self.periods[-1] if self.periods else None

    @property
    def latest_text(self) -> str:
        return R.format_value(self.latest_value, self.kpi.unit, self.kpi.decimals)

    @property
    def has_signal(self) -> bool:
        return bool(self.health and self.health.has_unfavourable_signal)

    @property
    def is_candidate(self) -> bool:
        return bool(self.health and self.health.candidate == KpiHealth.Candidate.CANDIDATE)

    @property
    def needs_attention(self) -> bool:
        return self.status == KpiHealth.Status.OFF_TARGET or self.has_signal or self.is_stale

    # The SVG sparklines (goals.charts.sparkline_svg, as on the KPI board: no figure JSON,
    # no plotly.js), labelled with ``spark_label``, escaped there (templates use |safe).
    # ``width`` is the box they are usually drawn in, so the end dot sits where Plotly put
    # it: a KPI tile's (190 px wide on a desktop, up to 280 on a phone), the attention
    # list's (90 px).
    @property
    def spark_svg(self) -> str:
        return charts.sparkline_svg(self.values, status=self.summary_status,
                                    label=self.spark_label, width=TILE_SPARK_WIDTH)

    @property
    def attention_svg(self) -> str:
        return charts.sparkline_svg(self.values, status=self.summary_status,
                                    label=self.spark_label, width=ATTENTION_SPARK_WIDTH)

    @cached_property  # a KPI tile reads it twice (the chart's label, the hidden text)
    def spark_label(self) -> str:
        if not self.values:
            return f"{self.kpi.name}: no data yet"
        lo, hi = min(self.values), max(self.values)
        fmt = lambda v: R.format_value(v, self.kpi.unit, self.kpi.decimals)  # noqa: E731
        return (f"{self.kpi.name}, last {len(self.values)} values from {fmt(self.values[0])} "
                f"to {fmt(self.values[-1])} (low {fmt(lo)}, high {fmt(hi)})")


# Columns the dashboards never show: the signals JSON (about 2 KB a KPI; the dashboards
# show has_unfavourable_signal) and the KPI's description.
LIGHT = ("health__signals", "description")


def _kpi_queryset(org: Organization, *, intent: str | None = None, team: Team | None = None,
                  ids=None, where: Q | None = None, defer: tuple = ()):
    qs = (Kpi.objects.filter(organization=org, active=True)
          .select_related("health", "team", "owner"))
    if defer:
        qs = qs.defer(*defer)
    if where is not None:
        qs = qs.filter(where)
    if intent:
        qs = qs.filter(intent=intent)
    if team is not None:
        qs = qs.filter(team=team)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs


def _with_points(kpis, spark_points: int) -> list[KpiRow]:
    rows = {k.pk: KpiRow(kpi=k, health=_health(k)) for k in kpis}
    if rows and spark_points:
        for kpi_id, period, value in recent_points(rows.keys(), spark_points):  # 1 query
            rows[kpi_id].periods.append(period)
            rows[kpi_id].values.append(value)
    return list(rows.values())


def kpi_rows(org: Organization, *, intent: str | None = None, team: Team | None = None,
             ids=None, where: Q | None = None, limit: int | None = None, offset: int = 0,
             order_by: tuple = ("team__name", "name", "id"),
             spark_points: int = SPARK_POINTS, defer: tuple = ()) -> list[KpiRow]:
    """Active KPIs with their health and their newest points, in two queries."""
    qs = _kpi_queryset(org, intent=intent, team=team, ids=ids, where=where,
                       defer=defer).order_by(*order_by)
    if limit is not None:
        qs = qs[offset:offset + limit]
    return _with_points(list(qs), spark_points)  # query 1: KPIs + health + team + owner


def _health(kpi: Kpi) -> KpiHealth | None:
    try:
        return kpi.health
    except KpiHealth.DoesNotExist:
        return None


def status_counts(rows: list[KpiRow]) -> list[tuple[str, str, int]]:
    return _counts_list(Counter(r.summary_status for r in rows))


def _counts_list(counts) -> list[tuple[str, str, int]]:
    return [(s, KPI_STATUS_LABELS[s], counts.get(s, 0)) for s in KPI_STATUS_ORDER
            if counts.get(s, 0) or s in ("off_target", "on_target")]


def kpi_status_counts(org: Organization, *, intent: str | None = None,
                      where: Q | None = None) -> list[tuple[str, str, int]]:
    """Counts of active KPIs by status (stale counted apart), in one aggregate query."""
    qs = Kpi.objects.filter(organization=org, active=True)
    if intent:
        qs = qs.filter(intent=intent)
    if where is not None:
        qs = qs.filter(where)
    counts: Counter = Counter()
    for row in qs.values("health__status", "health__is_stale").annotate(n=Count("id")):
        key = "stale" if row["health__is_stale"] else (row["health__status"] or "no_data")
        counts[key] += row["n"]
    return _counts_list(counts)


ATTENTION = (Q(health__status=KpiHealth.Status.OFF_TARGET) | Q(health__is_stale=True)
             | Q(health__has_unfavourable_signal=True))

# The buckets of kpi_status_counts, as filters (stale wins over the target status).
STATUS_FILTERS = {
    "off_target": Q(health__status=KpiHealth.Status.OFF_TARGET, health__is_stale=False),
    "stale": Q(health__is_stale=True),
    "on_target": Q(health__status=KpiHealth.Status.ON_TARGET, health__is_stale=False),
    "no_target": Q(health__status=KpiHealth.Status.NO_TARGET, health__is_stale=False),
    "no_data": Q(health__isnull=True) | Q(health__status=KpiHealth.Status.NO_DATA,
                                          health__is_stale=False),
}

OPERATIONS_PAGE_SIZE = 60


@dataclass
class OperationsPage:
    teams: list[Team]
    team: Team | None
    team_value: str  # "", "none" or a team slug
    status: str
    counts: list
    total: int  # sustain KPIs matching the filters
    rows: list[KpiRow]
    page: int
    pages: int

    @property
    def groups(self):
        return group_by_team(self.rows)

    @property
    def filtered(self) -> bool:
        return bool(self.team_value or self.status)


def operations_filter(org: Organization, teams: list[Team], team_value: str, status: str
                      ) -> tuple[Q, Team | None, str, str]:
    where = Q()
    team = None
    if team_value == "none":
        where &= Q(team__isnull=True)
    else:
        team = next((t for t in teams if t.slug == team_value), None)
        team_value = team.slug if team else ""
        if team:
            where &= Q(team=team)
    status = status if status in STATUS_FILTERS else ""
    return where, team, team_value, status


OPERATIONS_ORDER = ("team__name", "name", "id")


def operations_page(org: Organization, *, team_value: str = "", status: str = "",
                    page: int = 1, per_page: int = OPERATIONS_PAGE_SIZE) -> OperationsPage:
    """The sustain KPIs, filtered and one page of them, in six queries: teams, counts,
    total, the page's ids, its KPIs, their points."""
    teams = list(Team.objects.filter(organization=org).order_by("name"))  # 1
    where, team, team_value, status = operations_filter(org, teams, team_value, status)
    counts = kpi_status_counts(org, intent=Kpi.Intent.SUSTAIN, where=where)  # 1
    if status:
        where &= STATUS_FILTERS[status]
    sustain = Kpi.objects.filter(organization=org, active=True,
                                 intent=Kpi.Intent.SUSTAIN).filter(where)
    total = sustain.count()  # 1
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = []
    if total:
        # The page's ids first, sorting only the narrow (id, team name, name) rows: sorting
        # every sustain KPI with its health, owner and team columns to keep 60 took most of
        # the request on a large organisation.
        start = (page - 1) * per_page
        ids = list(sustain.order_by(*OPERATIONS_ORDER)
                   .values_list("pk", flat=True)[start:start + per_page])  # 1
        rows = kpi_rows(org, ids=ids, order_by=OPERATIONS_ORDER, defer=LIGHT)  # 2
    return OperationsPage(teams=teams, team=team, team_value=team_value, status=status,
                          counts=counts, total=total, rows=rows, page=page, pages=pages)


def group_by_team(rows: list[KpiRow]) -> list[tuple[Team | None, list[KpiRow]]]:
    groups: dict[int | None, list[KpiRow]] = {}
    teams: dict[int | None, Team | None] = {}
    for row in rows:
        key = row.kpi.team_id
        groups.setdefault(key, []).append(row)
        teams[key] = row.kpi.team
    ordered = sorted(groups, key=lambda k: (k is None, teams[k].name if teams[k] else ""))
    return [(teams[k], groups[k]) for k in ordered]


# --- Recent changes -------------------------------------------------------------------


@dataclass
class FeedItem:
    at: dt.datetime
    kind: str  # checkin, kpi, audit
    actor: str
    text: str
    url: str = ""
    status: str = ""

    @property
    def ago(self) -> str:
        from django.utils.timesince import timesince

        if timezone.now() - self.at < dt.timedelta(minutes=1):
            return "just now"
        return f"{timesince(self.at, depth=1)} ago"


FEED_EACH = 8
FEED_DAYS = 35
FEED_LENGTH = 12
FEED_EVENT_KINDS = ("status", "candidate", "promoted", "sustain", "dismissed")


# What the feed reads of a person (User.display_name): only these columns are loaded.
_ACTOR_FIELDS = ("actor__name", "actor__email")


def recent_changes(org: Organization, links, *, limit: int = FEED_LENGTH) -> list[FeedItem]:
    """Check-ins, KPI status changes, promotions and objective changes (three queries,
    only the columns the feed shows)."""
    from okrs.checkins.selectors import format_value as format_checkin_value
    from okrs.models import CheckIn

    items: list[FeedItem] = []
    # Recent check-ins only: the (organization, week_start) index keeps this fast for an
    # organisation with years of history. The newest are picked from the check-ins alone
    # (a subquery) and only those joined to their key result and author: joining first
    # would join thousands of rows to sort them.
    since = timezone.localdate() - dt.timedelta(days=FEED_DAYS)
    newest = (CheckIn.objects.filter(organization=org, week_start__gte=since)
              .order_by("-created_at", "-id").values("pk")[:FEED_EACH])
    for ci in (CheckIn.objects.filter(pk__in=newest)
               .select_related("author", "key_result")
               .only("created_at", "done", "value", "status", "key_result__title",
                     "key_result__unit", "key_result__objective_id", "author__name",
                     "author__email")
               .order_by("-created_at", "-id")):  # query 1
        kr = ci.key_result
        value = "done" if ci.done else (format_checkin_value(ci.value, kr.unit)
                                        if ci.value is not None else "")
        items.append(FeedItem(
            at=ci.created_at, kind="checkin",
            actor=ci.author.display_name if ci.author else "Someone",
            text=f"checked in on “{kr.title}”" + (f": {value}" if value else ""),
            url=links.obj("okrs:objective", kr.objective_id), status=ci.status))
    for ev in (HealthEvent.objects.filter(kpi__organization=org, kind__in=FEED_EVENT_KINDS)
               .exclude(kind="status", old="")  # a KPI's first evaluation is not news
               .select_related("kpi", "actor")
               .only("created_at", "kind", "old", "new", "kpi__name", *_ACTOR_FIELDS)
               .order_by("-created_at", "-id")[:FEED_EACH]):  # query 2
        items.append(FeedItem(
            at=ev.created_at, kind="kpi", actor=ev.actor.display_name if ev.actor else "",
            text=_event_text(ev), url=links.obj("kpis:detail", ev.kpi_id), status=ev.new))
    from accounts.models import AuditEntry

    for entry in (AuditEntry.objects.filter(organization=org, object_type="okrs.objective")
                  .exclude(action="updated").select_related("actor")
                  .only("created_at", "action", "object_id", "object_repr", "note",
                        *_ACTOR_FIELDS)
                  .order_by("-created_at", "-id")[:FEED_EACH]):  # query 3
        items.append(FeedItem(
            at=entry.created_at, kind="objective",
            actor=entry.actor.display_name if entry.actor else "",
            text=f"{entry.action} the objective “{entry.object_repr}”"
                 + (f" ({entry.note})" if entry.note else ""),
            url=links.obj("okrs:objective", entry.object_id) if entry.object_id.isdigit() else ""))
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


EVENT_WORDS = {
    "on_target": "on target", "off_target": "off target", "no_data": "no data",
    "no_target": "no target", "candidate": "an improvement candidate",
    "dismissed": "dismissed as a candidate", "in_improvement": "in improvement",
    "none": "not a candidate", "stale": "stale", "sustain": "back to sustain",
}


def _event_text(ev: HealthEvent) -> str:
    name = ev.kpi.name
    if ev.kind == "promoted":
        return f"promoted “{name}” into an improvement OKR"
    if ev.kind == "sustain":
        return f"“{name}” is back to business as usual"
    new = EVENT_WORDS.get(ev.new, ev.new.replace("_", " "))
    if ev.kind == "candidate" and ev.new == "dismissed":
        return f"dismissed “{name}” as an improvement candidate"
    return f"“{name}” is now {new}"


# --- The leader dashboard -------------------------------------------------------------


@dataclass
class PillarLine:
    pillar: object
    progress: float
    objectives: int

    @property
    def pct(self) -> int:
        return round(self.progress * 100)


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
    every key result (21,600 rows for 1,800 KRs) to count the week's."""
    from okrs.checkins.selectors import _counted_krs
    from okrs.models import CheckIn

    week_krs = (CheckIn.objects.filter(organization=org, week_start=week_start)
                .values("key_result_id"))
    counts = {row["objective__team_id"]: row for row in (
        _counted_krs(org, week_start).values("objective__team_id")
        .annotate(total=Count("id"), done=Count("id", filter=Q(id__in=week_krs)))
        .order_by())}  # query 1
    lines = [TeamLine(team=team, done=counts[team.pk]["done"], total=counts[team.pk]["total"])
             for team in Team.objects.filter(organization=org) if team.pk in counts]  # 2
    lines.sort(key=lambda c: (c.share, c.team.name))
    return lines


ATTENTION_LIMIT = 8
OFF_TARGET_FIRST = Case(When(health__status=KpiHealth.Status.OFF_TARGET, then=Value(0)),
                        default=Value(1))
CANDIDATE_LIMIT = 10

# The attention list's order — off target first, then those with an unfavourable signal,
# then by name — as four groups that together are ATTENTION. Sorting all of ATTENTION by
# a CASE cannot use an index (thousands of KPIs joined and sorted on every request:
# 15 ms on 10,000 KPIs); each group read by name walks the unique (organization, name)
# index and stops after `limit` matches (about 1 ms for the four).
ATTENTION_GROUPS = (  # SQL conditions on the health row `h`; %s is "off_target"
    "h.status = %s AND h.has_unfavourable_signal",
    "h.status = %s AND NOT h.has_unfavourable_signal",
    "h.status <> %s AND h.has_unfavourable_signal",
    "h.status <> %s AND NOT h.has_unfavourable_signal AND h.is_stale",
)


def _attention_ids(org: Organization, limit: int) -> list[int]:
    """The ids of the first `limit` KPIs needing attention, in order: one query, the four
    groups each `ORDER BY name LIMIT limit` inside a UNION ALL. Plain SQL: the ORM puts no
    LIMIT inside a union's parts on SQLite, and four ORM queries cost 3 ms of Python."""
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
    """The first `limit` active KPIs needing attention (ATTENTION): off target first, then
    those with an unfavourable signal, then by name; with their newest points. Three
    queries of a few rows each: the ids, those KPIs with health, team and owner, their
    points."""
    ids = _attention_ids(org, limit)  # 1 query
    kpis = {k.pk: k for k in _kpi_queryset(org, ids=ids, defer=LIGHT)}  # 1 query
    return _with_points([kpis[pk] for pk in ids if pk in kpis], spark_points)  # 1 query


@dataclass
class Dashboard:
    goal: object | None
    goal_progress: float | None
    pillars: list[PillarLine]
    cycle: object | None
    cycle_progress: object | None  # okrs.selectors.CycleProgress
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
    def kpi_total(self) -> int:
        return sum(n for _k, _l, n in self.kpi_counts)

    @property
    def attention_total(self) -> int:
        return sum(n for k, _l, n in self.kpi_counts if k in ("off_target", "stale"))


# Pillar progress and counts of a CycleProgress, remembered while that object lives:
# okrs.selectors.cycle_progress shares one result between requests until the
# organisation's OKR data changes, and rolling 500 objectives up to their pillars took
# 2.5 ms of every dashboard and strategy map request. {id(cp): (weak ref, ids, figures)}
_PILLAR_MEMO: dict[int, tuple] = {}
_PILLAR_MEMO_SIZE = 16


def _pillar_figures(cp, ids: list[int]) -> tuple[dict[int, float], dict[int, int]]:
    hit = _PILLAR_MEMO.get(id(cp))
    if hit is not None and hit[0]() is cp and hit[1] == ids:
        return hit[2]
    figures = (cp.pillar_progress(ids), cp.pillar_counts(ids))
    if len(_PILLAR_MEMO) >= _PILLAR_MEMO_SIZE:
        for key in [k for k, v in list(_PILLAR_MEMO.items()) if v[0]() is None] \
                or list(_PILLAR_MEMO)[:1]:
            _PILLAR_MEMO.pop(key, None)
    _PILLAR_MEMO[id(cp)] = (weakref.ref(cp), list(ids), figures)
    return figures


def strategy_progress(org: Organization, cycle, *, now=None):
    """(CycleProgress or None, goal, [PillarLine], goal progress): 4 queries with a cycle.

    Pillar and goal progress are okrs.progress roll-ups over the cycle's objectives,
    computed by okrs.selectors.cycle_progress (the objective page uses the same)."""
    from goals.selectors import active_goal, pillars_for
    from okrs import progress as P
    from okrs.selectors import cycle_progress

    goal = active_goal(org)  # query
    pillars = pillars_for(org)  # query
    cp = cycle_progress(organization=org, cycle=cycle, now=now) if cycle else None  # 2
    lines: list[PillarLine] = []
    if pillars:
        ids = [p.pk for p in pillars]
        values, counts = _pillar_figures(cp, ids) if cp else (dict.fromkeys(ids, 0.0),
                                                               dict.fromkeys(ids, 0))
        lines = [PillarLine(p, values.get(p.pk, 0.0), counts.get(p.pk, 0)) for p in pillars]
    goal_value = P.goal_progress(line.progress for line in lines) if (goal and lines) else None
    return cp, goal, lines, goal_value


def dashboard(org: Organization, links, *, now=None) -> Dashboard:
    """Everything on the leader dashboard. Without `now` (the page): kept per process
    until the organisation's next write (core.generations: OKR writes, KPI values,
    health changes, audit entries bump it) or the end of the 15-minute bucket. The result
    is shared between requests: callers copy what they change."""
    if now is not None:
        return _dashboard(org, links, now=now)
    return generations.remembered(org.pk, ("dashboard", org.slug, org.time_zone),
                                  lambda: _dashboard(org, links))


def _dashboard(org: Organization, links, *, now=None) -> Dashboard:
    from goals.selectors import current_cycle
    from okrs import progress as P
    from okrs.checkins.services import week_start_for

    cycle = current_cycle(org)  # query
    cp, goal, lines, goal_value = strategy_progress(org, cycle, now=now)
    company = []
    if cp:
        company = [r for r in cp.rows if r.objective.team_id is None
                   and r.objective.state != "closed"]
        company.sort(key=lambda r: (P.status_rank(r.status), r.objective.order, r.objective.id))
    counts = kpi_status_counts(org)  # 1 query
    attention = attention_rows(org)  # 3 queries
    candidates = kpi_rows(org, where=Q(health__candidate=KpiHealth.Candidate.CANDIDATE),
                          limit=CANDIDATE_LIMIT, order_by=("name",), spark_points=0,
                          defer=LIGHT)  # 1 query
    week = week_start_for(org, now)
    completion = team_completion_lines(org, week)  # 2 queries
    return Dashboard(goal=goal, goal_progress=goal_value, pillars=lines, cycle=cycle,
                     cycle_progress=cp, company_rows=company, kpi_counts=counts,
                     attention=attention, candidates=candidates,
                     completion=completion, week_start=week,
                     feed=recent_changes(org, links))  # 3 queries


# --- Strategy map --------------------------------------------------------------------------
#
# The first level is the goal and its pillars (plus one group for objectives that support
# no pillar); each subtree loads when opened. Progress comes from one
# okrs.selectors.cycle_progress per request (two queries), whatever the size of the tree.


@dataclass
class MapNode:
    kind: str  # pillar, objective, unaligned, kr
    pk: int
    title: str
    progress: float | None = None
    expected: float | None = None
    status: str | None = None
    status_label: str = ""
    meta: str = ""
    url: str = ""
    count: int = 0  # children to expand
    draft: bool = False
    row: object = None  # ObjectiveRow / KRRow
    kpi: object = None
    kpi_health: object = None
    initiatives: list = field(default_factory=list)

    @property
    def pct(self) -> int | None:
        return None if self.progress is None else round(self.progress * 100)

    @property
    def expected_pct(self) -> int | None:
        return None if self.expected is None else round(self.expected * 100)

    @property
    def pace(self) -> str:
        from okrs import progress as P

        if self.progress is None or self.expected is None:
            return ""
        return P.pace(self.progress, self.expected)

    @property
    def dom_id(self) -> str:
        return f"node-{self.kind}-{self.pk}"


def _children_index(cp) -> dict[int | None, list]:
    index: dict[int | None, list] = {}
    for row in cp.by_id.values():
        parent = row.objective.parent_id if row.objective.parent_id in cp.by_id else None
        index.setdefault(parent, []).append(row)
    for rows in index.values():
        rows.sort(key=lambda r: (r.objective.order, r.objective.id))
    return index


def _objective_node(row, index, links) -> MapNode:
    o = row.objective
    owner = o.owner.display_name if o.owner else ""
    where = o.team.name if o.team else "Company"
    return MapNode(
        kind="objective", pk=o.pk, title=o.title, progress=row.progress, expected=row.expected,
        status=row.status, status_label=row.status_label, row=row,
        meta=" · ".join(x for x in (where, owner) if x),
        url=links.obj("okrs:objective", o.pk),
        count=len(row.krs) + len(index.get(o.pk, [])),
        draft=o.state == "draft")


def pillar_roots(cp, pillar_id: int) -> list:
    """Objectives shown directly under a pillar: they support it, and their parent (if
    any, in this cycle) does not — so each objective appears once, under its top-most
    supporter."""
    out = []
    for row in cp.by_id.values():
        if pillar_id not in row.pillar_ids:
            continue
        parent = cp.by_id.get(row.objective.parent_id)
        if parent is None or pillar_id not in parent.pillar_ids:
            out.append(row)
    out.sort(key=lambda r: (r.objective.team_id is not None, r.objective.order, r.objective.id))
    return out


def unaligned_roots(cp) -> list:
    return sorted((r for r in cp.by_id.values() if not r.pillar_ids
                   and cp.by_id.get(r.objective.parent_id) is None),
                  key=lambda r: (r.objective.team_id is not None, r.objective.order,
                                 r.objective.id))


@dataclass
class StrategyMap:
    goal: object | None
    goal_progress: float | None
    cycle: object | None
    cycles: list
    cycle_progress: object | None
    pillars: list[MapNode]
    unaligned: MapNode | None

    @property
    def goal_pct(self) -> int | None:
        return None if self.goal_progress is None else round(self.goal_progress * 100)


def strategy_map(org: Organization, cycle, cycles, links, *, now=None) -> StrategyMap:
    """The first level: 4 queries (goal, pillars, objectives, KRs)."""
    cp, goal, lines, goal_value = strategy_progress(org, cycle, now=now)
    nodes, unaligned = [], None
    expected = cp.expected if cp else None
    for line in lines:
        roots = pillar_roots(cp, line.pillar.pk) if cp else []
        nodes.append(MapNode(kind="pillar", pk=line.pillar.pk, title=line.pillar.name,
                             progress=line.progress if cp else None, expected=expected,
                             meta=f"{line.objectives} objective{'s' if line.objectives != 1 else ''}",
                             count=len(roots)))
    if cp:
        loose = unaligned_roots(cp)
        if loose:
            unaligned = MapNode(kind="unaligned", pk=0, title="Not linked to a pillar",
                                count=len(loose), meta=f"{len(loose)} objective"
                                + ("s" if len(loose) != 1 else ""))
    return StrategyMap(goal=goal, goal_progress=goal_value, cycle=cycle, cycles=cycles,
                       cycle_progress=cp, pillars=nodes, unaligned=unaligned)


def map_subtree(org: Organization, cycle, kind: str, pk: int, links, *, now=None
                ) -> tuple[list[MapNode], list[MapNode], str] | None:
    """(key result nodes, objective nodes, the node's title) under one node, or None when
    the node is not
    in this organisation's cycle. Objectives: 2 queries; an objective adds its
    initiatives and its KPIs' health (2 more)."""
    from okrs.selectors import cycle_progress

    if cycle is None:
        return None
    cp = cycle_progress(organization=org, cycle=cycle, now=now)
    index = _children_index(cp)
    if kind == "pillar":
        from goals.models import StrategicPillar

        name = (StrategicPillar.objects.filter(organization=org, pk=pk)
                .values_list("name", flat=True).first())
        if name is None:
            return None
        return [], [_objective_node(r, index, links) for r in pillar_roots(cp, pk)], name
    if kind == "unaligned":
        return ([], [_objective_node(r, index, links) for r in unaligned_roots(cp)],
                "Not linked to a pillar")
    if kind != "objective" or pk not in cp.by_id:
        return None
    row = cp.by_id[pk]
    children = [_objective_node(r, index, links) for r in index.get(pk, [])]
    krs = [MapNode(kind="kr", pk=k.kr.pk, title=k.kr.title, progress=k.progress,
                   expected=row.expected, status=k.status,
                   status_label=_status_label(k.status), row=k, kpi=k.kr.kpi,
                   meta=k.kr.owner.display_name if k.kr.owner else "")
           for k in row.krs]
    kr_ids = [n.pk for n in krs]
    if kr_ids:
        Initiative = row.objective.initiatives.model  # noqa: N806 (no import of initiatives)
        by_kr: dict[int, list] = {}
        for ini in (Initiative.objects.filter(organization=org, key_result_id__in=kr_ids)
                    .select_related("owner").order_by("order", "id")):
            by_kr.setdefault(ini.key_result_id, []).append(ini)
        kpi_ids = [n.kpi.pk for n in krs if n.kpi is not None]
        health = {h.kpi_id: h for h in KpiHealth.objects.filter(kpi_id__in=kpi_ids)} \
            if kpi_ids else {}
        for n in krs:
            n.initiatives = by_kr.get(n.pk, [])
            if n.kpi is not None:
                n.kpi_health = health.get(n.kpi.pk)
                n.url = links.obj("kpis:detail", n.kpi.pk)
    return krs, children, row.objective.title


def _status_label(status):
    from okrs.selectors import status_label

    return status_label(status)


# --- Strategic review ------------------------------------------------------------------
#
# Change, apart from business as usual: the improvement objectives (those with a key
# result that targets a KPI), the KPIs they target with a small XmR chart, progress
# against expected, and the key results at risk across the cycle.

AT_RISK_GAP = 0.25  # this far behind the expected progress counts as at risk
AT_RISK_LIMIT = 30


@dataclass
class TargetedKpi:
    kpi: Kpi
    health: KpiHealth | None
    periods: list[dt.date] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    figure_json: str = ""
    summary: str = ""
    url: str = ""
    chart_id: str = ""

    @property
    def row(self) -> KpiRow:
        return KpiRow(kpi=self.kpi, health=self.health, values=self.values,
                      periods=self.periods)


@dataclass
class KrChart:
    """A KPI-linked key result's progress over the cycle against the ideal line."""

    kr: object
    chart_id: str
    figure_json: str
    summary: str


@dataclass
class ImprovementObjective:
    row: object  # okrs.selectors.ObjectiveRow
    kpis: list[TargetedKpi]
    url: str = ""
    kr_charts: list[KrChart] = field(default_factory=list)
    krs: list = field(default_factory=list)  # the row's KRRows, labelled (_labelled)


def _labelled(krrow):
    """A copy of a KRRow with its status label: cycle_progress rows are shared between
    requests and never modified."""
    from okrs.selectors import status_label

    krrow = copy.copy(krrow)
    krrow.label = status_label(krrow.status)
    return krrow


def _kr_chart(krrow, t: TargetedKpi, cycle, today: dt.date) -> KrChart | None:
    """The progress the KR had at each of its KPI's points in the cycle (okrs.progress
    applied to each value, as the KR follows its KPI), against the ideal line."""
    from dataclasses import replace

    from okrs import progress as P
    from okrs.selectors import kr_input

    base = kr_input(krrow.kr)
    points = [(day, P.kr_progress(replace(base, current=value)))
              for day, value in zip(t.periods, t.values, strict=True)
              if cycle.start <= day <= cycle.end]
    if not points:
        return None
    fig = charts.kr_progress(points, start=cycle.start, end=cycle.end, today=today,
                             height=200)
    first, last = points[0], points[-1]
    expected = P.expected_progress(cycle.start, cycle.end, today)
    summary = (f"{krrow.kr.title}: {round(first[1] * 100)}% on {first[0]:%d %b}, "
               f"{round(last[1] * 100)}% on {last[0]:%d %b}; the ideal line is at "
               f"{round(expected * 100)}% today.")
    return KrChart(kr=krrow.kr, chart_id=f"krp-{krrow.kr.pk}", figure_json=charts.to_json(fig),
                   summary=summary)


@dataclass
class Review:
    cycle: object | None
    cycles: list
    cycle_progress: object | None
    improvements: list[ImprovementObjective]
    improve_without_okr: list[KpiRow]
    at_risk: list  # (ObjectiveRow, KRRow)
    at_risk_total: int = 0
    improvements_total: int = 0
    page: int = 1
    pages: int = 1


def _xmr_json(kpi: Kpi, periods, values) -> tuple[str, str]:
    """The KPI's XmR chart (kpis.charts, as on the KPI page) and a text summary."""
    from kpis import charts as kpi_charts
    from kpis.evaluation import baseline_start_index
    from kpis.xmr import analyse

    if not values:
        return "", f"{kpi.name}: no data yet."
    analysis = analyse(values, baseline_size=kpi.baseline_size or None,
                       baseline_start=baseline_start_index(periods, kpi.rebase_date))
    fig = kpi_charts.xmr_data(periods, values, analysis, target_rule=kpi.target_rule,
                              target_value=kpi.target_value, target_upper=kpi.target_upper,
                              unit=kpi.unit, height=230)  # a plain dict (no go.Figure)
    layout = fig["layout"]
    layout["margin"] = {**layout.get("margin", {}), "l": 44, "r": 8, "t": 8, "b": 30}
    legend = layout.get("legend", {})
    layout["legend"] = {**legend, "orientation": "h", "y": -0.25,
                        "font": {**legend.get("font", {}), "size": 10}}
    fmt = lambda v: R.format_value(v, kpi.unit, kpi.decimals)  # noqa: E731
    low, high = R.bounds(kpi.target_rule, kpi.target_value, kpi.target_upper)
    parts = [f"{kpi.name}: {len(values)} values from {periods[0]:%d %b %Y} to "
             f"{periods[-1]:%d %b %Y}, latest {fmt(values[-1])}"]
    if analysis.has_limits:
        parts.append(f"centre line {fmt(analysis.center)}, natural process limits "
                     f"{fmt(analysis.lower_limit)} to {fmt(analysis.upper_limit)}")
        if analysis.signals:
            parts.append(f"{len(analysis.signals)} signal"
                         + ("s" if len(analysis.signals) != 1 else ""))
    parts.append("target " + R.describe_target(kpi.target_rule, low, high, kpi.unit,
                                               kpi.decimals))
    return charts.to_json(fig), "; ".join(parts) + "."


REVIEW_PAGE_SIZE = 10


def review(org: Organization, cycle, cycles, links, *, now=None, page: int = 1,
           per_page: int = REVIEW_PAGE_SIZE) -> Review:
    """Five queries with a cycle: objectives, KRs, targeted KPIs, their points, and the
    KPIs set to improve that no OKR targets."""
    from okrs import progress as P
    from okrs.models import KeyResult, Objective
    from okrs.selectors import cycle_progress

    live_krs = KeyResult.objects.alive().filter(
        objective__deleted_at__isnull=True,
        objective__state__in=[Objective.State.DRAFT, Objective.State.ACTIVE])
    orphans = kpi_rows(org, intent=Kpi.Intent.IMPROVE, spark_points=0,
                       where=~Q(pk__in=live_krs.filter(kpi__isnull=False)
                                .values("kpi_id")))  # 1 query
    if cycle is None:
        return Review(cycle=None, cycles=cycles, cycle_progress=None, improvements=[],
                      improve_without_okr=orphans, at_risk=[])
    cp = cycle_progress(organization=org, cycle=cycle, now=now)  # 2 queries
    rows = sorted(cp.by_id.values(), key=lambda r: (P.status_rank(r.status),
                                                     r.objective.order, r.objective.id))
    improving_all = [r for r in rows if any(k.kr.kpi_id for k in r.krs)]
    pages = max(1, -(-len(improving_all) // per_page))
    page = min(max(1, page), pages)
    improving = improving_all[(page - 1) * per_page:page * per_page]
    kpi_ids = sorted({k.kr.kpi_id for r in improving for k in r.krs if k.kr.kpi_id})
    targeted: dict[int, TargetedKpi] = {}
    if kpi_ids:
        for kpi in (Kpi.objects.filter(organization=org, pk__in=kpi_ids)
                    .select_related("health")):  # 1 query
            targeted[kpi.pk] = TargetedKpi(kpi=kpi, health=_health(kpi),
                                           url=links.obj("kpis:detail", kpi.pk))
        for kpi_id, period, value in (DataPoint.objects.filter(kpi_id__in=list(targeted))
                                      .order_by("kpi_id", "period_start")
                                      .values_list("kpi_id", "period_start", "value")):
            targeted[kpi_id].periods.append(period)  # 1 query
            targeted[kpi_id].values.append(value)
        for t in targeted.values():
            t.figure_json, t.summary = _xmr_json(t.kpi, t.periods, t.values)
    from dataclasses import replace

    improvements = []
    for r in improving:
        seen: list[TargetedKpi] = []
        for k in r.krs:
            t = targeted.get(k.kr.kpi_id)
            if t is not None and all(s.kpi.pk != t.kpi.pk for s in seen):
                seen.append(replace(t, chart_id=f"xmr-{r.objective.pk}-{t.kpi.pk}"))
        kr_charts = []
        for k in r.krs:
            t = targeted.get(k.kr.kpi_id)
            chart = _kr_chart(k, t, r.objective.cycle, cp.today) if t else None
            if chart:
                kr_charts.append(chart)
        improvements.append(ImprovementObjective(
            row=r, kpis=seen, url=links.obj("okrs:objective", r.objective.pk),
            kr_charts=kr_charts, krs=[_labelled(k) for k in r.krs]))
    at_risk = []
    for r in rows:
        if r.objective.state == Objective.State.CLOSED or r.objective.cycle.is_closed:
            continue
        for k in r.krs:
            gap = r.expected - k.progress
            if k.status in (P.OFF_TRACK, P.NEEDS_ATTENTION) or (
                    k.status != P.ACCOMPLISHED and gap > AT_RISK_GAP):
                at_risk.append((r, k, gap))
    at_risk.sort(key=lambda t: (P.status_rank(t[1].status), -t[2], t[1].kr.pk))
    return Review(cycle=cycle, cycles=cycles, cycle_progress=cp, improvements=improvements,
                  improve_without_okr=orphans,
                  at_risk=[(r, _labelled(k)) for r, k, _gap in at_risk[:AT_RISK_LIMIT]],
                  at_risk_total=len(at_risk), improvements_total=len(improving_all),
                  page=page, pages=pages)
