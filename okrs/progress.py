"""Progress, expected progress, status and scoring rules for OKRs.

Pure Python: no Django import, so the rules can be unit-tested and benchmarked
alone. Callers (selectors, services) turn model rows into the plain values and
small dataclasses below.

Every function returns a float in ``[0.0, 1.0]`` for progress, never raises on
odd data (``None`` values, a target equal to its start, negative numbers,
weights that are all zero, NaN/inf) and never divides by zero.

Rules (see also ``shared/DESIGN.md``):

* **Metric KR**: ``clamp((current - start) / (target - start), 0, 1)``. The
  direction comes from start vs target: ``target > start`` is "increase",
  ``target < start`` is "decrease" (start 52, target 30: current 41 is 0.5).
  Going past the target clamps to 1.0; moving the wrong way clamps to 0.0.
  *Target equal to start* ("hold" KR, nothing to travel): 1.0 while the current
  value is at the target, else 0.0 -- without a direction we cannot tell which
  side of the target counts as "past" it, so any deviation is "not held". (Use a
  guardrail KR for "stay at or above / at or below X".)
  *No current value yet* (``None``): the KR has not moved, 0.0.
  A missing start counts as 0; a missing target gives 0.0.
* **Milestone KR**: 1.0 when done (current >= 1, or ``True``), else 0.0.
* **Guardrail KR**: threshold X is the target; ``at_least`` holds while
  current >= X, ``at_most`` while current <= X (a value exactly on X holds).
  1.0 while held, else 0.0; no current value -> 0.0 (not shown to hold yet).
  Without an explicit operator it is derived from start vs target: a start
  above the target means "stay at least at X", below means "at most X",
  equal means "at least".
* **Objective**: weighted mean of its KRs' progress. Negative weights count as
  0. If every weight is 0 the plain (unweighted) mean is used, so an objective
  whose KRs were all set to weight 0 still shows its KRs' progress. No KRs -> 0.
  ``progress_from``:
    - ``krs``: the KR mean only;
    - ``children``: the plain mean of the aligned child objectives' progress;
      with no children it falls back to the KR mean (an objective is never
      stuck at 0 just because nothing is aligned under it yet);
    - ``both``: the KR part and the children part count half each; when one of
      the two parts is empty, the other alone.
* **Pillar**: plain mean of the objectives that support it, directly or
  through their parent chain (an objective supports every pillar set on
  itself or on one of its ancestors). A pillar with no objective: 0.0.
* **Ultimate goal**: plain mean of its pillars. No pillars: 0.0.
* **Expected progress** at a date: elapsed fraction of the cycle,
  ``(at - start) / (end - start)`` in days, clamped to [0, 1]: 0 on the first
  day, 1 on the last day and after. A one-day cycle is 1.0 from its start.
* **Status**: the KR owner sets one of ``on_track``, ``needs_attention``,
  ``off_track``, ``accomplished`` at each check-in. With no check-in for more
  than 7 days (strictly: exactly 7 days is not yet overdue) the KR shows
  ``overdue`` ("check-in overdue"), except when it is accomplished or its
  cycle is closed. A KR never checked in is measured from ``since`` (its
  creation or its cycle's start). An objective shows the worst status of its
  KRs, worst first: off_track, overdue, needs_attention, on_track,
  accomplished.
* **Score at cycle close**: each KR's score is its progress, frozen; the
  objective's score is the weighted mean of the KR scores (same weight rules
  as progress), rounded to 2 decimals. Success: 1.0 for a committed objective,
  0.7 or more for an aspirational one. Suggested closing status: achieved on
  success, partially when the score is above 0, else missed.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

Number = int | float | Decimal

# KR kinds
METRIC = "metric"
MILESTONE = "milestone"
GUARDRAIL = "guardrail"

# Guardrail operators
AT_LEAST = "at_least"
AT_MOST = "at_most"

# Objective progress sources
FROM_KRS = "krs"
FROM_CHILDREN = "children"
FROM_BOTH = "both"

# Objective kinds
COMMITTED = "committed"
ASPIRATIONAL = "aspirational"

# Statuses (set at check-in, plus the derived "overdue")
ON_TRACK = "on_track"
NEEDS_ATTENTION = "needs_attention"
OFF_TRACK = "off_track"
ACCOMPLISHED = "accomplished"
OVERDUE = "overdue"

# Worst first.
STATUS_ORDER: tuple[str, ...] = (OFF_TRACK, OVERDUE, NEEDS_ATTENTION, ON_TRACK, ACCOMPLISHED)
_STATUS_RANK = {s: i for i, s in enumerate(STATUS_ORDER)}

CHECKIN_OVERDUE_AFTER = timedelta(days=7)

ASPIRATIONAL_SUCCESS = 0.7
COMMITTED_SUCCESS = 1.0

# Closing statuses suggested from a score
ACHIEVED = "achieved"
PARTIALLY = "partially"
MISSED = "missed"


# --------------------------------------------------------------------------
# Numbers


def to_float(value: Number | bool | None) -> float | None:
    """A finite float, or None for None / NaN / infinities / garbage."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError, ArithmeticError):
        return None
    if not math.isfinite(f):
        return None
    return f


def clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    if value != value:  # NaN
        return low
    return max(low, min(high, value))


# --------------------------------------------------------------------------
# Key results


def kr_direction(start: Number | None, target: Number | None) -> str:
    """'increase', 'decrease' or 'hold' (target equals start)."""
    s = to_float(start) or 0.0
    t = to_float(target)
    if t is None or t == s:
        return "hold"
    return "increase" if t > s else "decrease"


def metric_progress(start: Number | None, target: Number | None, current: Number | None) -> float:
    s = to_float(start)
    if s is None:
        s = 0.0
    t = to_float(target)
    c = to_float(current)
    if t is None or c is None:
        return 0.0
    span = t - s
    if span == 0 or math.isclose(t, s, rel_tol=0.0, abs_tol=1e-12):
        return 1.0 if math.isclose(c, t, rel_tol=1e-9, abs_tol=1e-9) else 0.0
    return clamp((c - s) / span)


def milestone_progress(current: Number | bool | None) -> float:
    c = to_float(current)
    return 1.0 if c is not None and c >= 1 else 0.0


def guardrail_operator(start: Number | None, target: Number | None) -> str:
    s = to_float(start)
    t = to_float(target)
    if s is None or t is None or s >= t:
        return AT_LEAST
    return AT_MOST


def guardrail_held(
    threshold: Number | None, current: Number | None, operator: str = AT_LEAST
) -> bool:
    t = to_float(threshold)
    c = to_float(current)
    if t is None or c is None:
        return False
    if operator == AT_MOST:
        return c <= t
    return c >= t


def guardrail_progress(
    threshold: Number | None, current: Number | None, operator: str = AT_LEAST
) -> float:
    return 1.0 if guardrail_held(threshold, current, operator) else 0.0


@dataclass(frozen=True)
class KR:
    """Plain input for a key result."""

    kind: str = METRIC
    start: Number | None = 0
    target: Number | None = None
    current: Number | None = None
    weight: Number | None = 1
    guardrail_op: str | None = None  # at_least / at_most; derived when None


def kr_progress(kr: KR) -> float:
    if kr.kind == MILESTONE:
        return milestone_progress(kr.current)
    if kr.kind == GUARDRAIL:
        op = kr.guardrail_op or guardrail_operator(kr.start, kr.target)
        return guardrail_progress(kr.target, kr.current, op)
    return metric_progress(kr.start, kr.target, kr.current)


# --------------------------------------------------------------------------
# Means


def mean(values: Iterable[float]) -> float | None:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return sum(vals) / len(vals)


def weighted_mean(pairs: Iterable[tuple[float, Number | None]]) -> float | None:
    """Weighted mean of (value, weight) pairs; None when there are none.

    Negative or missing weights count as 0. When every weight is 0 the plain
    mean of the values is returned (never a division by zero).
    """
    items = [(v, max(to_float(w) or 0.0, 0.0)) for v, w in pairs if v is not None]
    if not items:
        return None
    total = sum(w for _, w in items)
    if total <= 0:
        return sum(v for v, _ in items) / len(items)
    return sum(v * w for v, w in items) / total


def krs_progress(krs: Sequence[KR]) -> float | None:
    """Weighted mean of the KRs' progress; None when there are no KRs."""
    return weighted_mean((kr_progress(kr), kr.weight) for kr in krs)


def objective_progress(
    krs: Sequence[KR],
    children: Sequence[float] = (),
    progress_from: str = FROM_KRS,
) -> float:
    kr_part = krs_progress(krs)
    child_part = mean(children)
    if progress_from == FROM_CHILDREN:
        value = child_part if child_part is not None else kr_part
    elif progress_from == FROM_BOTH:
        value = mean(p for p in (kr_part, child_part) if p is not None)
    else:
        value = kr_part
    return clamp(value) if value is not None else 0.0


# --------------------------------------------------------------------------
# A whole tree of objectives (one cycle)


@dataclass
class ObjectiveNode:
    id: Hashable
    parent_id: Hashable | None = None
    pillar_id: Hashable | None = None
    progress_from: str = FROM_KRS
    krs: list[KR] = field(default_factory=list)


def tree_progress(nodes: Iterable[ObjectiveNode]) -> dict[Hashable, float]:
    """Progress of every objective, children first.

    Only children present in ``nodes`` count (a cycle's objectives). A parent
    that is missing from ``nodes`` is ignored. A (corrupt) loop in the parent
    links cannot recurse forever: an objective met again while its own progress
    is being computed contributes its KR progress only.
    """
    by_id = {n.id: n for n in nodes}
    children: dict[Hashable, list[Hashable]] = {}
    for n in by_id.values():
        if n.parent_id is not None and n.parent_id in by_id and n.parent_id != n.id:
            children.setdefault(n.parent_id, []).append(n.id)

    result: dict[Hashable, float] = {}
    in_progress: set[Hashable] = set()

    def compute(oid: Hashable) -> float:
        if oid in result:
            return result[oid]
        node = by_id[oid]
        if oid in in_progress:
            return objective_progress(node.krs, (), FROM_KRS)
        in_progress.add(oid)
        child_values: list[float] = []
        if node.progress_from in (FROM_CHILDREN, FROM_BOTH):
            child_values = [compute(c) for c in children.get(oid, [])]
        value = objective_progress(node.krs, child_values, node.progress_from)
        in_progress.discard(oid)
        result[oid] = value
        return value

    # Iterative deepening is not needed for realistic trees, but guard against
    # very deep chains by computing leaves first (sorted by depth, deepest first).
    for oid in sorted(by_id, key=lambda i: -_depth(i, by_id)):
        compute(oid)
    return result


def _depth(oid: Hashable, by_id: Mapping[Hashable, ObjectiveNode]) -> int:
    depth = 0
    seen = {oid}
    parent = by_id[oid].parent_id
    while parent is not None and parent in by_id and parent not in seen:
        seen.add(parent)
        depth += 1
        parent = by_id[parent].parent_id
    return depth


def supported_pillars(
    oid: Hashable, nodes: Mapping[Hashable, ObjectiveNode]
) -> set[Hashable]:
    """Pillars an objective supports: its own and those of its ancestors."""
    pillars: set[Hashable] = set()
    seen: set[Hashable] = set()
    current: Hashable | None = oid
    while current is not None and current in nodes and current not in seen:
        seen.add(current)
        node = nodes[current]
        if node.pillar_id is not None:
            pillars.add(node.pillar_id)
        current = node.parent_id
    return pillars


def pillar_progress(
    pillar_ids: Iterable[Hashable],
    nodes: Iterable[ObjectiveNode],
    progress: Mapping[Hashable, float] | None = None,
) -> dict[Hashable, float]:
    """Mean progress of the objectives supporting each pillar (0.0 when none)."""
    by_id = {n.id: n for n in nodes}
    if progress is None:
        progress = tree_progress(by_id.values())
    buckets: dict[Hashable, list[float]] = {pid: [] for pid in pillar_ids}
    for oid in by_id:
        for pid in supported_pillars(oid, by_id):
            if pid in buckets:
                buckets[pid].append(progress.get(oid, 0.0))
    return {pid: (mean(vals) or 0.0) for pid, vals in buckets.items()}


def pillar_objective_counts(
    pillar_ids: Iterable[Hashable], nodes: Iterable[ObjectiveNode]
) -> dict[Hashable, int]:
    by_id = {n.id: n for n in nodes}
    counts = dict.fromkeys(pillar_ids, 0)
    for oid in by_id:
        for pid in supported_pillars(oid, by_id):
            if pid in counts:
                counts[pid] += 1
    return counts


def goal_progress(pillar_progresses: Iterable[float]) -> float:
    value = mean(pillar_progresses)
    return clamp(value) if value is not None else 0.0


# --------------------------------------------------------------------------
# Expected progress


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def expected_progress(start: date, end: date, at: date | datetime) -> float:
    start, end, at = _as_date(start), _as_date(end), _as_date(at)
    if at < start:
        return 0.0
    total = (end - start).days
    if total <= 0:
        return 1.0
    return clamp((at - start).days / total)


def pace(progress: float, expected: float, tolerance: float = 0.1) -> str:
    """'ahead', 'on_pace' or 'behind' the expected progress."""
    diff = progress - expected
    if diff > tolerance:
        return "ahead"
    if diff < -tolerance:
        return "behind"
    return "on_pace"


# --------------------------------------------------------------------------
# Status


def is_checkin_overdue(
    last_checkin_at: datetime | None,
    now: datetime,
    *,
    since: datetime | None = None,
    after: timedelta = CHECKIN_OVERDUE_AFTER,
) -> bool:
    """True when the last check-in (or ``since`` if none) is more than 7 days old.

    With neither a check-in nor a ``since`` the KR is overdue.
    """
    reference = last_checkin_at or since
    if reference is None:
        return True
    return now - reference > after


def effective_status(
    status: str | None,
    last_checkin_at: datetime | None,
    now: datetime,
    *,
    since: datetime | None = None,
    closed: bool = False,
) -> str | None:
    """The status a KR shows: its last check-in status, or ``overdue``."""
    if status == ACCOMPLISHED:
        return ACCOMPLISHED
    if not closed and is_checkin_overdue(last_checkin_at, now, since=since):
        return OVERDUE
    return status or None


def worst_status(statuses: Iterable[str | None]) -> str | None:
    """The weakest of the given statuses (unknown values and None ignored)."""
    known = [s for s in statuses if s in _STATUS_RANK]
    if not known:
        return None
    return min(known, key=_STATUS_RANK.__getitem__)


def status_rank(status: str | None) -> int:
    """Sort key, worst first; None/unknown sort last."""
    return _STATUS_RANK.get(status, len(STATUS_ORDER)) if status else len(STATUS_ORDER)


# --------------------------------------------------------------------------
# Scoring at cycle close


def kr_score(kr: KR) -> float:
    return round(kr_progress(kr), 2)


def objective_score(krs: Sequence[KR]) -> float:
    value = weighted_mean((kr_progress(kr), kr.weight) for kr in krs)
    return round(clamp(value), 2) if value is not None else 0.0


def success_threshold(kind: str) -> float:
    return ASPIRATIONAL_SUCCESS if kind == ASPIRATIONAL else COMMITTED_SUCCESS


def is_success(score: Number | None, kind: str) -> bool:
    s = to_float(score)
    if s is None:
        return False
    return s + 1e-9 >= success_threshold(kind)


def suggested_closing_status(score: Number | None, kind: str) -> str:
    s = to_float(score) or 0.0
    if is_success(s, kind):
        return ACHIEVED
    if s > 0:
        return PARTIALLY
    return MISSED
