"""What the KPI page's chart shows, computed once for the page and the chart's CSV: the
analysis with the KPI's limit periods, which signal points are favourable, the excluded
points, the suggested new period and one row per limit period (in words)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import limit_store as S
from . import limits as L
from . import rules as R
from . import words as W
from .models import ExcludedPoint, Kpi, LimitPeriod
from .xmr import Analysis


@dataclass
class PeriodRow:
    start: str  # "15 Jun 2026"
    start_iso: str
    reason: str
    limits: str  # "usual range 45 – 54 min, centre 49 min" or why there is none
    baseline: str  # "baseline of 20 points, complete: limits locked" ...
    record: LimitPeriod | None = None  # None for the first (implicit) period
    locked: bool = False
    lockable: bool = False


@dataclass
class ChartModel:
    analysis: Analysis
    divisions: L.Divisions
    favourable: dict[int, bool | None] = field(default_factory=dict)
    excluded_idx: list[int] = field(default_factory=list)
    suggestion: L.Suggestion | None = None
    periods: list[PeriodRow] = field(default_factory=list)
    exclusions: list[ExcludedPoint] = field(default_factory=list)


def day(value) -> str:
    return f"{value.day} {value:%b %Y}"


def build(kpi: Kpi, points) -> ChartModel:
    """``points``: the KPI's points oldest first (selectors.kpi_detail(kpi).points)."""
    periods = [p.period_start for p in points]
    values = [p.value for p in points]
    records = list(LimitPeriod.objects.filter(kpi=kpi).select_related("created_by"))
    exclusions = list(ExcludedPoint.objects.filter(kpi=kpi).select_related("created_by"))
    divisions = S.divisions_from(records, exclusions)
    analysis = S.kpi_analysis(kpi, periods, values, divisions)
    low, high = R.bounds(kpi.target_rule, kpi.target_value, kpi.target_upper)
    favourable: dict[int, bool | None] = {}
    from .xmr import segment_of

    for s in analysis.signals:
        if s.chart != "x":
            continue
        seg = segment_of(analysis, s.index)
        verdict = R.signal_is_favourable(chart="x", side=s.side, rule=kpi.target_rule, low=low,
                                         high=high, center=seg.center if seg else None,
                                         intent=kpi.intent)
        for i in s.indices:
            # A point in an unfavourable signal is drawn as bad even if also in a good one.
            favourable[i] = False if favourable.get(i) is False else verdict
    excluded_idx = [i for i, p in enumerate(periods) if p in divisions.excluded]
    model = ChartModel(analysis=analysis, divisions=divisions, favourable=favourable,
                       excluded_idx=excluded_idx,
                       suggestion=L.suggest(analysis, periods, divisions.declined,
                                            notes={i: p.note for i, p in enumerate(points)
                                                   if p.note}))
    records = {p.start: p for p in records if p.status == LimitPeriod.Status.ACTIVE}
    fmt = lambda v: W.local_value(v, kpi.unit, kpi.decimals)  # noqa: E731  (reader's format)
    size = kpi.baseline_size
    for seg in analysis.segments:
        if seg.start >= len(periods):
            continue
        first = periods[seg.start]
        record = next((r for d, r in sorted(records.items()) if d <= first and
                       (seg.start == 0 or d > periods[seg.start - 1])), None)
        if seg.has_limits:
            limits = _("usual range %(low)s – %(high)s, centre %(centre)s") % {
                "low": fmt(seg.lower_limit), "high": fmt(seg.upper_limit),
                "centre": fmt(seg.center)}
        else:
            limits = _("no usual range yet: %(n)s of at least 6 points") % {
                "n": seg.baseline_count}
        if seg.fixed:
            baseline = _("limits locked")
        elif seg.baseline_complete:
            baseline = _("baseline of %(size)s points complete: limits no longer move") % {
                "size": size}
        elif size:
            baseline = ngettext(
                "baseline of %(n)s point (of %(size)s) so far: limits still settle",
                "baseline of %(n)s points (of %(size)s) so far: limits still settle",
                seg.baseline_count) % {"n": seg.baseline_count, "size": size}
        else:
            baseline = ngettext("baseline of %(n)s point so far: limits still settle",
                                "baseline of %(n)s points so far: limits still settle",
                                seg.baseline_count) % {"n": seg.baseline_count}
        if seg.method == "median":
            baseline = _("%(baseline)s · median moving range") % {"baseline": baseline}
        model.periods.append(PeriodRow(
            start=W.local_day(first), start_iso=first.isoformat(),
            reason=record.reason if record else (
                _("From the first value") if seg.start == 0 else _("Rebase date")),
            limits=limits, baseline=baseline, record=record,
            locked=bool(record and record.is_locked),
            lockable=bool(record and not record.is_locked and seg.baseline_complete)))
    model.exclusions = exclusions
    return model


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in _FORMULA else value


def csv_rows(kpi: Kpi, points, model: ChartModel):
    """The chart's data, one row per point: value, its period's limits, signals, note."""
    from .xmr import segment_of

    yield ["period", "value", "moving_range", "limit_period_start", "centre_line",
           "lower_limit", "upper_limit", "upper_range_limit", "excluded", "signals", "note"]
    a = model.analysis
    by_point: dict[int, list[str]] = {}
    for s in a.signals:
        for i in s.indices:
            by_point.setdefault(i, []).append(
                "jump in variation" if s.chart == "mr" else
                {1: "outside the usual range", 2: "run on one side",
                 3: "3 of 4 near the edge"}[s.rule] + f" ({s.side})")
    excluded = set(model.excluded_idx)
    for i, p in enumerate(points):
        seg = segment_of(a, i)
        mr = a.moving_ranges[i]
        lim = [seg.center, seg.lower_limit, seg.upper_limit, seg.upper_range_limit] \
            if seg and seg.has_limits else ["", "", "", ""]
        yield [p.period_start.isoformat(), p.value, "" if mr is None else mr,
               p.period_start.isoformat() if seg is None else
               points[seg.start].period_start.isoformat(), *lim,
               "yes" if i in excluded else "", "; ".join(by_point.get(i, [])),
               _text(p.note or "")]
