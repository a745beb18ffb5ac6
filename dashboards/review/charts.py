"""The strategic review's charts and their text summaries: a targeted KPI's XmR chart (the
KPI page's, made compact) and a KPI-linked key result's progress against the ideal line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import charts as C
from kpis import charts as kpi_charts
from kpis import rules as R
from kpis.evaluation import baseline_start_index
from kpis.models import Kpi
from kpis.xmr import analyse
from okrs import progress as P
from okrs.selectors import kr_input


def kr_progress(points: Sequence[tuple[Any, float | None]], *, start: dt.date, end: dt.date,
                today: dt.date | None = None, height: int = 220) -> dict:
    """KR progress (0-100 %) over time against the ideal straight line from the cycle's
    start (0 %) to its end (100 %). ``points`` are (date, progress 0..1)."""
    xs, ys = [], []
    for day, value in points:
        v = C.finite(value)
        if v is None:
            continue
        xs.append(C.iso_day(day))
        ys.append(round(max(0.0, min(1.0, v)) * 100, 1))
    data = [
        {"type": "scatter", "mode": "lines", "name": _("Ideal"),
         "x": [C.iso_day(start), C.iso_day(end)], "y": [0, 100], "hoverinfo": "skip",
         "line": {"color": C.COLOURS["ideal"], "dash": "dash", "width": 1.5}},
        {"type": "scatter", "mode": "lines+markers", "name": _("Progress"), "x": xs, "y": ys,
         "line": {"color": C.COLOURS["primary"], "width": 2.2},
         "marker": {"size": 6, "color": C.COLOURS["primary"]},
         "hovertemplate": "%{x}: %{y:.0f}%<extra></extra>"},
    ]
    shapes = []
    if today is not None and start <= today <= end:
        shapes.append({"type": "line", "x0": C.iso_day(today), "x1": C.iso_day(today),
                       "y0": 0, "y1": 1, "yref": "paper",
                       "line": {"color": C.COLOURS["muted"], "width": 1, "dash": "dot"}})
    layout = C.base_layout(
        height, shapes=shapes, showlegend=True,
        legend={"orientation": "h", "y": 1.12, "x": 0},
        margin={"l": 44, "r": 12, "t": 24, "b": 32},
        xaxis={"range": [C.iso_day(start), C.iso_day(end)], "gridcolor": C.COLOURS["grid"],
               "fixedrange": True},
        yaxis={"range": [0, 105], "ticksuffix": "%", "gridcolor": C.COLOURS["grid"],
               "zeroline": False, "fixedrange": True},
    )
    return {"data": data, "layout": layout, "config": C.CONFIG_COMPACT}


def kr_progress_chart(krrow, periods, values, cycle, today: dt.date) -> tuple[str, str] | None:
    """(figure JSON, summary) of the progress the KR had at each of its KPI's points in
    the cycle (okrs.progress applied to each value, as the KR follows its KPI), against
    the ideal line; None without a point in the cycle."""
    base = kr_input(krrow.kr)
    points = [(day, P.kr_progress(replace(base, current=value)))
              for day, value in zip(periods, values, strict=True)
              if cycle.start <= day <= cycle.end]
    if not points:
        return None
    fig = kr_progress(points, start=cycle.start, end=cycle.end, today=today, height=200)
    first, last = points[0], points[-1]
    expected = P.expected_progress(cycle.start, cycle.end, today)
    summary = _("%(title)s: %(first)s%% on %(first_day)s, %(last)s%% on %(last_day)s; "
                "the ideal line is at %(ideal)s%% today.") % {
        "title": krrow.kr.title, "first": round(first[1] * 100),
        "first_day": date_format(first[0], "MONTH_DAY_FORMAT"), "last": round(last[1] * 100),
        "last_day": date_format(last[0], "MONTH_DAY_FORMAT"), "ideal": round(expected * 100)}
    return C.to_json(fig), summary


def xmr_chart(kpi: Kpi, periods, values) -> tuple[str, str]:
    """(figure JSON, summary) of the KPI's XmR chart (kpis.charts, as on the KPI page),
    compact; no figure without data."""
    if not values:
        return "", _("%(name)s: no data yet.") % {"name": kpi.name}
    analysis = analyse(values, baseline_size=kpi.baseline_size or None,
                       baseline_start=baseline_start_index(periods, kpi.rebase_date))
    fig = kpi_charts.xmr_data(periods, values, analysis, target_rule=kpi.target_rule,
                              target_value=kpi.target_value, target_upper=kpi.target_upper,
                              unit=kpi.unit, height=230)
    layout = fig["layout"]
    layout["margin"] = {**layout.get("margin", {}), "l": 44, "r": 8, "t": 8, "b": 30}
    legend = layout.get("legend", {})
    layout["legend"] = {**legend, "orientation": "h", "y": -0.25,
                        "font": {**legend.get("font", {}), "size": 10}}
    fmt = lambda v: R.format_value(v, kpi.unit, kpi.decimals)  # noqa: E731
    low, high = R.bounds(kpi.target_rule, kpi.target_value, kpi.target_upper)
    # The summary is a list of facts joined by "; ", each fact a whole phrase.
    parts = [ngettext("%(name)s: %(n)s value from %(first)s to %(last)s, latest %(latest)s",
                      "%(name)s: %(n)s values from %(first)s to %(last)s, latest %(latest)s",
                      len(values)) % {
        "name": kpi.name, "n": len(values), "first": date_format(periods[0], "DATE_FORMAT"),
        "last": date_format(periods[-1], "DATE_FORMAT"), "latest": fmt(values[-1])}]
    if analysis.has_limits:
        parts.append(_("centre line %(centre)s, natural process limits %(low)s to %(high)s") % {
            "centre": fmt(analysis.center), "low": fmt(analysis.lower_limit),
            "high": fmt(analysis.upper_limit)})
        if analysis.signals:
            parts.append(ngettext("%(n)s signal", "%(n)s signals", len(analysis.signals)) % {
                "n": len(analysis.signals)})
    parts.append(_("target %(target)s") % {"target": R.describe_target(
        kpi.target_rule, low, high, kpi.unit, kpi.decimals)})
    return C.to_json(fig), _("%(facts)s.") % {"facts": "; ".join(parts)}
