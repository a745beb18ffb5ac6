"""Startup guards: production must not run with the development SECRET_KEY.

Two layers:
- `secret_key_problem()` is pure (no Django import needed) so `config/settings.py`
  refuses to load at all when production is declared explicitly (HEADWAY_ENV=production,
  or SECURE_SSL on) — that stops gunicorn, celery and every command.
- `check_secret_key` is a Django system check. Declared production → headway.E001
  (an error: `runserver`, `migrate`, `check` refuse). DEBUG off with a DATABASE_URL but
  nothing declared (CI looks exactly like that) → headway.W001, a warning that
  `check --deploy --fail-level WARNING` turns into a failure. pytest runs no checks.
"""

from __future__ import annotations

import os

MIN_SECRET_KEY_LENGTH = 50
HOW_TO = ("Set the SECRET_KEY environment variable to at least 50 random characters, "
          "for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'")


def declared_production(environ=None) -> bool:
    """Production declared explicitly through the environment."""
    environ = os.environ if environ is None else environ
    if environ.get("HEADWAY_ENV", "").strip().lower() in {"production", "prod"}:
        return True
    return environ.get("SECURE_SSL", "").strip().lower() in {"1", "true", "yes", "on"}


def is_production(*, debug: bool, database_url: str, environ=None) -> bool:
    """DEBUG off with a real database, or production declared explicitly."""
    if declared_production(environ):
        return True
    return not debug and bool(database_url)


def secret_key_problem(secret_key: str, dev_key: str) -> str | None:
    """Why `secret_key` is unfit for production, or None when it is fine."""
    if not secret_key:
        return "SECRET_KEY is empty. " + HOW_TO
    if secret_key == dev_key:
        return "SECRET_KEY is the development key, which is public. " + HOW_TO
    if secret_key.startswith("django-insecure-"):
        return "SECRET_KEY is a Django placeholder key. " + HOW_TO
    if len(secret_key) < MIN_SECRET_KEY_LENGTH or len(set(secret_key)) < 5:
        return (f"SECRET_KEY is too weak (needs {MIN_SECRET_KEY_LENGTH}+ characters, "
                "5+ distinct). " + HOW_TO)
    return None


def check_secret_key(app_configs=None, **kwargs):
    from django.conf import settings
    from django.core.checks import Error, Warning

    declared = declared_production()
    if not (declared or is_production(debug=settings.DEBUG,
                                      database_url=getattr(settings, "DATABASE_URL", ""),
                                      environ={})):
        return []
    problem = secret_key_problem(settings.SECRET_KEY, getattr(settings, "DEV_SECRET_KEY", ""))
    if problem is None:
        return []
    if declared:
        return [Error(problem, hint="Or set DEBUG=1 for a development run.", id="headway.E001")]
    return [Warning(problem, hint="DEBUG is off and DATABASE_URL is set, so this looks like "
                                  "production. Set HEADWAY_ENV=production to make this an error, "
                                  "or DEBUG=1 for a development run.", id="headway.W001")]


def check_shared_cache(app_configs=None, **kwargs):
    """Deploy check: web processes share the rate limits and the worker's queue through
    Redis."""
    from django.conf import settings
    from django.core.checks import Warning

    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        return [Warning(
            "REDIS_URL is not set: each process has its own cache, so rate limits count "
            "per process, and tasks run inside the request.",
            hint="Set REDIS_URL (docker-compose does), or serve with a single process.",
            id="headway.W002")]
    return []


def register() -> None:
    """Called from AccountsConfig.ready()."""
    from django.core.checks import Tags
    from django.core.checks import register as register_check

    register_check(check_secret_key, Tags.security)
    register_check(check_shared_cache, Tags.caches, deploy=True)
