"""Demo: Acme's KPIs with a year of data, telling the story the health engine reads.

- Average support reply time: ~35 min, then a shift to ~49 min for half a year, against
  "at most 30" → candidate, and a suggested new limit period at the shift.
- NPS: stable around 72 against "at least 70" → healthy.
- Customer complaints: ~20 a month against "at most 10" → consistently missed.
- Weekly system downtime: ~7 % against "at most 3 %" → already in improvement (okrs.demo
  links a key result to it).
- Onboarding completion: a run of 8 weeks below its centre line → signal.
- Monthly recurring revenue: last entered four months ago → stale.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from kpis.models import DataPoint, Kpi


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def weeks_back(n: int) -> list[dt.date]:
    last = monday(timezone.localdate()) - dt.timedelta(weeks=1)
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


def months_back(n: int, skip_recent: int = 0) -> list[dt.date]:
    start = month_start(timezone.localdate())
    out = []
    year, month = start.year, start.month
    for _ in range(n + skip_recent):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(dt.date(year, month, 1))
    return list(reversed(out[skip_recent:]))


def _points(kpi: Kpi, periods: list[dt.date], values: list[float], author) -> None:
    DataPoint.objects.bulk_create([
        DataPoint(kpi=kpi, period_start=p, value=round(v, kpi.decimals), author=author)
        for p, v in zip(periods, values, strict=True)
    ])


def seed(ctx) -> None:
    org, u, t = ctx.org, ctx.users, ctx.teams
    rng = random.Random(2026)
    kpis: dict[str, Kpi] = {}

    def make(key, **fields):
        kpis[key] = Kpi.objects.create(organization=org, **fields)
        return kpis[key]

    reply = make("reply", name="Average support reply time", unit="min", decimals=0,
                 owner=u["lena"], team=t["Customer Support"], frequency=Kpi.Frequency.WEEKLY,
                 target_rule=Kpi.TargetRule.AT_MOST, target_value=30,
                 description="Mean time to the first human reply on a support ticket.")
    weeks = weeks_back(52)
    # Half a year around 35 min, then a shift (a new ticketing tool) to about 49 min that
    # has lasted since: the limits of the first 20 weeks (about 29–41) no longer describe
    # the process, and Headway suggests a new limit period at the shift's first week.
    _points(reply, weeks, [35 + rng.gauss(0, 2.0) for _ in range(26)]
            + [49.5 + rng.gauss(0, 1.5) for _ in range(26)], u["mark"])

    nps = make("nps", name="Net Promoter Score", unit="pts", decimals=0, owner=u["priya"],
               team=t["Product"], frequency=Kpi.Frequency.MONTHLY,
               target_rule=Kpi.TargetRule.AT_LEAST, target_value=70,
               description="Quarterly survey, rolling monthly.")
    months = months_back(12)
    _points(nps, months, [74 + rng.gauss(0, 1.4) for _ in months], u["priya"])

    complaints = make("complaints", name="Customer complaints per month", unit="complaints",
                      decimals=0, owner=u["lena"], team=t["Customer Support"],
                      frequency=Kpi.Frequency.MONTHLY, target_rule=Kpi.TargetRule.AT_MOST,
                      target_value=10)
    _points(complaints, months, [20 + rng.gauss(0, 2.0) for _ in months], u["lena"])

    downtime = make("downtime", name="Weekly system downtime", unit="%", decimals=1,
                    owner=u["erik"], team=t["Engineering"], frequency=Kpi.Frequency.WEEKLY,
                    intent=Kpi.Intent.IMPROVE, target_rule=Kpi.TargetRule.AT_MOST,
                    target_value=3)
    _points(downtime, weeks, [max(0.0, 7 + rng.gauss(0, 0.8)) for _ in weeks], u["erik"])

    onboarding = make("onboarding", name="Onboarding completion rate", unit="%", decimals=1,
                      owner=u["sam"], team=t["Product"], frequency=Kpi.Frequency.WEEKLY,
                      target_rule=Kpi.TargetRule.AT_LEAST, target_value=80)
    ob = weeks_back(30)
    _points(onboarding, ob,
            [86 + rng.gauss(0, 1.5) for _ in range(22)] + [82.5 + rng.gauss(0, 0.6)
                                                              for _ in range(8)], u["sam"])

    mrr = make("mrr", name="Monthly recurring revenue", unit="k€", decimals=0, owner=u["olivia"],
               frequency=Kpi.Frequency.MONTHLY, target_rule=Kpi.TargetRule.AT_LEAST,
               target_value=400)
    stale_months = months_back(8, skip_recent=4)
    _points(mrr, stale_months, [380 + 8 * i + rng.gauss(0, 4) for i in range(8)], u["olivia"])

    uptime = make("uptime", name="API availability", unit="%", decimals=2, owner=u["erik"],
                  team=t["Operations"], frequency=Kpi.Frequency.WEEKLY,
                  target_rule=Kpi.TargetRule.BETWEEN, target_value=99.5, target_upper=100)
    _points(uptime, weeks, [min(100.0, 99.85 + rng.gauss(0, 0.05)) for _ in weeks], u["ana"])

    # History the pages show: a corrected value (kept as a revision) and a target change.
    from kpis import services

    last_week = weeks[-2]
    old = DataPoint.objects.get(kpi=reply, period_start=last_week).value
    services.kpi_record_value(kpi=reply, period=last_week, value=old + 3, author=u["lena"],
                              note="Recounted after fixing the ticket export")
    nps.refresh_from_db()
    Kpi.objects.filter(pk=nps.pk).update(target_value=65)
    nps.refresh_from_db()
    services.kpi_change_target(kpi=nps, actor=u["ana"], version=nps.version,
                               target_rule=Kpi.TargetRule.AT_LEAST, target_value=70,
                               reason="Raised after two stable quarters above 72.")

    ctx.extra["kpis"] = kpis

    # Health is evaluated once every part of the demo is in (okrs.demo links a key result
    # to the downtime KPI after this runs): on commit of the load_demo transaction.
    org_id = org.pk
    transaction.on_commit(lambda: _evaluate(org_id))


def _evaluate(org_id: int) -> None:
    from kpis import health
    from kpis.signals import points_changed

    # Key results linked to KPIs (okrs.demo) take their value from the KPI's data.
    points_changed.send(sender=Kpi, kpi_ids=list(
        Kpi.objects.filter(organization_id=org_id).values_list("pk", flat=True)))
    health.evaluate_all(organization_id=org_id, force=True)
