"""Listing every KPI of a large organisation through the API, page by page (issue 21).

Seeds an organisation of --kpis KPIs (each with its health row) in its own PostgreSQL
database, serves Headway with gunicorn on 127.0.0.1, follows ``next`` from
/api/v1/kpis?size=N to the end --runs times and prints KPIs/s (the target: ≥ 2,000/s at
10,000 KPIs). A real run against a real server; nothing here asserts a time.

    .venv/bin/python bench/api_pages.py --kpis 10000 --size 500
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DB = os.environ.get("BENCH_API_DB", "headway_api_bench")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kpis", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--port", type=int, default=8122)
    args = ap.parse_args()
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
           "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
           "DJANGO_SETTINGS_MODULE": "api.check_settings", "DEBUG": "0"}
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB], check=True)
    subprocess.run([str(BIN / "python"), "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env,
                   check=True)
    seed = f"""
import django; django.setup()
from accounts.models import ApiToken, Organization, Membership, Role
from django.contrib.auth import get_user_model
from kpis.models import Kpi, KpiHealth
org = Organization.objects.create(name="API bench", slug="api-bench")
user = get_user_model().objects.create(email="bench@example.com", name="Bench")
Membership.objects.create(user=user, organization=org, role=Role.OWNER)
kpis = Kpi.objects.bulk_create([Kpi(organization=org, name=f"KPI {{i:05}}", unit="min",
                                    target_rule="at_most", target_value=30)
                                for i in range({args.kpis})], batch_size=2000)
KpiHealth.objects.bulk_create([KpiHealth(kpi=k) for k in kpis], batch_size=2000)
raw, prefix, hashed = ApiToken.new_token()
ApiToken.objects.create(organization=org, user=user, name="bench", prefix=prefix, token_hash=hashed)
from django.db import connection
connection.cursor().execute("ANALYZE")  # what autovacuum does soon after a bulk load
print(raw)
"""
    t0 = time.perf_counter()
    token = subprocess.run([str(BIN / "python"), "-c", seed], cwd=ROOT, env=env, check=True,
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
    print(f"seeded {args.kpis:,} KPIs in {time.perf_counter() - t0:.1f}s")
    server = subprocess.Popen([str(BIN / "gunicorn"), "config.wsgi:application", "-b",
                               f"127.0.0.1:{args.port}", "-w", "2", "--log-level", "warning"],
                              cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token}"}
        rates = []
        for run in range(args.runs):
            url, seen, pages = f"{base}/api/v1/kpis?size={args.size}", 0, 0
            t0 = time.perf_counter()
            while url:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:
                    page = json.load(r)
                seen += len(page["items"])
                pages += 1
                url = page["next"]
            elapsed = time.perf_counter() - t0
            rates.append(seen / elapsed)
            print(f"run {run + 1}: {seen:,} KPIs in {pages} pages of {args.size}, "
                  f"{elapsed:.2f}s, {seen / elapsed:,.0f} KPIs/s")
        print(f"median {sorted(rates)[len(rates) // 2]:,.0f} KPIs/s (target ≥ 2,000)")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
