"""The pure core of KPI health: from a KPI's definition and points to its health.

No Django import. ``kpis.health`` loads rows, calls :func:`evaluate` and writes the result;
the benchmarks call it directly.

Candidacy (DESIGN.md): a KPI becomes an improvement candidate, with a plain reason, when

- it is off target for two periods in a row (its two newest points),
- its natural process limits say it will consistently miss the target, or
- an unfavourable signal is *current* (one of its points is among the newest three),

unless an active improvement OKR already targets it ("in improvement"). A dismissed
candidate stays dismissed until the state worsens: a reason appears that was not there
when it was dismissed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from . import limits as L
from . import periods as P
from . import rules as R
from . import words as W

OFF_TARGET_PERIODS = 2  # off target this many periods in a row makes a candidate
CURRENT_WINDOW = 3  # a signal is current when it involves one of the newest N points
BACK_TO_SUSTAIN_PERIODS = 3  # on target for the last N periods to return to sustain

# Candidate states (values match KpiHealth.Candidate)
NOT_CANDIDATE = "none"
CANDIDATE = "candidate"
DISMISSED = "dismissed"
IN_IMPROVEMENT = "in_improvement"


@dataclass(frozen=True)
class KpiSpec:
    frequency: str
    intent: str = R.SUSTAIN
    target_rule: str = R.NONE
    target_value: float | None = None
    target_upper: float | None = None
    baseline_size: int | None = 20
    rebase_date: dt.date | None = None
    limit_method: str = "average"
    divisions: L.Divisions = L.NONE  # limit periods, locked limits, excluded points
    unit: str = ""
    decimals: int = 1

    @property
    def low_high(self):
        return R.bounds(self.target_rule, self.target_value, self.target_upper)


@dataclass
class Result:
    status: str
    is_stale: bool
    latest_value: float | None
    latest_period: dt.date | None
    points_count: int
    center: float | None
    lower_limit: float | None
    upper_limit: float | None
    upper_range_limit: float | None
    signals: list[dict]
    has_unfavourable_signal: bool
    capability: str  # "" when unknown
    candidate: str
    candidate_reason: str
    reason_keys: list[str] = field(default_factory=list)
    on_target_streak: int = 0
    off_target_streak: int = 0
    # Limit periods whose limits lock now (their baseline completed): (start, centre, mR).
    to_lock: list[tuple[dt.date, float, float]] = field(default_factory=list)


def baseline_start_index(periods: Sequence[dt.date], rebase_date: dt.date | None) -> int:
    if rebase_date is None:
        return 0
    for i, p in enumerate(periods):
        if p >= rebase_date:
            return i
    return len(periods)


def evaluate(
    spec: KpiSpec,
    points: Sequence[tuple[dt.date, float]],
    *,
    today: dt.date,
    in_improvement: bool = False,
    previous_candidate: str = NOT_CANDIDATE,
    dismissed_keys: Sequence[str] = (),
) -> Result:
    """Health of one KPI. ``points`` are (period_start, value), oldest first."""
    return evaluate_series(spec, [p for p, _ in points], [float(v) for _, v in points],
                           today=today, in_improvement=in_improvement,
                           previous_candidate=previous_candidate, dismissed_keys=dismissed_keys)


def evaluate_series(
    spec: KpiSpec,
    periods: Sequence[dt.date],
    values: Sequence[float],
    *,
    today: dt.date,
    in_improvement: bool = False,
    previous_candidate: str = NOT_CANDIDATE,
    dismissed_keys: Sequence[str] = (),
) -> Result:
    """:func:`evaluate` with the points as two sequences of the same length, oldest first:
    their periods and their values (floats). The sweep reads them so, one pair per KPI."""
    n = len(values)
    low, high = spec.low_high
    rule = spec.target_rule

    latest_value = values[-1] if n else None
    latest_period = periods[-1] if n else None
    status = R.target_status(latest_value, rule, low, high)
    # Streaks of the newest periods: walk back only as far as they go.
    off_streak = on_streak = 0
    if status in (R.ON_TARGET, R.OFF_TARGET):
        lo = float(low) if low is not None else -math.inf
        hi = float(high) if high is not None else math.inf
        want = status == R.ON_TARGET
        streak = 0
        for v in reversed(values):
            if (lo <= v <= hi) != want:
                break
            streak += 1
        if want:
            on_streak = streak
        else:
            off_streak = streak
    stale = P.is_stale(latest_period, today, spec.frequency)

    # The current (newest) limit period's figures make the capability and the reasons.
    a = L.analysis_for(periods, values, baseline_size=spec.baseline_size,
                       method=spec.limit_method, divisions=spec.divisions,
                       rebase_date=spec.rebase_date)
    fmt = {"unit": spec.unit, "decimals": spec.decimals}

    signals = []
    current_unfavourable = []
    for s in a.signals:
        # Only current signals make the health (and are stored); the KPI's page draws the
        # whole history from the points.
        if max(s.indices) < n - CURRENT_WINDOW:
            continue
        jump = None
        if s.chart == "mr":
            jump = "above" if values[s.index] > values[s.index - 1] else "below"
        favourable = R.signal_is_favourable(
            chart=s.chart,
            side=s.side,
            rule=rule,
            low=low,
            high=high,
            center=a.center,
            intent=spec.intent,
            jump=jump,
        )
        first = min(s.indices)
        reason = W.signal(
            frequency=spec.frequency,
            rule=s.rule,
            chart=s.chart,
            side=s.side,
            length=len(s.indices),
            since=periods[first] if s.rule != 1 else periods[s.index],
            value=values[s.index] if s.rule == 1 else None,
            **fmt,
        )
        entry = {
            "rule": s.rule,
            "chart": s.chart,
            "side": s.side,
            "jump": jump,
            "index": s.index,
            "length": len(s.indices),
            "period": periods[s.index].isoformat(),
            "since": periods[first].isoformat(),
            "favourable": favourable,
            "current": True,
            "reason": reason,
        }
        signals.append(entry)
        if favourable is False:
            current_unfavourable.append(entry)

    cap = R.capability(a.lower_limit, a.upper_limit, rule, low, high) or ""

    reasons: list[tuple[str, str]] = []  # (key, text)
    if off_streak >= OFF_TARGET_PERIODS:
        reasons.append(
            ("off_target", W.off_target(off_streak, latest_value, rule, low, high, **fmt))
        )
    if cap == R.CONSISTENTLY_MISSED:
        reasons.append(
            ("missed", W.capability(a.lower_limit, a.upper_limit, rule, low, high, **fmt))
        )
    seen = set()
    # The most telling signal first: a run (with its start), a point beyond, then 3-of-4.
    priority = {("x", 2): 0, ("x", 1): 1, ("x", 3): 2, ("mr", 1): 3}
    current_unfavourable.sort(key=lambda e: (priority.get((e["chart"], e["rule"]), 9), e["index"]))
    for e in current_unfavourable:
        # Coarse on purpose: a shift continuing (more points beyond, a run growing, a
        # rule-3 pattern joining a rule-1 point on the same side) is not "worse", else a
        # dismissal would end with every new point; a shift to the other side, or a jump
        # in variation, is.
        key = f"signal:{e['chart']}:{e['side']}"
        if key in seen:
            continue
        seen.add(key)
        reasons.append((key, e["reason"]))

    keys = [k for k, _ in reasons]
    candidate = next_state(current=previous_candidate, reason_keys=keys,
                           dismissed_keys=dismissed_keys, tracked=in_improvement, reached=False,
                           ready_for_sustain=False)

    return Result(
        status=status,
        is_stale=stale,
        latest_value=latest_value,
        latest_period=latest_period,
        points_count=n,
        center=a.center,
        lower_limit=a.lower_limit,
        upper_limit=a.upper_limit,
        upper_range_limit=a.upper_range_limit,
        signals=signals,
        has_unfavourable_signal=bool(current_unfavourable),
        capability=cap,
        candidate=candidate,
        candidate_reason=R.join_reasons([t for _, t in reasons]),
        reason_keys=keys,
        on_target_streak=on_streak,
        off_target_streak=off_streak,
        to_lock=L.to_lock(a, periods, spec.divisions),
    )


def next_state(*, current: str, reason_keys: Iterable[str], dismissed_keys: Iterable[str],
               tracked: bool, reached: bool, ready_for_sustain: bool) -> str:
    """The loop's rule, pure (the sweep applies it to every KPI it evaluates).

    - In improvement: stays while a live objective's key result tracks the KPI, until that
      key result has reached its target and the KPI is ready for sustain (on target for
      its last periods, no unfavourable signal) → sustain. When nothing live tracks it any
      more (objective cancelled, deleted, closed unfinished, its KR unlinked) it goes back
      to the queue: a candidate if it still has a reason, else sustain.
    - Otherwise: a live key result that tracks the KPI and has not reached its target puts
      it in improvement (a KR linked by hand, a carried-over objective). Else a candidate
      while it has a reason, unless it was dismissed and no new reason appeared; sustain
      when it has none.
    """
    keys = set(reason_keys)
    if current == IN_IMPROVEMENT:
        if tracked and not (reached and ready_for_sustain):
            return IN_IMPROVEMENT
        if tracked:
            return NOT_CANDIDATE
        return CANDIDATE if keys else NOT_CANDIDATE
    if tracked and not reached:
        return IN_IMPROVEMENT
    if not keys:
        return NOT_CANDIDATE
    if current == DISMISSED and keys <= set(dismissed_keys):
        return DISMISSED
    return CANDIDATE


SHIFT_RUN = 8  # Wheeler's rule 2: this many successive points on one side is a shift


def current_level(values: Sequence[float], center: float | None) -> float | None:
    """The level the KPI runs at now: where an improvement starts from (okrs.promotion).

    The rule: when the newest points form a sustained shift still going on — a run of
    ``SHIFT_RUN`` (8) or more successive points on one side of the centre line, ending at
    the newest point — the process has moved, and its level is the mean of the points of
    that run (not the centre line of a baseline drawn before the shift). Otherwise the
    latest value, which is also what the linked key result shows as its current value, so
    the new key result starts at 0 % rather than already part-way or behind. A point on the
    centre line breaks a run (as in ``kpis.xmr``). Limit periods will change the centre
    passed in, not this rule.
    """
    if not values:
        return None
    latest = float(values[-1])
    if center is None or latest == center:
        return latest
    above = latest > center
    run = 0
    for v in reversed(values):
        if v == center or (v > center) != above:
            break
        run += 1
    if run >= SHIFT_RUN:
        tail = values[-run:]
        return sum(tail) / len(tail)
    return latest


def ready_for_sustain(result: Result) -> bool:
    """On target for its last three periods with no unfavourable signal."""
    return result.on_target_streak >= BACK_TO_SUSTAIN_PERIODS and not result.has_unfavourable_signal
