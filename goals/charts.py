"""The one shared Plotly module: every figure Headway draws, with one look.

Figures are built in Python and handed to the vendored plotly.js as JSON inside
``<script type="application/json" class="plot-data" data-target="ID">`` (static/js/app.js
draws them). ``to_json`` makes that JSON safe to put inside a script element.

Builders return plain ``{"data": [...], "layout": {...}}`` dicts (a Plotly figure in its
JSON form): building ``plotly.graph_objects`` figures validates every property and costs
milliseconds each, which adds up on a page of forty sparklines. ``style`` also accepts a
``go.Figure`` (the KPI XmR chart from ``kpis.charts``) so it gets the same fonts.
``sparkline_svg`` draws the sparkline as inline SVG instead, for pages that list many
(the KPI board): no JSON, no plotly.js.

No Django import: pure data in, pure data out.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

# The palette matches static/css/app.css (status chips and progress bars).
COLOURS = {
    "primary": "#3b5bdb",
    "primary_soft": "#c5d0fa",
    "green": "#2b8a3e",
    "amber": "#b7791f",
    "red": "#c92a2a",
    "purple": "#7048e8",
    "grey": "#8a93a8",
    "text": "#1d2433",
    "muted": "#5d6780",
    "grid": "#e2e6ef",
    "ideal": "#8a93a8",
}
FONT = {
    "family": 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
              "sans-serif",
    "size": 12,
    "color": COLOURS["text"],
}
STATUS_COLOURS = {
    "on_track": COLOURS["green"],
    "on_target": COLOURS["green"],
    "accomplished": COLOURS["green"],
    "needs_attention": COLOURS["amber"],
    "stale": COLOURS["amber"],
    "off_track": COLOURS["red"],
    "off_target": COLOURS["red"],
    "overdue": COLOURS["red"],
    "no_target": COLOURS["grey"],
    "no_data": COLOURS["grey"],
}
CONFIG_STATIC = {"staticPlot": True, "displayModeBar": False}
CONFIG_COMPACT = {"displayModeBar": False}


def colour_for(status: str | None) -> str:
    return STATUS_COLOURS.get(status or "", COLOURS["primary"])


def _finite(value) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _iso(day) -> str:
    if isinstance(day, dt.datetime):
        return day.date().isoformat()
    if isinstance(day, dt.date):
        return day.isoformat()
    return str(day)


def _short(day) -> str:
    """'16 Nov' for a date (category axis labels that fit on a phone)."""
    if isinstance(day, dt.datetime):
        day = day.date()
    if isinstance(day, dt.date):
        return f"{day.day} {day:%b}"
    return str(day)


def base_layout(height: int, **extra) -> dict:
    layout = {
        "height": height,
        "font": dict(FONT),
        "margin": {"l": 44, "r": 12, "t": 10, "b": 36},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
        "hoverlabel": {"font": {"family": FONT["family"]}},
        "xaxis": {"gridcolor": COLOURS["grid"], "zeroline": False, "fixedrange": True},
        "yaxis": {"gridcolor": COLOURS["grid"], "zeroline": False, "fixedrange": True},
    }
    layout.update(extra)
    return layout


def style(fig) -> dict:
    """A figure (go.Figure or dict) as a dict with Headway's fonts and colours."""
    if hasattr(fig, "to_plotly_json"):
        data = json.loads(fig.to_json())
    else:
        data = json.loads(json.dumps(fig))
    layout = data.setdefault("layout", {})
    layout.pop("template", None)
    layout["font"] = dict(FONT)
    layout.setdefault("paper_bgcolor", "rgba(0,0,0,0)")
    return data


# --- Figures ------------------------------------------------------------------------


def sparkline(values: Sequence[float | None], *, status: str | None = None,
              height: int = 40) -> dict:
    """A tiny line without axes. ``None`` values leave a gap."""
    ys = [_finite(v) for v in values]
    colour = colour_for(status)
    data = [{
        "type": "scatter", "mode": "lines", "y": ys, "hoverinfo": "skip",
        "line": {"color": colour, "width": 1.6, "shape": "linear"},
    }]
    last = next((i for i in range(len(ys) - 1, -1, -1) if ys[i] is not None), None)
    if last is not None:
        data.append({"type": "scatter", "mode": "markers", "x": [last], "y": [ys[last]],
                     "hoverinfo": "skip", "marker": {"color": colour, "size": 5}})
    layout = base_layout(
        height, margin={"l": 2, "r": 4, "t": 4, "b": 4},
        xaxis={"visible": False, "fixedrange": True},
        yaxis={"visible": False, "fixedrange": True},
    )
    return {"data": data, "layout": layout, "config": CONFIG_STATIC}


# The SVG sparkline reproduces ``sparkline``'s Plotly drawing: same margins (left 2, right
# 4, top and bottom 4 px), Plotly's autorange (5 % of the plot area added beyond the data
# on padded axes, plus the end marker's radius as Plotly pads it), line 1.6 px, end dot
# 5 px across. The x axis is laid out on a nominal 100-unit width that the browser
# stretches to the cell (the line keeps its 1.6 px: non-scaling stroke; the dot is a
# circle placed in percent, so it stays round).
_SPARK_WIDTH = 100
_SPARK_MARGIN = {"l": 2, "r": 4, "t": 4, "b": 4}
_SPARK_MARKER_PAD = 5 / 1.6  # plotly.js: a marker pads the axis by size / 1.6 px


def _autorange(points: Sequence[tuple[float, float]], length: float) -> tuple[float, float]:
    """plotly.js's autorange on one axis: (value, padding in px) pairs → (low, high), the
    range that keeps every value at least its padding inside ``length`` px."""
    lo = min(v for v, _ in points)
    hi = max(v for v, _ in points)
    if lo == hi:
        return lo - 1, hi + 1
    best = None
    for v1, p1 in points:
        for v2, p2 in points:
            if v2 > v1 and length - p1 - p2 > 0:
                slope = (v2 - v1) / (length - p1 - p2)
                if best is None or slope > best[0]:
                    best = (slope, v1 - slope * p1, v2 + slope * p2)
    if best is None:
        return lo, hi
    return best[1], best[2]


def _extremes(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The points that can decide an autorange: each padding's lowest and highest value."""
    by_pad: dict[float, list[float]] = {}
    for v, p in points:
        by_pad.setdefault(p, []).append(v)
    return [(f(vs), p) for p, vs in by_pad.items() for f in (min, max)]


def sparkline_svg(values: Sequence[float | None], *, status: str | None = None,
                  label: str = "", height: int = 40, width: int = _SPARK_WIDTH) -> str:
    """``sparkline`` drawn on the server as inline SVG markup (no plotly.js needed).

    ``label`` is the text alternative (``aria-label``; the SVG has ``role="img"``).
    ``width`` is the nominal width the x axis is laid out on: the drawing stretches to its
    box, and matches Plotly's padding exactly when the box is that many px wide.
    ``None`` and non-finite values leave a gap. Returns markup (escaped here: the caller
    marks it safe).
    """
    ys = [_finite(v) for v in values]
    colour = colour_for(status)
    m = _SPARK_MARGIN
    width_x = width - m["l"] - m["r"]
    height_y = height - m["t"] - m["b"]
    known = [(i, y) for i, y in enumerate(ys) if y is not None]
    parts = []
    if known:
        last_i, last_y = known[-1]
        mark = 0.05 * width_x + _SPARK_MARKER_PAD
        x0, x1 = _autorange(_extremes([(i, 0.0) for i, _ in known] + [(last_i, mark)]),
                            width_x)
        mark_y = 0.05 * height_y + _SPARK_MARKER_PAD
        y0, y1 = _autorange(_extremes([(y, 0.05 * height_y) for _, y in known]
                                      + [(last_y, mark_y)]), height_y)

        # px = left + (i - x0) * sx, py = top + (y1 - y) * sy
        sx = width_x / (x1 - x0)
        sy = height_y / (y1 - y0)
        ox = m["l"] - x0 * sx
        oy = m["t"] + y1 * sy
        # One subpath per run of known values (a lone value between gaps draws no line).
        path, run = [], []
        for i, y in [*enumerate(ys), (len(ys), None)]:
            if y is None:
                if len(run) > 1:
                    path.append("M" + "L".join(run))
                run = []
            else:
                run.append(f"{ox + i * sx:.2f},{oy - y * sy:.2f}")
        if path:
            parts.append(
                f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
                f'width="100%" height="{height}"><path d="{"".join(path)}" fill="none" '
                f'stroke="{colour}" stroke-width="1.6" vector-effect="non-scaling-stroke"/>'
                "</svg>"
            )
        pct = 100 / width  # the dot is placed in percent of the box (1.0 at width 100)
        parts.append(f'<circle cx="{(ox + last_i * sx) * pct:.2f}%" cy="{oy - last_y * sy:.2f}" '
                     f'r="2.5" fill="{colour}"/>')
    return (f'<svg class="sparkline" width="100%" height="{height}" role="img" '
            f'aria-label="{html.escape(label)}" style="display:block">{"".join(parts)}</svg>')


def kr_progress(points: Sequence[tuple[Any, float | None]], *, start: dt.date, end: dt.date,
                today: dt.date | None = None, height: int = 220) -> dict:
    """KR progress (0-100 %) over time against the ideal straight line from the cycle's
    start (0 %) to its end (100 %). ``points`` are (date, progress 0..1)."""
    xs, ys = [], []
    for day, value in points:
        v = _finite(value)
        if v is None:
            continue
        xs.append(_iso(day))
        ys.append(round(max(0.0, min(1.0, v)) * 100, 1))
    data = [
        {"type": "scatter", "mode": "lines", "name": "Ideal",
         "x": [_iso(start), _iso(end)], "y": [0, 100], "hoverinfo": "skip",
         "line": {"color": COLOURS["ideal"], "dash": "dash", "width": 1.5}},
        {"type": "scatter", "mode": "lines+markers", "name": "Progress", "x": xs, "y": ys,
         "line": {"color": COLOURS["primary"], "width": 2.2},
         "marker": {"size": 6, "color": COLOURS["primary"]},
         "hovertemplate": "%{x}: %{y:.0f}%<extra></extra>"},
    ]
    shapes = []
    if today is not None and start <= today <= end:
        shapes.append({"type": "line", "x0": _iso(today), "x1": _iso(today), "y0": 0, "y1": 1,
                       "yref": "paper", "line": {"color": COLOURS["muted"], "width": 1,
                                                  "dash": "dot"}})
    layout = base_layout(
        height, shapes=shapes, showlegend=True,
        legend={"orientation": "h", "y": 1.12, "x": 0},
        margin={"l": 44, "r": 12, "t": 24, "b": 32},
        xaxis={"range": [_iso(start), _iso(end)], "gridcolor": COLOURS["grid"],
               "fixedrange": True},
        yaxis={"range": [0, 105], "ticksuffix": "%", "gridcolor": COLOURS["grid"],
               "zeroline": False, "fixedrange": True},
    )
    return {"data": data, "layout": layout, "config": CONFIG_COMPACT}


def completion_bars(weeks: Sequence[tuple[Any, int, int]], *, height: int = 180,
                    behind_below: float = 0.8) -> dict:
    """Weekly check-in completion as bars: (week_start, done, expected) per week.

    Bars are in percent; weeks below ``behind_below`` are amber, weeks with nothing
    expected are grey and empty.
    """
    xs, ys, colours, texts = [], [], [], []
    for week, done, expected in weeks:
        xs.append(_short(week))
        if not expected:
            ys.append(0)
            colours.append(COLOURS["grey"])
            texts.append("nothing due")
            continue
        share = max(0.0, min(1.0, done / expected))
        ys.append(round(share * 100, 1))
        colours.append(COLOURS["primary"] if share >= behind_below else COLOURS["amber"])
        texts.append(f"{done} of {expected}")
    data = [{
        "type": "bar", "x": xs, "y": ys, "marker": {"color": colours},
        "text": texts, "hovertemplate": "Week of %{x}: %{y:.0f}% (%{text})<extra></extra>",
        "textposition": "none",
    }]
    layout = base_layout(
        height, bargap=0.35,
        xaxis={"type": "category", "fixedrange": True, "tickfont": {"size": 10}},
        yaxis={"range": [0, 100], "ticksuffix": "%", "gridcolor": COLOURS["grid"],
               "fixedrange": True, "zeroline": False},
    )
    return {"data": data, "layout": layout, "config": CONFIG_COMPACT}


def progress_vs_expected(rows: Sequence[tuple[str, float, float]], *,
                         height_per_row: int = 28) -> dict:
    """Horizontal bars of progress with a marker for expected progress: (label, p, e)."""
    labels = [r[0] for r in rows]
    data = [
        {"type": "bar", "orientation": "h", "name": "Progress", "y": labels,
         "x": [round((_finite(r[1]) or 0) * 100, 1) for r in rows],
         "marker": {"color": COLOURS["primary"]},
         "hovertemplate": "%{y}: %{x:.0f}%<extra></extra>"},
        {"type": "scatter", "mode": "markers", "name": "Expected", "y": labels,
         "x": [round((_finite(r[2]) or 0) * 100, 1) for r in rows],
         "marker": {"symbol": "line-ns-open", "size": 18, "color": COLOURS["text"]},
         "hovertemplate": "Expected: %{x:.0f}%<extra></extra>"},
    ]
    layout = base_layout(
        max(120, 40 + height_per_row * len(rows)),
        margin={"l": 160, "r": 12, "t": 8, "b": 28},
        xaxis={"range": [0, 100], "ticksuffix": "%", "gridcolor": COLOURS["grid"],
               "fixedrange": True},
        yaxis={"autorange": "reversed", "fixedrange": True, "automargin": True},
    )
    return {"data": data, "layout": layout, "config": CONFIG_COMPACT}


# --- Output -------------------------------------------------------------------------

_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def to_json(fig: Mapping | Any) -> str:
    """JSON for a ``<script type="application/json" class="plot-data">`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c`` etc., so no text in a figure (a KPI
    named ``</script>``) can end the script element; JSON.parse reads them back as the
    same characters. Plotly's default template is dropped (kilobytes per figure).
    """
    data = style(fig) if hasattr(fig, "to_plotly_json") else fig
    if isinstance(data, Mapping) and isinstance(data.get("layout"), Mapping) \
            and "template" in data["layout"]:
        data = {**data, "layout": {k: v for k, v in data["layout"].items() if k != "template"}}
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=_default)
    return text.translate(_ESCAPES)


def _default(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "tolist"):  # numpy arrays from plotly
        return value.tolist()
    raise TypeError(f"Cannot put {type(value).__name__} in a chart")
