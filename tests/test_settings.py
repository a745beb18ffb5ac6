"""The settings read the environment: SQLite and eager Celery by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def _settings_in_subprocess(env: dict) -> str:
    code = ("import django, json; django.setup(); from django.conf import settings as s; "
            "print(json.dumps([s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, "
            "s.CACHES['default']['BACKEND'], s.CELERY_BROKER_URL]))")
    # PYTEST_XDIST_WORKER too: under `pytest -n` the settings give each test process its
    # own Redis database, which is not what a deployment reads.
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "REDIS_URL", "PYTEST_XDIST_WORKER")}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, check=True,
                          capture_output=True, text=True).stdout


def test_default_is_sqlite_eager_locmem():
    out = _settings_in_subprocess({})
    assert '"django.db.backends.sqlite3", true, "django.core.cache.backends.locmem.LocMemCache"' in out


def test_database_and_redis_urls_are_read():
    out = _settings_in_subprocess({"DATABASE_URL": "postgres://u@db.example:5433/hw",
                                   "REDIS_URL": "redis://cache.example:6379/2"})
    assert '"django.db.backends.postgresql", false, "django.core.cache.backends.redis.RedisCache"' in out
    assert "redis://cache.example:6379/2" in out


def test_running_database_matches_environment(db):
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected
    assert bool(settings.REDIS_URL) == bool(os.environ.get("REDIS_URL"))
