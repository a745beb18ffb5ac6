"""What the tests share; a test module imports from here (or tests/factories.py), never from
another test module.

- Fixtures: `org` has an `owner`, a `viewer` (the member with fewer rights) and, outside
  it, an `outsider` who owns another organisation; `member_of(role)` makes more;
  `as_user(user)` is a logged-in test client.
- `url(name, org, **kwargs)`: an organisation page's path; `url_routes()`: every route of
  the URLconf.
- `count_queries(expected)` / `page_queries(client, path)`: query counts that list the SQL
  when a count is not the one expected (a failing `assert` on them lists it too).
- Builders: `build_org(org, owner, n)` (n of everything the dashboards show) and
  `make_world()` (Acme with one person per role and one of every object, Globex).
- A real Celery worker on Redis (`celery_worker_process`) and `wait_for`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import ROLE_RANK, ApiToken, AuditEntry, Invitation, Role
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    DataPointFactory,
    InitiativeFactory,
    KeyResultFactory,
    KpiFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PillarFactory,
    TeamFactory,
    UltimateGoalFactory,
    UserFactory,
)

# Shared helpers outside conftest whose asserts should explain themselves as a test's do.
pytest.register_assert_rewrite("tests.url_table")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AXES_ENABLED = False
    settings.RATELIMIT_ENABLED = False  # tests of the limits turn it back on
    settings.HEADWAY_EAGER_DELIVERY = "inline"  # eager sends in the request (activity.dispatch)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Tasks run in-process in tests, unless the test asks for the real worker."""
    from config.celery import app, mark_broker

    mark_broker(up=True)  # a fault test's "broker down" must not outlive it

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
    """A test client logged in as `user` (anonymous for None)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_user():
    return client_for


# --- URLs ------------------------------------------------------------------------------------

def url(name: str, org="acme", **kwargs) -> str:
    """The path of an organisation page: url("okrs:list", org), url("dashboards:team",
    team="support"). `org`: an Organization or its slug."""
    return reverse(name, kwargs={"org_slug": getattr(org, "slug", org), **kwargs})


def url_routes(patterns=None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """Every route of the URLconf (includes walked) with its pattern: ("o/<slug:org_slug>/
    okrs/", <URLPattern>)."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from url_routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


# --- Query counts ----------------------------------------------------------------------------

class Queries:
    """The SQL run inside `count_queries()`. It compares (==, <, ...) with a number or with
    another Queries by its count, so `assert small == large` reads as usual; when such an
    assert fails, pytest_assertrepr_compare below lists the statements (or their diff; in
    full on CI or with -vv, pytest shortens it otherwise)."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __len__(self) -> int:
        return len(self.sql)

    def __int__(self) -> int:
        return len(self.sql)

    def _count(self, other) -> int | None:
        if isinstance(other, Queries):
            return len(other)
        if isinstance(other, int):
            return other
        return None

    def __eq__(self, other) -> bool:
        count = self._count(other)
        return NotImplemented if count is None else len(self) == count

    def __lt__(self, other) -> bool:
        count = self._count(other)
        return NotImplemented if count is None else len(self) < count

    def __le__(self, other) -> bool:
        count = self._count(other)
        return NotImplemented if count is None else len(self) <= count

    def __gt__(self, other) -> bool:
        count = self._count(other)
        return NotImplemented if count is None else len(self) > count

    def __ge__(self, other) -> bool:
        count = self._count(other)
        return NotImplemented if count is None else len(self) >= count

    __hash__ = None  # type: ignore[assignment]  # mutable until its block ends

    def __repr__(self) -> str:
        return f"<{len(self)} queries>"

    def __format__(self, spec: str) -> str:  # f"{queries} queries" reads as the count
        return format(len(self), spec)

    def listing(self) -> list[str]:
        return [f"{i}. {sql}" for i, sql in enumerate(self.sql, 1)]


@contextmanager
def count_queries(expected: int | None = None, *, using: str = "default") -> Iterator[Queries]:
    """Collect the queries of the block. With `expected`, fail when their number differs,
    listing every statement (pytest-django's django_assert_num_queries lists them only
    with -v)."""
    queries = Queries()
    with CaptureQueriesContext(connections[using]) as ctx:
        yield queries
    queries.sql = [q["sql"] for q in ctx.captured_queries]
    if expected is not None and len(queries) != expected:
        pytest.fail(f"expected {expected} queries, {len(queries)} were run:\n"
                    + "\n".join(queries.listing()))


def page_queries(client: Client, path: str, *, cold: bool = True, **extra) -> Queries:
    """The queries of one GET of `path`, which must answer 200. (`cold` is kept for the
    callers: since issue 16 nothing is kept between requests, so every GET is cold.)"""
    with count_queries() as queries:
        response = client.get(path, **extra)
    assert response.status_code == 200, response.content[:500]
    return queries


def pytest_assertrepr_compare(config, op, left, right):
    """A failed comparison of query counts shows the SQL: the diff of two Queries, or the
    statements of one against a number."""
    if not isinstance(left, Queries) and not isinstance(right, Queries):
        return None
    lines = [f"{left!r} {op} {right!r}"]
    if isinstance(left, Queries) and isinstance(right, Queries):
        lines += ["SQL, left → right:"] + [
            line.rstrip("\n") for line in difflib.unified_diff(
                left.sql, right.sql, "left", "right", lineterm="", n=1)]
    else:
        queries = left if isinstance(left, Queries) else right
        lines += ["SQL:"] + queries.listing()
    return lines


# --- Builders --------------------------------------------------------------------------------

def build_org(org, owner, n: int) -> dict:
    """An organisation with `n` of everything the dashboards show."""
    from goals.models import Cycle, UltimateGoal
    from kpis.models import HealthEvent, Kpi, KpiHealth

    goal = (UltimateGoal.objects.filter(organization=org, is_active=True).first()
            or UltimateGoalFactory(organization=org))
    cycle = Cycle.objects.filter(organization=org).first() or CycleFactory(organization=org)
    teams = [TeamFactory(organization=org) for _ in range(n)]
    for team in teams:
        team.members.add(owner)
    pillars = [PillarFactory(organization=org, goal=goal) for _ in range(n)]
    objectives, krs, kpis = [], [], []
    for i in range(n):
        company = ObjectiveFactory(organization=org, cycle=cycle, pillar=pillars[i],
                                   owner=owner)
        child = ObjectiveFactory(organization=org, cycle=cycle, parent=company,
                                 team=teams[i], owner=owner)
        grandchild = ObjectiveFactory(organization=org, cycle=cycle, parent=child,
                                      team=teams[i])
        objectives += [company, child, grandchild]
        for obj in (company, child, grandchild):
            kr = KeyResultFactory(objective=obj, current_value=10 * (i + 1), owner=owner)
            krs.append(kr)
            CheckInFactory(key_result=kr, author=owner)
        for status, candidate, intent in (
            (KpiHealth.Status.OFF_TARGET, KpiHealth.Candidate.CANDIDATE, Kpi.Intent.SUSTAIN),
            (KpiHealth.Status.ON_TARGET, KpiHealth.Candidate.NONE, Kpi.Intent.SUSTAIN),
            (KpiHealth.Status.OFF_TARGET, KpiHealth.Candidate.IN_IMPROVEMENT,
             Kpi.Intent.IMPROVE),
        ):
            kpi = KpiFactory(organization=org, team=teams[i], owner=owner, intent=intent)
            for w in range(8):
                DataPointFactory(kpi=kpi, value=30 + w, period_start=dt.date(2026, 1, 5)
                                 + dt.timedelta(weeks=w))
            KpiHealth.objects.create(kpi=kpi, status=status, candidate=candidate,
                                     latest_value=37, candidate_reason="Off target for 2 weeks",
                                     center=33.5, evaluated_at=timezone.now())
            HealthEvent.objects.create(kpi=kpi, kind="status", old="on_target", new=status)
            kpis.append(kpi)
        AuditEntry.objects.create(organization=org, actor=owner, action="created",
                                  object_type="okrs.objective", object_id=str(company.pk),
                                  object_repr=company.title)
    return {"goal": goal, "cycle": cycle, "teams": teams, "pillars": pillars,
            "objectives": objectives, "krs": krs, "kpis": kpis}


ROLES = sorted(ROLE_RANK, key=ROLE_RANK.__getitem__)  # viewer, member, leader, admin, owner


def make_world() -> dict:
    """Acme with one person per role, a team, goal, pillar, cycle, objective, KRs, KPI with
    data, an initiative, API tokens and a pending invitation; Globex with its owner."""
    org = OrganizationFactory(name="Acme", slug="acme")
    users = {}
    memberships = {}
    for role in ROLES:
        user = UserFactory(name=f"{role.title()} Person")
        memberships[role] = MembershipFactory(user=user, organization=org, role=role)
        users[role] = user
    member = users[Role.MEMBER]
    outsider = UserFactory(name="Otto Outsider")
    globex = OrganizationFactory(name="Globex", slug="globex")
    MembershipFactory(user=outsider, organization=globex, role=Role.OWNER)
    team = TeamFactory(organization=org, name="Support", slug="support")
    team.members.add(member)
    goal = UltimateGoalFactory(organization=org)
    pillar = PillarFactory(organization=org)
    cycle = CycleFactory(organization=org)
    objective = ObjectiveFactory(organization=org, cycle=cycle, team=team, pillar=pillar,
                                 owner=users[Role.LEADER])
    kpi = KpiFactory(organization=org, owner=member, team=team)
    for i in range(3):
        DataPointFactory(kpi=kpi, value=40.0 + i)
    kr = KeyResultFactory(objective=objective, owner=member, target_value=10.0)
    KeyResultFactory(objective=objective, owner=member, target_value=5.0)
    initiative = InitiativeFactory(key_result=kr, owner=member)
    tokens = {}
    for who, user, organization, scope in (
            (Role.VIEWER, users[Role.VIEWER], org, ApiToken.Scope.READ_WRITE),
            (Role.MEMBER, member, org, ApiToken.Scope.READ_WRITE),
            (Role.LEADER, users[Role.LEADER], org, ApiToken.Scope.READ_WRITE),
            (Role.ADMIN, users[Role.ADMIN], org, ApiToken.Scope.READ_WRITE),
            ("read_only", users[Role.OWNER], org, ApiToken.Scope.READ),  # the owner's, read-only
            ("outsider", outsider, globex, ApiToken.Scope.READ_WRITE)):
        raw, prefix, hashed = ApiToken.new_token()
        token = ApiToken.objects.create(organization=organization, user=user, name="t",
                                        prefix=prefix, token_hash=hashed, scope=scope)
        tokens[who] = (raw, token)
    from sources.models import DataSource, Feed  # a data source feeding the KPI (sources/)

    source = DataSource.objects.create(organization=org, name="Warehouse", kind="sql",
                                       query="select 1, 2")
    feed = Feed.objects.create(source=source, kpi=kpi)
    raw_inv, inv_hash = Invitation.new_token()
    invitation = Invitation.objects.create(
        organization=org, email="new@example.com", role=Role.MEMBER, token_hash=inv_hash,
        invited_by=users[Role.OWNER], expires_at=timezone.now() + timezone.timedelta(days=7))
    return {
        "org": org, "users": users, "outsider": outsider, "team_slug": team.slug,
        "goal": goal.pk, "pillar": pillar.pk, "cycle": cycle.pk, "objective": objective.pk,
        "kr": kr.pk, "kpi": kpi.pk, "initiative": initiative.pk,
        "token": tokens[Role.VIEWER][1].pk, "api_token": tokens[Role.VIEWER][0],
        "foreign_token": tokens["outsider"][0], "member_token": tokens[Role.MEMBER][0],
        "leader_token": tokens[Role.LEADER][0], "read_only_token": tokens["read_only"][0],
        "team": team.pk, "admin_token": tokens[Role.ADMIN][0],
        "viewer_ms": memberships[Role.VIEWER].pk, "invitation": raw_inv,
        "invitation_pk": invitation.pk,
        "memberships": memberships, "source": source.pk, "feed": feed.pk,
    }


# --- A real Celery worker on Redis (CI) --------------------------------------------------

def start_celery_worker(args: list[str], env: dict) -> subprocess.Popen:
    """Start a Celery worker process and return once it says it is ready.

    Its output is drained by a thread into ``proc.output`` (a full pipe would stop the
    worker), and the caller's timeouts then measure the work, not the worker's start on
    a busy machine (or beside the other processes of ``pytest -n``)."""
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    proc.output = []
    ready = threading.Event()

    def drain():
        for line in proc.stdout:
            proc.output.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(timeout=120) and proc.poll() is not None:
        pytest.fail("the Celery worker did not start:\n" + "".join(proc.output[-40:]))
    return proc


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
    proc = start_celery_worker(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1",
         "--pool", "solo", "-l", "info", "--without-gossip", "--without-mingle",
         "--without-heartbeat"], env)
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
