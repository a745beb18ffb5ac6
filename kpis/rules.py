"""Pure rules of KPI health: target status, signal direction, capability, reasons.

No Django import: the health engine, the pages and the benchmarks share these, and they
are tested alone. Values may be ``float``, ``int`` or ``Decimal``; they are compared as
floats.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.formatting import format_value

# Target rules (mirrors Kpi.target_rule choices).
NONE = "none"
AT_LEAST = "at_least"
AT_MOST = "at_most"
BETWEEN = "between"

# Intents.
SUSTAIN = "sustain"
IMPROVE = "improve"

# Target statuses.
ON_TARGET = "on_target"
OFF_TARGET = "off_target"
NO_TARGET = "no_target"
NO_DATA = "no_data"

# Capability: where the natural process limits lie against the target.
# (values match KpiHealth.Capability)
CONSISTENTLY_MET = "met"
HIT_AND_MISS = "hit_and_miss"
CONSISTENTLY_MISSED = "missed"


def _f(value) -> float | None:
    return None if value is None else float(value)


def bounds(rule: str, target_value, target_upper=None) -> tuple:
    """(low, high) from the stored form: ``target_value`` is the bound of ``at_least`` and
    ``at_most`` and the low end of ``between``; ``target_upper`` is the high end."""
    if rule == AT_LEAST:
        return target_value, None
    if rule == AT_MOST:
        return None, target_value
    if rule == BETWEEN:
        return target_value, target_upper
    return None, None


def target_status(value, rule: str, low=None, high=None) -> str:
    """on_target / off_target / no_target / no_data for one value.

    The target itself counts as met: ``at_least 95`` is met by 95, ``between 2 and 4`` by 2
    and 4. For ``at_least`` the bound is ``low``, for ``at_most`` it is ``high``.
    """
    if value is None:
        return NO_DATA
    if rule == NONE or rule is None:
        return NO_TARGET
    v = float(value)
    lo, hi = _f(low), _f(high)
    if rule == AT_LEAST:
        return ON_TARGET if v >= lo else OFF_TARGET
    if rule == AT_MOST:
        return ON_TARGET if v <= hi else OFF_TARGET
    if rule == BETWEEN:
        return ON_TARGET if lo <= v <= hi else OFF_TARGET
    raise ValueError(f"Unknown target rule {rule!r}.")


def signal_is_favourable(
    *,
    chart: str,
    side: str,
    rule: str,
    low=None,
    high=None,
    center=None,
    intent: str = SUSTAIN,
    jump: str | None = None,
) -> bool | None:
    """Whether a signal moves the KPI the way its target wants.

    ``True``: favourable, ``False``: unfavourable, ``None``: cannot tell.

    - A moving-range signal is a sudden jump. Given its direction (``jump``: "above" for
      up, "below" for down) it is judged like a shift that way; without it, unfavourable.
    - ``at_least``: above is favourable, below unfavourable; ``at_most``: the reverse.
    - ``between``: a shift towards the band is favourable (centre below the band and the
      signal above, or centre above it and the signal below); any shift of a process
      whose centre already lies in the band is unfavourable.
    - No target: for ``sustain`` (keep as is) any real change is unfavourable; for
      ``improve`` the direction cannot be judged.
    """
    if rule in (NONE, None):
        return False if intent == SUSTAIN else None
    if chart == "mr":
        if jump is None:
            return False
        side = jump
    if rule == AT_LEAST:
        return side == "above"
    if rule == AT_MOST:
        return side == "below"
    if rule == BETWEEN:
        lo, hi, c = _f(low), _f(high), _f(center)
        if c is not None and c < lo:
            return side == "above"
        if c is not None and c > hi:
            return side == "below"
        return False
    raise ValueError(f"Unknown target rule {rule!r}.")


def capability(lower_limit, upper_limit, rule: str, low=None, high=None) -> str | None:
    """Where the natural process limits lie against the target (None: no limits or target).

    - consistently met: every value the process will produce meets the target;
    - consistently missed: the target lies beyond the limits on the wrong side, so no
      value the process will produce meets it;
    - hit and miss: the target cuts through the limits.
    """
    if lower_limit is None or upper_limit is None or rule in (NONE, None):
        return None
    lnpl, unpl = float(lower_limit), float(upper_limit)
    lo, hi = _f(low), _f(high)
    if rule == AT_LEAST:
        if lnpl >= lo:
            return CONSISTENTLY_MET
        if unpl < lo:
            return CONSISTENTLY_MISSED
        return HIT_AND_MISS
    if rule == AT_MOST:
        if unpl <= hi:
            return CONSISTENTLY_MET
        if lnpl > hi:
            return CONSISTENTLY_MISSED
        return HIT_AND_MISS
    if rule == BETWEEN:
        if lnpl >= lo and unpl <= hi:
            return CONSISTENTLY_MET
        if unpl < lo or lnpl > hi:
            return CONSISTENTLY_MISSED
        return HIT_AND_MISS
    raise ValueError(f"Unknown target rule {rule!r}.")


def off_target_streak(statuses: Sequence[str]) -> int:
    """How many of the newest periods in a row are off target (statuses oldest first)."""
    n = 0
    for status in reversed(statuses):
        if status != OFF_TARGET:
            break
        n += 1
    return n


def on_target_streak(statuses: Sequence[str]) -> int:
    n = 0
    for status in reversed(statuses):
        if status != ON_TARGET:
            break
        n += 1
    return n


# --- Human-readable text --------------------------------------------------------------


def describe_target(rule: str, low=None, high=None, unit: str = "", decimals: int = 0) -> str:
    if rule == AT_LEAST:
        return f"at least {format_value(low, unit, decimals)}"
    if rule == AT_MOST:
        return f"at most {format_value(high, unit, decimals)}"
    if rule == BETWEEN:
        return (
            f"between {format_value(low, unit='', decimals=decimals)} and "
            f"{format_value(high, unit, decimals)}"
        )
    return "no target"


# The words of reasons and signals live in kpis.words (one place for the words).


def join_reasons(reasons: Sequence[str]) -> str:
    return "; ".join(r for r in reasons if r)
