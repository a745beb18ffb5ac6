"""Demo: Acme's objectives and key results for the current quarter, with weeks of
check-ins. One key result tracks the downtime KPI (already in improvement)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from okrs.models import CheckIn, KeyResult, Objective, Status


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def seed(ctx) -> None:
    org, u, t, x = ctx.org, ctx.users, ctx.teams, ctx.extra
    cycle, pillars = x["cycle"], x["pillars"]
    objectives: dict[str, Objective] = {}
    krs: dict[str, KeyResult] = {}

    def objective(key, title, owner, pillar=None, team=None, parent=None, **kw):
        objectives[key] = Objective.objects.create(
            organization=org, cycle=cycle, title=title, owner=u[owner], team=team,
            pillar=pillars.get(pillar) if pillar else None, parent=parent, created_by=u["olivia"],
            **kw)
        return objectives[key]

    def kr(key, obj, title, owner, start, target, current, unit="", kind="metric", **kw):
        krs[key] = KeyResult.objects.create(
            organization=org, objective=obj, title=title, owner=u[owner], start_value=start,
            target_value=target, current_value=current, unit=unit, kind=kind,
            order=len([k for k in krs.values() if k.objective_id == obj.id]), **kw)
        return krs[key]

    c1 = objective("delight", "Customers get fast, friendly answers", "olivia",
                   pillar="Delighted customers")
    c2 = objective("reliable", "Our platform is boringly reliable", "erik",
                   pillar="Reliable platform", kind=Objective.Kind.COMMITTED)
    c3 = objective("grow", "Grow efficiently in our core market", "olivia",
                   pillar="Sustainable growth", kind=Objective.Kind.ASPIRATIONAL)
    s1 = objective("support", "Clear the support backlog and keep it clear", "lena",
                   team=t["Customer Support"], parent=c1, pillar="Delighted customers")
    p1 = objective("onboard", "New customers succeed in their first week", "priya",
                   team=t["Product"], parent=c3, pillar="Sustainable growth")
    e1 = objective("downtime", "Cut downtime to under 3 % a week", "erik",
                   team=t["Engineering"], parent=c2, pillar="Reliable platform")

    kr("csat", c1, "Raise CSAT from 82 % to 90 %", "lena", 82, 90, 85.5, "%")
    kr("first_contact", c1, "Resolve 70 % of tickets on first contact", "lena", 55, 70, 61, "%")
    kr("uptime", c2, "Keep API availability at or above 99.5 %", "erik", 99.5, 99.5, 99.86, "%",
       kind="guardrail", guard=KeyResult.Guard.AT_LEAST)
    kr("incidents", c2, "Cut sev-1 incidents from 6 to 1 per quarter", "erik", 6, 1, 3)
    kr("arr", c3, "Grow ARR from 4.2 M€ to 5 M€", "olivia", 4.2, 5, 4.5, "M€")
    kr("churn", c3, "Reduce monthly logo churn from 3 % to 2 %", "priya", 3, 2, 2.7, "%")
    kr("backlog", s1, "Bring the open backlog from 420 to 100 tickets", "mark", 420, 100, 250,
       "tickets")
    kr("macros", s1, "Publish 40 answer macros", "mark", 0, 40, 22, "macros")
    kr("kb", s1, "Launch the self-service help centre", "lena", 0, 1, 0, kind="milestone")
    kr("activation", p1, "Raise week-1 activation from 45 % to 60 %", "sam", 45, 60, 51, "%")
    kr("tour", p1, "Ship the guided product tour", "priya", 0, 1, 1, kind="milestone",
       done=True)
    kpis = x.get("kpis", {})
    downtime = kpis.get("downtime")
    # A KR that tracks a KPI shows the KPI's newest value, as the live app keeps it.
    newest = downtime.points.order_by("-period_start").first() if downtime else None
    kr("downtime_kr", e1, "Weekly downtime from 7 % to under 3 %", "erik", 7, 3,
       newest.value if newest else 6.8, "%", kpi=downtime)
    kr("postmortems", e1, "Post-mortem for every incident within 48 h", "erik", 0, 100, 80, "%")

    # Weeks of check-ins, from the cycle start to last week.
    today = timezone.localdate()
    week = _week_start(max(cycle.start, today - dt.timedelta(weeks=8)))
    weeks = []
    while week < _week_start(today):
        weeks.append(week)
        week += dt.timedelta(weeks=1)
    statuses = {"backlog": Status.NEEDS_ATTENTION, "activation": Status.ON_TRACK,
                "incidents": Status.OFF_TRACK, "downtime_kr": Status.OFF_TRACK}
    rows = []
    for key, k in krs.items():
        if k.kind == KeyResult.Kind.MILESTONE:
            continue
        current = k.current_value if k.current_value is not None else k.start_value
        for i, wk in enumerate(weeks):
            frac = (i + 1) / len(weeks)
            value = k.start_value + (current - k.start_value) * frac
            rows.append(CheckIn(
                organization=org, key_result=k, value=round(value, 2),
                status=statuses.get(key, Status.ON_TRACK), author=k.owner, week_start=wk,
                confidence=7, comment="" if i % 3 else "Steady progress this week."))
        # Most owners have checked in this week already; Customer Support has not yet.
        if k.owner_id not in (u["lena"].id, u["mark"].id):
            rows.append(CheckIn(
                organization=org, key_result=k, value=current,
                status=statuses.get(key, Status.ON_TRACK), author=k.owner,
                week_start=_week_start(today), confidence=7, comment=""))
    CheckIn.objects.bulk_create(rows)
    # created_at is auto_now_add: spread it over the weeks so history reads naturally.
    latest_allowed = timezone.now() - dt.timedelta(hours=2)
    for ci in CheckIn.objects.filter(organization=org):
        CheckIn.objects.filter(pk=ci.pk).update(created_at=min(
            latest_allowed,
            timezone.make_aware(dt.datetime.combine(ci.week_start, dt.time(10)))
            + dt.timedelta(hours=ci.key_result_id % 24)))
    latest = {}
    for ci in CheckIn.objects.filter(organization=org).order_by("created_at"):
        latest[ci.key_result_id] = ci
    for kr_id, ci in latest.items():
        KeyResult.objects.filter(pk=kr_id).update(status=ci.status, last_checkin_at=ci.created_at)
    from okrs.figures import rebuild

    rebuild(org)  # the bulk writes above send no signals: the stored figures, from scratch
    ctx.extra.update(objectives=objectives, krs=krs)
    _closed_previous_quarter(ctx)


def _closed_previous_quarter(ctx) -> None:
    """Last quarter, closed: frozen scores, closing statuses and learnings."""
    from okrs.services import cycle_close

    org, u, t, x = ctx.org, ctx.users, ctx.teams, ctx.extra
    previous, pillars = x.get("previous"), x["pillars"]
    if previous is None:
        return
    answer = Objective.objects.create(
        organization=org, cycle=previous, title="Answer every ticket within a day",
        owner=u["lena"], team=t["Customer Support"], pillar=pillars["Delighted customers"],
        created_by=u["olivia"])
    KeyResult.objects.create(
        organization=org, objective=answer, title="First reply under 24 h for 90 % of tickets",
        owner=u["lena"], start_value=60, target_value=90, current_value=84, unit="%")
    KeyResult.objects.create(
        organization=org, objective=answer, title="Hire two support agents", owner=u["lena"],
        kind=KeyResult.Kind.MILESTONE, start_value=0, target_value=1, current_value=1,
        done=True, order=1)
    partners = Objective.objects.create(
        organization=org, cycle=previous, title="Launch the partner programme",
        owner=u["olivia"], pillar=pillars["Sustainable growth"],
        kind=Objective.Kind.ASPIRATIONAL, created_by=u["olivia"])
    KeyResult.objects.create(
        organization=org, objective=partners, title="Sign 10 reseller partners",
        owner=u["olivia"], start_value=0, target_value=10, current_value=4)
    cycle_close(cycle=previous, actor=u["olivia"], version=previous.version, decisions={
        answer.pk: {"note": "The rota worked; hiring took six weeks longer than planned."},
        partners.pk: {"closing_status": Objective.ClosingStatus.POSTPONED,
                      "note": "Partners want a referral fee first; revisit next year."},
    })
