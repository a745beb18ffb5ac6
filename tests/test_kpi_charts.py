"""The KPI charts: the XmR and moving-range figures as plain plotly.js JSON (kpis.charts)
and the board's server-drawn SVG sparkline (core.charts.sparkline_svg)."""

from __future__ import annotations

import datetime as dt
import json
import re

from core import charts as core_charts
from kpis import charts
from kpis import rules as R
from kpis.xmr import analyse

WEEKS = [dt.date(2026, 1, 5) + dt.timedelta(weeks=i) for i in range(24)]
# A stable process, then a shift up: a run of 8 and points outside the limits.
VALUES = [20, 22, 19, 21, 20, 23, 18, 21, 20, 22, 19, 21,
          26, 27, 25, 28, 26, 27, 29, 26, 35, 27, 26, 28]


def _figure(**kw):
    analysis = analyse(VALUES, baseline_size=12)
    kw = {"target_rule": R.BETWEEN, "target_value": 18, "target_upper": 24, "unit": "min", **kw}
    return analysis, charts.xmr_data(WEEKS, VALUES, analysis, **kw)


def test_xmr_data_traces_legend_and_layout():
    analysis, fig = _figure()
    names = [t["name"] for t in fig["data"]]
    assert names == ["Value", "Value", "Outside the usual range", "Run of 8 or more on one side",
                     "Centre line",
                     "Upper limit", "Lower limit", "Halfway", "Halfway (lower)", "Target",
                     "Target"]
    line, plain, outside, run = fig["data"][:4]
    assert line["showlegend"] is False and line["mode"] == "lines"
    assert line["x"][0] == "2026-01-05" and line["y"] == VALUES
    assert outside["marker"] == {"color": charts.COLOURS[1], "size": 9,
                                 "symbol": ["circle"] * len(outside["x"]),
                                 "line": {"color": charts.COLOURS[1], "width": 2}}
    assert run["marker"]["color"] == charts.COLOURS[2]
    assert 35 in outside["y"] and plain["marker"]["size"] == 7
    # Hover text in words: the period as a date, the value with its unit, what a signal
    # point is; the lines say which line and its value.
    assert plain["hovertemplate"] == "%{x|%-d %b %Y}: %{y} min<extra></extra>"
    assert outside["hovertemplate"] == (
        "%{x|%-d %b %Y}: %{y} min<br>Outside the usual range<extra></extra>")
    assert fig["data"][4]["hovertemplate"] == "%{fullData.name}: %{y:,.2~f} min<extra></extra>"
    weekly = charts.xmr_data(WEEKS, VALUES, analysis, unit="min", frequency="weekly")
    assert weekly["data"][1]["hovertemplate"] == (
        "Week of %{x|%-d %b %Y}: %{y} min<extra></extra>")
    assert charts.when("monthly") == "%{x|%B %Y}"
    assert charts.when("quarterly") == "Quarter from %{x|%b %Y}"
    centre = fig["data"][4]
    assert centre["y"] == [analysis.center] * 2 and centre["x"] == ["2026-01-05", "2026-06-15"]
    # The second halfway line and the second target line stay out of the legend.
    assert fig["data"][8]["showlegend"] is False and fig["data"][10]["showlegend"] is False
    assert "showlegend" not in fig["data"][7] and "showlegend" not in fig["data"][9]
    layout = fig["layout"]
    assert layout["height"] == 380 and layout["yaxis"]["title"] == {"text": "min"}
    assert layout["font"] == core_charts.FONT and layout["paper_bgcolor"] == "rgba(0,0,0,0)"
    # The x-axis in readable dates (not plotly.js's "Nov 9<br>2026"): day-month-year while
    # the ticks are days or weeks apart, month-year, then the year.
    xaxis = layout["xaxis"]
    assert xaxis["type"] == "date" and xaxis["hoverformat"] == "%-d %b %Y"
    assert [s["value"] for s in xaxis["tickformatstops"]] == ["%-d %b %Y", "%b %Y", "%Y"]
    json.loads(core_charts.to_json(fig))  # valid JSON, no NaN


def test_xmr_data_without_limits_or_target():
    analysis = analyse([3, 4, 5])
    fig = charts.xmr_data(WEEKS[:3], [3, 4, 5], analysis)
    assert [t["name"] for t in fig["data"]] == ["Value", "Value"]
    assert fig["layout"]["yaxis"]["title"] == {}  # no unit: no axis title


def test_mr_data_marks_jumps():
    analysis = analyse(VALUES, baseline_size=12)
    fig = charts.mr_data(WEEKS, analysis)
    mr = fig["data"][0]
    assert mr["x"][0] == "2026-01-12" and mr["y"] == analysis.moving_ranges[1:]
    jumps = {s.index for s in analysis.signals if s.chart == "mr"}
    assert jumps  # 26 → 35 → 27
    assert [c == charts.COLOURS[1] for c in mr["marker"]["color"]] == \
        [i in jumps for i in range(1, len(VALUES))]
    assert [t["name"] for t in fig["data"][1:]] == ["Average mR", "Upper range limit"]
    assert fig["layout"]["xaxis"]["tickformatstops"] == charts.X_AXIS["tickformatstops"]
    words = charts.mr_data(WEEKS, analysis, frequency="weekly", unit="min")["data"][0]
    assert words["hovertemplate"] == ("Week of %{x|%-d %b %Y}: changed by %{y:,.2~f} min "
                                      "from the period before<extra></extra>")


# --- The SVG sparkline ------------------------------------------------------------------


def _svg_parts(svg: str):
    paths = re.findall(r'<path d="([^"]+)"', svg)
    points = [[tuple(map(float, p.split(","))) for p in sub.split("L")]
              for path in paths for sub in path.split("M")[1:]]
    dot = re.search(r'<circle cx="([\d.]+)%" cy="([\d.]+)" r="2.5" fill="([^"]+)"/>', svg)
    return points, dot


def test_sparkline_svg_draws_the_plotly_sparkline():
    svg = core_charts.sparkline_svg([3, 1, 2, 5, 4], status="off_target", label="Reply <time>")
    assert svg.startswith('<svg class="sparkline" width="100%" height="40" role="img" '
                          'aria-label="Reply &lt;time&gt;">')
    assert 'stroke="#c92a2a" stroke-width="1.6" vector-effect="non-scaling-stroke"' in svg
    (line,), dot = _svg_parts(svg)
    xs, ys = [x for x, _ in line], [y for _, y in line]
    # Plotly's layout: margins 2/4 px, 5 % padding, room for the end dot on the right.
    assert xs[0] == 2.0 and 88.0 < xs[-1] < 88.5
    assert min(ys) >= 4 and max(ys) == 34.4  # the lowest value: 5 % above the bottom
    assert ys[1] == max(ys) and ys[3] == min(ys)  # 1 is lowest, 5 highest
    assert float(dot.group(1)) == xs[-1] and float(dot.group(2)) == ys[-1]
    assert dot.group(3) == core_charts.COLOURS["red"]


def test_sparkline_svg_gaps_flat_lines_and_nothing():
    (first, second), dot = _svg_parts(core_charts.sparkline_svg([1, 2, None, 3, float("nan"),
                                                             4, 5]))
    assert len(first) == 2 and len(second) == 2  # the lone 3 draws no line
    assert float(dot.group(1)) == second[-1][0]
    (flat,), _ = _svg_parts(core_charts.sparkline_svg([7, 7, 7]))
    assert {y for _, y in flat} == {20.0}  # a constant series runs through the middle
    lines, dot = _svg_parts(core_charts.sparkline_svg([7]))
    assert lines == [] and (dot.group(1), dot.group(2)) == ("49.00", "20.00")  # plot centre
    svg = core_charts.sparkline_svg([], label="x")
    assert "<path" not in svg and "<circle" not in svg and 'aria-label="x"' in svg
