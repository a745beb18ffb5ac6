"""The KPI charts, built in Python (Django only for gettext: the trace names are in the reader's
language; dates and numbers are plotly.js's, in the locale static/js/app.js gives it).

The XmR chart shows the values, the centre line, the natural process limits, the halfway
lines (faint), the points coloured by the detection rule they take part in, and the target
as a line; the moving-range chart the jumps between values. ``xmr_data`` / ``mr_data``
return the plain JSON-able dict that the page hands to the vendored plotly.js
(``core.charts.to_json``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.translation import gettext as _

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
    "good": "#15803d",  # a favourable signal
    "bad": "#dc2626",  # an unfavourable one
}


# The x-axis in dates a person reads, in the reader's locale (plotly.js's month names):
# "9 Nov 2026" while the ticks are days or weeks apart, "Nov 2026" for months, "2026" for
# years (plotly.js's own default is "Nov 9<br>2026").
DAY_MS = 86_400_000
X_AXIS = {
    "type": "date",
    "gridcolor": "#f1f5f9",
    "hoverformat": "%-d %b %Y",
    "tickformatstops": [
        {"dtickrange": [None, 28 * DAY_MS], "value": "%-d %b %Y"},
        {"dtickrange": [28 * DAY_MS, "M12"], "value": "%b %Y"},
        {"dtickrange": ["M12", None], "value": "%Y"},
    ],
}


def when(frequency: str = "") -> str:
    """A point's period in words for its hover text (plotly.js's date format of ``x``):
    "Week of 9 Nov 2026", "November 2026", "Quarter from Oct 2026", else "9 Nov 2026"."""
    if frequency == "weekly":
        return _("Week of %(date)s") % {"date": "%{x|%-d %b %Y}"}
    if frequency == "monthly":
        return "%{x|%B %Y}"
    if frequency == "quarterly":
        return _("Quarter from %(date)s") % {"date": "%{x|%b %Y}"}
    return "%{x|%-d %b %Y}"


def _line_hover(unit: str) -> str:
    """A limit or target line's hover: "Usual range (upper): 54.2 min"."""
    return "%{fullData.name}: %{y:,.2~f}" + (f" {unit}" if unit else "") + "<extra></extra>"


def _gapped(xs, segments, value_of):
    """One trace's x and y for a line drawn per limit period, broken (None) between
    periods so it steps where a new period starts."""
    out_x: list = []
    out_y: list = []
    for seg in segments:
        y = value_of(seg)
        if y is None or seg.end <= seg.start:
            continue
        if out_x:
            out_x.append(xs[seg.start])
            out_y.append(None)
        out_x += [xs[seg.start], xs[seg.end - 1]]
        out_y += [y, y]
    return out_x, out_y


def rules_by_index(analysis: Analysis) -> dict[int, set[int]]:
    """``analysis.rules_at(i)`` for every point at once (one pass over the signals)."""
    out: dict[int, set[int]] = {}
    for s in analysis.signals:
        if s.chart == "x":
            for i in s.indices:
                out.setdefault(i, set()).add(s.rule)
    return out


def _hline(traces: list, xs, y, name, colour, dash="solid", width=1.5, hover=True, unit=""):
    """Append a horizontal line from the first to the last of ``xs`` (nothing if no y)."""
    if y is None or not xs:
        return
    trace = {
        "type": "scatter", "x": [xs[0], xs[-1]], "y": [y, y], "mode": "lines", "name": name,
        "line": {"color": colour, "dash": dash, "width": width},
    }
    if hover:
        trace["hovertemplate"] = _line_hover(unit)
    else:
        trace["hoverinfo"] = "skip"
    traces.append(trace)


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
    excluded: Sequence[int] = (),
    notes: Sequence[str] = (),
    favourable: dict[int, bool | None] | None = None,
    frequency: str = "",
) -> dict:
    """The XmR chart as the JSON plotly.js reads: ``{"data": [...], "layout": {...}}``.

    A plain dict (``core.charts.to_json`` writes it), not a ``plotly.graph_objects``
    figure, which validates every property: work the page does not need. Callers adjust
    it as a dict (the strategic review makes it compact).

    With limit periods (``analysis.segments``) the centre line and the limits step at each
    period's start. ``excluded`` points (left out of the limits) are drawn hollow;
    ``notes`` (one per point, "" for none) show on hover; ``favourable`` (point index:
    True, False or None) colours signal points good or bad instead of by rule.
    ``frequency`` words the hover's period ("Week of 9 Nov 2026", see ``when``).
    """
    xs = [p.isoformat() for p in periods]
    values = list(values)
    traces: list[dict] = [{
        "type": "scatter", "x": xs, "y": values, "mode": "lines", "name": _("Value"),
        "line": {"color": COLOURS["value"], "width": 1.5}, "hoverinfo": "skip",
        "showlegend": False,
    }]
    # Points, one trace per colour so the legend explains them.
    rules = rules_by_index(analysis)
    groups: dict[int | None, list[int]] = {}
    for i in range(len(values)):
        here = rules.get(i)
        groups.setdefault(min(here) if here else None, []).append(i)
    names = {None: _("Value"), 1: _("Outside the usual range"),
             2: _("Run of 8 or more on one side"), 3: _("3 of 4 near the edge of the usual range")}
    suffix = f" {unit}" if unit else ""
    text = [n or "" for n in notes] if notes else None
    hover_when = when(frequency) + ": %{y}" + suffix
    out = set(excluded)
    if favourable is not None:
        # Honest colours: what the signal means for the target, not which rule fired.
        groups = {}
        for i in range(len(values)):
            key = ("plain" if i not in rules else
                   "good" if favourable.get(i) is True else
                   "bad" if favourable.get(i) is False else "signal")
            groups.setdefault(key, []).append(i)
        order = [("plain", _("Value"), COLOURS["plain"]),
                 ("good", _("Favourable signal"), COLOURS["good"]),
                 ("bad", _("Unfavourable signal"), COLOURS["bad"]),
                 ("signal", _("Signal"), COLOURS[2])]
    else:
        order = [(r, names[r], COLOURS[r] if r else COLOURS["plain"]) for r in (None, 1, 2, 3)]
    for key, name, colour in order:
        idx = groups.get(key)
        if not idx:
            continue
        big = key not in (None, "plain")
        trace = {
            "type": "scatter",
            "x": [xs[i] for i in idx],
            "y": [values[i] for i in idx],
            "mode": "markers",
            "name": name,
            "marker": {"color": colour, "size": 9 if big else 7,
                       "symbol": ["circle-open" if i in out else "circle" for i in idx],
                       "line": {"color": colour, "width": 2}},
            # "Week of 9 Nov 2026: 54 min", then what the point is when it is not plain
            # ("Unfavourable signal"), then its note.
            "hovertemplate": hover_when + ("<br>" + name if big else "")
            + ("%{text}" if text else "") + "<extra></extra>",
        }
        if text:
            trace["text"] = [(" · " + text[i]) if text[i] else "" for i in idx]
        traces.append(trace)

    segments = analysis.segments
    if segments and any(seg.has_limits for seg in segments):
        for label, colour, dash, width, attr in (
            (_("Centre line"), COLOURS["center"], "solid", 1.5, "center"),
            (_("Usual range (upper)"), COLOURS["limit"], "dash", 1.5, "upper_limit"),
            (_("Usual range (lower)"), COLOURS["limit"], "dash", 1.5, "lower_limit"),
        ):
            gx, gy = _gapped(xs, segments, lambda seg, a=attr: getattr(seg, a))
            traces.append({"type": "scatter", "x": gx, "y": gy, "mode": "lines", "name": label,
                           "line": {"color": colour, "dash": dash, "width": width},
                           "hovertemplate": _line_hover(unit), "connectgaps": False})
        for attr in ("upper_halfway", "lower_halfway"):
            gx, gy = _gapped(xs, segments, lambda seg, a=attr: getattr(seg, a))
            traces.append({"type": "scatter", "x": gx, "y": gy, "mode": "lines",
                           "name": _("Halfway"), "line": {"color": COLOURS["halfway"],
                                                        "dash": "dot", "width": 1},
                           "hoverinfo": "skip", "showlegend": attr == "upper_halfway"})
    elif analysis.has_limits:
        lim_x = xs[analysis.baseline_start :]
        _hline(traces, lim_x, analysis.center, _("Centre line"), COLOURS["center"], unit=unit)
        _hline(traces, lim_x, analysis.upper_limit, _("Upper limit"), COLOURS["limit"],
               dash="dash", unit=unit)
        _hline(traces, lim_x, analysis.lower_limit, _("Lower limit"), COLOURS["limit"],
               dash="dash", unit=unit)
        _hline(traces, lim_x, analysis.upper_halfway, _("Halfway"), COLOURS["halfway"],
               dash="dot", width=1, hover=False)
        _hline(traces, lim_x, analysis.lower_halfway, _("Halfway (lower)"), COLOURS["halfway"],
               dash="dot", width=1, hover=False)
        traces[-1]["showlegend"] = False

    low, high = R.bounds(target_rule, target_value, target_upper)
    for y, label in ((low, _("Target")), (high, _("Target"))):
        if y is not None:
            _hline(traces, xs, y, label, COLOURS["target"], dash="longdashdot", width=2.5,
                   unit=unit)
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
        xaxis=dict(X_AXIS),
    )
    return {"data": traces, "layout": layout}


def mr_data(periods: Sequence[dt.date], analysis: Analysis, height: int = 200, *,
            frequency: str = "", unit: str = "") -> dict:
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
        "name": _("Moving range"),
        "marker": {"color": colours[1:], "size": 6},
        "line": {"color": COLOURS["value"], "width": 1},
        # "Week of 16 Nov 2026: changed by 3 min from the period before"
        "hovertemplate": when(frequency) + ": " + _("changed by %(jump)s from the period before")
        % {"jump": "%{y:,.2~f}" + (f" {unit}" if unit else "")} + "<extra></extra>",
    }]
    if analysis.segments and any(seg.has_limits for seg in analysis.segments):
        for label, colour, dash, attr in ((_("Average mR"), COLOURS["center"], "solid",
                                           "moving_range"),
                                          (_("Upper range limit"), COLOURS["limit"], "dash",
                                           "upper_range_limit")):
            gx, gy = _gapped(xs, analysis.segments, lambda seg, a=attr: getattr(seg, a))
            traces.append({"type": "scatter", "x": gx, "y": gy, "mode": "lines", "name": label,
                           "line": {"color": colour, "dash": dash, "width": 1.5},
                           "hovertemplate": _line_hover(unit)})
    elif analysis.has_limits:
        lim_x = xs[max(1, analysis.baseline_start) :]
        _hline(traces, lim_x, analysis.average_moving_range, _("Average mR"), COLOURS["center"],
               unit=unit)
        _hline(traces, lim_x, analysis.upper_range_limit, _("Upper range limit"),
               COLOURS["limit"], dash="dash", unit=unit)
    layout = C.with_font(
        height=height,
        margin={"l": 50, "r": 10, "t": 10, "b": 30},
        showlegend=False,
        plot_bgcolor="white",
        yaxis={"gridcolor": "#e2e8f0", "zeroline": False},
        xaxis=dict(X_AXIS),
    )
    return {"data": traces, "layout": layout}
