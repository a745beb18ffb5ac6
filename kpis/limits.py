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
    manual: frozenset[dt.date] = frozenset()  # periods a person unlocked: never auto-locked


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


def to_lock(analysis: Analysis, periods: Sequence[dt.date],
            divisions: Divisions) -> list[tuple[dt.date, float, float]]:
    """The limit periods whose limits lock now, as (start, centre, moving range): active,
    baseline complete, not locked yet, and not unlocked by a person. Nothing for a KPI
    without limit periods (the sweep's common case)."""
    if not divisions.starts:
        return []
    locked = {d for d, _, _ in divisions.locked}
    by_start = {s.start: s for s in analysis.segments}
    out = []
    for d in divisions.starts:
        if d in locked or d in divisions.manual:
            continue
        seg = by_start.get(bisect_left(periods, d))
        if seg is not None and seg.has_limits and seg.baseline_complete and not seg.fixed:
            out.append((d, seg.center, seg.moving_range))
    return out


CLUSTER_POINTS = 3  # rule-1 points on one side after an annotated change make a suggestion


@dataclass(frozen=True)
class Suggestion:
    start: dt.date
    side: str  # "above" or "below" the current period's centre line
    length: int  # points in the run so far (a cluster: points outside the usual range)
    level: float  # the mean from the start on: roughly where the new limits would centre
    kind: str = "run"  # "run" (8 or more in a row) or "cluster" (rule-1 points after a note)
    note: str = ""  # a cluster's: the note on its first point (the known change)


def suggest(analysis: Analysis, periods: Sequence[dt.date],
            declined: Iterable[dt.date] = (),
            notes: dict[int, str] | None = None) -> Suggestion | None:
    """A new limit period when a sustained shift shows in the current period:

    - at the first point of a run of eight or more on one side of the centre line that is
      still going (it includes the newest point); else
    - at an annotated point (``notes``: index → the point's note, a known change) after
      which ``CLUSTER_POINTS`` or more points fall outside the usual range on one side,
      with none on that side between the period's start and the note (the newest such
      note: the known change nearest the cluster).

    Not when the shift starts the current period (that period already describes it), nor
    at a date a leader declined.
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
            break
        run = [analysis.values[i] for i in s.indices]
        return Suggestion(start=periods[first], side=s.side, length=len(run),
                          level=sum(run) / len(run))
    if not notes:
        return None
    beyond = [(s.index, s.side) for s in analysis.signals
              if s.rule == 1 and s.chart == "x" and s.index >= current.start]
    for j in sorted((i for i, text in notes.items() if current.start < i < n and text.strip()),
                    reverse=True):
        if periods[j] in declined:
            continue
        for side in ("above", "below"):
            before = [i for i, sd in beyond if sd == side and i < j]
            after = [i for i, sd in beyond if sd == side and i >= j]
            if not before and len(after) >= CLUSTER_POINTS:
                rest = analysis.values[j:]
                return Suggestion(start=periods[j], side=side, length=len(after),
                                  level=sum(rest) / len(rest), kind="cluster",
                                  note=notes[j].strip())
    return None
