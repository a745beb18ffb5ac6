"""XmR (individuals and moving range) analysis — Wheeler's process behaviour chart.

Pure Python, no Django import: the charts, the health engine and the benchmarks share it.

    centre line            = mean of the baseline values
    moving range           = |x_i - x_(i-1)|
    average moving range   = mean of the moving ranges inside the baseline
    natural process limits = centre ± 2.66 × average moving range
    upper range limit      = 3.268 × average moving range
    halfway lines          = (centre + limit) / 2

With the median moving range (for series with occasional spikes, Wheeler's "Making Sense
of Data" ch. 8): limits at centre ± 3.145 × median mR, upper range limit 3.865 × median mR.

Limit periods (``analyse_segments``): the history is divided at indices; each period's
limits come from its own first ``baseline_size`` values (leaving out excluded ones), and
each point is judged against the limits of the period it belongs to, exactly as a
separate analysis of that period's values would judge it.

Detection rules (DESIGN.md, "KPIs and their health"):

1. a point outside the natural process limits (chart "x"), or a moving range above the
   upper range limit (chart "mr");
2. eight successive points on the same side of the centre line;
3. three out of four successive points beyond the same halfway line.

A point exactly on a limit or a halfway line is *not* beyond it; a point exactly on the
centre line belongs to neither side and so breaks a run.

The baseline is the first ``baseline_size`` values (all of them when ``None``, fewer while
there are fewer) counted from ``baseline_start`` (a rebase: the index of the first value
after a known change). Values before ``baseline_start`` are kept in ``moving_ranges`` but
are not judged against the new limits. Fewer than ``MIN_POINTS`` baseline values: no
limits, no signals.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_POINTS = 6
DEFAULT_BASELINE_SIZE = 20
NPL_FACTOR = 2.66  # 3 / d2, d2 = 1.128 for moving ranges of two values
URL_FACTOR = 3.268  # D4 for n = 2
MEDIAN_NPL_FACTOR = 3.145  # 3 / d4 with the median moving range, d4 = 0.954
MEDIAN_URL_FACTOR = 3.865
AVERAGE = "average"
MEDIAN = "median"
RUN_LENGTH = 8
ABOVE = "above"
BELOW = "below"

# Values are floats; a limit computed as ``centre + 2.66 * mr`` can differ from a value
# that a person would call "exactly on the limit" by one unit in the last place. Anything
# within this relative tolerance of a line counts as on it.
_REL_TOL = 1e-9


@dataclass(frozen=True)
class Signal:
    rule: int  # 1, 2 or 3
    chart: str  # "x" or "mr"
    index: int  # the point that completes the signal
    side: str  # "above" or "below"
    indices: tuple[int, ...] = ()  # every point taking part (for runs: the whole run)

    def __post_init__(self):
        if not self.indices:
            object.__setattr__(self, "indices", (self.index,))


@dataclass(frozen=True)
class Analysis:
    values: tuple[float, ...]
    moving_ranges: list[float | None]
    center: float | None = None
    average_moving_range: float | None = None
    upper_limit: float | None = None
    lower_limit: float | None = None
    upper_range_limit: float | None = None
    baseline_start: int = 0
    baseline_end: int = 0  # exclusive
    signals: list[Signal] = field(default_factory=list)
    # With limit periods: every period's limits, oldest first (the fields above are the
    # current, newest period's).
    segments: tuple[Segment, ...] = ()

    @property
    def has_limits(self) -> bool:
        return self.center is not None

    @property
    def upper_halfway(self) -> float | None:
        if self.center is None:
            return None
        return (self.center + self.upper_limit) / 2

    @property
    def lower_halfway(self) -> float | None:
        if self.center is None:
            return None
        return (self.center + self.lower_limit) / 2

    def rules_at(self, index: int) -> set[int]:
        """Rules of the x-chart signals a point takes part in (for colouring a chart)."""
        return {s.rule for s in self.signals if s.chart == "x" and index in s.indices}


@dataclass(frozen=True)
class Segment:
    """One limit period: values ``start`` to ``end`` (exclusive) and its limits (None while
    its baseline has fewer than ``MIN_POINTS`` values)."""

    start: int
    end: int
    baseline_end: int  # exclusive: the index after the baseline's last value
    baseline_count: int  # values in the baseline (excluded ones not counted)
    baseline_complete: bool
    center: float | None = None
    moving_range: float | None = None  # the average or median mR, per ``method``
    upper_limit: float | None = None
    lower_limit: float | None = None
    upper_range_limit: float | None = None
    method: str = AVERAGE
    fixed: bool = False  # limits given (locked), not computed from the values

    @property
    def has_limits(self) -> bool:
        return self.center is not None

    @property
    def upper_halfway(self) -> float | None:
        return None if self.center is None else (self.center + self.upper_limit) / 2

    @property
    def lower_halfway(self) -> float | None:
        return None if self.center is None else (self.center + self.lower_limit) / 2


def _median(xs: Sequence[float]) -> float:
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def limits_from(center: float, moving_range: float, method: str = AVERAGE):
    """(upper limit, lower limit, upper range limit) for a centre and an average or median mR."""
    npl, url = (MEDIAN_NPL_FACTOR, MEDIAN_URL_FACTOR) if method == MEDIAN else (NPL_FACTOR,
                                                                                 URL_FACTOR)
    return center + npl * moving_range, center - npl * moving_range, url * moving_range


def baseline_of(xs: Sequence[float], start: int, end: int, size: int | None,
                excluded: frozenset[int] | set[int] = frozenset()):
    """(indices of the baseline, baseline moving ranges, index after the baseline).

    The baseline is the first ``size`` values from ``start`` that are not excluded; its
    moving ranges are those between two successive points that are both in it (a range
    touching an excluded point, or straddling the period's start, describes no process).
    """
    chosen: list[int] = []
    stop = start
    for i in range(start, end):
        if size is not None and len(chosen) >= size:
            break
        stop = i + 1
        if i not in excluded:
            chosen.append(i)
    members = set(chosen)
    mrs = [abs(xs[i] - xs[i - 1]) for i in chosen if i - 1 in members]
    return chosen, mrs, stop


def analyse_segments(
    values: Sequence,
    starts: Sequence[int] = (0,),
    *,
    baseline_size: int | None = DEFAULT_BASELINE_SIZE,
    excluded: Sequence[int] = (),
    method: str = AVERAGE,
    fixed: dict[int, tuple[float, float]] | None = None,
) -> Analysis:
    """Analyse a series divided into limit periods starting at the indices ``starts``.

    ``fixed`` maps a period's position in ``starts`` to locked (centre, moving range):
    that period's limits are those, whatever its values now are. The returned Analysis
    carries every period in ``segments``; its own limits are the newest period's.
    """
    xs = _as_floats(values)
    n = len(xs)
    if baseline_size is not None and baseline_size < 2:
        raise ValueError("baseline_size must be at least 2 (or None for all values)")
    if method not in (AVERAGE, MEDIAN):
        raise ValueError(f"Unknown moving range method {method!r}")
    bounds = sorted({0, *(max(0, min(int(s), n)) for s in starts)} - {n}) or [0]
    out = frozenset(excluded)
    fixed = fixed or {}
    if len(bounds) == 1 and not out and not fixed and method == AVERAGE:
        # One period, nothing excluded or locked (most KPIs, every sweep): the plain
        # analysis, described as its one segment.
        a = analyse(xs, baseline_size=baseline_size)
        size = a.baseline_end - a.baseline_start
        seg = Segment(start=0, end=n, baseline_end=a.baseline_end, baseline_count=size,
                      baseline_complete=baseline_size is not None and size >= baseline_size,
                      center=a.center, moving_range=a.average_moving_range,
                      upper_limit=a.upper_limit, lower_limit=a.lower_limit,
                      upper_range_limit=a.upper_range_limit)
        return Analysis(values=xs, moving_ranges=a.moving_ranges, center=a.center,
                        average_moving_range=a.average_moving_range,
                        upper_limit=a.upper_limit, lower_limit=a.lower_limit,
                        upper_range_limit=a.upper_range_limit, baseline_start=0,
                        baseline_end=a.baseline_end, signals=a.signals, segments=(seg,))
    mrs = moving_ranges_of(xs)
    segments: list[Segment] = []
    signals: list[Signal] = []
    for k, start in enumerate(bounds):
        end = bounds[k + 1] if k + 1 < len(bounds) else n
        chosen, base_mrs, stop = baseline_of(xs, start, end, baseline_size, out)
        complete = baseline_size is not None and len(chosen) >= baseline_size
        given = fixed.get(k)
        if given is not None:
            center, mr = float(given[0]), float(given[1])
        elif len(chosen) >= MIN_POINTS and base_mrs:
            center = math.fsum(xs[i] for i in chosen) / len(chosen)
            mr = (_median(base_mrs) if method == MEDIAN
                  else math.fsum(base_mrs) / len(base_mrs))
        else:
            segments.append(Segment(start=start, end=end, baseline_end=stop,
                                    baseline_count=len(chosen), baseline_complete=complete,
                                    method=method))
            continue
        unpl, lnpl, url = limits_from(center, mr, method)
        segments.append(Segment(start=start, end=end, baseline_end=stop,
                                baseline_count=len(chosen), baseline_complete=complete,
                                center=center, moving_range=mr, upper_limit=unpl,
                                lower_limit=lnpl, upper_range_limit=url, method=method,
                                fixed=given is not None))
        # The period's own moving ranges: the one straddling its start is not its own.
        part_mrs = [None, *mrs[start + 1:end]] if end > start else []
        for s in _detect(xs[start:end], part_mrs, 0, center, unpl, lnpl, url):
            signals.append(Signal(rule=s.rule, chart=s.chart, index=s.index + start,
                                  side=s.side, indices=tuple(i + start for i in s.indices)))
    signals.sort(key=lambda s: (s.index, s.rule, s.chart))
    last = segments[-1]
    return Analysis(
        values=xs, moving_ranges=mrs, center=last.center, average_moving_range=last.moving_range,
        upper_limit=last.upper_limit, lower_limit=last.lower_limit,
        upper_range_limit=last.upper_range_limit, baseline_start=last.start,
        baseline_end=last.baseline_end, signals=signals, segments=tuple(segments),
    )


def segment_of(analysis: Analysis, index: int) -> Segment | None:
    for seg in reversed(analysis.segments):
        if seg.start <= index:
            return seg
    return None


def _tol(line: float) -> float:
    return _REL_TOL * max(1.0, abs(line))


def _as_floats(values: Sequence) -> tuple[float, ...]:
    xs = tuple(map(float, values))
    # One check for the whole series (a NaN or an infinity makes the sum non-finite);
    # the loop that names the culprit runs only then.
    if not math.isfinite(math.fsum(xs)):
        for v, f in zip(values, xs, strict=True):
            if not math.isfinite(f):
                raise ValueError(f"XmR values must be finite numbers, got {v!r}")
        raise ValueError("XmR values are too large")
    return xs


def moving_ranges_of(values: Sequence[float]) -> list[float | None]:
    if not values:
        return []
    # |b - a| for each neighbouring pair, with the built-ins doing the loop (the same floats
    # as a generator of abs(b - a); this runs for every KPI on every sweep).
    return [None, *map(abs, map(operator.sub, values[1:], values))]


def analyse(
    values: Sequence,
    baseline_size: int | None = DEFAULT_BASELINE_SIZE,
    baseline_start: int = 0,
) -> Analysis:
    """Analyse a series of individual values in time order."""
    xs = _as_floats(values)
    n = len(xs)
    mrs = moving_ranges_of(xs)
    if baseline_size is not None and baseline_size < 2:
        raise ValueError("baseline_size must be at least 2 (or None for all values)")
    start = max(0, min(int(baseline_start), n))
    end = n if baseline_size is None else min(n, start + baseline_size)

    if end - start < MIN_POINTS:
        return Analysis(values=xs, moving_ranges=mrs, baseline_start=start, baseline_end=end)

    base = xs[start:end]
    center = sum(base) / len(base)
    # Moving ranges inside the baseline only: the one that straddles a rebase mixes the
    # old process with the new one.
    base_mrs = [mrs[i] for i in range(start + 1, end)]
    mr_bar = sum(base_mrs) / len(base_mrs)
    unpl = center + NPL_FACTOR * mr_bar
    lnpl = center - NPL_FACTOR * mr_bar
    url = URL_FACTOR * mr_bar

    signals = _detect(xs, mrs, start, center, unpl, lnpl, url)
    return Analysis(
        values=xs,
        moving_ranges=mrs,
        center=center,
        average_moving_range=mr_bar,
        upper_limit=unpl,
        lower_limit=lnpl,
        upper_range_limit=url,
        baseline_start=start,
        baseline_end=end,
        signals=signals,
    )


def _detect(xs, mrs, start, center, unpl, lnpl, url) -> list[Signal]:
    # Each line is turned once into the two thresholds "strictly beyond" means (the line
    # plus or minus its tolerance), so the loops below are plain comparisons: this runs
    # for every KPI on every sweep.
    n = len(xs)
    signals: list[Signal] = []
    above_u = unpl + _tol(unpl)
    below_l = lnpl - _tol(lnpl)
    above_c = center + _tol(center)
    below_c = center - _tol(center)
    upper_half = (center + unpl) / 2
    lower_half = (center + lnpl) / 2
    above_uh = upper_half + _tol(upper_half)
    below_lh = lower_half - _tol(lower_half)
    above_url = url + _tol(url)

    # Rule 1, X chart: outside the natural process limits.
    for i in range(start, n):
        x = xs[i]
        if x > above_u:
            signals.append(Signal(rule=1, chart="x", index=i, side=ABOVE))
        elif x < below_l:
            signals.append(Signal(rule=1, chart="x", index=i, side=BELOW))

    # Rule 1, mR chart: a moving range above the upper range limit.
    for i in range(start + 1, n):
        if mrs[i] > above_url:
            signals.append(Signal(rule=1, chart="mr", index=i, side=ABOVE, indices=(i - 1, i)))

    # Rule 2: runs of eight or more on one side. One signal per run; ``index`` is the
    # eighth point (the one that completes the signal), ``indices`` the whole run. A point
    # on the centre line (side None) ends a run and starts none.
    run_side = None
    run_start = start
    for i in range(start, n + 1):
        if i < n:
            x = xs[i]
            side = ABOVE if x > above_c else BELOW if x < below_c else None
            if side is not None and side == run_side:
                continue
        else:
            side = None
        if run_side is not None and i - run_start >= RUN_LENGTH:
            signals.append(Signal(rule=2, chart="x", index=run_start + RUN_LENGTH - 1,
                                  side=run_side, indices=tuple(range(run_start, i))))
        run_side, run_start = side, i

    # Rule 3: three out of four successive points beyond the same halfway line. Windows
    # that overlap make one signal; ``index`` is the point completing the first window,
    # ``indices`` the points beyond the line in all of them.
    if n - start >= 4:
        for side, flags in (
            (ABOVE, [x > above_uh for x in xs]),
            (BELOW, [x < below_lh for x in xs]),
        ):
            cluster: set[int] = set()
            completing = None
            last_window_end = None
            count = flags[start] + flags[start + 1] + flags[start + 2]
            for end in range(start + 3, n):
                count += flags[end]
                if end - 4 >= start:
                    count -= flags[end - 4]
                if count < 3:
                    continue
                hits = [i for i in range(end - 3, end + 1) if flags[i]]
                if last_window_end is not None and end - 3 <= last_window_end:
                    cluster.update(hits)
                else:
                    if cluster:
                        signals.append(Signal(rule=3, chart="x", index=completing, side=side,
                                              indices=tuple(sorted(cluster))))
                    cluster = set(hits)
                    completing = hits[-1]
                last_window_end = end
            if cluster:
                signals.append(Signal(rule=3, chart="x", index=completing, side=side,
                                      indices=tuple(sorted(cluster))))

    signals.sort(key=lambda s: (s.index, s.rule, s.chart))
    return signals
