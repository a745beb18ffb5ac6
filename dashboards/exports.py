"""CSV downloads of the dashboards: each page's rows as a spreadsheet reads them.

Cells that a spreadsheet would run as a formula (text starting with = + - @, tab or
carriage return) are prefixed with a quote.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

from django.http import HttpResponse
from django.utils import timezone

from kpis.loop import label as loop_label
from okrs.selectors import status_label

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    stamp = timezone.localdate().isoformat()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read UTF-8
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return response


def pct(value: float | None) -> str:
    return "" if value is None else f"{round(value * 100)}%"


def _owner(obj) -> str:
    return obj.owner.display_name if obj.owner else ""


def _team_name(objective) -> str:
    return objective.team.name if objective.team else "Company"


# --- The leader dashboard -----------------------------------------------------------------

HOME_HEADER = ["Kind", "Name", "Progress / value", "Expected / target", "Status",
               "Owner / note"]


def home_rows(data) -> Iterator[list]:
    """dashboards.home.selectors.Dashboard, as rows."""
    if data.goal is not None:
        yield ["Goal", data.goal.title, pct(data.goal_progress), "", "", ""]
    for line in data.pillars:
        yield ["Pillar", line.pillar.name, pct(line.progress), "", "",
               f"{line.objectives} objectives"]
    for r in data.company_rows:
        yield ["Objective", r.objective.title, pct(r.progress), pct(r.expected),
               r.status_label, _owner(r.objective)]
    for _key, label, n in (data.kpi_counts if data.kpi_total else []):
        yield ["KPIs", label, n, "", "", ""]
    for row in data.attention:
        yield ["KPI needing attention", row.kpi.name, row.latest_text, row.target_text,
               row.status_label + (" (stale)" if row.is_stale else ""), _owner(row.kpi)]
    for row in data.candidates:
        yield ["Improvement candidate", row.kpi.name, row.latest_text, row.target_text,
               row.health.candidate_reason if row.health else "", _owner(row.kpi)]
    for c in data.completion:
        yield ["Check-ins this week", c.team.name, f"{c.done} of {c.total}",
               "", f"{c.pct}%" if c.pct is not None else "", ""]


# --- The strategy map -----------------------------------------------------------------------

STRATEGY_HEADER = ["Level", "Kind", "Title", "Progress", "Expected", "Status", "Team",
                   "Owner", "Pillars / KPI"]


def strategy_rows(smap) -> list[list]:
    """dashboards.strategy_map.selectors.StrategyMap, as rows: the goal, its pillars, then
    every objective of the cycle (parents before children) with its key results."""
    out = []
    if smap.goal:
        out.append([0, "Goal", smap.goal.title, pct(smap.goal_progress), "", "", "", "", ""])
    pillar_names = {n.pk: n.title for n in smap.pillars}
    for n in smap.pillars:
        out.append([1, "Pillar", n.title, pct(n.progress), pct(n.expected), "", "", "", ""])
    cp = smap.cycle_progress
    if cp:
        depth: dict[int, int] = {}

        def level(row) -> int:
            oid, seen, d = row.objective.pk, set(), 0
            parent = row.objective.parent_id
            while parent in cp.by_id and parent not in seen:
                seen.add(parent)
                d += 1
                parent = cp.by_id[parent].objective.parent_id
            depth[oid] = d
            return d

        rows = sorted(cp.by_id.values(), key=lambda r: (level(r), r.objective.order,
                                                        r.objective.pk))
        for r in rows:
            o = r.objective
            pillars = ", ".join(pillar_names.get(p, "") for p in sorted(r.pillar_ids))
            out.append([2 + depth[o.pk], "Objective", o.title, pct(r.progress), pct(r.expected),
                        r.status_label, _team_name(o), _owner(o), pillars])
            for k in r.krs:
                out.append([3 + depth[o.pk], "Key result", k.kr.title, pct(k.progress), "",
                            status_label(k.status), _team_name(o), _owner(k.kr),
                            k.kr.kpi.name if k.kr.kpi else ""])
    return out


# --- The strategic review ---------------------------------------------------------------------

REVIEW_HEADER = ["Kind", "Name", "Progress / value", "Expected / target", "Status",
                 "State / objective", "Team"]


def review_rows(data) -> Iterator[list]:
    """dashboards.review.selectors.Review (every page of it), as rows."""
    for imp in data.improvements:
        r = imp.row
        yield ["Improvement objective", r.objective.title, pct(r.progress), pct(r.expected),
               r.status_label, r.objective.get_state_display(), _team_name(r.objective)]
        for t in imp.kpis:
            row = t.row
            yield ["Targeted KPI", t.kpi.name, row.latest_text, row.target_text,
                   row.status_label, "", ""]
    for row in data.improve_without_okr:
        yield ["KPI to improve without an OKR", row.kpi.name, row.latest_text,
               row.target_text, row.status_label, "", ""]
    for r, k in data.at_risk:
        yield ["Key result at risk", k.kr.title, pct(k.progress), pct(r.expected),
               status_label(k.status), r.objective.title, _team_name(r.objective)]


# --- Operations -------------------------------------------------------------------------------

KPI_HEADER = ["Team", "KPI", "Frequency", "Unit", "Target", "Latest period",
              "Latest value", "Status", "Stale", "Unfavourable signal", "Loop state", "Owner"]


def kpi_csv_rows(rows) -> Iterator[list]:
    """dashboards.kpi_rows.KpiRow rows, one line each."""
    for r in rows:
        h = r.health
        yield [r.kpi.team.name if r.kpi.team else "", r.kpi.name,
               r.kpi.get_frequency_display(), r.kpi.unit, r.target_text, r.latest_period,
               r.latest_value, r.status_label, r.is_stale, r.has_signal,
               h.loop_label if h else loop_label(None), _owner(r.kpi)]


# --- A team's page ----------------------------------------------------------------------------

TEAM_HEADER = ["Kind", "Name", "Progress / value", "Expected / target", "Status", "Owner"]


def team_rows(page) -> Iterator[list]:
    """dashboards.team.selectors.TeamPage, as rows."""
    for r in page.objectives:
        yield ["Objective", r.objective.title, pct(r.progress), pct(r.expected),
               r.status_label, _owner(r.objective)]
        for k in r.krs:
            yield ["Key result", k.kr.title, pct(k.progress), "", status_label(k.status),
                   _owner(k.kr)]
    for row in page.kpis:
        yield ["KPI", row.kpi.name, row.latest_text, row.target_text, row.status_label,
               _owner(row.kpi)]
    for w in page.completion:
        yield ["Check-in week", w["week"], w["done"], w["expected"],
               f"{w['pct']}%" if w["pct"] is not None else "", ""]
