#!/usr/bin/env python
"""Headway benchmark: seed, serve with gunicorn on PostgreSQL, measure, write bench/RESULTS.md.

    .venv/bin/python bench/run.py            # the large organisation (make bench)
    .venv/bin/python bench/run.py --quick    # small organisation, few requests (CI smoke)

Standard library only, plus the project's own code (Django) for seeding, the query counts
and the KPI evaluation; the parts are the modules beside this one (bench/README.md).
It sets HEADWAY_BENCH=1 for itself and every process it starts, which installs the bench
app (the floor page, seed_bench). Environment (defaults in brackets):
BENCH_DATABASE_URL [the DATABASE_URL server, or 127.0.0.1:5432, database headway_bench, or
headway_bench_quick with --quick], REDIS_URL [redis://127.0.0.1:6379/0], BENCH_PORT [8119].
The database is created if missing; the seed is reused when it has the wanted scale.
See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    # Run as a script: the project root on the path, so `bench` is imported as the package
    # (its modules must not shadow others as top-level names).
    sys.path[0] = str(ROOT)

from bench.client import login, wait_http  # noqa: E402
from bench.env import BIN, ensure_database, log, manage, setup_env  # noqa: E402
from bench.evaluation import (  # noqa: E402
    Eval,
    evaluate_in_process,
    evaluate_naive,
    evaluate_through_worker,
    point_to_health,
    purge_queue,
    start_worker,
    stop,
)
from bench.pages import (  # noqa: E402
    checkin_forms,
    count_page_queries,
    discover,
    measure_concurrent,
    measure_latency,
)
from bench.report import (  # noqa: E402
    SLOW_PAGE_S,
    build_report,
    fmt_ms,
    git_state,
    machine,
    percentile,
    quote_in_readme,
)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small scale, few requests (CI)")
    ap.add_argument("--scale", choices=["xlarge", "large", "small", "tiny"], default=None)
    ap.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8119")))
    ap.add_argument("--workers", type=int, default=None, help="gunicorn workers [2 × CPUs + 1]")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads per gunicorn worker [1: sync workers]")
    ap.add_argument("--requests", type=int, default=None, help="requests per page, one client")
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--per-client", type=int, default=None, help="requests per client, 8 clients")
    ap.add_argument("--page-budget", type=float, default=None,
                    help="seconds per page and measure before a slow page stops [30; 5 quick]")
    ap.add_argument("--naive-limit", type=int, default=None,
                    help="evaluate the first N KPIs the naive way [1000; 100 quick; 0 = all]")
    ap.add_argument("--worker-concurrency", type=int, default=1,
                    help="Celery worker processes [1: --pool solo; more: prefork]")
    ap.add_argument("--skip-worker", action="store_true", help="no Celery worker measures")
    ap.add_argument("--rush-pairs", type=int, default=None,
                    help="Monday rush: read-only/rush slice pairs [3; 1 quick; 0 = none]")
    ap.add_argument("--rush-slice", type=float, default=None,
                    help="seconds per Monday-rush slice [20; 3 quick]")
    ap.add_argument("--rush-only", action="store_true",
                    help="only the query counts, one-client latencies and the Monday rush "
                         "(no 8-client page runs, no KPI evaluation)")
    ap.add_argument("--no-rebuild", action="store_true",
                    help="do not run rebuild_figures first (the seed is known to be current)")
    ap.add_argument("--no-checkin-posts", action="store_true",
                    help="skip bench/checkin_posts.py (single-row and check-in-all POST p50s)")
    ap.add_argument("--output", default=None, help="[bench/RESULTS.md; bench/out/RESULTS-quick.md "
                                                   "with --quick]")
    args = ap.parse_args(argv)
    args.scale = args.scale or ("small" if args.quick else "large")
    args.workers = args.workers or (2 if args.quick else 2 * (os.cpu_count() or 1) + 1)
    args.requests = args.requests or (3 if args.quick else 40)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    args.per_client = args.per_client or (1 if args.quick else 10)
    args.page_budget = args.page_budget or (5.0 if args.quick else 30.0)
    args.rush_pairs = args.rush_pairs if args.rush_pairs is not None else (1 if args.quick else 3)
    args.rush_slice = args.rush_slice or (3.0 if args.quick else 20.0)
    if args.naive_limit is None:
        # The naive way is measured per KPI: a sample gives its rate without minutes of wait.
        args.naive_limit = 100 if args.quick else 1000
    output = Path(args.output) if args.output else (
        ROOT / "bench" / "out" / "RESULTS-quick.md" if args.quick else ROOT / "bench" / "RESULTS.md")
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    started = dt.datetime.now(dt.UTC)

    env = setup_env(args)
    commands = [f"make bench   # = {Path(sys.executable).relative_to(ROOT) if str(sys.executable).startswith(str(ROOT)) else sys.executable} "
                f"bench/run.py {' '.join(shlex.quote(a) for a in (argv or sys.argv[1:]))}".rstrip()]
    ensure_database(env["DATABASE_URL"])
    manage("migrate", "--noinput", "-v", "0")
    commands.append("python manage.py migrate --noinput")

    import django

    django.setup()
    info = machine()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from accounts.models import Organization
    from bench.seeding import BENCH_EMAIL, BENCH_PASSWORD, BENCH_SLUG, analyse_tables

    want = f"Bench Corp ({args.scale})"
    org = Organization.objects.filter(slug=BENCH_SLUG).first()
    seed_s = 0.0
    seed_cmd = f"HEADWAY_BENCH=1 python manage.py seed_bench --scale {args.scale}"
    if org is None or org.name != want:
        t0 = time.perf_counter()
        opts = ["--scale", args.scale] + (["--reset"] if org is not None else [])
        log("seeding: manage.py seed_bench " + " ".join(opts))
        call_command("seed_bench", *opts)
        seed_s = time.perf_counter() - t0
        seed_cmd += " --reset" if org is not None else ""
        org = Organization.objects.get(slug=BENCH_SLUG)
    commands.append(seed_cmd + "   # skipped when already seeded at this scale")
    # A seed from before the stored figures (or damaged by an interrupted run) is brought
    # up to date from scratch; timed, since it is what a deploy's migration step costs.
    # (Not after seeding in this run: the seed ends with the same rebuild.)
    if seed_s or args.no_rebuild:
        log("rebuild_figures: skipped (" + ("just seeded" if seed_s else "--no-rebuild") + ")")
    else:
        t0 = time.perf_counter()
        call_command("rebuild_figures", "--org", BENCH_SLUG)
        log(f"rebuild_figures: {time.perf_counter() - t0:.1f}s")
        commands.append(f"HEADWAY_BENCH=1 python manage.py rebuild_figures --org {BENCH_SLUG}")
    user = get_user_model().objects.get(email=BENCH_EMAIL)
    # Earlier runs rewrote health rows and added check-ins: start from a vacuumed,
    # analysed database, as autovacuum would leave it in production.
    t0 = time.perf_counter()
    analyse_tables()
    log(f"vacuum analyse: {time.perf_counter() - t0:.1f}s")
    commands.append("VACUUM ANALYZE on the benchmark's tables (bench/run.py does it)")
    counts = seeded_counts(org)
    log("data: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))

    pages, _ctx = discover(org, user)
    built = [p for p in pages if p.path]
    log("pages: " + ", ".join(f"{p.key}={p.path or 'not built'}" for p in pages))

    gunicorn = None
    worker = None
    mixed = mixed_fast = None
    rush = None
    posts = None
    ev = Eval()
    try:
        gcmd = [str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{args.port}",
                "-w", str(args.workers), "--log-level", "warning", "--timeout", "300"]
        if args.threads > 1:
            gcmd += ["--threads", str(args.threads)]
        log("$ " + " ".join(gcmd))
        commands.append(" ".join(gcmd))
        gunicorn = subprocess.Popen(gcmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=open(ROOT / "bench" / "out" / "gunicorn.log", "w"))  # noqa: SIM115
        wait_http(args.port, "/healthz")
        from django.urls import reverse

        session = login(args.port, BENCH_EMAIL, BENCH_PASSWORD, reverse("accounts:login"))
        cookies = session.cookies
        post = next(p for p in pages if p.key == "post")
        team = next(p for p in pages if p.key == "team")
        forms: list[tuple[str, dict]] = []
        if post.path and team.path:
            forms = checkin_forms(session, post, team.path, 8)
            if not forms:  # the check-in page as one form (issue 19): the rows' own POSTs
                from bench.rush import row_posts

                forms = row_posts(session, team.path, 8)
            if not forms:
                post.note = "no check-in form found on the team page"
                post.path = None
        from okrs.models import CheckIn

        checkins_before = CheckIn.objects.filter(organization=org).count()
        count_page_queries(built, cookies, forms)
        post.sent += 1 if post.queries is not None else 0
        for p in pages:
            if not p.path:
                continue
            log(f"one client: {p.label} ({p.path})")
            measure_latency(args.port, cookies, p, args.requests, args.warmup, forms,
                            args.page_budget)
            log(f"  p50 {fmt_ms(statistics.median(p.lat))} ms, p95 "
                f"{fmt_ms(percentile(p.lat, 0.95))} ms, {p.queries} queries")
        for p in pages:
            if not p.path or args.quick or args.rush_only:
                continue
            if p.lat and statistics.median(p.lat) > SLOW_PAGE_S:
                p.note = f"8 clients skipped: one request takes over {SLOW_PAGE_S:.0f} s"
                log(f"8 clients: {p.label}: skipped ({p.note})")
                continue
            rps, n, errors, _ = measure_concurrent(args.port, cookies, [(p, 1)], 8,
                                                   args.per_client, forms, args.page_budget)
            p.rps8 = rps
            p.errors += errors
            log(f"8 clients: {p.label}: {rps:.1f} req/s")
        jobs = [(p, 1) for p in pages if p.path and not p.is_floor and p.method == "GET"]
        if args.rush_pairs and jobs:
            rush = run_rush(args, session, cookies, pages, jobs, gunicorn.pid, org)
        if team.path and not args.no_checkin_posts:
            posts = run_checkin_posts(args, cookies, team.path, org)
        if jobs and not args.rush_only:
            mixed = measure_concurrent(args.port, cookies, jobs, 8, args.per_client * 3, forms,
                                       args.page_budget * 2)
            log(f"8 clients, mixed pages: {mixed[0]:.1f} req/s")
            fast_jobs = [j for j in jobs if j[0].lat and statistics.median(j[0].lat) <= SLOW_PAGE_S]
            if 0 < len(fast_jobs) < len(jobs):
                mixed_fast = measure_concurrent(args.port, cookies, fast_jobs, 8,
                                                args.per_client * 3, forms, args.page_budget * 2)
                log(f"8 clients, mixed pages under {SLOW_PAGE_S:.0f} s: {mixed_fast[0]:.1f} req/s")
        stop(gunicorn)
        gunicorn = None
        if post.path:
            post.recorded = CheckIn.objects.filter(organization=org).count() - checkins_before
            log(f"check-ins recorded: {post.recorded} for {post.sent} POSTs")

        if args.rush_only:
            raise _Done
        log("KPI evaluation in process (kpis.health.evaluate_all)")
        evaluate_in_process(org, ev)
        log(f"  {ev.kpis} KPIs in {ev.inproc_s:.2f}s, {ev.inproc_queries} queries, "
            f"{ev.inproc_changed} rows changed")
        log("KPI evaluation, naive (one KPI at a time)")
        evaluate_naive(org, ev, args.naive_limit)
        log(f"  {ev.naive_n} KPIs in {ev.naive_s:.2f}s")
        if not args.skip_worker:
            purge_queue()
            worker = start_worker(env, args.worker_concurrency)
            time.sleep(1.0)
            # Wake the worker up: wait until it takes a trivial task (one KPI).
            log("worker: waiting until ready")
            warm = Eval()
            point_to_health(org, user, warm, 1, timeout=60)
            log("KPI evaluation through the worker (kpis.tasks.evaluate_all)")
            evaluate_through_worker(org, ev, worker, timeout=600)
            log("one data point → health through the worker")
            point_to_health(org, user, ev, 3 if args.quick else 10)
            if ev.p2h:
                log(f"  median {statistics.median(ev.p2h) * 1000:.0f} ms, "
                    f"max {max(ev.p2h) * 1000:.0f} ms")
    except _Done:
        pass
    finally:
        stop(gunicorn)
        stop(worker)

    info["git_end"] = git_state()
    report = build_report(args, info, counts, pages, mixed, ev, commands, started, seed_s,
                          mixed_fast)
    if rush is not None:
        from bench.rush import report as rush_report

        report = report.rstrip("\n") + "\n" + "\n".join(rush_report(
            rush, [(p.key, p.label) for p, _ in jobs])) + "\n"
    if posts is not None:
        report = report.rstrip("\n") + "\n\n## Check-in POSTs (issue 19, `bench/checkin_posts.py`)\n\n" + posts + "\n"
    old = output.read_text() if output.exists() else ""
    report = report.rstrip("\n") + "\n" + kept_sections(old, report)
    output.write_text(report)
    if not args.quick and not args.rush_only:  # issue 17: a data-source run, its own databases; appends its section
        subprocess.run([sys.executable, str(ROOT / "bench" / "sources_run.py"), "--append",
                        str(output)], check=False)
    if not args.quick and not args.output:
        quote_in_readme(report)
    print()
    print(report)
    log(f"wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 0


# Sections of an existing RESULTS.md that this run does not write are kept (the hand-copied
# quiet-machine runs, the other issues' sections); the data-source run appends its own.
REGENERATED = ("## Data-source run",)


def kept_sections(old: str, new: str) -> str:
    """The `## ` sections of `old` whose heading the new report does not have, in their
    order (empty when none)."""
    import re

    have = {line.strip() for line in new.splitlines() if line.startswith("## ")}
    parts = re.split(r"(?m)^(?=## )", old)
    kept = [part.rstrip("\n") for part in parts[1:]
            if part.splitlines()[0].strip() not in have
            and not part.startswith(REGENERATED)]
    return ("\n" + "\n\n".join(kept) + "\n") if kept else ""


def run_checkin_posts(args, cookies, team_path, org):
    """bench/checkin_posts.py (issue 19, the checkin engineer's): p50 of a single-row POST and
    of "check in all" of the bench user's team page, on this run's gunicorn."""
    try:
        from bench import checkin_posts
    except ImportError:
        log("check-in POSTs: bench/checkin_posts.py not found, skipped")
        return None
    log(f"check-in POSTs (bench/checkin_posts.py): {team_path}")
    from django.conf import settings

    if "testserver" not in settings.ALLOWED_HOSTS:  # its query count uses the test client
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    try:
        result = checkin_posts.measure(args.port, cookies, team_path=team_path, org_id=org.pk,
                                       n=3 if args.quick else 30,
                                       warmup=1 if args.quick else 3)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 — the other measures still count
        log(f"check-in POSTs: failed ({exc})")
        return None
    log(f"  single row p50 {result['single']['p50_ms']:.0f} ms, check in all "
        f"({result['rows']} rows) p50 {result['all']['p50_ms']:.0f} ms")
    return checkin_posts.table(result)


class _Done(Exception):
    """--rush-only: the measures after the rush are skipped."""


def run_rush(args, session, cookies, pages, jobs, master_pid, org):
    """The Monday rush (bench/rush.py): the check-in forms of the bench user's team pages
    (up to 200 key results, so the POSTs vary), then the slice pairs."""
    from bench.pages import checkin_forms
    from bench.rush import monday_rush
    from okrs.models import CheckIn

    team = next(p for p in pages if p.key == "team")
    post = next(p for p in pages if p.key == "post")
    forms = checkin_forms(session, post, team.path, 200) if team.path else []
    if not forms and team.path:  # the check-in page as one form (issue 19)
        from bench.rush import row_posts

        forms = row_posts(session, team.path, 200)
    if not forms:
        log("monday rush: skipped (no check-in form on the team page)")
        return None
    before = CheckIn.objects.filter(organization=org).count()
    log(f"monday rush: {args.rush_pairs} pairs of {args.rush_slice:.0f}-second slices, "
        f"{len(forms)} key results")
    rush = monday_rush(args.port, cookies, [p for p, _ in jobs], forms,
                       slice_s=args.rush_slice, pairs=args.rush_pairs, master_pid=master_pid,
                       log=log)
    rush.recorded = CheckIn.objects.filter(organization=org).count() - before
    return rush


def seeded_counts(org) -> dict:
    from accounts.models import Membership, Team
    from initiatives.models import Initiative
    from kpis.models import DataPoint, Kpi
    from okrs.models import CheckIn, KeyResult, Objective

    return {
        "teams": Team.objects.filter(organization=org).count(),
        "members": Membership.objects.filter(organization=org).count(),
        "objectives": Objective.objects.filter(organization=org).count(),
        "key results": KeyResult.objects.filter(organization=org).count(),
        "check-ins": CheckIn.objects.filter(organization=org).count(),
        "initiatives": Initiative.objects.filter(organization=org).count(),
        "KPIs": Kpi.objects.filter(organization=org).count(),
        "data points": DataPoint.objects.filter(kpi__organization=org).count(),
    }


if __name__ == "__main__":
    sys.exit(main())
