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
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import limits as L
from . import periods as P
from . import rules as R

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
    periods = [p for p, _ in points]
    values = [float(v) for _, v in points]
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
        reason = R.reason_signal(
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
            ("off_target", R.reason_off_target(off_streak, latest_value, rule, low, high, **fmt))
        )
    if cap == R.CONSISTENTLY_MISSED:
        reasons.append(
            ("missed", R.reason_capability(a.lower_limit, a.upper_limit, rule, low, high, **fmt))
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
    if in_improvement:
        candidate = IN_IMPROVEMENT
    elif not reasons:
        candidate = NOT_CANDIDATE
    elif previous_candidate == DISMISSED and set(keys) <= set(dismissed_keys):
        candidate = DISMISSED
    else:
        candidate = CANDIDATE

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
    )


def ready_for_sustain(result: Result) -> bool:
    """On target for its last three periods with no unfavourable signal."""
    return result.on_target_streak >= BACK_TO_SUSTAIN_PERIODS and not result.has_unfavourable_signal
