"""Demo: Acme's ultimate goal, pillars and cycles (the year and its quarters)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from goals.models import Cycle, StrategicPillar, UltimateGoal


def quarter_of(day: dt.date) -> tuple[int, dt.date, dt.date]:
    q = (day.month - 1) // 3 + 1
    start = dt.date(day.year, 3 * (q - 1) + 1, 1)
    nxt = dt.date(day.year + (1 if q == 4 else 0), 1 if q == 4 else 3 * q + 1, 1)
    return q, start, nxt - dt.timedelta(days=1)


def seed(ctx) -> None:
    org = ctx.org
    goal = UltimateGoal.objects.create(
        organization=org,
        title="Make Acme the support platform customers recommend first",
        mission="We help small businesses answer every customer quickly and well.",
        vision="By 2028, one in ten small businesses in Europe runs its support on Acme.",
    )
    pillars = {}
    for order, (name, description) in enumerate([
        ("Delighted customers", "Fast, friendly answers and a product that just works."),
        ("Reliable platform", "Always on, always fast, never losing a message."),
        ("Sustainable growth", "Grow revenue efficiently and keep the customers we win."),
    ]):
        pillars[name] = StrategicPillar.objects.create(
            organization=org, goal=goal, name=name, description=description, order=order)
    today = timezone.localdate()
    year = Cycle.objects.create(organization=org, name=str(today.year), kind=Cycle.Kind.YEAR,
                                start=dt.date(today.year, 1, 1), end=dt.date(today.year, 12, 31))
    q, start, end = quarter_of(today)
    current = Cycle.objects.create(organization=org, name=f"{today.year} Q{q}",
                                   kind=Cycle.Kind.QUARTER, start=start, end=end, parent=year)
    pq, pstart, pend = quarter_of(start - dt.timedelta(days=1))
    previous = Cycle.objects.create(organization=org, name=f"{pstart.year} Q{pq}",
                                    kind=Cycle.Kind.QUARTER, start=pstart, end=pend,
                                    parent=year if pstart.year == today.year else None)
    nq, nstart, nend = quarter_of(end + dt.timedelta(days=1))
    upcoming = Cycle.objects.create(organization=org, name=f"{nstart.year} Q{nq}",
                                    kind=Cycle.Kind.QUARTER, start=nstart, end=nend,
                                    parent=year if nstart.year == today.year else None)
    ctx.extra.update(goal=goal, pillars=pillars, year=year, cycle=current, previous=previous,
                     upcoming=upcoming)
