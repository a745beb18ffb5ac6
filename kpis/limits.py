"""Limit periods of a KPI's chart, pure (no Django): from dated divisions, exclusions and
locked limits to ``kpis.xmr.analyse_segments``'s indices, and the suggestion of a new
period when a sustained shift shows.

The evaluation, the KPI page and the review's charts all go through ``analysis_for`` so
the page draws what the health engine judged.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .xmr import AVERAGE, RUN_LENGTH, Analysis, analyse_segments, segment_of


@dataclass(frozen=True)
class Divisions:
    """What divides one KPI's history (read once per KPI: kpis.limit_store)."""

    starts: tuple[dt.date, ...] = ()  # active limit periods' first periods
    locked: tuple[tuple[dt.date, float, float], ...] = ()  # (start, centre, moving range)
    excluded: frozenset[dt.date] = frozenset()
    declined: frozenset[dt.date] = frozenset()  # suggestions a leader declined


NONE = Divisions()


def analysis_for(periods: Sequence[dt.date], values: Sequence[float], *,
                 baseline_size: int | None, method: str = AVERAGE,
                 divisions: Divisions = NONE, rebase_date: dt.date | None = None) -> Analysis:
    """The XmR analysis of a KPI's points with its limit periods applied."""
    dates = set(divisions.starts)
    if rebase_date is not None:
        dates.add(rebase_date)
    starts = sorted({bisect_left(periods, d) for d in dates} | {0})
    fixed = {}
    for start, centre, mr in divisions.locked:
        i = bisect_left(periods, start)
        if i in starts and i < len(periods):
            fixed[starts.index(i)] = (centre, mr)
    excluded = [i for i, p in enumerate(periods) if p in divisions.excluded] \
        if divisions.excluded else ()
    return analyse_segments(values, starts, baseline_size=baseline_size or None,
                            excluded=excluded, method=method, fixed=fixed)


@dataclass(frozen=True)
class Suggestion:
    start: dt.date
    side: str  # "above" or "below" the current period's centre line
    length: int  # points in the run so far
    level: float  # the run's mean: roughly where the new limits would centre


def suggest(analysis: Analysis, periods: Sequence[dt.date],
            declined: Iterable[dt.date] = ()) -> Suggestion | None:
    """A new limit period at the first point of a run of eight or more on one side of the
    current period's centre line that is still going (it includes the newest point).

    Not when the run starts the current period (that period already describes it), nor at
    a date a leader declined.
    """
    n = len(periods)
    current = segment_of(analysis, n - 1) if n else None
    if current is None or not current.has_limits:
        return None
    declined = set(declined)
    for s in reversed(analysis.signals):
        if s.rule != 2 or s.chart != "x" or s.indices[-1] != n - 1:
            continue
        first = s.indices[0]
        if first <= current.start or len(s.indices) < RUN_LENGTH or periods[first] in declined:
            return None
        run = [analysis.values[i] for i in s.indices]
        return Suggestion(start=periods[first], side=s.side, length=len(run),
                          level=sum(run) / len(run))
    return None
