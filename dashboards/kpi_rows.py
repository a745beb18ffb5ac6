"""KPI rows as the dashboards show them (home, operations, review, team): the KPI board's
row with what the dashboards add, read in a fixed number of queries, and their counts by
status. KPI health comes from the ``KpiHealth`` rows that ``kpis.health`` writes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Case, Count, Q, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Organization, Team
from core import charts
from kpis import rules as R
from kpis import selectors as kpis_selectors
from kpis.models import STATUS_LABELS, Kpi, KpiHealth
from kpis.selectors import _health as health_of  # the KPI's health row, or None
from kpis.selectors import recent_points

SPARK_POINTS = 12
TILE_SPARK_WIDTH = 200
ATTENTION_SPARK_WIDTH = 90

# The order KPI statuses are listed in (worst first); stale counts apart.
KPI_STATUS_ORDER = ["off_target", "stale", "on_target", "no_target", "no_data"]
KPI_STATUS_LABELS = {s: STATUS_LABELS[s] for s in KPI_STATUS_ORDER}


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

    # The SVG sparklines (core.charts.sparkline_svg, as on the KPI board: no figure JSON,
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
            return _("%(name)s: no data yet") % {"name": self.kpi.name}
        lo, hi = min(self.values), max(self.values)
        fmt = lambda v: R.format_value(v, self.kpi.unit, self.kpi.decimals)  # noqa: E731
        return ngettext(
            "%(name)s, last %(n)s value from %(first)s to %(last)s (low %(low)s, high %(high)s)",
            "%(name)s, last %(n)s values from %(first)s to %(last)s (low %(low)s, high %(high)s)",
            len(self.values)) % {
            "name": self.kpi.name, "n": len(self.values), "first": fmt(self.values[0]),
            "last": fmt(self.values[-1]), "low": fmt(lo), "high": fmt(hi)}


# Columns the dashboards never show: the KPI's description. (The current signals are read:
# the tiles' variation verdict, kpis.words, tells a favourable signal from an unfavourable.)
LIGHT = ("description",)

# Needing attention: off target, stale or with an unfavourable signal.
ATTENTION = (Q(health__status=KpiHealth.Status.OFF_TARGET) | Q(health__is_stale=True)
             | Q(health__has_unfavourable_signal=True))
OFF_TARGET_FIRST = Case(When(health__status=KpiHealth.Status.OFF_TARGET, then=Value(0)),
                        default=Value(1))

# The buckets of kpi_status_counts, as filters (stale wins over the target status).
STATUS_FILTERS = {
    "off_target": Q(health__status=KpiHealth.Status.OFF_TARGET, health__is_stale=False),
    "stale": Q(health__is_stale=True),
    "on_target": Q(health__status=KpiHealth.Status.ON_TARGET, health__is_stale=False),
    "no_target": Q(health__status=KpiHealth.Status.NO_TARGET, health__is_stale=False),
    "no_data": Q(health__isnull=True) | Q(health__status=KpiHealth.Status.NO_DATA,
                                          health__is_stale=False),
}


def kpi_queryset(org: Organization, *, intent: str | None = None, team: Team | None = None,
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


def with_points(kpis, spark_points: int) -> list[KpiRow]:
    """Rows for loaded KPIs, with their newest `spark_points` points (one query)."""
    rows = {k.pk: KpiRow(kpi=k, health=health_of(k)) for k in kpis}
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
    qs = kpi_queryset(org, intent=intent, team=team, ids=ids, where=where,
                      defer=defer).order_by(*order_by)
    if limit is not None:
        qs = qs[offset:offset + limit]
    return with_points(list(qs), spark_points)  # query 1: KPIs + health + team + owner


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


def stored_status_counts(org: Organization) -> list[tuple[str, str, int]]:
    """What kpi_status_counts(org) gives (stale counted apart from the target status), from
    the counts the health engine keeps (kpis.selectors.status_counts: one query of one
    row, whatever the number of KPIs)."""
    from kpis.selectors import status_counts
    from kpis.status_counts import STATUSES

    stored = status_counts(org)
    counts = Counter({s: getattr(stored, s) - getattr(stored, f"stale_{s}") for s in STATUSES})
    counts["stale"] = stored.stale
    return _counts_list(counts)


def group_by_team(rows: list[KpiRow]) -> list[tuple[Team | None, list[KpiRow]]]:
    groups: dict[int | None, list[KpiRow]] = {}
    teams: dict[int | None, Team | None] = {}
    for row in rows:
        key = row.kpi.team_id
        groups.setdefault(key, []).append(row)
        teams[key] = row.kpi.team
    ordered = sorted(groups, key=lambda k: (k is None, teams[k].name if teams[k] else ""))
    return [(teams[k], groups[k]) for k in ordered]


def link_kpi_rows(links, rows) -> None:
    """Each row's KPI page and team page (one reverse() per page, not per row)."""
    for row in rows:
        row.url = links.obj("kpis:detail", row.kpi.pk)
        row.team_url = links.obj("dashboards:team", row.kpi.team.slug, "team") \
            if row.kpi.team else ""
