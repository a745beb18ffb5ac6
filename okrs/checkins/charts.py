"""The check-in charts: a key result's value over its cycle against the ideal line (its
history page) and a team's weekly check-in completion (the team page).

Built in Python (no Django import) as plain plotly.js JSON that ``core.charts.to_json``
writes for the page (static/js/app.js draws every ``script.plot-data``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext

from core import charts as C

COLOURS = {"value": C.COLOURS["primary"], "ideal": C.COLOURS["ideal"],
           "target": C.COLOURS["green"], "today": C.COLOURS["text"]}


def kr_history_figure(
    points: Sequence[tuple[dt.datetime, float | None, bool]],
    *,
    cycle_start: dt.date,
    cycle_end: dt.date,
    start_value: float,
    target_value: float,
    kind: str = "metric",
    unit: str = "",
    today: dt.date | None = None,
    height: int = 320,
    confidences: Sequence[int | None] | None = None,
) -> dict:
    """`points` are (moment, value, done) of each check-in, oldest first.

    Metric KRs: the ideal line runs from the start value on the first day of the cycle to
    the target on the last. Guardrails: the threshold as a flat line. Milestones: 0/1 steps.
    `confidences` (one per point, None when not given) draw on a second axis, 0–10.
    """
    fig = go.Figure()
    x0, x1 = cycle_start.isoformat(), cycle_end.isoformat()
    # Check-ins from before the cycle start (a carried KR, an early first check-in) stay
    # visible: the axis starts at the earliest of the two.
    first = min((m.date() for m, _, _ in points), default=cycle_start)
    axis_start = min(first, cycle_start).isoformat()
    if kind == "milestone":
        ys = [1 if done else 0 for _, _, done in points]
    else:
        ys = [v for _, v, _ in points]
    xs = [moment.isoformat() for moment, _, _ in points]
    suffix = f" {unit}" if unit and unit != "%" else unit
    if kind == "guardrail":
        fig.add_trace(go.Scatter(x=[x0, x1], y=[target_value, target_value], mode="lines",
                                 name=gettext("Threshold"), line={"color": COLOURS["target"],
                                                         "dash": "dash", "width": 1.5}))
    elif kind == "metric":
        fig.add_trace(go.Scatter(x=[x0, x1], y=[start_value, target_value], mode="lines",
                                 name=gettext("Ideal"), line={"color": COLOURS["ideal"],
                                                              "dash": "dot", "width": 1.5},
                                 hovertemplate=gettext("Ideal %(value)s") % {
                                     "value": "%{y:.4~g}" + suffix} + "<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="lines+markers", name=gettext("Check-ins"),
        line={"color": COLOURS["value"], "width": 2, "shape": "hv" if kind == "milestone"
              else "linear"},
        marker={"size": 7},
        hovertemplate="%{x|%d %b %Y}: %{y:.4~g}" + suffix + "<extra></extra>"))
    has_confidence = bool(confidences) and any(c is not None for c in confidences)
    if has_confidence:
        cx = [x for x, c in zip(xs, confidences, strict=False) if c is not None]
        cy = [c for c in confidences if c is not None]
        fig.add_trace(go.Scatter(
            x=cx, y=cy, mode="lines+markers", name=gettext("Confidence (0–10)"), yaxis="y2",
            line={"color": C.COLOURS["amber"], "width": 1.5, "dash": "dash"},
            marker={"size": 6, "symbol": "diamond"},
            hovertemplate=gettext("%(date)s: confidence %(value)s/10") % {
                "date": "%{x|%d %b %Y}", "value": "%{y}"} + "<extra></extra>"))
    shapes = []
    if today is not None and cycle_start <= today <= cycle_end:
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": today.isoformat(),
                       "x1": today.isoformat(), "y0": 0, "y1": 1,
                       "line": {"color": COLOURS["today"], "width": 1, "dash": "dot"},
                       "opacity": 0.4})
    yaxis: dict = {"title": {"text": unit} if unit else None, "zeroline": False,
                   "gridcolor": "#eef0f4"}
    if kind == "milestone":
        yaxis.update(tickvals=[0, 1], ticktext=[gettext("Not done"), gettext("Done")], range=[-0.2, 1.2])
    fig.update_layout(
        height=height, margin={"l": 50, "r": 16, "t": 16, "b": 40},
        xaxis={"range": [axis_start, x1], "type": "date", "gridcolor": "#eef0f4"},
        yaxis={k: v for k, v in yaxis.items() if v is not None},
        legend={"orientation": "h", "y": -0.18, "x": 0},
        shapes=shapes, plot_bgcolor="#ffffff", paper_bgcolor="rgba(0,0,0,0)",
        hovermode="closest",
    )
    if has_confidence:
        fig.update_layout(
            margin={"l": 50, "r": 44, "t": 16, "b": 40},
            yaxis2={"overlaying": "y", "side": "right", "range": [0, 10.5], "showgrid": False,
                    "title": {"text": "confidence"}, "zeroline": False, "dtick": 5})
    return C.figure_dict(fig)


def completion_bars(weeks: Sequence[tuple[Any, int, int]], *, height: int = 180,
                    behind_below: float = 0.8) -> dict:
    """Weekly check-in completion as bars: (week_start, done, expected) per week.

    Bars are in percent; weeks below ``behind_below`` are amber, weeks with nothing
    expected are grey and empty.
    """
    xs, ys, colours, texts = [], [], [], []
    for week, done, expected in weeks:
        xs.append(C.short_day(week))
        if not expected:
            ys.append(0)
            colours.append(C.COLOURS["grey"])
            texts.append(gettext("nothing due"))
            continue
        share = max(0.0, min(1.0, done / expected))
        ys.append(round(share * 100, 1))
        colours.append(C.COLOURS["primary"] if share >= behind_below else C.COLOURS["amber"])
        texts.append(gettext("%(done)s of %(total)s") % {"done": done, "total": expected})
    data = [{
        "type": "bar", "x": xs, "y": ys, "marker": {"color": colours},
        "text": texts, "hovertemplate": gettext("Week of %(week)s: %(share)s (%(text)s)") % {
            "week": "%{x}", "share": "%{y:.0f}%", "text": "%{text}"} + "<extra></extra>",
        "textposition": "none",
    }]
    layout = C.base_layout(
        height, bargap=0.35,
        xaxis={"type": "category", "fixedrange": True, "tickfont": {"size": 10}},
        yaxis={"range": [0, 100], "ticksuffix": "%", "gridcolor": C.COLOURS["grid"],
               "fixedrange": True, "zeroline": False},
    )
    return {"data": data, "layout": layout, "config": C.CONFIG_COMPACT}
