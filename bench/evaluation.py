"""The KPI health evaluation measured in process, the naive way and through a Celery worker,
and the worker process itself (start, stop, peak memory)."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.env import BIN, QUEUE, ROOT, log


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) in MB from /proc/<pid>/status."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return out.get("VmHWM", float("nan")), out.get("VmRSS", float("nan"))


def process_tree(pid: int) -> list[int]:
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        out += process_tree(int(child))
    return out


def tree_peak_mb(pid: int) -> float:
    """Peak resident memory of a worker: the sum of VmHWM over its processes (pool children)."""
    return sum(peak_rss_mb(p)[0] for p in process_tree(pid))


def start_worker(env: dict, concurrency: int = 1) -> subprocess.Popen:
    pool = ["--pool", "solo", "-c", "1"] if concurrency <= 1 else [
        "--pool", "prefork", "-c", str(concurrency)]
    cmd = [str(BIN / "celery"), "-A", "config", "worker", "-Q", QUEUE, *pool, "-l", "warning",
           "--without-gossip", "--without-mingle", "--without-heartbeat"]
    log("$ " + " ".join(cmd))
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(ROOT / "bench" / "out" / "worker.log", "w"))  # noqa: SIM115


def stop(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def purge_queue() -> None:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(QUEUE)
    except Exception as exc:  # the queue may not exist yet
        log(f"(queue purge: {exc.__class__.__name__})")


# --- KPI evaluation ------------------------------------------------------------------------------


@dataclass
class Eval:
    kpis: int = 0
    inproc_s: float = 0.0
    inproc_queries: int = 0
    inproc_changed: int | None = None
    worker_s: float | None = None
    worker_hwm_mb: float | None = None
    worker_rss_start_mb: float | None = None
    naive_n: int = 0
    naive_s: float = 0.0
    naive_queries: int = 0
    p2h: list[float] = field(default_factory=list)
    note: str = ""
    # The worker sweep (issue 20): every run's seconds (worker_s is their median), and how
    # many of the swept KPIs have a limit period in use.
    worker_runs: list[float] = field(default_factory=list)
    with_periods: int = 0

    @property
    def sweep_detail(self) -> str:
        """One sentence for the report: the share of KPIs with limit periods and the runs."""
        if not self.worker_runs:
            return ""
        share = 100 * self.with_periods / self.kpis if self.kpis else 0
        runs = " · ".join(f"{self.kpis / s:,.0f}" for s in self.worker_runs)
        return (f"Worker sweep: {len(self.worker_runs)} full re-evaluations of the {self.kpis:,} "
                f"KPIs, {self.with_periods:,} of them ({share:.0f} %) with limit periods in use; "
                f"KPIs/s per run {runs}, the median shown.")


def evaluate_in_process(org, ev: Eval) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kpis import health

    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        outcome = health.evaluate_all(organization_id=org.pk, force=True)
        ev.inproc_s = time.perf_counter() - t0
    ev.kpis = outcome.evaluated
    ev.inproc_changed = getattr(outcome, "changed", None)
    ev.inproc_queries = len(ctx.captured_queries)


def evaluate_naive(org, ev: Eval, limit: int | None) -> None:
    """The naive way: every KPI on its own (its points by its own ORM query)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kpis import health
    from kpis.models import Kpi

    ids = list(Kpi.objects.filter(organization=org, active=True).order_by("pk")
               .values_list("pk", flat=True))
    if limit:  # 0: all
        ids = ids[:limit]
    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        for kpi_id in ids:
            health.evaluate_kpis([kpi_id])
        ev.naive_s = time.perf_counter() - t0
    ev.naive_n = len(ids)
    ev.naive_queries = len(ctx.captured_queries)


def kpis_with_periods(org) -> int:
    """Active KPIs of ``org`` with an active limit period (the sweep's periods share)."""
    from kpis.models import Kpi, LimitPeriod

    return (Kpi.objects.filter(organization=org, active=True,
                               limit_periods__status=LimitPeriod.Status.ACTIVE)
            .distinct().count())


def sweep_once(worker: subprocess.Popen, timeout: float, queue: str = QUEUE) -> float | None:
    """One full sweep (``kpis.tasks.evaluate_all``) through the worker reading ``queue``:
    seconds from sending the task to the sweep's lock row saying it finished; None after
    ``timeout``."""
    from django.utils import timezone

    from kpis import sweep, tasks
    from kpis.models import EvaluationLock

    EvaluationLock.objects.filter(name=sweep.LOCK_NAME).update(locked_until=None, owner="",
                                                               run_started=None, cursor=0)
    sent = timezone.now()
    tasks.evaluate_all.apply_async(queue=queue)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lock = EvaluationLock.objects.filter(name=sweep.LOCK_NAME, finished_at__gt=sent).first()
        if lock is not None:
            return (lock.finished_at - sent).total_seconds()
        if worker.poll() is not None:
            raise SystemExit("the Celery worker died (see bench/out/worker.log)")
        time.sleep(0.02)
    return None


def evaluate_through_worker(org, ev: Eval, worker: subprocess.Popen, timeout: float,
                            runs: int = 3) -> None:
    """``runs`` full sweeps through the worker; ``ev.worker_s`` is their median."""
    import statistics

    from django.utils import timezone

    from kpis.models import Kpi, KpiHealth

    ev.worker_rss_start_mb = sum(peak_rss_mb(p)[1] for p in process_tree(worker.pid))
    n = Kpi.objects.filter(organization=org, active=True).count()
    ev.with_periods = kpis_with_periods(org)
    for _ in range(max(1, runs)):
        sent = timezone.now()
        t0 = time.perf_counter()
        seconds = sweep_once(worker, timeout)
        if seconds is None:
            ev.note = f"worker sweep not finished after {timeout:.0f}s"
            return
        ev.worker_runs.append(seconds)
        fresh = KpiHealth.objects.filter(kpi__organization=org, evaluated_at__gte=sent).count()
        if fresh != n:
            ev.note = f"worker sweep: {fresh} of {n} health rows updated"
        log(f"  worker sweep: {n} KPIs ({ev.with_periods} with limit periods) in {seconds:.2f}s "
            f"= {n / seconds:,.0f}/s ({time.perf_counter() - t0:.2f}s seen)")
    ev.worker_s = statistics.median(ev.worker_runs)
    ev.worker_hwm_mb = tree_peak_mb(worker.pid)


def point_to_health(org, user, ev: Eval, samples: int, timeout: float = 30) -> None:
    """Record one value through kpis.services, then wait for its health row (the worker)."""
    from django.utils import timezone

    from kpis import periods, services
    from kpis.models import Kpi, KpiHealth

    kpis = list(Kpi.objects.filter(organization=org, active=True, frequency="weekly")
                .order_by("-pk")[:samples])
    for i, kpi in enumerate(kpis):
        period = periods.period_start(timezone.localdate(), kpi.frequency)
        value = round(time.time() % 1000 + i, 2)
        t0 = time.perf_counter()
        stamp = timezone.now()
        services.kpi_record_value(kpi=kpi, period=period, value=value, author=user)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if KpiHealth.objects.filter(kpi=kpi, evaluated_at__gte=stamp,
                                        latest_value=value).exists():
                ev.p2h.append(time.perf_counter() - t0)
                break
            time.sleep(0.005)
        else:
            ev.note += f" point→health: no update within {timeout:.0f}s;"
