"""Signals and verdicts in the words a manager reads (no Django): "26 weeks in a row above
the usual level, since 1 Jun 2026"; "one week above the usual range: 54 min". The usual
range is the natural process limits (the chart's tooltip says so)."""

from __future__ import annotations

import datetime as dt

from . import rules as R

_UNIT = {"weekly": ("week", "weeks"), "monthly": ("month", "months"),
         "quarterly": ("quarter", "quarters")}

# Variation (NHS "Making Data Count"): is something unusual happening?
COMMON, IMPROVING, CONCERNING = "common", "improving", "concerning"
VARIATION_LABELS = {COMMON: "Common cause only", IMPROVING: "Special cause — improving",
                    CONCERNING: "Special cause — concerning"}
VARIATION_ICONS = {COMMON: "~", IMPROVING: "↑", CONCERNING: "!"}
# Assurance: will it meet its target, left as it is?
MEETS, HIT_AND_MISS, FAILS = "meets", "hit_and_miss", "fails"
ASSURANCE_LABELS = {MEETS: "Consistently meets", HIT_AND_MISS: "Hit and miss",
                    FAILS: "Consistently fails"}
ASSURANCE_ICONS = {MEETS: "✓", HIT_AND_MISS: "±", FAILS: "✗"}


def day(value) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return f"{value.day} {value:%b %Y}"


def periods_word(frequency: str, n: int) -> str:
    one, many = _UNIT.get(frequency, ("period", "periods"))
    return one if n == 1 else many


def signal(*, rule: int, chart: str, side: str, frequency: str, length: int = 1, since=None,
           value=None, unit: str = "", decimals: int = 0) -> str:
    one = periods_word(frequency, 1)
    when = f", since {day(since)}" if since is not None else ""
    if chart == "mr":
        return f"A sudden jump from one {one} to the next ({day(since)})" if since else \
            f"A sudden jump from one {one} to the next"
    if rule == 1:
        shown = f": {R.format_value(value, unit, decimals)}" if value is not None else ""
        on = f" ({one} of {day(since)})" if since is not None else ""
        return f"One {one} {side} the usual range{shown}{on}"
    if rule == 2:
        return f"{length} {periods_word(frequency, length)} in a row {side} the usual level{when}"
    if rule == 3:
        edge = "top" if side == "above" else "bottom"
        return f"3 of 4 {periods_word(frequency, 4)} near the {edge} of the usual range{when}"
    raise ValueError(f"Unknown rule {rule!r}")


def off_target(periods: int, value, rule: str, low=None, high=None, unit: str = "",
               decimals: int = 0) -> str:
    """ "Off target for 3 periods: 52 min against at most 30 min"."""
    plural = "period" if periods == 1 else "periods"
    return (f"Off target for {periods} {plural}: {R.format_value(value, unit, decimals)} "
            f"against {R.describe_target(rule, low, high, unit, decimals)}")


def capability(lower_limit, upper_limit, rule: str, low=None, high=None, unit: str = "",
               decimals: int = 0) -> str:
    """ "Usual range 45–54 min: it will consistently miss at most 30 min"."""
    return (f"Usual range {R.format_value(lower_limit, '', decimals)}–"
            f"{R.format_value(upper_limit, unit, decimals)}: it will consistently miss "
            f"{R.describe_target(rule, low, high, unit, decimals)}")


def variation(health) -> str:
    """From the stored health: its current signals and whether they favour the target."""
    if health is None or health.center is None:
        return ""
    current = [s for s in (health.signals or []) if s.get("current")]
    if any(s.get("favourable") is False for s in current):
        return CONCERNING
    if any(s.get("favourable") for s in current):
        return IMPROVING
    return COMMON if not current else CONCERNING


def assurance(health) -> str:
    if health is None:
        return ""
    return {"met": MEETS, "hit_and_miss": HIT_AND_MISS, "missed": FAILS}.get(
        health.capability or "", "")


# History (issue 14, defect 10): a KPI's recorded changes show its numbers as the KPI
# shows them — its unit and decimals ("65 pts → 70 pts", "12.30 %"), not the stored float
# ("65.0", "12.30000"). Registered for the {% history %} tag in KpisConfig.ready().
HISTORY_NUMBERS = {"target_value", "target_upper"}


def history_value(kpi, field: str, value) -> str | None:
    if field in HISTORY_NUMBERS and isinstance(value, int | float) \
            and not isinstance(value, bool):
        return R.format_value(value, kpi.unit, kpi.decimals)
    return None
