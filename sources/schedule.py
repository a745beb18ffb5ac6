"""When a source runs next: hourly, daily at a time, weekly on a day, in the
organisation's time zone. Pure Python (zoneinfo), no Django."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

MANUAL, HOURLY, DAILY, WEEKLY = "manual", "hourly", "daily", "weekly"


def next_run(after: dt.datetime, schedule: str, *, tz: ZoneInfo,
             at: dt.time | None = None, weekday: int | None = None) -> dt.datetime | None:
    """The first scheduled moment strictly after ``after`` (aware), or None (manual)."""
    if schedule == MANUAL:
        return None
    if schedule == HOURLY:
        base = after.replace(minute=0, second=0, microsecond=0)
        return base + dt.timedelta(hours=1)
    at = at or dt.time(6, 0)
    local = after.astimezone(tz)
    day = local.date()
    for offset in range(0, 9):
        candidate_day = day + dt.timedelta(days=offset)
        if schedule == WEEKLY and candidate_day.weekday() != (weekday or 0):
            continue
        # fold=0: in the autumn's repeated hour the first one; a spring-gap time is
        # normalised forward by the UTC round trip.
        candidate = dt.datetime.combine(candidate_day, at, tzinfo=tz)
        candidate = candidate.astimezone(dt.UTC).astimezone(tz)
        if candidate > local:
            return candidate.astimezone(dt.UTC)
    raise ValueError(f"no next run for {schedule}")  # unreachable for valid input
