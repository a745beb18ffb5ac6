"""Demo: the work that should move Acme's key results."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from initiatives.models import Initiative


def seed(ctx) -> None:
    org, u, krs = ctx.org, ctx.users, ctx.extra["krs"]
    today = timezone.localdate()
    rows = [
        ("backlog", "Weekend rota for the backlog", "mark", "in_progress", 60, 14),
        ("backlog", "Auto-triage tickets by topic", "sam", "planned", 0, 30),
        ("macros", "Write macros for the top 40 questions", "mark", "in_progress", 55, 21),
        ("kb", "Pick a help-centre platform", "lena", "done", 100, -10),
        ("activation", "Redesign the first-run checklist", "sam", "in_progress", 40, 20),
        ("downtime_kr", "Move the database to managed hosting", "erik", "blocked", 30, 10),
        ("downtime_kr", "Add a canary stage to deploys", "erik", "in_progress", 70, 5),
        ("incidents", "On-call training for all engineers", "erik", "planned", 0, 40),
    ]
    Initiative.objects.bulk_create([
        Initiative(organization=org, key_result=krs[key], title=title, owner=u[owner],
                   status=status, percent_complete=pct, order=i,
                   due_date=today + dt.timedelta(days=due))
        for i, (key, title, owner, status, pct, due) in enumerate(rows)
    ])
