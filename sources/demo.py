"""Demo: a small SQLite "warehouse" of support tickets per week, and two of Acme's KPIs fed
from it by SQL on a daily schedule (so `make run` shows a fed KPI), plus a webhook source.

The warehouse file is ``<first HEADWAY_SOURCE_SQLITE_DIRS folder>/demo_warehouse.sqlite3``,
rebuilt by each load (104 weeks up to last week)."""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from kpis.models import Kpi

from . import services

WAREHOUSE_NAME = "demo_warehouse.sqlite3"
WEEKS = 104
QUERY_OPENED = "select week, opened from support_tickets order by week"
QUERY_REOPENED = ("select week, round(100.0 * reopened / opened, 1) from support_tickets "
                  "order by week")


def warehouse_path() -> Path:
    return Path(settings.HEADWAY_SOURCE_SQLITE_DIRS[0]) / WAREHOUSE_NAME


def build_warehouse(path: Path | None = None, *, today: dt.date | None = None) -> Path:
    path = path or warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Built beside it and moved into place: a source reading the warehouse while another
    # process (a second load_demo, a parallel test run) rebuilds it sees one whole file.
    final, path = path, path.with_name(f".{path.name}.{os.getpid()}.tmp")
    path.unlink(missing_ok=True)
    today = today or timezone.localdate()
    last = today - dt.timedelta(days=today.weekday() + 7)
    rng = random.Random(17)  # noqa: S311 - demo data
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE support_tickets (week TEXT PRIMARY KEY, opened INTEGER, "
                "reopened INTEGER)")
    rows = []
    for i in range(WEEKS):
        week = last - dt.timedelta(weeks=WEEKS - 1 - i)
        opened = max(20, int(rng.gauss(140, 12)))
        reopened = max(0, int(opened * rng.uniform(0.04, 0.09)))
        rows.append((week.isoformat(), opened, reopened))
    con.executemany("INSERT INTO support_tickets VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()
    os.replace(path, final)
    return final


def seed(ctx) -> None:
    org = ctx.org
    path = build_warehouse()
    owner = ctx.users.get("lena")
    opened = Kpi.objects.create(organization=org, name="Support tickets opened per week",
                                unit="tickets", decimals=0, frequency=Kpi.Frequency.WEEKLY,
                                target_rule=Kpi.TargetRule.AT_MOST, target_value=170,
                                owner=owner, team=ctx.teams.get("Customer Support"))
    reopened = Kpi.objects.create(organization=org, name="Tickets reopened", unit="%",
                                  decimals=1, frequency=Kpi.Frequency.WEEKLY,
                                  target_rule=Kpi.TargetRule.AT_MOST, target_value=8,
                                  owner=owner)
    warehouse = services.source_create(
        organization=org, actor=None, name="Support warehouse", kind="sql",
        url=f"sqlite:///{path}", query="", schedule="daily", run_at=dt.time(6, 0),
        timeout_seconds=10, row_cap=10_000, active=True)
    services.feed_add(source=warehouse, kpi=opened, query=QUERY_OPENED)
    services.feed_add(source=warehouse, kpi=reopened, query=QUERY_REOPENED)
    # The first run now, so the demo opens with fed KPIs (later runs: daily at 06:00).
    services.source_run(source_id=warehouse.pk, trigger="manual")
    hook = Kpi.objects.create(organization=org, name="Deploys per week", unit="deploys",
                              decimals=0, frequency=Kpi.Frequency.WEEKLY, owner=owner)
    webhook = services.source_create(organization=org, actor=None, name="CI deploys webhook",
                                     kind="webhook", schedule="manual", timeout_seconds=10,
                                     row_cap=10_000, active=True)
    services.feed_add(source=webhook, kpi=hook)
