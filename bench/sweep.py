#!/usr/bin/env python
"""The KPI health sweep alone, through real Celery workers (issue 20's figure):
10,000 KPIs of the large seed, limit periods in use on 20 % of them.

    .venv/bin/python bench/sweep.py                       # 5 sweeps of this tree
    .venv/bin/python bench/sweep.py --runs 7 --compare /tmp/before   # interleaved A/B

Each code tree gets its own worker (``--pool solo``, its own queue) started from that
tree; the sweeps alternate A, B, B, A, A, B … so that a change of machine load falls on
both alike, and the medians and their ratio are printed. Needs PostgreSQL and Redis like
``make bench``; the database is bench/run.py's (``BENCH_DATABASE_URL``, default
headway_bench), seeded with ``seed_bench --scale large`` when it is not, and given the
seed's limit periods (every fifth KPI) when they are missing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.env import QUEUE, ROOT, ensure_database, log, manage, setup_env  # noqa: E402


def _worker(env: dict, root: Path, queue: str, logfile: Path):
    import subprocess

    from bench.env import BIN

    cmd = [str(BIN / "celery"), "-A", "config", "worker", "-Q", queue, "--pool", "solo",
           "-c", "1", "-l", "warning", "--without-gossip", "--without-mingle",
           "--without-heartbeat"]
    log(f"$ (cd {root}) CELERY_QUEUE={queue} " + " ".join(cmd))
    # PYTHONPATH: the tree's own packages, not the ones the venv's editable install maps.
    return subprocess.Popen(cmd, cwd=root, env={**env, "CELERY_QUEUE": queue,
                                                "PYTHONPATH": str(root)},
                            stdout=subprocess.DEVNULL, stderr=open(logfile, "w"))  # noqa: SIM115


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ensure_periods(org) -> None:
    """The seed's limit periods (bench/seeder.py: every fifth KPI, half-way through its
    series) when a seed from before them has none."""
    import datetime as dt

    from django.utils import timezone

    from kpis.models import Kpi, LimitPeriod

    if LimitPeriod.objects.filter(kpi__organization=org).exists():
        return
    today = timezone.localdate()
    last = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=1)
    kpis = list(Kpi.objects.filter(organization=org).order_by("pk").values_list("pk", flat=True))
    rows = [LimitPeriod(kpi_id=pk, start=last - dt.timedelta(weeks=52),
                        reason="bench: a known change") for i, pk in enumerate(kpis) if not i % 5]
    LimitPeriod.objects.bulk_create(rows, batch_size=2000)
    log(f"added {len(rows)} limit periods (every fifth KPI)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="sweeps per code tree [5]")
    ap.add_argument("--compare", type=Path, default=None,
                    help="a second code tree (e.g. `git worktree add /tmp/before <commit>`): "
                         "its worker sweeps interleaved with this tree's")
    ap.add_argument("--scale", default="large")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args(argv)
    args.quick = False
    env = setup_env(args)
    ensure_database(env["DATABASE_URL"])
    manage("migrate", "--noinput", "-v", "0")
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import Organization
    from bench.evaluation import kpis_with_periods, stop, sweep_once
    from bench.seeding import BENCH_SLUG
    from kpis.models import Kpi

    org = Organization.objects.filter(slug=BENCH_SLUG).first()
    if org is None or org.name != f"Bench Corp ({args.scale})":
        call_command("seed_bench", "--scale", args.scale, *(["--reset"] if org else []))
        org = Organization.objects.get(slug=BENCH_SLUG)
    _ensure_periods(org)
    n = Kpi.objects.filter(organization=org, active=True).count()
    with_periods = kpis_with_periods(org)
    log(f"{n} KPIs, {with_periods} ({100 * with_periods / n:.0f} %) with limit periods")

    trees = {"A": ROOT}
    if args.compare:
        trees["B"] = args.compare.resolve()
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    workers, times, cpus = {}, {k: [] for k in trees}, {k: [] for k in trees}
    try:
        for key, root in trees.items():
            queue = f"{QUEUE}-{key.lower()}"
            workers[key] = (_worker(env, root, queue, ROOT / "bench" / "out" / f"sweep-worker-{key}.log"),
                            queue)
        time.sleep(2)
        for key, (proc, queue) in workers.items():  # warm each worker up with one sweep
            log(f"warm-up sweep {key} ({trees[key]})")
            if sweep_once(proc, args.timeout, queue) is None:
                raise SystemExit(f"worker {key}: no sweep within {args.timeout:.0f}s")
        order = list(trees)
        for i in range(args.runs):
            for key in (order if i % 2 == 0 else order[::-1]):
                proc, queue = workers[key]
                load = os.getloadavg()[0]
                cpu0 = _cpu_seconds(proc.pid)
                seconds = sweep_once(proc, args.timeout, queue)
                if seconds is None:
                    raise SystemExit(f"worker {key}: no sweep within {args.timeout:.0f}s")
                times[key].append(seconds)
                cpus[key].append(_cpu_seconds(proc.pid) - cpu0)
                log(f"run {i + 1} {key}: {seconds:.2f} s = {n / seconds:,.0f} KPIs/s, worker CPU "
                    f"{cpus[key][-1]:.2f} s (load {load:.1f})")
    finally:
        for proc, _ in workers.values():
            stop(proc)
    print()
    print(f"Sweep through the worker: {n:,} KPIs, {with_periods:,} ({100 * with_periods / n:.0f} %) "
          f"with limit periods, {args.runs} runs per tree, load average now "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    medians = {}
    for key, root in trees.items():
        medians[key] = statistics.median(times[key])
        rates = " · ".join(f"{n / s:,.0f}" for s in times[key])
        print(f"  {key} {root}: KPIs/s {rates}; median {n / medians[key]:,.0f}; worker CPU "
              f"median {statistics.median(cpus[key]):.2f} s per sweep")
    if "B" in medians:
        print(f"  A ÷ B speed (B's median time / A's): {medians['B'] / medians['A']:.2f}×; "
              f"worker CPU B ÷ A: "
              f"{statistics.median(cpus['B']) / statistics.median(cpus['A']):.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
