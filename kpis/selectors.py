"""Reads for KPI pages: the operational board, a KPI's detail, the candidates list.

Every list reads a fixed number of queries whatever the number of KPIs or points.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F, Q, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User

from . import improvement
from . import rules as R
from . import words as W
from .health import is_pending
from .models import STATUS_LABELS, DataPoint, DataPointRevision, HealthEvent, Kpi, KpiHealth

SPARK_POINTS = 16

RULE_SHORT = {1: gettext_lazy("Outside limits"), 2: gettext_lazy("Run of 8"),
              3: gettext_lazy("3 of 4 near limit")}


def _health(kpi: Kpi) -> KpiHealth | None:
    try:
        return kpi.health
    except KpiHealth.DoesNotExist:
        return None


@dataclass
class KpiRow:
    kpi: Kpi
    health: KpiHealth | None
    values: list[float] = field(default_factory=list)
    periods: list[dt.date] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.health.status if self.health else KpiHealth.Status.NO_DATA

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def is_stale(self) -> bool:
        return bool(self.health and self.health.is_stale)

    @property
    def pending(self) -> bool:
        return is_pending(self.kpi, self.health)

    @property
    def latest_text(self) -> str:
        value = self.health.latest_value if self.health else None
        return W.local_value(value, self.kpi.unit, self.kpi.decimals)  # the reader's format

    @property
    def target_text(self) -> str:
        k = self.kpi
        low, high = R.bounds(k.target_rule, k.target_value, k.target_upper)
        return W.target_text(k.target_rule, low, high, k.unit, k.decimals)

    @property
    def badges(self) -> list[dict]:
        """Current signals, one badge per rule and direction."""
        if not self.health:
            return []
        seen, out = set(), []
        for s in self.health.signals:
            if not s.get("current"):
                continue
            key = (s["rule"], s["chart"], s.get("favourable"))
            if key in seen:
                continue
            seen.add(key)
            label = _("Jump") if s["chart"] == "mr" else RULE_SHORT.get(s["rule"], _("Signal"))
            tone = {True: "good", False: "bad"}.get(s.get("favourable"), "neutral")
            title = W.signal_text(s, frequency=self.kpi.frequency, unit=self.kpi.unit,
                                  decimals=self.kpi.decimals)
            out.append({"label": label, "tone": tone, "title": title})
        return out

    @property
    def freshness(self) -> str:
        if not self.health or not self.health.latest_period:
            return _("No data")
        return W.period_label(self.health.latest_period, self.kpi.frequency)


def recent_points(kpi_ids, n: int = SPARK_POINTS) -> list[tuple[int, dt.date, float]]:
    """The last ``n`` points of each KPI, oldest first, in one query.

    On PostgreSQL a ``LATERAL`` subquery per KPI walks the unique ``(kpi_id,
    period_start)`` index backwards and stops after ``n`` rows (read with a plain cursor);
    elsewhere a ``ROW_NUMBER()`` window over the KPIs' points.
    """
    ids = list(kpi_ids)
    if not ids:
        return []
    if connection.vendor == "postgresql":
        table = DataPoint._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT k.id, p.period_start, p.value FROM unnest(%s::bigint[]) AS k(id) "  # noqa: S608 (no user input)
                "CROSS JOIN LATERAL (SELECT d.period_start, d.value "
                f"FROM {table} d WHERE d.kpi_id = k.id "
                "ORDER BY d.period_start DESC LIMIT %s) p ORDER BY k.id, p.period_start",
                [ids, n],
            )
            return cursor.fetchall()
    ranked = (
        DataPoint.objects.filter(kpi_id__in=ids)
        .annotate(rank=Window(RowNumber(), partition_by=[F("kpi_id")],
                              order_by=F("period_start").desc()))
        .filter(rank__lte=n)
        .order_by("kpi_id", "period_start")
        .values_list("kpi_id", "period_start", "value")
    )
    return list(ranked)


def kpi_board_queryset(org, *, team_id=None, intent: str = "", status: str = "",
                       candidates_only: bool = False):
    """The board's KPIs, filtered, in board order (not evaluated)."""
    qs = Kpi.objects.filter(organization=org)
    if team_id:
        qs = qs.filter(team_id=team_id)
    if intent:
        qs = qs.filter(intent=intent)
    if status == "stale":
        qs = qs.filter(health__is_stale=True)
    elif status == "pending":
        qs = qs.filter(Q(health__isnull=True, data_changed_at__isnull=False)
                       | Q(health__evaluated_at__lt=F("data_changed_at")))
    elif status == "no_data":
        qs = qs.filter(Q(health__isnull=True) | Q(health__status="no_data"))
    elif status:
        qs = qs.filter(health__status=status)
    if candidates_only:
        qs = qs.filter(health__candidate__in=[KpiHealth.Candidate.CANDIDATE,
                                              KpiHealth.Candidate.DISMISSED])
    return qs.order_by("-active", "name", "id")


# Health columns no board row shows (the candidates page shows dismissed_note).
_BOARD_DEFER = ("description", "health__reason_keys", "health__dismissed_keys")


def _board_rows(qs, offset: int, limit: int) -> list[Kpi]:
    """One slice of ``qs`` (a board queryset) with health and team: the slice's ids are
    picked from the KPI table alone and only those rows are joined (1 query)."""
    page = Subquery(qs.values("pk")[offset:offset + limit])
    return list(Kpi.objects.filter(pk__in=page).select_related("health", "team")
                .defer(*_BOARD_DEFER).order_by(*qs.query.order_by))


def kpi_board(org, *, team_id=None, intent: str = "", status: str = "",
              candidates_only: bool = False, offset: int = 0,
              limit: int | None = None, total: int | None = None) -> list[KpiRow]:
    """The operational board, active KPIs first, by name (one page of it with offset/limit;
    ``total``, the number of matching KPIs when known, saves queries).

    Queries: the page's KPIs with health and team, then the recent points of those KPIs
    only. A page's KPI ids are picked in a subquery on the KPI table and only those 50
    rows are joined, so the work does not grow with the organisation's KPIs. Without a
    status filter the page is read active KPIs first, each part by name: that walks the
    ``(organization, name)`` index and stops at the page instead of sorting every name;
    only a page that reaches past the active KPIs reads the inactive ones (one more
    query, and one more to count the active KPIs when the page holds none). A status
    filter matches few KPIs spread over the whole index: those matches are sorted rather
    than found by walking every name. (Measurements: bench/FINDINGS.md.)
    """
    qs = kpi_board_queryset(org, team_id=team_id, intent=intent, status=status,
                            candidates_only=candidates_only)
    if limit is None:
        kpis = list(qs.select_related("health", "team").defer(*_BOARD_DEFER))  # query 1
    elif total == 0 or (total is not None and offset >= total):
        kpis = []
    elif status:
        kpis = _board_rows(qs, offset, limit)  # query 1
    else:
        active = qs.filter(active=True).order_by("name", "id")
        kpis = _board_rows(active, offset, limit)  # query 1
        if len(kpis) < limit and (total is None or offset + len(kpis) < total):
            if kpis or not offset:
                n_active = offset + len(kpis)
            else:
                n_active = active.count()  # query (a page of inactive KPIs only)
            inactive = qs.filter(active=False).order_by("name", "id")
            kpis += _board_rows(inactive, max(0, offset - n_active),
                                limit - len(kpis))  # query (the inactive KPIs of the page)
    rows = {k.pk: KpiRow(kpi=k, health=_health(k)) for k in kpis}
    for kpi_id, period, value in recent_points(rows.keys()):  # query 2 (none if no rows)
        rows[kpi_id].periods.append(period)
        rows[kpi_id].values.append(value)
    return list(rows.values())


@dataclass(slots=True)
class Revision:
    """A correction of a point, as the KPI page lists it."""

    old_value: float
    new_value: float
    changed_at: dt.datetime
    changed_by: User | None


@dataclass(slots=True)
class Point:
    """A data point as the KPI page shows it (read as values, not model instances: a KPI
    has a hundred points and more)."""

    id: int
    period_start: dt.date
    value: float
    note: str
    source: str
    author: User | None
    revisions: list[Revision] = field(default_factory=list)

    def get_source_display(self) -> str:
        return _SOURCE_LABELS.get(self.source, self.source)


_SOURCE_LABELS = dict(DataPoint.Source.choices)


@dataclass
class KpiDetail:
    kpi: Kpi
    health: KpiHealth | None
    points: list[Point]
    target_changes: list
    events: list[HealthEvent]
    key_results: list


def _user(users: dict, user_id, name, email) -> User | None:
    """One unsaved ``User`` per id, enough for ``display_name``."""
    if user_id is None:
        return None
    if user_id not in users:
        users[user_id] = User(id=user_id, name=name, email=email)
    return users[user_id]


def kpi_detail(kpi: Kpi, *, events_limit: int = 50) -> KpiDetail:
    """Points (with their revisions), target changes, events, linked KRs: 5 queries."""
    users: dict = {}
    points = [
        Point(id=pk, period_start=period, value=value, note=note, source=source,
              author=_user(users, author_id, name, email))
        for pk, period, value, note, source, author_id, name, email in
        kpi.points.order_by("period_start").values_list(
            "id", "period_start", "value", "note", "source", "author_id", "author__name",
            "author__email")
    ]  # query 1
    if points:
        points_by_id = {p.id: p for p in points}
        revisions = (
            DataPointRevision.objects.filter(point__kpi=kpi).order_by("-changed_at", "-id")
            .values_list("point_id", "old_value", "new_value", "changed_at", "changed_by_id",
                         "changed_by__name", "changed_by__email")
        )  # query 2 (newest first, as DataPointRevision.Meta.ordering)
        for point_id, old, new, at, changed_by_id, name, email in revisions:
            points_by_id[point_id].revisions.append(
                Revision(old_value=old, new_value=new, changed_at=at,
                         changed_by=_user(users, changed_by_id, name, email)))
    changes = list(kpi.target_changes.select_related("changed_by"))
    events = list(kpi.events.select_related("actor")[:events_limit])
    return KpiDetail(kpi=kpi, health=_health(kpi), points=points, target_changes=changes,
                     events=events, key_results=improvement.linked_to(kpi))


def status_counts(org):
    """The organisation's KPI status counts, kept by the health engine (kpis.status_counts):
    one query."""
    from .status_counts import status_counts as stored

    return stored(org)
