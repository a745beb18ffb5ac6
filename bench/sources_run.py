#!/usr/bin/env python
"""Benchmark a data-source run: one SQL source feeding 1,000 weekly KPIs x 104 weeks from
a PostgreSQL "warehouse" database (104,000 rows of (kpi key, week, value)).

    .venv/bin/python bench/sources_run.py [--kpis 1000] [--weeks 104]

Measures the first run (every point created: points per second) and a second run with
unchanged data (must write nothing), through sources.services.source_run exactly as the
worker runs it. Health evaluations are queued to a Redis queue no worker reads (purged
afterwards), so the figures are the run's own. Databases (created when missing, on
127.0.0.1:5432 as postgres): headway_bench_sources (Headway) and headway_bench_warehouse
(BENCH_SOURCES_DB, BENCH_WAREHOUSE_DB). Prints the figures with the load average and writes
bench/out/sources_run.json; ``--append FILE`` adds them as a section to FILE (make bench:
bench/run.py appends it to bench/RESULTS.md). Targets (issue 17): first run ≥ 20,000
points/s, second run ≤ 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = "postgres://postgres@127.0.0.1:5432"
APP_DB = os.environ.get("BENCH_SOURCES_DB", "headway_bench_sources")
WAREHOUSE_DB = os.environ.get("BENCH_WAREHOUSE_DB", "headway_bench_warehouse")


def ensure_db(name: str, *, fresh: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as con:
        exists = con.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if exists and fresh:
            con.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            con.execute(f'CREATE DATABASE "{name}"')


def build_warehouse(kpis: int, weeks: int, last: dt.date) -> None:
    import psycopg

    ensure_db(WAREHOUSE_DB, fresh=True)
    rng = random.Random(17)  # noqa: S311
    buf = io.StringIO()
    for k in range(kpis):
        for w in range(weeks):
            week = last - dt.timedelta(weeks=weeks - 1 - w)
            buf.write(f"kpi-{k}\t{week.isoformat()}\t{round(rng.gauss(100, 10), 2)}\n")
    with psycopg.connect(f"{PG}/{WAREHOUSE_DB}", autocommit=True) as con:
        con.execute("CREATE TABLE points (kpi text, week date, value double precision)")
        with con.cursor().copy("COPY points FROM STDIN") as copy:
            copy.write(buf.getvalue())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kpis", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--append", type=Path, default=None,
                        help="add the figures as a Markdown section to this file")
    args = parser.parse_args(argv)
    ensure_db(APP_DB)
    os.environ.update({
        "DATABASE_URL": f"{PG}/{APP_DB}", "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
        "CELERY_QUEUE": "bench-sources-unread", "HEADWAY_SOURCE_ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "ERROR"})
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Organization
    from config.celery import app
    from kpis.models import DataPoint, Kpi
    from sources import services
    from sources.models import DataSource, Feed

    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    last = today - dt.timedelta(days=today.weekday() + 7)
    t = time.perf_counter()
    build_warehouse(args.kpis, args.weeks, last)
    print(f"warehouse: {args.kpis * args.weeks} rows in {time.perf_counter() - t:.1f} s")

    Organization.objects.filter(slug="bench-sources").delete()
    org = Organization.objects.create(name="Bench sources", slug="bench-sources")
    kpis = Kpi.objects.bulk_create([Kpi(organization=org, name=f"KPI {k}", frequency="weekly")
                                    for k in range(args.kpis)])
    source = services.source_create(
        organization=org, actor=None, name="Warehouse", kind="sql",
        url=f"postgresql://postgres@127.0.0.1:5432/{WAREHOUSE_DB}",
        query="select kpi, week, value from points", schedule="manual", timeout_seconds=60,
        row_cap=1_000_000, active=True)
    Feed.objects.bulk_create([Feed(source=source, kpi=k, key=f"kpi-{i}")
                              for i, k in enumerate(kpis)])

    figures = {"kpis": args.kpis, "weeks": args.weeks, "rows": args.kpis * args.weeks}
    for label in ("first", "second"):
        figures.setdefault("load_before", {})[label] = round(os.getloadavg()[0], 1)
        t, cpu = time.perf_counter(), time.process_time()
        run = services.source_run(source_id=source.pk, trigger="manual")
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
        assert run.status == "ok", run.error
        figures[label] = {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                          "created": run.created,
                          "replaced": run.replaced, "unchanged": run.unchanged,
                          "points_per_s": round(run.created / seconds) if run.created else 0}
        print(f"{label} run: {seconds:.2f} s ({cpu:.2f} s CPU in this process), "
              f"created {run.created}, replaced {run.replaced}, "
              f"unchanged {run.unchanged}"
              + (f", {run.created / seconds:,.0f} points/s" if run.created else ""))
    assert DataPoint.objects.filter(kpi__organization=org).count() == figures["rows"]
    with app.connection_for_write() as conn:
        app.amqp.queues  # noqa: B018 - declare
        conn.default_channel.queue_purge("bench-sources-unread")
    DataSource.objects.filter(pk=source.pk).delete()
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "sources_run.json").write_text(json.dumps(figures, indent=2) + "\n")
    if args.append:
        with args.append.open("a") as f:
            f.write("\n" + report(figures) + "\n")
    return 0


def report(f: dict) -> str:
    first, second, load = f["first"], f["second"], f["load_before"]
    cores = os.cpu_count() or 1
    return "\n".join([
        "## Data-source run (bench/sources_run.py)", "",
        f"One SQL source feeding {f['kpis']:,} weekly KPIs × {f['weeks']} weeks "
        f"({f['rows']:,} rows) from a PostgreSQL warehouse, through sources.services.source_run "
        f"as the worker runs it. Load average (1 min) before each run on {cores} cores: "
        f"{load['first']} and {load['second']}.", "",
        "| run | seconds | CPU s (this process) | created | replaced | unchanged | points/s "
        "| target |",
        "|---|---|---|---|---|---|---|---|",
        f"| first | {first['seconds']} | {first['cpu_seconds']} | {first['created']:,} | "
        f"{first['replaced']} | {first['unchanged']} | {first['points_per_s']:,} | "
        "≥ 20,000 points/s |",
        f"| second (unchanged data) | {second['seconds']} | {second['cpu_seconds']} | "
        f"{second['created']} | {second['replaced']} | {second['unchanged']:,} | — | "
        "≤ 5 s, writes nothing |",
    ])


if __name__ == "__main__":
    sys.exit(main())
