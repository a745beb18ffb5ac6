"""Signals and verdicts in the words a manager reads: "26 weeks in a row above the usual
level, since 1 Jun 2026"; "one week above the usual range: 54 min". The usual range is the
natural process limits (the chart's tooltip says so).

Languages (issue 23): every sentence is whole in the catalogue — one per frequency, side and
rule, never built from pieces. ``signal()`` gives the stored words (health.signals' "reason",
webhook payloads, the event log): always in the site's language, whoever's request ran the
evaluation. ``signal_text()`` gives the same sentence in the reader's language, from a stored
signal entry, for the pages."""

from __future__ import annotations

import datetime as dt
import functools

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext_lazy, ngettext, pgettext

from . import rules as R

_UNIT = {"weekly": ("week", "weeks"), "monthly": ("month", "months"),
         "quarterly": ("quarter", "quarters")}

# Variation (NHS "Making Data Count"): is something unusual happening?
COMMON, IMPROVING, CONCERNING = "common", "improving", "concerning"
VARIATION_LABELS = {COMMON: gettext_lazy("Common cause only"),
                    IMPROVING: gettext_lazy("Special cause — improving"),
                    CONCERNING: gettext_lazy("Special cause — concerning")}
VARIATION_ICONS = {COMMON: "~", IMPROVING: "↑", CONCERNING: "!"}
# Assurance: will it meet its target, left as it is?
MEETS, HIT_AND_MISS, FAILS = "meets", "hit_and_miss", "fails"
ASSURANCE_LABELS = {MEETS: gettext_lazy("Consistently meets"),
                    HIT_AND_MISS: gettext_lazy("Hit and miss"),
                    FAILS: gettext_lazy("Consistently fails")}
ASSURANCE_ICONS = {MEETS: "✓", HIT_AND_MISS: "±", FAILS: "✗"}


def day(value) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return f"{value.day} {value:%b %Y}"


def periods_word(frequency: str, n: int) -> str:
    one, many = _UNIT.get(frequency, ("period", "periods"))
    return one if n == 1 else many


def _per_language(fn):
    """Keep a template function's answers per active language. The health sweep words every
    current signal in the site's language, and each template function looks up all its
    variants (pgettext through the catalogue's fallbacks): that was a quarter of a sweep
    chunk's CPU. The answers depend only on the language and the arguments."""
    cache: dict[tuple, str] = {}

    @functools.wraps(fn)
    def cached(*args):
        key = (translation.get_language(), *args)
        try:
            return cache[key]
        except KeyError:
            answer = cache[key] = fn(*args)
            return answer

    return cached


def _unit(frequency: str) -> str:
    return {"weekly": "week", "monthly": "month", "quarterly": "quarter"}.get(frequency, "period")


@_per_language
def _jump(unit: str) -> str:
    return {"week": pgettext("signal", "A sudden jump from one week to the next"),
            "month": pgettext("signal", "A sudden jump from one month to the next"),
            "quarter": pgettext("signal", "A sudden jump from one quarter to the next"),
            "period": pgettext("signal", "A sudden jump from one period to the next")}[unit]


@_per_language
def _jump_on(unit: str) -> str:
    return {"week": pgettext("signal", "A sudden jump from one week to the next (%(day)s)"),
            "month": pgettext("signal", "A sudden jump from one month to the next (%(day)s)"),
            "quarter": pgettext("signal", "A sudden jump from one quarter to the next (%(day)s)"),
            "period": pgettext("signal", "A sudden jump from one period to the next (%(day)s)"),
            }[unit]


@_per_language
def _beyond(unit: str, above: bool) -> str:
    """Rule 1, with the value and the period (the two optional parts are filled or cut)."""
    if above:
        return {"week": pgettext("signal", "One week above the usual range: %(value)s (week of %(day)s)"),
                "month": pgettext("signal", "One month above the usual range: %(value)s (month of %(day)s)"),
                "quarter": pgettext("signal", "One quarter above the usual range: %(value)s (quarter of %(day)s)"),
                "period": pgettext("signal", "One period above the usual range: %(value)s (period of %(day)s)"),
                }[unit]
    return {"week": pgettext("signal", "One week below the usual range: %(value)s (week of %(day)s)"),
            "month": pgettext("signal", "One month below the usual range: %(value)s (month of %(day)s)"),
            "quarter": pgettext("signal", "One quarter below the usual range: %(value)s (quarter of %(day)s)"),
            "period": pgettext("signal", "One period below the usual range: %(value)s (period of %(day)s)"),
            }[unit]


@_per_language
def _beyond_no_value(unit: str, above: bool) -> str:
    if above:
        return {"week": pgettext("signal", "One week above the usual range (week of %(day)s)"),
                "month": pgettext("signal", "One month above the usual range (month of %(day)s)"),
                "quarter": pgettext("signal", "One quarter above the usual range (quarter of %(day)s)"),
                "period": pgettext("signal", "One period above the usual range (period of %(day)s)"),
                }[unit]
    return {"week": pgettext("signal", "One week below the usual range (week of %(day)s)"),
            "month": pgettext("signal", "One month below the usual range (month of %(day)s)"),
            "quarter": pgettext("signal", "One quarter below the usual range (quarter of %(day)s)"),
            "period": pgettext("signal", "One period below the usual range (period of %(day)s)"),
            }[unit]


@_per_language
def _run(unit: str, above: bool, n: int) -> str:
    if above:
        return {"week": ngettext("%(n)s week in a row above the usual level, since %(day)s",
                                 "%(n)s weeks in a row above the usual level, since %(day)s", n),
                "month": ngettext("%(n)s month in a row above the usual level, since %(day)s",
                                  "%(n)s months in a row above the usual level, since %(day)s", n),
                "quarter": ngettext("%(n)s quarter in a row above the usual level, since %(day)s",
                                    "%(n)s quarters in a row above the usual level, since %(day)s", n),
                "period": ngettext("%(n)s period in a row above the usual level, since %(day)s",
                                   "%(n)s periods in a row above the usual level, since %(day)s", n),
                }[unit]
    return {"week": ngettext("%(n)s week in a row below the usual level, since %(day)s",
                             "%(n)s weeks in a row below the usual level, since %(day)s", n),
            "month": ngettext("%(n)s month in a row below the usual level, since %(day)s",
                              "%(n)s months in a row below the usual level, since %(day)s", n),
            "quarter": ngettext("%(n)s quarter in a row below the usual level, since %(day)s",
                                "%(n)s quarters in a row below the usual level, since %(day)s", n),
            "period": ngettext("%(n)s period in a row below the usual level, since %(day)s",
                               "%(n)s periods in a row below the usual level, since %(day)s", n),
            }[unit]


@_per_language
def _near(unit: str, above: bool) -> str:
    if above:
        return {"week": pgettext("signal", "3 of 4 weeks near the top of the usual range, since %(day)s"),
                "month": pgettext("signal", "3 of 4 months near the top of the usual range, since %(day)s"),
                "quarter": pgettext("signal", "3 of 4 quarters near the top of the usual range, since %(day)s"),
                "period": pgettext("signal", "3 of 4 periods near the top of the usual range, since %(day)s"),
                }[unit]
    return {"week": pgettext("signal", "3 of 4 weeks near the bottom of the usual range, since %(day)s"),
            "month": pgettext("signal", "3 of 4 months near the bottom of the usual range, since %(day)s"),
            "quarter": pgettext("signal", "3 of 4 quarters near the bottom of the usual range, since %(day)s"),
            "period": pgettext("signal", "3 of 4 periods near the bottom of the usual range, since %(day)s"),
            }[unit]


def _sentence(*, rule: int, chart: str, side: str, frequency: str, length: int, since, value,
              unit: str, decimals: int, day_text, value_text=R.format_value) -> str:
    """The signal's sentence in the active language (every caller knows the period: an
    unknown one reads "—")."""
    word = _unit(frequency)
    above = side == "above"
    when = day_text(since) if since is not None else "—"
    if chart == "mr":
        return _jump_on(word) % {"day": when} if since is not None else _jump(word)
    if rule == 1:
        if value is None:
            return _beyond_no_value(word, above) % {"day": when}
        return _beyond(word, above) % {"value": value_text(value, unit, decimals),
                                       "day": when}
    if rule == 2:
        return _run(word, above, length) % {"n": length, "day": when}
    if rule == 3:
        return _near(word, above) % {"day": when}
    raise ValueError(f"Unknown rule {rule!r}")


def signal(*, rule: int, chart: str, side: str, frequency: str, length: int = 1, since=None,
           value=None, unit: str = "", decimals: int = 0) -> str:
    """The stored words of a signal: in the site's language (settings.LANGUAGE_CODE)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _sentence(rule=rule, chart=chart, side=side, frequency=frequency, length=length,
                         since=since, value=value, unit=unit, decimals=decimals, day_text=day)


def local_day(value) -> str:
    """A period's day in the reader's language ("15 Jun 2026", "15. Juni 2026")."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return formats.date_format(value, "DATE_FORMAT")


def local_value(value, unit: str = "", decimals: int = 0) -> str:
    """A KPI's value in the reader's number format ("1.234,5 min" in German), its unit as
    core.formatting places it ("%" right after the number)."""
    if value is None:
        return "—"
    text = formats.number_format(value, decimal_pos=max(0, int(decimals or 0)),
                                 force_grouping=True)
    unit = (unit or "").strip()
    return text if not unit else f"{text}%" if unit == "%" else f"{text} {unit}"


def target_text(rule: str, low=None, high=None, unit: str = "", decimals: int = 0) -> str:
    """The target in the reader's language and number format ("höchstens 30,0 min"); the
    stored words (event messages, reasons) keep rules.describe_target's."""
    if rule == R.AT_LEAST:
        return pgettext("target", "at least %(value)s") % {
            "value": local_value(low, unit, decimals)}
    if rule == R.AT_MOST:
        return pgettext("target", "at most %(value)s") % {
            "value": local_value(high, unit, decimals)}
    if rule == R.BETWEEN:
        return pgettext("target", "between %(low)s and %(high)s") % {
            "low": local_value(low, "", decimals), "high": local_value(high, unit, decimals)}
    return pgettext("target", "no target")


def period_label(start: dt.date, frequency: str) -> str:
    """A period in the reader's language: "week of 3 Aug 2026", "Aug 2026", "2026 Q3"."""
    if frequency == "weekly":
        return pgettext("period", "week of %(day)s") % {
            "day": formats.date_format(start, "j M Y")}
    if frequency == "monthly":
        return formats.date_format(start, "M Y")
    return pgettext("period", "%(year)s Q%(quarter)s") % {
        "year": start.year, "quarter": (start.month - 1) // 3 + 1}


def signal_text(entry: dict, *, frequency: str, unit: str = "", decimals: int = 0,
                value=None) -> str:
    """A stored signal (an entry of health.signals) in the reader's language. ``value``: the
    point's value for a rule-1 signal when the caller has it (the entry does not store it)."""
    rule, chart = entry.get("rule"), entry.get("chart", "x")
    since = entry.get("period") if rule == 1 and chart != "mr" else entry.get("since")
    try:
        return _sentence(rule=rule, chart=chart, side=entry.get("side") or "above",
                         frequency=frequency, length=entry.get("length") or 1, since=since,
                         value=value, unit=unit, decimals=decimals, day_text=local_day,
                         value_text=local_value)
    except (KeyError, ValueError, TypeError):
        return entry.get("reason", "")


def off_target(periods: int, value, rule: str, low=None, high=None, unit: str = "",
               decimals: int = 0) -> str:
    """ "Off target for 3 periods: 52 min against at most 30 min" (stored: the site's
    language and number format, whoever's request ran the evaluation)."""
    plural = "period" if periods == 1 else "periods"
    with translation.override(settings.LANGUAGE_CODE):
        return (f"Off target for {periods} {plural}: {R.format_value(value, unit, decimals)} "
                f"against {R.describe_target(rule, low, high, unit, decimals)}")


def capability(lower_limit, upper_limit, rule: str, low=None, high=None, unit: str = "",
               decimals: int = 0) -> str:
    """ "Usual range 45–54 min: it will consistently miss at most 30 min" (stored, as
    off_target)."""
    with translation.override(settings.LANGUAGE_CODE):
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
