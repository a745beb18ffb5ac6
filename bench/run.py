#!/usr/bin/env python
"""Headway benchmark: seed, serve with gunicorn on PostgreSQL, measure, write bench/RESULTS.md.

    .venv/bin/python bench/run.py            # the large organisation (make bench)
    .venv/bin/python bench/run.py --quick    # small organisation, few requests (CI smoke)

Standard library only, plus the project's own code (Django) for seeding, the query counts
and the KPI evaluation. Environment (defaults in brackets):
BENCH_DATABASE_URL [the DATABASE_URL server, or 127.0.0.1:5432, database headway_bench, or
headway_bench_quick with --quick], REDIS_URL [redis://127.0.0.1:6379/0], BENCH_PORT [8119].
The database is created if missing; the seed is reused when it has the wanted scale.
See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import platform
import re
import secrets
import shlex
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/headway_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
QUEUE = "headway-bench"

# Targets from issue 9 (2-core machine, large organisation).
TARGET_PAGE_P50_MS = 150
TARGET_FLOOR_RATIO = 10
TARGET_POST_P50_MS = 80
TARGET_MIXED_RPS = 60
TARGET_KPIS_PER_S = 2000
TARGET_NAIVE_RATIO = 10
TARGET_WORKER_MB = 400
TARGET_POINT_TO_HEALTH_S = 1.0
SLOW_PAGE_S = 5.0  # a page slower than this with one client is not run with 8 clients


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- Environment, database, seeding ------------------------------------------------------


def bench_database_url(quick: bool) -> str:
    """BENCH_DATABASE_URL, else the server of DATABASE_URL (or the local one) with a database
    of its own: headway_bench (headway_bench_quick for --quick, so CI never reseeds it)."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    base = urllib.parse.urlparse(os.environ.get("DATABASE_URL") or DEFAULT_DB)
    if not base.scheme.startswith("postgres"):
        base = urllib.parse.urlparse(DEFAULT_DB)
    return base._replace(path="/headway_bench" + ("_quick" if quick else "")).geturl()


def setup_env(args) -> dict:
    os.environ["DATABASE_URL"] = bench_database_url(args.quick)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS)
    os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(48))
    os.environ["CELERY_QUEUE"] = QUEUE
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return dict(os.environ)


def ensure_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(*argv: str) -> None:
    cmd = [sys.executable, "manage.py", *argv]
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, cwd=ROOT, check=True)


# --- HTTP ---------------------------------------------------------------------------------


class Session:
    """One HTTP client (its own connection and cookies)."""

    def __init__(self, port: int, cookies: dict | None = None):
        self.port = port
        self.cookies = dict(cookies or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None) -> tuple[int, bytes, float, dict]:
        hdrs = {"Host": f"127.0.0.1:{self.port}", "User-Agent": "headway-bench"}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body, doseq=True).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            hdrs["Referer"] = f"http://127.0.0.1:{self.port}{path}"
            hdrs["Origin"] = f"http://127.0.0.1:{self.port}"
        hdrs.update(headers or {})
        for attempt in range(2):
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                payload = resp.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                if attempt:
                    raise
                continue
            elapsed = time.perf_counter() - t0
            for value in resp.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
            return resp.status, payload, elapsed, dict(resp.headers)
        raise RuntimeError("unreachable")


class FormParser(HTMLParser):
    """Collects every form: action, method and the default values of its fields."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or a.get("hx-post") or "",
                          "method": (a.get("method") or ("post" if a.get("hx-post") else "get"))
                          .lower(), "fields": {}, "selects": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button"):
                return
            self._form["fields"][a["name"]] = a.get("value") or ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["selects"][self._select] = []
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._form["selects"][self._select].append(value)
            if "selected" in a or self._select not in self._form["fields"]:
                self._form["fields"][self._select] = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse_forms(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def login(port: int, email: str, password: str, login_path: str) -> Session:
    s = Session(port)
    status, body, _, _ = s.request("GET", login_path)
    if status != 200:
        raise SystemExit(f"login page: HTTP {status}")
    forms = [f for f in parse_forms(body.decode()) if "csrfmiddlewaretoken" in f["fields"]]
    fields = dict(forms[0]["fields"]) if forms else {}
    user_field = next((n for n in ("username", "email", "login") if n in fields), "username")
    fields.update({user_field: email, "password": password})
    status, body, _, headers = s.request("POST", login_path, fields)
    if status not in (302, 303) or "sessionid" not in s.cookies:
        raise SystemExit(f"login failed: HTTP {status}")
    return s


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# --- What to measure -------------------------------------------------------------------------


@dataclass
class Page:
    key: str
    label: str
    path: str | None  # None: not built yet
    method: str = "GET"
    form: dict | None = None  # for POST: the fields, per client
    note: str = ""
    queries: int | None = None
    status: int | None = None
    lat: list[float] = field(default_factory=list)
    rps8: float | None = None
    errors: int = 0
    is_floor: bool = False
    sent: int = 0  # requests sent (for the POST: check-ins that should exist)
    recorded: int | None = None  # POST: check-ins found in the database afterwards


def reverse_first(names: list[tuple[str, dict]]) -> str | None:
    from django.urls import NoReverseMatch, reverse

    for name, kwargs in names:
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    return None


def discover(org, user) -> tuple[list[Page], dict]:
    """The pages to measure, found by reversing URL names (a page not built yet is skipped)."""
    from django.db.models import Count

    from accounts.models import Team
    from goals.models import Cycle
    from kpis.models import Kpi
    from okrs.models import KeyResult

    slug = {"org_slug": org.slug}
    team = Team.objects.filter(organization=org, members=user).order_by("slug").first()
    kpi = (Kpi.objects.filter(organization=org, health__status="off_target")
           .order_by("pk").first() or Kpi.objects.filter(organization=org).order_by("pk").first())
    current = Cycle.objects.filter(organization=org, state="open").order_by("-start").first()
    ctx = {"team": team, "kpi": kpi, "cycle": current}
    pages = [
        Page("floor", "Floor (layout + 1 indexed query)",
             reverse_first([("dashboards:bench_floor", slug)]), is_floor=True),
        Page("dashboard", "Leader dashboard", reverse_first([("dashboards:home", slug)])),
        Page("strategy", "Strategy map", reverse_first([("dashboards:strategy_map", slug),
                                                        ("dashboards:strategy", slug)])),
        Page("okrs", "OKR list", reverse_first([("okrs:list", slug)])),
        Page("kpis", "KPI board", reverse_first([("kpis:list", slug), ("kpis:board", slug)])),
        Page("kpi", "KPI detail (XmR chart)", reverse_first(
            [(n, {**slug, "pk": kpi.pk}) for n in ("kpis:detail", "kpis:kpi")]) if kpi else None),
        Page("team", "Team check-in page", reverse_first(
            [("checkins:team", {**slug, "team": team.slug})]) if team else None),
    ]
    post = Page("post", "Check-in POST", None, method="POST")
    team_page = pages[-1]
    if team_page.path:
        # The check-in forms of the team page: one KR per client, so clients never collide.
        krs = list(KeyResult.objects.filter(objective__team=team, objective__cycle=current,
                                            kind="metric", deleted_at__isnull=True)
                   .annotate(n=Count("checkins")).order_by("pk").values_list("pk", flat=True))
        post.form = {"krs": krs}
        try:
            post.path = reverse_first([("checkins:row", {**slug, "pk": krs[0]})]) if krs else None
        except IndexError:
            post.path = None
    pages.append(post)
    for p in pages:
        if p.path is None:
            p.note = "not built"
    return pages, ctx


def checkin_forms(session: Session, page: Page, team_path: str, n: int) -> list[tuple[str, dict]]:
    """Fetch the team page and take the forms that post a check-in (action = checkins:row)."""
    status, body, _, _ = session.request("GET", team_path)
    forms = [f for f in parse_forms(body.decode()) if f["method"] == "post"
             and re.search(r"/check-ins/kr/\d+/new/", f["action"] or "")]
    out = []
    for i, f in enumerate(forms[:n]):
        fields = dict(f["fields"])
        value_name = next((k for k in fields if k.endswith("value") and "version" not in k), None)
        if value_name:
            fields[value_name] = str(40 + i)
        for name, options in f["selects"].items():
            if "status" in name and "on_track" in options:
                fields[name] = "on_track"
        for k in list(fields):
            if k.endswith("comment"):
                fields[k] = "bench check-in"
        out.append((f["action"], fields))
    return out


def count_queries(pages: list[Page], cookies: dict, post_forms: list[tuple[str, dict]]) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # The session of the real log-in (same SECRET_KEY and database as gunicorn).
    client = Client(REMOTE_ADDR="127.0.0.1", raise_request_exception=False)
    for name, value in cookies.items():
        client.cookies[name] = value
    for p in pages:
        if not p.path:
            continue
        if p.method == "GET":
            client.get(p.path)  # warm caches (as the measured runs are)
            with CaptureQueriesContext(connection) as ctx:
                resp = client.get(p.path)
        else:
            if not post_forms:
                continue
            action, fields = post_forms[0]
            with CaptureQueriesContext(connection) as ctx:
                resp = client.post(action, fields, HTTP_HX_REQUEST="true")
        p.queries = len(ctx.captured_queries)
        p.status = resp.status_code


def measure_latency(port: int, cookies: dict, page: Page, n: int, warmup: int,
                    forms: list[tuple[str, dict]], budget: float) -> None:
    """`warmup` + `n` requests, one after the other; a slow page stops after `budget`
    seconds once it has 3 samples (the report says how many were taken)."""
    s = Session(port, cookies)
    t_start = time.monotonic()
    for i in range(warmup + n):
        if len(page.lat) >= 3 and time.monotonic() - t_start > budget:
            break
        page.sent += 1
        if page.method == "GET":
            status, body, elapsed, _ = s.request("GET", page.path)
        else:
            action, fields = forms[i % len(forms)]
            status, body, elapsed, _ = s.request(
                "POST", action, fields, {"HX-Request": "true",
                                         "X-CSRFToken": s.cookies.get("csrftoken", "")})
        if status >= 400:
            page.errors += 1
            if page.errors == 1:
                log(f"  {page.label}: HTTP {status}: {body[:200]!r}")
        if i >= warmup:
            page.lat.append(elapsed)


def measure_concurrent(port: int, cookies: dict, jobs: list[tuple[Page, int]],
                       clients: int, per_client: int, forms: list[tuple[str, dict]],
                       budget: float) -> tuple[float, int, int, list[float]]:
    """`clients` threads, each with its own connection, each sends `per_client` requests
    cycling through `jobs` (a client stops early once `budget` seconds have passed).
    Returns (requests/s, requests, errors, latencies)."""
    lock = threading.Lock()
    done = [0, 0]
    lats: list[float] = []
    start = threading.Barrier(clients + 1)

    def worker(ci: int):
        s = Session(port, cookies)
        start.wait()
        t_start = time.monotonic()
        for i in range(per_client):
            if i and time.monotonic() - t_start > budget:
                break
            page, _ = jobs[(ci + i) % len(jobs)]
            if page.method == "GET":
                status, _, elapsed, _ = s.request("GET", page.path)
            else:
                action, fields = forms[ci % len(forms)]
                status, _, elapsed, _ = s.request(
                    "POST", action, fields, {"HX-Request": "true",
                                             "X-CSRFToken": s.cookies.get("csrftoken", "")})
            with lock:
                page.sent += 1
                done[0] += 1
                done[1] += status >= 400
                lats.append(elapsed)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return done[0] / wall, done[0], done[1], lats


def wait_http(port: int, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _, _, _ = Session(port).request("GET", path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {path} within {timeout}s")


# --- Processes ---------------------------------------------------------------------------------


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


def evaluate_through_worker(org, ev: Eval, worker: subprocess.Popen, timeout: float) -> None:
    from django.utils import timezone

    from kpis import health, tasks
    from kpis.models import EvaluationLock, Kpi, KpiHealth

    EvaluationLock.objects.filter(name=health.LOCK_NAME).update(locked_until=None, owner="")
    ev.worker_rss_start_mb = sum(peak_rss_mb(p)[1] for p in process_tree(worker.pid))
    n = Kpi.objects.filter(organization=org, active=True).count()
    sent = timezone.now()
    t0 = time.perf_counter()
    tasks.evaluate_all.apply_async(queue=QUEUE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lock = EvaluationLock.objects.filter(name=health.LOCK_NAME, finished_at__gt=sent).first()
        if lock is not None:
            break
        if worker.poll() is not None:
            raise SystemExit("the Celery worker died (see bench/out/worker.log)")
        time.sleep(0.05)
    else:
        ev.note = f"worker sweep not finished after {timeout:.0f}s"
        return
    ev.worker_s = (lock.finished_at - sent).total_seconds()
    fresh = KpiHealth.objects.filter(kpi__organization=org, evaluated_at__gte=sent).count()
    if fresh != n:
        ev.note = f"worker sweep: {fresh} of {n} health rows updated"
    ev.worker_hwm_mb = tree_peak_mb(worker.pid)
    log(f"  worker sweep: {n} KPIs in {ev.worker_s:.2f}s ({time.perf_counter() - t0:.2f}s seen)")


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


# --- Report ----------------------------------------------------------------------------------


def machine() -> dict:
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    import django

    return {
        "cpus": os.cpu_count(), "cpu": cpu, "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(), "django": django.get_version(),
        "postgresql": pg, "os": platform.platform(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "git": git_state(),
    }


def git_state() -> str:
    """The commit measured, and whether the tree had local changes (other work in progress)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes" if dirty else "")


def fmt_ms(x: float | None) -> str:
    return "—" if x is None or x != x else f"{x * 1000:.0f}"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("✅" if ok else "❌ miss")


def build_report(args, info, counts, pages, mixed, ev, commands, started, seed_s,
                 mixed_fast=None) -> str:
    floor = next((p for p in pages if p.is_floor and p.lat), None)
    floor_p50 = statistics.median(floor.lat) if floor else None
    lines = []
    w = lines.append
    w("# Headway benchmark results")
    w("")
    w(f"Generated by `bench/run.py` on {started:%Y-%m-%d %H:%M} UTC — nothing here is typed "
      f"by hand. Scale: **{args.scale}**{' (quick)' if args.quick else ''}.")
    w("")
    w("## Machine")
    w("")
    w(f"- CPUs: {info['cpus']} ({info['cpu']}), memory {info['memory_gb']} GB")
    w(f"- Python {info['python']}, Django {info['django']}, PostgreSQL {info['postgresql']}")
    w(f"- {info['os']}; load average at the start {info['load']}")
    w(f"- Code: commit {info['git']} at the start" + (
        f", {info['git_end']} at the end (the code changed during the run)"
        if info.get("git_end") and info["git_end"] != info["git"] else ""))
    pool = ("`--pool solo -c 1`" if args.worker_concurrency <= 1
            else f"`--pool prefork -c {args.worker_concurrency}`")
    kind = (f"workers × {args.threads} threads (gthread)" if args.threads > 1
            else "sync workers")
    w(f"- gunicorn: {args.workers} {kind} on 127.0.0.1; DEBUG off; Celery worker "
      f"{pool} on Redis")
    w("")
    w("## Data")
    w("")
    w(", ".join(f"{v:,} {k}" for k, v in counts.items()) + "."
      + (f" Seeded in this run in {seed_s:.0f}s." if seed_s else " (seeded before this run)"))
    w("")
    w("## Commands")
    w("")
    w("```")
    for c in commands:
        w(c)
    w("```")
    w("")
    w("## Pages")
    w("")
    w(f"One client: up to {args.requests} requests per page after {args.warmup} warm-up "
      f"requests (a page stops after {args.page_budget:.0f} s once it has 3 samples; "
      f"*n* below). 8 clients: up to {args.per_client} requests each"
      f"{' (per page: skipped with --quick)' if args.quick else ''}. Queries: one request "
      f"in process (django.test.Client + CaptureQueriesContext), after one warm-up.")
    w("")
    w("| Page | p50 ms | p95 ms | n | × floor | req/s, 8 clients | SQL queries | target | |")
    w("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for p in pages:
        if not p.path:
            w(f"| {p.label} | — | — | — | — | — | — | | {p.note or 'not built'} |")
            continue
        if not p.lat:
            w(f"| {p.label} | — | — | — | — | — | {p.queries or '—'} | | {p.note or 'no data'} |")
            continue
        p50, p95 = statistics.median(p.lat), percentile(p.lat, 0.95)
        ratio = (p50 / floor_p50) if floor_p50 else None
        gap = ""
        if p.is_floor:
            target, ok = "", None
        elif p.method == "POST":
            target, ok = f"p50 < {TARGET_POST_P50_MS} ms", p50 * 1000 < TARGET_POST_P50_MS
            gap = f" ({p50 * 1000 / TARGET_POST_P50_MS:.1f}× the 80 ms)"
        else:
            target = f"p50 < {TARGET_PAGE_P50_MS} ms, ≤ {TARGET_FLOOR_RATIO}× floor"
            slow = p50 * 1000 >= TARGET_PAGE_P50_MS
            heavy = ratio is not None and ratio > TARGET_FLOOR_RATIO
            ok = not slow and not heavy
            gap = " (" + ", ".join(
                ([f"{p50 * 1000 / TARGET_PAGE_P50_MS:.1f}× the 150 ms"] if slow else [])
                + ([f"{ratio:.1f}× the floor"] if heavy else [])) + ")"
        extra = (gap if ok is False else "") + (f" {p.errors} errors" if p.errors else "")
        extra += f" {p.note}" if p.note else ""
        if p.recorded is not None:
            extra += f" — {p.recorded} check-ins recorded for {p.sent} POSTs"
        w(f"| {p.label} | {fmt_ms(p50)} | {fmt_ms(p95)} | {len(p.lat)} | "
          f"{'—' if ratio is None else f'{ratio:.1f}'} | "
          f"{'—' if p.rps8 is None else f'{p.rps8:.1f}'} | {p.queries if p.queries is not None else '—'} | "
          f"{target} | {verdict(ok)}{extra} |")
    w("")
    if mixed:
        rps, n, errors, lats = mixed
        w(f"**Mixed pages, 8 clients** (every built page above except the floor, round robin): "
          f"**{rps:.1f} requests/s** over {n} requests ({errors} errors), p50 "
          f"{fmt_ms(statistics.median(lats))} ms, p95 {fmt_ms(percentile(lats, 0.95))} ms — "
          f"target ≥ {TARGET_MIXED_RPS}/s {verdict(rps >= TARGET_MIXED_RPS)}")
        w("")
    if mixed_fast:
        rps, n, errors, lats = mixed_fast
        w(f"Mixed pages without those over {SLOW_PAGE_S:.0f} s (for comparison): "
          f"{rps:.1f} requests/s over {n} requests ({errors} errors), p50 "
          f"{fmt_ms(statistics.median(lats))} ms.")
        w("")
    w("## KPI health evaluation")
    w("")
    rows = []
    if ev.worker_s:
        rate = ev.kpis / ev.worker_s if ev.kpis else 0
        rows.append(("Full sweep through the Celery worker (`kpis.tasks.evaluate_all`)",
                     f"{ev.worker_s:.2f} s", f"{rate:,.0f} KPIs/s",
                     f"≥ {TARGET_KPIS_PER_S:,}/s {verdict(rate >= TARGET_KPIS_PER_S)}"
                     + (f" ({TARGET_KPIS_PER_S / rate:.1f}× too slow)"
                        if 0 < rate < TARGET_KPIS_PER_S else "")))
    if ev.inproc_s:
        rate = ev.kpis / ev.inproc_s
        rows.append(("Full sweep in process (`kpis.health.evaluate_all`)", f"{ev.inproc_s:.2f} s",
                     f"{rate:,.0f} KPIs/s", f"{ev.inproc_queries} SQL queries"
                     + (f"; {ev.inproc_changed:,} health rows changed and rewritten"
                        if ev.inproc_changed is not None else "")))
    if ev.naive_n:
        naive_rate = ev.naive_n / ev.naive_s
        batch_rate = ev.kpis / ev.inproc_s if ev.inproc_s else 0
        ratio = batch_rate / naive_rate if naive_rate else 0
        rows.append((f"Naive: each KPI alone, its points by its own query (the first "
                     f"{ev.naive_n:,} KPIs)",
                     f"{ev.naive_s:.2f} s", f"{naive_rate:,.0f} KPIs/s",
                     f"{ev.naive_queries / ev.naive_n:.1f} queries per KPI"))
        rows.append(("Batched ÷ naive (in process)", "", f"{ratio:.1f}×",
                     f"≥ {TARGET_NAIVE_RATIO}× {verdict(ratio >= TARGET_NAIVE_RATIO)}"
                     " (the same engine code, one KPI per call)"))
    if ev.worker_hwm_mb:
        rows.append(("Worker peak memory (VmHWM, summed over its processes)", "", f"{ev.worker_hwm_mb:.0f} MB",
                     f"< {TARGET_WORKER_MB} MB {verdict(ev.worker_hwm_mb < TARGET_WORKER_MB)}"
                     f" (idle before: {ev.worker_rss_start_mb:.0f} MB)"))
    if ev.p2h:
        med, worst = statistics.median(ev.p2h), max(ev.p2h)
        rows.append((f"One data point → its health row, through the worker ({len(ev.p2h)} runs)",
                     f"median {med * 1000:.0f} ms", f"max {worst * 1000:.0f} ms",
                     f"< {TARGET_POINT_TO_HEALTH_S:.0f} s {verdict(worst < TARGET_POINT_TO_HEALTH_S)}"))
    w(f"{ev.kpis:,} KPIs.")
    w("")
    w("| Measure | Time | Rate / figure | Target / note |")
    w("|---|---:|---:|---|")
    for r in rows:
        w("| " + " | ".join(r) + " |")
    if ev.note:
        w("")
        w(f"Note: {ev.note.strip()}")
    w("")
    if mixed:
        rps = mixed[0]
        w(f"Mixed pages at 8 clients: {rps:.1f} requests/s"
          + (f", {TARGET_MIXED_RPS / rps:.1f}× short of the target." if rps < TARGET_MIXED_RPS
             else "."))
        w("")
    w("Why the targets are missed and what would reach them (causes found with "
      "CaptureQueriesContext, EXPLAIN ANALYZE and cProfile; written by hand, not generated): "
      "[FINDINGS.md](FINDINGS.md).")
    w("")
    return "\n".join(lines)


# --- Main --------------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small scale, few requests (CI)")
    ap.add_argument("--scale", choices=["large", "small", "tiny"], default=None)
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
    ap.add_argument("--output", default=None, help="[bench/RESULTS.md; bench/out/RESULTS-quick.md "
                                                   "with --quick]")
    args = ap.parse_args(argv)
    args.scale = args.scale or ("small" if args.quick else "large")
    args.workers = args.workers or (2 if args.quick else 2 * (os.cpu_count() or 1) + 1)
    args.requests = args.requests or (3 if args.quick else 40)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    args.per_client = args.per_client or (1 if args.quick else 10)
    args.page_budget = args.page_budget or (5.0 if args.quick else 30.0)
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

    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    info = machine()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from accounts.models import Organization
    from dashboards.management.commands.seed_bench import BENCH_EMAIL, BENCH_PASSWORD, BENCH_SLUG

    want = f"Bench Corp ({args.scale})"
    org = Organization.objects.filter(slug=BENCH_SLUG).first()
    seed_s = 0.0
    seed_cmd = f"python manage.py seed_bench --scale {args.scale}"
    if org is None or org.name != want:
        t0 = time.perf_counter()
        opts = ["--scale", args.scale] + (["--reset"] if org is not None else [])
        log("seeding: manage.py seed_bench " + " ".join(opts))
        call_command("seed_bench", *opts)
        seed_s = time.perf_counter() - t0
        seed_cmd += " --reset" if org is not None else ""
        org = Organization.objects.get(slug=BENCH_SLUG)
    commands.append(seed_cmd + "   # skipped when already seeded at this scale")
    user = get_user_model().objects.get(email=BENCH_EMAIL)
    # Earlier runs rewrote health rows and added check-ins: start from a vacuumed,
    # analysed database, as autovacuum would leave it in production.
    from dashboards.management.commands.seed_bench import analyse_tables

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
            if not forms:
                post.note = "no check-in form found on the team page"
                post.path = None
        from okrs.models import CheckIn

        checkins_before = CheckIn.objects.filter(organization=org).count()
        count_queries(built, cookies, forms)
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
            if not p.path or args.quick:
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
        if jobs:
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
    finally:
        stop(gunicorn)
        stop(worker)

    info["git_end"] = git_state()
    report = build_report(args, info, counts, pages, mixed, ev, commands, started, seed_s,
                          mixed_fast)
    output.write_text(report)
    if not args.quick and not args.output:
        quote_in_readme(report)
    print()
    print(report)
    log(f"wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 0


def quote_in_readme(report: str) -> None:
    """Copy the figures (from "## Data" on) between the markers of bench/README.md."""
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text()
    start, end = "<!-- bench:results -->", "<!-- /bench:results -->"
    if start not in text or end not in text:
        return
    body = report[report.index("## Data"):] if "## Data" in report else report
    body = body.replace("\n## ", "\n### ").replace("## Data", "### Data", 1)
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    stamp = report.splitlines()[2] if len(report.splitlines()) > 2 else ""
    readme.write_text(f"{head}{start}\n{stamp}\n\n{body.strip()}\n{end}{tail}")


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
