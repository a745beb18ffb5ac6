"""Shared fixtures: the three users of every access test, and Celery wiring.

`org` has an `owner`, a `viewer` (the member with fewer rights) and, outside it,
an `outsider` who owns another organisation. `member_of(role)` makes more.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.models import Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AXES_ENABLED = False
    settings.RATELIMIT_ENABLED = False  # tests of the limits turn it back on
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_progress_store():
    """Each test starts with an empty cycle-progress store (okrs.selectors): on SQLite a
    rolled-back test's ids come back in the next test."""
    from okrs.selectors import clear_store

    clear_store()
    yield
    clear_store()


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Tasks run in-process in tests, unless the test asks for the real worker."""
    from config.celery import app

    if request.node.get_closest_marker("worker"):
        yield
        return
    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme", slug="acme")


@pytest.fixture
def member_of(org):
    def make(role: str = Role.MEMBER, organization=None, **user_fields):
        user = UserFactory(**user_fields)
        MembershipFactory(user=user, organization=organization or org, role=role)
        return user

    return make


@pytest.fixture
def owner(member_of):
    return member_of(Role.OWNER, name="Olive Owner")


@pytest.fixture
def admin_user(member_of):
    return member_of(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def leader(member_of):
    return member_of(Role.LEADER, name="Leo Leader")


@pytest.fixture
def member(member_of):
    return member_of(Role.MEMBER, name="Mia Member")


@pytest.fixture
def viewer(member_of):
    return member_of(Role.VIEWER, name="Vic Viewer")


@pytest.fixture
def outsider(db):
    """Owner of another organisation: must see nothing of `org`."""
    user = UserFactory(name="Otto Outsider")
    other = OrganizationFactory(name="Globex", slug="globex")
    MembershipFactory(user=user, organization=other, role=Role.OWNER)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_user():
    return client_for


# --- A real Celery worker on Redis (CI) --------------------------------------------------

@pytest.fixture
def celery_worker_process(transactional_db):
    """Start `celery worker` as a subprocess on a private queue, against the test database.

    Skipped without REDIS_URL. Use with @pytest.mark.worker and transactional_db, so the
    data the test writes is committed and visible to the worker.
    """
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: a real Celery worker on Redis")
    from config.celery import app

    queue = f"headway-test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
            f"{db['NAME']}")
    else:
        pytest.skip("the worker test needs PostgreSQL (SQLite test DB is in memory)")
    env.update({"CELERY_QUEUE": queue, "REDIS_URL": settings.REDIS_URL,
                "DJANGO_SETTINGS_MODULE": "config.settings"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1",
         "--pool", "solo", "-l", "warning", "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    old_queue = app.conf.task_default_queue
    old_eager = app.conf.task_always_eager
    app.conf.task_default_queue = queue
    app.conf.task_always_eager = False
    try:
        yield proc
    finally:
        app.conf.task_default_queue = old_queue
        app.conf.task_always_eager = old_eager
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.2):
    """Poll until predicate() is truthy; return its value or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
