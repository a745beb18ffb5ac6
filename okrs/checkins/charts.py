"""Plotly figure of a key result's value over its cycle, against the ideal line.

Built in Python (no Django import); the page hands the JSON to the vendored plotly.js
(static/js/app.js draws every `script.plot-data`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import plotly.graph_objects as go

COLOURS = {"value": "#3b5bdb", "ideal": "#8a93a8", "target": "#2b8a3e", "today": "#1d2433"}


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
) -> go.Figure:
    """`points` are (moment, value, done) of each check-in, oldest first.

    Metric KRs: the ideal line runs from the start value on the first day of the cycle to
    the target on the last. Guardrails: the threshold as a flat line. Milestones: 0/1 steps.
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
                                 name="Threshold", line={"color": COLOURS["target"],
                                                         "dash": "dash", "width": 1.5}))
    elif kind == "metric":
        fig.add_trace(go.Scatter(x=[x0, x1], y=[start_value, target_value], mode="lines",
                                 name="Ideal", line={"color": COLOURS["ideal"], "dash": "dot",
                                                     "width": 1.5},
                                 hovertemplate="Ideal %{y:.4~g}" + suffix + "<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="lines+markers", name="Check-ins",
        line={"color": COLOURS["value"], "width": 2, "shape": "hv" if kind == "milestone"
              else "linear"},
        marker={"size": 7},
        hovertemplate="%{x|%d %b %Y}: %{y:.4~g}" + suffix + "<extra></extra>"))
    shapes = []
    if today is not None and cycle_start <= today <= cycle_end:
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": today.isoformat(),
                       "x1": today.isoformat(), "y0": 0, "y1": 1,
                       "line": {"color": COLOURS["today"], "width": 1, "dash": "dot"},
                       "opacity": 0.4})
    yaxis: dict = {"title": {"text": unit} if unit else None, "zeroline": False,
                   "gridcolor": "#eef0f4"}
    if kind == "milestone":
        yaxis.update(tickvals=[0, 1], ticktext=["Not done", "Done"], range=[-0.2, 1.2])
    fig.update_layout(
        height=height, margin={"l": 50, "r": 16, "t": 16, "b": 40},
        xaxis={"range": [axis_start, x1], "type": "date", "gridcolor": "#eef0f4"},
        yaxis={k: v for k, v in yaxis.items() if v is not None},
        legend={"orientation": "h", "y": -0.18, "x": 0},
        shapes=shapes, plot_bgcolor="#ffffff", paper_bgcolor="rgba(0,0,0,0)",
        hovermode="closest",
    )
    return fig


def figure_dict(fig: go.Figure) -> dict:
    data = json.loads(fig.to_json())
    data.get("layout", {}).pop("template", None)
    return data


def to_json(fig: go.Figure) -> str:
    """JSON for a `<script type="application/json">` block: `<`, `>` and `&` escaped so the
    text can never close the script element."""
    text = json.dumps(figure_dict(fig), separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
