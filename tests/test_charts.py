"""core.charts (the JSON that goes inside a script element) and the figures built on it:
a KPI-linked key result against the ideal line (the strategic review), a team's check-in
completion (the team page)."""

from __future__ import annotations

import datetime as dt
import json

import plotly.graph_objects as go

from core import charts
from dashboards.review.charts import kr_progress
from okrs.checkins.charts import completion_bars


def test_to_json_escapes_what_could_end_a_script_element():
    fig = {"data": [{"type": "scatter", "y": [1, 2, 3]}], "layout": charts.base_layout(40)}
    fig["layout"]["title"] = {"text": "</script><b>x & y</b>"}
    text = charts.to_json(fig)
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\\u003c/script\\u003e" in text
    # JSON.parse (here json.loads) gives back the very same text.
    assert json.loads(text)["layout"]["title"]["text"] == "</script><b>x & y</b>"


def test_to_json_accepts_a_plotly_figure_and_drops_the_template():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name="a<b"))
    data = json.loads(charts.to_json(fig))
    assert "template" not in data["layout"]
    assert data["data"][0]["y"] == [3, 4]
    assert data["layout"]["font"]["family"] == charts.FONT["family"]


def test_to_json_never_writes_nan():
    fig = {"data": [{"y": [charts.finite(v) for v in (1, None, float("nan"), 4)]}]}
    assert json.loads(charts.to_json(fig))["data"][0]["y"] == [1.0, None, None, 4.0]


def test_kr_progress_has_the_ideal_line_from_start_to_end():
    start, end = dt.date(2026, 10, 1), dt.date(2026, 12, 31)
    fig = kr_progress([(dt.date(2026, 10, 8), 0.1), (dt.date(2026, 10, 15), 1.7),
                       (dt.date(2026, 10, 22), None)],
                      start=start, end=end, today=dt.date(2026, 11, 1))
    ideal, actual = fig["data"]
    assert ideal["x"] == ["2026-10-01", "2026-12-31"] and ideal["y"] == [0, 100]
    assert actual["y"] == [10.0, 100.0]  # clamped, None skipped
    assert fig["layout"]["shapes"][0]["x0"] == "2026-11-01"


def test_completion_bars_colour_the_weeks_behind():
    fig = completion_bars([(dt.date(2026, 11, 2), 4, 4), (dt.date(2026, 11, 9), 1, 4),
                           (dt.date(2026, 11, 16), 0, 0)])
    bar = fig["data"][0]
    assert bar["x"] == ["2 Nov", "9 Nov", "16 Nov"]
    assert bar["y"] == [100.0, 25.0, 0]
    assert bar["marker"]["color"] == [charts.COLOURS["primary"], charts.COLOURS["amber"],
                                      charts.COLOURS["grey"]]
    assert bar["text"][2] == "nothing due"
