"""The KPI charts, built in Python (no Django import).

The XmR chart shows the values, the centre line, the natural process limits, the halfway
lines (faint), the points coloured by the detection rule they take part in, and the target
as a line; the moving-range chart the jumps between values. ``xmr_data`` / ``mr_data``
return the plain JSON-able dict that the page hands to the vendored plotly.js
(``core.charts.to_json``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from core import charts as C

from . import rules as R
from .xmr import Analysis

COLOURS = {
    "value": "#334155",
    "center": "#0f766e",
    "limit": "#b91c1c",
    "halfway": "rgba(185, 28, 28, 0.35)",
    "target": "#7c3aed",
    1: "#dc2626",  # point outside the limits
    2: "#d97706",  # run of eight
    3: "#2563eb",  # three of four near a limit
    "plain": "#334155",
}


def rules_by_index(analysis: Analysis) -> dict[int, set[int]]:
    """``analysis.rules_at(i)`` for every point at once (one pass over the signals)."""
    out: dict[int, set[int]] = {}
    for s in analysis.signals:
        if s.chart == "x":
            for i in s.indices:
                out.setdefault(i, set()).add(s.rule)
    return out


def _hline(traces: list, xs, y, name, colour, dash="solid", width=1.5, hover=True):
    """Append a horizontal line from the first to the last of ``xs`` (nothing if no y)."""
    if y is None or not xs:
        return
    traces.append({
        "type": "scatter", "x": [xs[0], xs[-1]], "y": [y, y], "mode": "lines", "name": name,
        "line": {"color": colour, "dash": dash, "width": width},
        "hoverinfo": "name+y" if hover else "skip",
    })


def xmr_data(
    periods: Sequence[dt.date],
    values: Sequence[float],
    analysis: Analysis,
    *,
    target_rule: str = R.NONE,
    target_value: float | None = None,
    target_upper: float | None = None,
    unit: str = "",
    height: int = 380,
) -> dict:
    """The XmR chart as the JSON plotly.js reads: ``{"data": [...], "layout": {...}}``.

    A plain dict (``core.charts.to_json`` writes it), not a ``plotly.graph_objects``
    figure, which validates every property: work the page does not need. Callers adjust
    it as a dict (the strategic review makes it compact).
    """
    xs = [p.isoformat() for p in periods]
    values = list(values)
    traces: list[dict] = [{
        "type": "scatter", "x": xs, "y": values, "mode": "lines", "name": "Value",
        "line": {"color": COLOURS["value"], "width": 1.5}, "hoverinfo": "skip",
        "showlegend": False,
    }]
    # Points, one trace per colour so the legend explains them.
    rules = rules_by_index(analysis)
    groups: dict[int | None, list[int]] = {}
    for i in range(len(values)):
        here = rules.get(i)
        groups.setdefault(min(here) if here else None, []).append(i)
    names = {None: "Value", 1: "Outside the limits", 2: "Run of 8", 3: "3 of 4 near a limit"}
    hovertemplate = "%{x}: %{y}" + (f" {unit}" if unit else "") + "<extra></extra>"
    for rule in (None, 1, 2, 3):
        idx = groups.get(rule)
        if not idx:
            continue
        traces.append({
            "type": "scatter",
            "x": [xs[i] for i in idx],
            "y": [values[i] for i in idx],
            "mode": "markers",
            "name": names[rule],
            "marker": {"color": COLOURS[rule] if rule else COLOURS["plain"],
                       "size": 9 if rule else 7},
            "hovertemplate": hovertemplate,
        })

    if analysis.has_limits:
        lim_x = xs[analysis.baseline_start :]
        _hline(traces, lim_x, analysis.center, "Centre line", COLOURS["center"])
        _hline(traces, lim_x, analysis.upper_limit, "Upper limit", COLOURS["limit"],
               dash="dash")
        _hline(traces, lim_x, analysis.lower_limit, "Lower limit", COLOURS["limit"],
               dash="dash")
        _hline(traces, lim_x, analysis.upper_halfway, "Halfway", COLOURS["halfway"],
               dash="dot", width=1, hover=False)
        _hline(traces, lim_x, analysis.lower_halfway, "Halfway (lower)", COLOURS["halfway"],
               dash="dot", width=1, hover=False)
        traces[-1]["showlegend"] = False

    low, high = R.bounds(target_rule, target_value, target_upper)
    for y, label in ((low, "Target"), (high, "Target")):
        if y is not None:
            _hline(traces, xs, y, label, COLOURS["target"], dash="longdash", width=2)
    if low is not None and high is not None:
        traces[-1]["showlegend"] = False

    # No unit: an empty title, as plotly.py wrote ``title=None``.
    yaxis = {"title": {"text": unit} if unit else {}, "gridcolor": "#e2e8f0", "zeroline": False}
    layout = C.with_font(
        height=height,
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        hovermode="closest",
        plot_bgcolor="white",
        yaxis=yaxis,
        xaxis={"gridcolor": "#f1f5f9"},
    )
    return {"data": traces, "layout": layout}


def mr_data(periods: Sequence[dt.date], analysis: Analysis, height: int = 200) -> dict:
    """The moving-range chart as plotly.js JSON (a plain dict, see ``xmr_data``)."""
    xs = [p.isoformat() for p in periods]
    mrs = analysis.moving_ranges
    mr_signal = {s.index for s in analysis.signals if s.chart == "mr"}
    colours = [COLOURS[1] if i in mr_signal else COLOURS["plain"] for i in range(len(mrs))]
    traces: list[dict] = [{
        "type": "scatter",
        "x": xs[1:],
        "y": mrs[1:],
        "mode": "lines+markers",
        "name": "Moving range",
        "marker": {"color": colours[1:], "size": 6},
        "line": {"color": COLOURS["value"], "width": 1},
    }]
    if analysis.has_limits:
        lim_x = xs[max(1, analysis.baseline_start) :]
        _hline(traces, lim_x, analysis.average_moving_range, "Average mR", COLOURS["center"])
        _hline(traces, lim_x, analysis.upper_range_limit, "Upper range limit",
               COLOURS["limit"], dash="dash")
    layout = C.with_font(
        height=height,
        margin={"l": 50, "r": 10, "t": 10, "b": 30},
        showlegend=False,
        plot_bgcolor="white",
        yaxis={"gridcolor": "#e2e8f0", "zeroline": False},
    )
    return {"data": traces, "layout": layout}
