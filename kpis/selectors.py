"""Reads for KPI pages: the operational board, a KPI's detail, the candidates list.

Every list reads a fixed number of queries whatever the number of KPIs or points.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import F, Prefetch, Q, Window
from django.db.models.functions import RowNumber

from . import rules as R
from .health import is_pending, key_result_model
from .models import DataPoint, DataPointRevision, HealthEvent, Kpi, KpiHealth

SPARK_POINTS = 16

RULE_SHORT = {1: "Outside limits", 2: "Run of 8", 3: "3 of 4 near limit"}


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
        return KpiHealth.Status(self.status).label

    @property
    def is_stale(self) -> bool:
        return bool(self.health and self.health.is_stale)

    @property
    def pending(self) -> bool:
        return is_pending(self.kpi, self.health)

    @property
    def latest_text(self) -> str:
        value = self.health.latest_value if self.health else None
        return R.format_value(value, self.kpi.unit, self.kpi.decimals)

    @property
    def target_text(self) -> str:
        k = self.kpi
        low, high = R.bounds(k.target_rule, k.target_value, k.target_upper)
        return R.describe_target(k.target_rule, low, high, k.unit, k.decimals)

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
            label = "Jump" if s["chart"] == "mr" else RULE_SHORT.get(s["rule"], "Signal")
            tone = {True: "good", False: "bad"}.get(s.get("favourable"), "neutral")
            out.append({"label": label, "tone": tone, "title": s.get("reason", "")})
        return out

    @property
    def freshness(self) -> str:
        if not self.health or not self.health.latest_period:
            return "No data"
        from .periods import label

        return label(self.health.latest_period, self.kpi.frequency)

    @property
    def spark_id(self) -> str:
        return f"spark-{self.kpi.pk}"


def recent_points(kpi_ids, n: int = SPARK_POINTS) -> list[tuple[int, dt.date, float]]:
    """The last ``n`` points of each KPI, oldest first, in one query."""
    ids = list(kpi_ids)
    if not ids:
        return []
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


def kpi_board(org, *, team_id=None, intent: str = "", status: str = "",
              candidates_only: bool = False, offset: int = 0,
              limit: int | None = None) -> list[KpiRow]:
    """The operational board (one page of it with offset/limit): 2 queries (KPIs with
    health/team/owner; recent points of those KPIs only)."""
    qs = kpi_board_queryset(org, team_id=team_id, intent=intent, status=status,
                            candidates_only=candidates_only)
    qs = qs.select_related("health", "team", "owner").defer("description")
    if limit is not None:
        qs = qs[offset:offset + limit]
    kpis = list(qs)  # query 1
    rows = {k.pk: KpiRow(kpi=k, health=_health(k)) for k in kpis}
    for kpi_id, period, value in recent_points(rows.keys()):  # query 2
        rows[kpi_id].periods.append(period)
        rows[kpi_id].values.append(value)
    return list(rows.values())


@dataclass
class KpiDetail:
    kpi: Kpi
    health: KpiHealth | None
    points: list[DataPoint]
    target_changes: list
    events: list[HealthEvent]
    key_results: list


def kpi_detail(kpi: Kpi, *, events_limit: int = 50) -> KpiDetail:
    """Points (with their revisions), target changes, events, linked KRs: 5 queries."""
    points = list(
        kpi.points.select_related("author").prefetch_related(
            Prefetch("revisions", queryset=DataPointRevision.objects.select_related("changed_by"))
        ).order_by("period_start")
    )  # 2 queries
    changes = list(kpi.target_changes.select_related("changed_by"))
    events = list(kpi.events.select_related("actor")[:events_limit])
    KeyResult = key_result_model()
    krs = list(
        KeyResult.objects.filter(kpi=kpi, deleted_at__isnull=True,
                                 objective__deleted_at__isnull=True)
        .select_related("objective", "objective__cycle")
    )
    return KpiDetail(kpi=kpi, health=_health(kpi), points=points, target_changes=changes,
                     events=events, key_results=krs)

