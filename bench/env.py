"""Where the benchmark runs: its own database, its environment, and the log line.

Standard library only (psycopg for creating the database), so bench/run.py can set the
environment before Django is imported.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/headway_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
QUEUE = "headway-bench"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


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
    # The bench app (floor page, seed_bench) for this process and every one it starts:
    # manage.py, gunicorn, the Celery worker.
    os.environ["HEADWAY_BENCH"] = "1"
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
