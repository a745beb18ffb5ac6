"""What is measured over HTTP: the pages (found by their URL names), their query counts, the
latency with one client and the throughput with several."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

from bench.client import Session, parse_forms
from bench.env import log


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
             reverse_first([("bench:floor", slug)]), is_floor=True),
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


def count_page_queries(pages: list[Page], cookies: dict, post_forms: list[tuple[str, dict]]) -> None:
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
