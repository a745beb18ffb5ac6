"""Period arithmetic for KPIs (weekly, monthly, quarterly). Pure Python, no Django."""

from __future__ import annotations

import datetime as dt

WEEKLY = "weekly"
MONTHLY = "monthly"
QUARTERLY = "quarterly"

# The earliest period we accept: anything older is a typo (e.g. "0226-03-01").
EARLIEST = dt.date(1970, 1, 1)

_LENGTH_DAYS = {WEEKLY: 7, MONTHLY: 30.44, QUARTERLY: 91.31}


def period_start(day: dt.date, frequency: str) -> dt.date:
    """The first day of the period containing ``day`` (weeks start on Monday)."""
    if isinstance(day, dt.datetime):
        day = day.date()
    if frequency == WEEKLY:
        return day - dt.timedelta(days=day.weekday())
    if frequency == MONTHLY:
        return day.replace(day=1)
    if frequency == QUARTERLY:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"Unknown frequency {frequency!r}")


def add_periods(start: dt.date, frequency: str, n: int = 1) -> dt.date:
    """The start of the period ``n`` periods after the one starting at ``start``."""
    start = period_start(start, frequency)
    if frequency == WEEKLY:
        return start + dt.timedelta(weeks=n)
    months = n if frequency == MONTHLY else 3 * n
    index = start.year * 12 + (start.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def next_period(start: dt.date, frequency: str) -> dt.date:
    return add_periods(start, frequency, 1)


def half_period(frequency: str) -> dt.timedelta:
    return dt.timedelta(days=_LENGTH_DAYS[frequency] / 2)


def latest_allowed(today: dt.date, frequency: str) -> dt.date:
    """The newest period a value may be entered for: the current one or the next."""
    return next_period(period_start(today, frequency), frequency)


def is_stale(newest: dt.date | None, today: dt.date, frequency: str) -> bool:
    """Stale when the newest period is older than one period plus a grace of half a period.

    The period after the newest one is due once it has ended; it is overdue (stale) half a
    period after that. A monthly KPI whose newest value is for October is stale from
    mid-December (November's value has had half a month's grace).
    """
    if newest is None:
        return False
    due = add_periods(newest, frequency, 2)  # the end of the period after the newest
    return today > due + half_period(frequency)


def label(start: dt.date, frequency: str) -> str:
    """'week of 3 Aug 2026', 'Aug 2026', '2026 Q3' (people read dates, not ISO week codes)."""
    if frequency == WEEKLY:
        return f"week of {start.day} {start.strftime('%b %Y')}"
    if frequency == MONTHLY:
        return start.strftime("%b %Y")
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"
