#!/usr/bin/env python
"""Issue 19: how long the check-in POSTs take on the large benchmark organisation.

Two POSTs, each as the team check-in page sends it with JavaScript (htmx, `HX-Request`):

* **single row**: one row's own POST (`checkins:row`), a new value, with the row's
  last-check-in id (`seen`, the stale-page guard) as the page holds it: each response's row
  gives the next `seen`, so every POST records a check-in (none is refused as stale);
* **check in all**: the team page's whole form (`checkins:team_all`) with every one of its
  rows changed (a new value; the comment where the row asks no value). The page is read
  again before each POST (not timed), as the person's next week would.

Through the real HTTP stack: gunicorn (sync workers, DEBUG off) on 127.0.0.1, one client,
keep-alive, after a real log-in; `--inprocess` uses Django's test client in this process
instead (no HTTP, no gunicorn). Each POST is checked: HTTP 200 and the check-ins it should
have recorded are in the database afterwards. The SQL queries of one POST of each kind are
counted in process (django.test.Client + CaptureQueriesContext).

    # once: the large organisation in its own database (about 10 minutes on 2 cores)
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/headway_bench \\
        .venv/bin/python bench/run.py --rush-only --rush-pairs 0     # or: manage.py seed_bench
    # then
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/headway_bench \\
        .venv/bin/python bench/checkin_posts.py -n 30

`measure(port, cookies, ...)` is the same measurement for bench/run.py, on its gunicorn and
its logged-in cookies. Environment: BENCH_DATABASE_URL (else headway_bench on the
DATABASE_URL server), REDIS_URL (default redis://127.0.0.1:6379/0: events are queued, not
sent in the request), BENCH_PORT (+1 here: 8120).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)  # run as a script: `bench` is the package

from bench.client import Session, login, parse_forms, wait_http  # noqa: E402
from bench.env import BIN, log, setup_env  # noqa: E402

HX = {"HX-Request": "true"}
_SEEN = re.compile(r'name="(kr\d+)-seen" value="(\d*)"')
_ROW_URL = re.compile(r'formaction="(/o/[^"]+/check-ins/kr/(\d+)/new/)"')


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def _page_form(html: str) -> tuple[dict, dict[int, str], str]:
    """The check-in page's form ("ci-all") as a browser sends it untouched, the row URLs
    by key-result id, and the form's action."""
    forms = [f for f in parse_forms(html) if f["method"] == "post" and "/all/" in f["action"]]
    if not forms:
        raise SystemExit("no 'check in all' form on the team page")
    fields = dict(forms[0]["fields"])
    fields.pop("untouched", None)
    rows = {int(pk): url for url, pk in _ROW_URL.findall(html)}
    return fields, rows, forms[0]["action"]


def _changed(fields: dict, pk: int, i: int) -> None:
    """Change one row as a person would: a new value, else (milestone, KPI-linked) the comment."""
    prefix = f"kr{pk}-"
    if prefix + "value" in fields:
        new = str(10 + (i * 7 + pk) % 90)
        fields[prefix + "value"] = new if new != fields[prefix + "value"] else new + ".5"
    else:
        fields[prefix + "comment"] = f"bench {i}"


class _Http:
    """A client of the running server (one connection, the logged-in cookies)."""

    label = "gunicorn (HTTP, keep-alive)"

    def __init__(self, port: int, cookies: dict):
        self.s = Session(port, cookies)

    def get(self, path: str) -> tuple[int, str]:
        status, body, _, _ = self.s.request("GET", path)
        return status, body.decode()

    def post(self, path: str, fields: dict) -> tuple[int, str, float]:
        status, body, elapsed, _ = self.s.request(
            "POST", path, fields, {**HX, "X-CSRFToken": self.s.cookies.get("csrftoken", "")})
        return status, body.decode(), elapsed


class _InProcess:
    """Django's test client in this process (the view, middleware and templates; no HTTP)."""

    label = "Django test client, in process (no HTTP)"

    def __init__(self, cookies: dict):
        from django.test import Client

        self.c = Client(REMOTE_ADDR="127.0.0.1", raise_request_exception=True)
        for name, value in cookies.items():
            self.c.cookies[name] = value

    def get(self, path: str) -> tuple[int, str]:
        r = self.c.get(path)
        return r.status_code, r.content.decode()

    def post(self, path: str, fields: dict) -> tuple[int, str, float]:
        t0 = time.perf_counter()
        r = self.c.post(path, fields, HTTP_HX_REQUEST="true")
        return r.status_code, r.content.decode(), time.perf_counter() - t0


def _count_queries(cookies: dict, path: str, fields: dict) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(REMOTE_ADDR="127.0.0.1")
    for name, value in cookies.items():
        client.cookies[name] = value
    with CaptureQueriesContext(connection) as ctx:
        client.post(path, fields, HTTP_HX_REQUEST="true")
    return len(ctx.captured_queries)


def _checkins(org_id: int) -> int:
    from okrs.models import CheckIn

    return CheckIn.objects.filter(organization_id=org_id).count()


def measure(port: int | None, cookies: dict, *, team_path: str, org_id: int, n: int = 30,
            warmup: int = 3, inprocess: bool = False, count_queries: bool = True) -> dict:
    """p50/p90 (ms) of the single-row POST and of "check in all" of the team page at
    `team_path` (every row changed), `warmup` + `n` of each, one client. Needs Django set
    up on the benchmark's database (it checks the check-ins recorded). Returns
    {"stack", "team_path", "rows", "single": {...}, "all": {...}}; each of the two:
    {"p50_ms", "p90_ms", "n", "errors", "recorded", "expected", "queries"}."""
    client = _InProcess(cookies) if inprocess else _Http(port, cookies)
    status, html = client.get(team_path)
    if status != 200:
        raise SystemExit(f"{team_path}: HTTP {status}")
    fields, rows, all_path = _page_form(html)
    pks = sorted(rows)
    if not pks:
        raise SystemExit(f"{team_path}: no row to check in")
    out: dict = {"stack": client.label, "team_path": team_path, "rows": len(pks)}

    # Single row: rotate over the page's rows; each response's row gives that row's next seen.
    seen = {int(p[2:]): v for p, v in _SEEN.findall(html)}
    lat, errors = [], 0
    before = _checkins(org_id)
    for i in range(warmup + n):
        pk = pks[i % len(pks)]
        prefix = f"kr{pk}-"
        own = {k: v for k, v in fields.items() if k.startswith(prefix)
               and not k.endswith("no_change")}
        own.update({"csrfmiddlewaretoken": fields.get("csrfmiddlewaretoken", ""),
                    "mode": "team", "next": team_path, prefix + "seen": seen.get(pk, "")})
        _changed(own, pk, i)
        status, body, elapsed = client.post(rows[pk], own)
        saved = status == 200 and "ci-row--saved" in body
        if not saved and not errors:
            log(f"  single row {pk}: HTTP {status}: {re.findall(r'<li>([^<]*)</li>', body)[:2]}")
        errors += not saved
        seen.update({int(p[2:]): v for p, v in _SEEN.findall(body)})
        if i >= warmup:
            lat.append(elapsed)
    out["single"] = _summary(lat, errors, _checkins(org_id) - before, warmup + n)

    lat, errors = [], 0
    before = _checkins(org_id)
    for i in range(warmup + n):
        status, html = client.get(team_path)  # fresh seen / orig values, not timed
        page, _rows, _ = _page_form(html)
        for pk in pks:
            _changed(page, pk, i + 1000)
        status, body, elapsed = client.post(all_path, page)
        ok = status == 200 and f"{len(pks)} checked in" in body
        if not ok and not errors:
            said = re.findall(r'ci-all-summary[^>]*>([^<]*)<', body)
            why = re.findall(r'id="kr-row-(\d+)"(?:(?!</article>).)*?<li>([^<]*)</li>', body, re.S)
            log(f"  check in all: HTTP {status}, {said or body[:200]!r} {why[:3]}")
        errors += not ok
        if i >= warmup:
            lat.append(elapsed)
    out["all"] = _summary(lat, errors, _checkins(org_id) - before, (warmup + n) * len(pks))

    if count_queries:
        status, html = client.get(team_path)
        page, _rows, _ = _page_form(html)
        pk = pks[0]
        own = {k: v for k, v in page.items() if k.startswith(f"kr{pk}-")
               and not k.endswith("no_change")}
        own["csrfmiddlewaretoken"] = page.get("csrfmiddlewaretoken", "")
        _changed(own, pk, 5000)
        out["single"]["queries"] = _count_queries(cookies, rows[pk], own)
        status, html = client.get(team_path)
        page, _rows, _ = _page_form(html)
        for pk in pks:
            _changed(page, pk, 6000)
        out["all"]["queries"] = _count_queries(cookies, all_path, page)
    return out


def _summary(lat: list[float], errors: int, recorded: int, expected: int) -> dict:
    return {"p50_ms": statistics.median(lat) * 1000 if lat else float("nan"),
            "p90_ms": percentile(lat, 0.9) * 1000, "n": len(lat), "errors": errors,
            "recorded": recorded, "expected": expected, "queries": None}


def table(result: dict) -> str:
    rows = result["rows"]
    lines = [f"Check-in POSTs, {result['team_path']} ({rows} rows), {result['stack']}:", "",
             "| POST | p50 ms | p90 ms | n | SQL queries | check-ins recorded | errors |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for key, label in (("single", "single row"), ("all", f"check in all, {rows} rows changed")):
        r = result[key]
        lines.append(f"| {label} | {r['p50_ms']:.0f} | {r['p90_ms']:.0f} | {r['n']} | "
                     f"{r['queries'] if r['queries'] is not None else '–'} | "
                     f"{r['recorded']} of {r['expected']} | {r['errors']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-n", type=int, default=30, help="timed POSTs of each kind [30]")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--team", default=None, help="team slug [the first team with a full page]")
    ap.add_argument("--inprocess", action="store_true",
                    help="Django's test client in this process instead of gunicorn")
    ap.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8119")) + 1)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn sync workers [2]")
    args = ap.parse_args(argv)
    env = setup_env(argparse.Namespace(quick=False))

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from accounts.models import Organization, Team
    from bench.seeding import BENCH_EMAIL, BENCH_PASSWORD, BENCH_SLUG

    org = Organization.objects.filter(slug=BENCH_SLUG).first()
    if org is None:
        raise SystemExit(f"no benchmark organisation in {settings.DATABASES['default']['NAME']}: "
                         "seed it first (bench/run.py, or HEADWAY_BENCH=1 manage.py seed_bench "
                         "--scale large)")
    team = (Team.objects.get(organization=org, slug=args.team) if args.team else
            Team.objects.filter(organization=org).order_by("slug").first())
    team_path = reverse("checkins:team", kwargs={"org_slug": org.slug, "team": team.slug})
    log(f"{org.name}: {team_path}, database {settings.DATABASES['default']['NAME']}")
    user = get_user_model().objects.get(email=BENCH_EMAIL)

    gunicorn = None
    try:
        if args.inprocess:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
            from django.test import Client

            c = Client(REMOTE_ADDR="127.0.0.1")
            c.force_login(user)  # (axes wants a request for a password log-in)
            cookies = {k: v.value for k, v in c.cookies.items()}
        else:
            cmd = [str(BIN / "gunicorn"), "config.wsgi:application", "-b",
                   f"127.0.0.1:{args.port}", "-w", str(args.workers), "--log-level", "warning",
                   "--timeout", "300"]
            log("$ " + " ".join(cmd))
            (ROOT / "bench" / "out").mkdir(exist_ok=True)
            gunicorn = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=open(ROOT / "bench" / "out" / "gunicorn-checkin.log", "w"))  # noqa: SIM115
            wait_http(args.port, "/healthz")
            cookies = login(args.port, BENCH_EMAIL, BENCH_PASSWORD,
                            reverse("accounts:login")).cookies
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        result = measure(args.port, cookies, team_path=team_path, org_id=org.id, n=args.n,
                         warmup=args.warmup, inprocess=args.inprocess)
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(30)
    print()
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
