"""Reads for the strategic review.

Change, apart from business as usual: the improvement objectives (those with a key
result that targets a KPI), the KPIs they target with a small XmR chart, progress
against expected, and the key results at risk across the cycle.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field, replace

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Organization
from dashboards.kpi_rows import KpiRow, health_of, kpi_rows
from dashboards.review.charts import kr_progress_chart, xmr_chart
from kpis.models import DataPoint, Kpi, KpiHealth
from okrs import progress as P
from okrs.models import KeyResult, Objective
from okrs.selectors import cycle_expected, cycle_objectives_qs, status_label, stored_rows

AT_RISK_GAP = 0.25  # this far behind the expected progress counts as at risk
AT_RISK_LIMIT = 30
REVIEW_PAGE_SIZE = 10


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


def _labelled(krrow):
    """A copy of a KRRow with its status label."""
    krrow = copy.copy(krrow)
    krrow.label = status_label(krrow.status)
    return krrow


def _kr_chart(krrow, t: TargetedKpi, cycle, today: dt.date) -> KrChart | None:
    chart = kr_progress_chart(krrow, t.periods, t.values, cycle, today)
    if chart is None:
        return None
    figure_json, summary = chart
    return KrChart(kr=krrow.kr, chart_id=f"krp-{krrow.kr.pk}", figure_json=figure_json,
                   summary=summary)


def review(org: Organization, cycle, cycles, links, *, now=None, page: int = 1,
           per_page: int = REVIEW_PAGE_SIZE) -> Review:
    """Five queries with a cycle: the KPIs set to improve that no OKR targets, the
    objectives shown, their KRs, the targeted KPIs and their points. `cycles` are the
    organisation's cycles (the cycle's sub-cycles are read from them)."""
    live_krs = KeyResult.objects.alive().filter(
        objective__deleted_at__isnull=True,
        objective__state__in=[Objective.State.DRAFT, Objective.State.ACTIVE])
    orphans = kpi_rows(org, intent=Kpi.Intent.IMPROVE, spark_points=0,
                       where=~Q(pk__in=live_krs.filter(kpi__isnull=False)
                                .values("kpi_id")))  # 1 query
    if cycle is None:
        return Review(cycle=None, cycles=cycles, cycle_progress=None, improvements=[],
                      improve_without_okr=orphans, at_risk=[])
    now = now or timezone.now()
    cp = cycle_expected(org, cycle, now)
    # Only the objectives the page can show are read, with their stored figures: those with
    # a key result that targets a KPI, and those with one that may be at risk (its stored
    # status off track or needing attention, or its progress behind the most any cycle of
    # the family expects by now by more than the gap: the exact test follows on the rows).
    e_max = max([cp.expected] + [cycle_expected(org, c, now).expected
                                 for c in cycles if c.parent_id == cycle.pk])
    kr_of = KeyResult.objects.alive().filter(objective=OuterRef("pk"))
    shown = cycle_objectives_qs(org, cycle).filter(
        Exists(kr_of.filter(kpi__isnull=False))
        | Exists(kr_of.filter(Q(status__in=[P.OFF_TRACK, P.NEEDS_ATTENTION])
                              | Q(progress__lt=e_max - AT_RISK_GAP))))
    rows = sorted(stored_rows(org, shown, now=now),  # 2 queries
                  key=lambda r: (P.status_rank(r.status), r.objective.order, r.objective.id))
    improving_all = [r for r in rows if any(k.kr.kpi_id for k in r.krs)]
    pages = max(1, -(-len(improving_all) // per_page))
    page = min(max(1, page), pages)
    improving = improving_all[(page - 1) * per_page:page * per_page]
    kpi_ids = sorted({k.kr.kpi_id for r in improving for k in r.krs if k.kr.kpi_id})
    targeted: dict[int, TargetedKpi] = {}
    if kpi_ids:
        for kpi in (Kpi.objects.filter(organization=org, pk__in=kpi_ids)
                    .select_related("health")):  # 1 query
            targeted[kpi.pk] = TargetedKpi(kpi=kpi, health=health_of(kpi),
                                           url=links.obj("kpis:detail", kpi.pk))
        for kpi_id, period, value in (DataPoint.objects.filter(kpi_id__in=list(targeted))
                                      .order_by("kpi_id", "period_start")
                                      .values_list("kpi_id", "period_start", "value")):
            targeted[kpi_id].periods.append(period)  # 1 query
            targeted[kpi_id].values.append(value)
        for t in targeted.values():
            t.figure_json, t.summary = xmr_chart(t.kpi, t.periods, t.values)
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
