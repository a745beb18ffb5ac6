"""What every chart shares: Headway's palette and fonts, the base Plotly layout, the JSON
that goes inside a script element, and the inline SVG sparkline.

Figures are built in Python and handed to the vendored plotly.js as JSON inside
``<script type="application/json" class="plot-data" data-target="ID">`` (static/js/app.js
draws them; templates/includes/chart.html writes the element). Builders return plain
``{"data": [...], "layout": {...}}`` dicts (a Plotly figure in its JSON form), which
``to_json`` writes; ``plotly.graph_objects`` would validate every property, work the
page does not need. Each domain keeps its own figures beside
it (``kpis.charts``: XmR; ``okrs.checkins.charts``: a key result's history and the
check-in completion bars; ``dashboards.review.charts``: a KPI-linked key result against
the ideal line).

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
TRANSPARENT = "rgba(0,0,0,0)"


def colour_for(status: str | None) -> str:
    return STATUS_COLOURS.get(status or "", COLOURS["primary"])


def finite(value) -> float | None:
    """``value`` as a float, or None when it is missing or not a finite number (a chart
    leaves a gap there; JSON has no NaN)."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def iso_day(day) -> str:
    if isinstance(day, dt.datetime):
        return day.date().isoformat()
    if isinstance(day, dt.date):
        return day.isoformat()
    return str(day)


def short_day(day) -> str:
    """'16 Nov' for a date (category axis labels that fit on a phone)."""
    if isinstance(day, dt.datetime):
        day = day.date()
    if isinstance(day, dt.date):
        return f"{day.day} {day:%b}"
    return str(day)


def base_layout(height: int, **extra) -> dict:
    """Headway's layout: its font, transparent paper and plot, light grid, no zoom."""
    layout = {
        "height": height,
        "font": dict(FONT),
        "margin": {"l": 44, "r": 12, "t": 10, "b": 36},
        "paper_bgcolor": TRANSPARENT,
        "plot_bgcolor": TRANSPARENT,
        "showlegend": False,
        "hoverlabel": {"font": {"family": FONT["family"]}},
        "xaxis": {"gridcolor": COLOURS["grid"], "zeroline": False, "fixedrange": True},
        "yaxis": {"gridcolor": COLOURS["grid"], "zeroline": False, "fixedrange": True},
    }
    layout.update(extra)
    return layout


def with_font(**layout) -> dict:
    """A layout with Headway's font and transparent paper (what ``style`` gives any
    figure), for figures that keep their own look otherwise."""
    return {**layout, "font": dict(FONT), "paper_bgcolor": TRANSPARENT}


def figure_dict(fig) -> dict:
    """A figure (``go.Figure`` or dict) as a plain dict, without Plotly's default template
    (kilobytes of styling per figure the page's plotly.js does not need)."""
    if hasattr(fig, "to_plotly_json"):
        data = json.loads(fig.to_json())
    else:
        data = json.loads(json.dumps(fig))
    data.setdefault("layout", {}).pop("template", None)
    return data


def style(fig) -> dict:
    """A figure (go.Figure or dict) as a dict with Headway's fonts and colours."""
    data = figure_dict(fig)
    layout = data["layout"]
    layout["font"] = dict(FONT)
    layout.setdefault("paper_bgcolor", TRANSPARENT)
    return data


# --- The inline SVG sparkline ---------------------------------------------------------
#
# Drawn on the server, for pages that list many (the KPI board, KPI tiles, the attention
# list): no figure JSON, no plotly.js. It keeps the look the Plotly sparklines had, so the
# pages did not change when they stopped loading plotly.js: margins left 2, right 4, top
# and bottom 4 px; Plotly's autorange (5 % of the plot area added beyond the data on padded
# axes, plus the end marker's radius as Plotly pads it); line 1.6 px; end dot 5 px across.
# The x axis is laid out on a nominal width that the browser stretches to the cell (the
# line keeps its 1.6 px: non-scaling stroke; the dot is a circle placed in percent, so it
# stays round).

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
    """A tiny line without axes, ending in a dot, as inline SVG markup.

    ``label`` is the text alternative (``aria-label``; the SVG has ``role="img"``).
    ``width`` is the nominal width the x axis is laid out on: the drawing stretches to its
    box, and matches Plotly's padding exactly when the box is that many px wide.
    ``None`` and non-finite values leave a gap. Returns markup (escaped here: the caller
    marks it safe).
    """
    ys = [finite(v) for v in values]
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
            f'aria-label="{html.escape(label)}">{"".join(parts)}</svg>')


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
    same characters. Plotly's default template is dropped; a ``go.Figure`` also gets
    Headway's fonts (``style``).
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
