"""Every URL, tried by every kind of visitor, against a table.

The principals: an anonymous visitor, an outsider (owner of another organisation), and
a member of "acme" in each role (viewer, member, leader, admin, owner). Every route of
the URLconf — pages, their htmx partials (the same URL with HX-Request), CSV exports,
the JSON API and the Django admin — must have an entry in TABLE (the admin by the rules
in ADMIN_RULES, since its routes are generated per model). A route without an entry fails
`test_every_route_is_in_the_table`, so a new URL cannot ship without deciding who may
open it.

Organisation pages (ORG entries) are checked like this:
- anonymous: GET and POST → redirect to the login page;
- outsider: GET and POST → 404 (a foreign organisation looks like a missing one);
- a role below the entry's minimum: GET and POST → 403;
- the minimum role and above: GET → the entry's `get` code (also with HX-Request);
  POST (empty form, only by the minimum role so nothing it changes spoils the rest) →
  one of the entry's `post` codes: never 403/404/500.
The member owns the key result, the KPI and the initiative of the test world (so the
per-object rules "members check in / add data / edit what they own" allow them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import ApiToken, Invitation, Role
from tests.factories import (
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

ROLES = [Role.VIEWER, Role.MEMBER, Role.LEADER, Role.ADMIN, Role.OWNER]
RANK = {r: i for i, r in enumerate(ROLES)}
LOGIN = "login"          # 302 to the login page
ADMIN_LOGIN = "admin-login"  # 302 to the admin's login page
WRITE_OK = {200, 201, 302, 303, 400, 409, 410, 422}  # answered: saved, redirected or refused


@dataclass
class Org:
    """A page under /o/<org_slug>/: `role` is the minimum role (the org_view decorator's).

    `args` fill the URL: a world key ("kpi") or a literal ("=up"); `query` is appended.
    `post_role`: the role a POST needs when the view asks more than for reading
    (settings: viewers read, admins save). `overrides`: per-object rules, role → code
    (the member owns the KPI; a leader who does not own it may not add its data).
    """

    role: str
    args: dict[str, str] = field(default_factory=dict)
    get: int | set[int] = 200
    post: set[int] | None = field(default_factory=lambda: set(WRITE_OK))
    post_role: str | None = None
    query: str = ""
    overrides: dict[str, int] = field(default_factory=dict)


@dataclass
class Public:
    """A page outside the organisations: expected code per principal kind."""

    anon: int | str
    user: int | str  # any logged-in principal (outsider and every role alike)
    args: dict[str, str] = field(default_factory=dict)


@dataclass
class Api:
    """A /api/v1/ endpoint: tokens, never cookies.

    GET with acme's viewer token → `get`; POST (a valid body) with the viewer's token →
    403 and with the owning member's token → `post`; another organisation's token on
    acme's objects → 404 (`foreign`). `public`: answers without a token (`get` code).
    """

    args: dict[str, str] = field(default_factory=dict)
    get: int | None = 200
    post: int | None = None
    public: bool = False
    foreign: bool = True


GET_ONLY = None  # post=None: POST is not tried by the minimum role (GET-only page)

TABLE: dict[str, object] = {
    # --- Outside the organisations ---------------------------------------------------------
    "": Public(anon=LOGIN, user=302),
    "healthz": Public(anon=200, user=200),
    "accounts/login/": Public(anon=200, user=302),
    "accounts/logout/": Public(anon=302, user=302),
    "accounts/signup/": Public(anon=200, user=302),
    "accounts/new-organisation/": Public(anon=LOGIN, user=200),
    "accounts/invitation/<str:token>/": Public(anon=200, user=200, args={"token": "invitation"}),
    # --- API --------------------------------------------------------------------------------
    "api/v1/": Api(public=True, get=404, foreign=False),  # no root resource
    "api/v1/openapi.json": Api(public=True, foreign=False),
    "api/v1/docs": Api(public=True, foreign=False),
    "api/v1/kpis": Api(foreign=False),
    "api/v1/kpis/<kpi_id>": Api(args={"kpi_id": "kpi"}),
    "api/v1/kpis/<kpi_id>/points": Api(args={"kpi_id": "kpi"}, post=200),
    "api/v1/kpis/<kpi_id>/points/batch": Api(args={"kpi_id": "kpi"}, get=None, post=200),
    "api/v1/cycles": Api(foreign=False),
    "api/v1/cycles/<cycle_id>/objectives": Api(args={"cycle_id": "cycle"}),
    # --- accounts ---------------------------------------------------------------------------
    "o/<slug:org_slug>/switch/": Org(Role.VIEWER, get=302, post=GET_ONLY),
    "o/<slug:org_slug>/settings/": Org(Role.VIEWER, post_role=Role.ADMIN),
    "o/<slug:org_slug>/settings/members/": Org(Role.VIEWER, post_role=Role.ADMIN),
    "o/<slug:org_slug>/settings/members/<int:pk>/role/": Org(Role.ADMIN, {"pk": "viewer_ms"},
                                                             get=405),
    "o/<slug:org_slug>/settings/members/<int:pk>/remove/": Org(Role.ADMIN, {"pk": "viewer_ms"},
                                                               get=405),
    "o/<slug:org_slug>/teams/": Org(Role.VIEWER),
    "o/<slug:org_slug>/teams/new/": Org(Role.ADMIN),
    "o/<slug:org_slug>/teams/<slug:slug>/edit/": Org(Role.ADMIN, {"slug": "team_slug"}),
    # --- dashboards ---------------------------------------------------------------------------
    "o/<slug:org_slug>/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/dashboard.csv": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/candidates/<int:pk>/promote/": Org(Role.LEADER, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/candidates/<int:pk>/dismiss/": Org(Role.LEADER, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/strategy/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/strategy/export.csv": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/strategy/node/<slug:kind>/<int:pk>/": Org(
        Role.VIEWER, {"kind": "=objective", "pk": "objective"}, post=GET_ONLY),
    "o/<slug:org_slug>/review/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/review/export.csv": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/operations/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/operations/export.csv": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/teams/<slug:team>/": Org(Role.VIEWER, {"team": "team_slug"},
                                                post=GET_ONLY),
    "o/<slug:org_slug>/teams/<slug:team>/export.csv": Org(Role.VIEWER, {"team": "team_slug"},
                                                          post=GET_ONLY),
    # --- goals ------------------------------------------------------------------------------
    "o/<slug:org_slug>/strategy/goal/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/strategy/goal/edit/": Org(Role.ADMIN),
    "o/<slug:org_slug>/strategy/goal/pillars/": Org(Role.ADMIN),
    "o/<slug:org_slug>/strategy/goal/pillars/<int:pk>/edit/": Org(Role.ADMIN, {"pk": "pillar"}),
    "o/<slug:org_slug>/cycles/": Org(Role.ADMIN),
    "o/<slug:org_slug>/cycles/new/": Org(Role.ADMIN),
    "o/<slug:org_slug>/cycles/<int:pk>/edit/": Org(Role.ADMIN, {"pk": "cycle"}),
    # --- okrs -------------------------------------------------------------------------------
    "o/<slug:org_slug>/okrs/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/okrs/new/": Org(Role.LEADER),
    "o/<slug:org_slug>/okrs/<int:pk>/": Org(Role.VIEWER, {"pk": "objective"}, post=GET_ONLY),
    "o/<slug:org_slug>/okrs/<int:pk>/edit/": Org(Role.LEADER, {"pk": "objective"}),
    "o/<slug:org_slug>/okrs/<int:pk>/delete/": Org(Role.LEADER, {"pk": "objective"}),
    "o/<slug:org_slug>/okrs/<int:pk>/duplicate/": Org(Role.LEADER, {"pk": "objective"}, get=405),
    "o/<slug:org_slug>/okrs/<int:pk>/key-results/new/": Org(Role.LEADER, {"pk": "objective"}),
    "o/<slug:org_slug>/okrs/key-results/<int:pk>/edit/": Org(Role.LEADER, {"pk": "kr"}),
    "o/<slug:org_slug>/okrs/key-results/<int:pk>/delete/": Org(Role.LEADER, {"pk": "kr"}),
    "o/<slug:org_slug>/okrs/key-results/<int:pk>/move/<str:direction>/": Org(
        Role.LEADER, {"pk": "kr", "direction": "=up"}, get=405),
    "o/<slug:org_slug>/okrs/cycles/<int:pk>/close/": Org(Role.LEADER, {"pk": "cycle"}),
    "o/<slug:org_slug>/okrs/cycles/<int:pk>/carry-over/": Org(Role.LEADER, {"pk": "cycle"}),
    "o/<slug:org_slug>/okrs/promote/<int:kpi_pk>/": Org(Role.LEADER, {"kpi_pk": "kpi"}, get=405),
    # --- check-ins --------------------------------------------------------------------------
    "o/<slug:org_slug>/teams/<slug:team>/check-in/": Org(Role.VIEWER, {"team": "team_slug"},
                                                         post=GET_ONLY),
    "o/<slug:org_slug>/check-ins/mine/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/check-ins/kr/<int:pk>/": Org(Role.VIEWER, {"pk": "kr"}, post=GET_ONLY),
    "o/<slug:org_slug>/check-ins/kr/<int:pk>/new/": Org(Role.MEMBER, {"pk": "kr"}, get=405),
    # --- initiatives ------------------------------------------------------------------------
    "o/<slug:org_slug>/initiatives/new/": Org(Role.MEMBER, query="?key_result={kr}"),
    "o/<slug:org_slug>/initiatives/<int:pk>/edit/": Org(Role.MEMBER, {"pk": "initiative"}),
    "o/<slug:org_slug>/initiatives/<int:pk>/delete/": Org(Role.MEMBER, {"pk": "initiative"}),
    # --- kpis -------------------------------------------------------------------------------
    "o/<slug:org_slug>/kpis/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/kpis/new/": Org(Role.ADMIN),
    "o/<slug:org_slug>/kpis/candidates/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/kpis/import/": Org(Role.ADMIN),
    "o/<slug:org_slug>/kpis/api-tokens/": Org(Role.ADMIN),
    "o/<slug:org_slug>/kpis/api-tokens/<int:pk>/revoke/": Org(Role.ADMIN, {"pk": "token"},
                                                              get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/": Org(Role.VIEWER, {"pk": "kpi"}, post=GET_ONLY),
    "o/<slug:org_slug>/kpis/<int:pk>/edit/": Org(Role.ADMIN, {"pk": "kpi"}),
    "o/<slug:org_slug>/kpis/<int:pk>/value/": Org(Role.MEMBER, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/target/": Org(Role.ADMIN, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/rebase/": Org(Role.ADMIN, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/dismiss/": Org(Role.LEADER, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/import/": Org(Role.MEMBER, {"pk": "kpi"},
                                                   overrides={Role.LEADER: 403}),
}

# The admin's routes are generated per registered model; rules by regular expression.
# Only staff enter the admin; organisation members are not staff, so every admin page
# sends them (and anonymous visitors) to the admin login. Scoping of staff per
# organisation is tested in the admin's own tests.
ADMIN_RULES: list[tuple[str, Public]] = [
    (r"^admin/login/$", Public(anon=200, user=200)),
    (r"^admin/logout/$", Public(anon=302, user=302)),  # GET: back to the admin index
    (r"^admin/.*$", Public(anon=ADMIN_LOGIN, user=ADMIN_LOGIN)),
]


# --- Discovery ------------------------------------------------------------------------------

def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


ROUTES = sorted(dict(_walk(get_resolver().url_patterns)).items())
NON_ADMIN = [(r, p) for r, p in ROUTES if not r.startswith("admin/")]
ADMIN = [(r, p) for r, p in ROUTES if r.startswith("admin/")]


def admin_rule(route: str) -> Public:
    for regex, rule in ADMIN_RULES:
        if re.match(regex, route):
            return rule
    raise KeyError(route)


def test_every_route_is_in_the_table():
    missing = [r for r, _ in NON_ADMIN if r not in TABLE]
    assert not missing, ("URLs without an entry in tests/test_url_access.py TABLE — decide "
                         "who may open them:\n" + "\n".join(missing))
    stale = [r for r in TABLE if r not in dict(NON_ADMIN)]
    assert not stale, "TABLE entries for URLs that no longer exist:\n" + "\n".join(stale)
    for route, _ in ADMIN:
        admin_rule(route)


@pytest.mark.parametrize(("route", "pattern"), [(r, p) for r, p in NON_ADMIN
                                                if isinstance(TABLE.get(r), Org)],
                         ids=[r for r, _ in NON_ADMIN if isinstance(TABLE.get(r), Org)])
def test_table_roles_match_the_views(route, pattern):
    declared = getattr(pattern.callback, "headway_min_role", None)
    assert declared == TABLE[route].role, (
        f"{route}: the view requires {declared}, the table says {TABLE[route].role}")


# --- The world ------------------------------------------------------------------------------

@pytest.fixture
def world(db):
    return make_world()


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
    for who, user, organization in ((Role.VIEWER, users[Role.VIEWER], org),
                                    (Role.MEMBER, member, org),
                                    ("outsider", outsider, globex)):
        raw, prefix, hashed = ApiToken.new_token()
        token = ApiToken.objects.create(organization=organization, user=user, name="t",
                                        prefix=prefix, token_hash=hashed)
        tokens[who] = (raw, token)
    raw_inv, inv_hash = Invitation.new_token()
    Invitation.objects.create(organization=org, email="new@example.com", role=Role.MEMBER,
                              token_hash=inv_hash, invited_by=users[Role.OWNER],
                              expires_at=timezone.now() + timezone.timedelta(days=7))
    return {
        "org": org, "users": users, "outsider": outsider, "team_slug": team.slug,
        "goal": goal.pk, "pillar": pillar.pk, "cycle": cycle.pk, "objective": objective.pk,
        "kr": kr.pk, "kpi": kpi.pk, "initiative": initiative.pk,
        "token": tokens[Role.VIEWER][1].pk, "api_token": tokens[Role.VIEWER][0],
        "foreign_token": tokens["outsider"][0], "member_token": tokens[Role.MEMBER][0],
        "viewer_ms": memberships[Role.VIEWER].pk, "invitation": raw_inv,
        "memberships": memberships,
    }


def build(route: str, args: dict[str, str], world, query: str = "") -> str:
    path = route.replace("<slug:org_slug>", world["org"].slug)
    for name, source in args.items():
        value = source[1:] if source.startswith("=") else world[source]
        path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
    assert "<" not in path, f"{route}: fill {path}"
    return "/" + path + query.format(**{k: v for k, v in world.items() if isinstance(v, int)})


def client_for(user) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def verdict(response, expected) -> str | None:
    """None when the response is what the table expects, else what it was."""
    code = response.status_code
    if expected == LOGIN:
        ok = code == 302 and response["Location"].startswith("/accounts/login/")
    elif expected == ADMIN_LOGIN:
        ok = code == 302 and "/admin/login/" in response["Location"]
    elif isinstance(expected, set):
        ok = code in expected
    else:
        ok = code == expected
    if ok:
        return None
    where = f" → {response['Location']}" if code in (301, 302, 303) else ""
    return f"{code}{where}, expected {expected}"


class Run:
    """Sends every request in a savepoint that is rolled back (a POST that deletes or
    promotes must not change the world for the next check) and collects mismatches, so
    one run lists every wrong answer."""

    def __init__(self):
        self.failures: list[str] = []
        self.count = 0

    def expect(self, label: str, expected, send, *args, **kwargs) -> None:
        from django.db import transaction

        with transaction.atomic():
            response = send(*args, **kwargs)
            transaction.set_rollback(True)
        self.count += 1
        problem = verdict(response, expected)
        if problem:
            self.failures.append(f"{label}: {problem}")

    def done(self) -> None:
        assert not self.failures, (f"{len(self.failures)} of {self.count} answers differ from "
                                   "the table:\n" + "\n".join(self.failures))


# --- The checks -----------------------------------------------------------------------------

ORG_ROUTES = [r for r, _ in NON_ADMIN if isinstance(TABLE.get(r), Org)]
PUBLIC_ROUTES = [r for r, _ in NON_ADMIN if isinstance(TABLE.get(r), Public)]
API_ROUTES = [r for r, _ in NON_ADMIN if isinstance(TABLE.get(r), Api)]


@pytest.fixture
def clients(world):
    out = {"anonymous": Client(), "outsider": client_for(world["outsider"])}
    out.update({role: client_for(world["users"][role]) for role in ROLES})
    return out


def test_org_urls(world, clients):
    run = Run()
    for route in ORG_ROUTES:
        entry: Org = TABLE[route]
        path = build(route, entry.args, world, entry.query)
        for method in ("get", "post"):
            m = method.upper()
            run.expect(f"anonymous {m} {path}", LOGIN, getattr(clients["anonymous"], method),
                       path)
            run.expect(f"outsider {m} {path}", 404, getattr(clients["outsider"], method), path)
        min_role, post_role = Role(entry.role), Role(entry.post_role or entry.role)
        for role in ROLES:
            c = clients[role]
            allowed = RANK[role] >= RANK[min_role]
            expected = entry.overrides.get(role, entry.get if allowed else 403)
            run.expect(f"{role} GET {path}", expected, c.get, path)
            if role == min_role:  # the htmx partial of the same page
                run.expect(f"{role} htmx GET {path}", expected, c.get, path,
                           HTTP_HX_REQUEST="true")
            if RANK[role] < RANK[post_role]:
                run.expect(f"{role} POST {path}", 403, c.post, path)
            elif entry.post is not None and role == post_role:
                run.expect(f"{role} POST {path}", entry.overrides.get(role, entry.post),
                           c.post, path)
    run.done()


def test_public_urls(world, clients):
    run = Run()
    for route in PUBLIC_ROUTES:
        entry: Public = TABLE[route]
        path = build(route, entry.args, world)
        for who, c in clients.items():
            run.expect(f"{who} GET {path}", entry.anon if who == "anonymous" else entry.user,
                       c.get, path)
    run.done()


def _send(c: Client, method: str, path: str, token: str | None = None, body=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if method == "post":
        return c.post(path, data=json.dumps(body or {}), content_type="application/json",
                      **headers)
    return c.get(path, **headers)


def test_api_urls(world, clients):
    """No token → 401; a session cookie is not a token → 401; acme's token → the table;
    another organisation's token on acme's objects → 404."""
    run = Run()
    period = timezone.localdate().isoformat()
    bodies = {"api/v1/kpis/<kpi_id>/points": {"period": period, "value": 12.5},
              "api/v1/kpis/<kpi_id>/points/batch": {"points": [{"period": period,
                                                                 "value": 12.5}]}}
    tokens = {"viewer": world["api_token"], "member": world["member_token"],
              "globex": world["foreign_token"]}
    for route in API_ROUTES:
        entry: Api = TABLE[route]
        path = build(route, entry.args, world)
        if entry.public:
            for who, c in clients.items():
                run.expect(f"{who} GET {path}", entry.get, _send, c, "get", path)
            continue
        body = bodies.get(route)
        for method, code in (("get", entry.get), ("post", entry.post)):
            if code is None:
                continue
            m = method.upper()
            for who, c in clients.items():
                run.expect(f"{who} (cookie, no token) {m} {path}", 401, _send, c, method, path,
                           None, body)
            run.expect(f"bad token {m} {path}", 401, _send, Client(), method, path,
                       "hw_nonsense", body)
            if method == "get":
                run.expect(f"viewer token GET {path}", code, _send, Client(), "get", path,
                           tokens["viewer"])
            else:
                run.expect(f"viewer token POST {path}", 403, _send, Client(), "post", path,
                           tokens["viewer"], body)
                run.expect(f"member token POST {path}", code, _send, Client(), "post", path,
                           tokens["member"], body)
            if entry.foreign:
                run.expect(f"globex token {m} {path}", 404, _send, Client(), method, path,
                           tokens["globex"], body)
    run.done()


def _admin_path(route: str) -> str:
    path = "/" + route.replace("^", "").replace("$", "")
    path = re.sub(r"<path:object_id>", "1", path)
    path = re.sub(r"<int:[^>]+>", "1", path)
    path = re.sub(r"<[^>]+>", "accounts", path)
    return path


def test_admin_urls(world, clients):
    run = Run()
    for route, _ in ADMIN:
        rule = admin_rule(route)
        path = _admin_path(route)
        for who in ("anonymous", "outsider", Role.VIEWER, Role.OWNER):
            run.expect(f"{who} GET {path}", rule.anon if who == "anonymous" else rule.user,
                       clients[who].get, path)
    run.done()


def test_every_state_changing_url_needs_the_csrf_token(world):
    """POST to every page (organisation pages as the owner, who passes every role check;
    the public forms as a visitor) without the CSRF token: refused by the CSRF check,
    nothing done. htmx posts are no exception."""
    run = Run()
    owner = Client(enforce_csrf_checks=True)
    owner.force_login(world["users"][Role.OWNER])
    visitor = Client(enforce_csrf_checks=True)

    def refused(c, path, **extra):
        response = c.post(path, {"title": "x", "name": "x", "email": "x@example.com"}, **extra)
        if response.status_code == 403 and b"CSRF" in response.content:
            response.status_code = 999  # marker: refused by the CSRF check itself
        return response

    for route in ORG_ROUTES:
        entry: Org = TABLE[route]
        path = build(route, entry.args, world, entry.query)
        run.expect(f"owner POST {path}", 999, refused, owner, path)
        run.expect(f"owner htmx POST {path}", 999, refused, owner, path, HTTP_HX_REQUEST="true")
    for route in PUBLIC_ROUTES:
        if route in ("healthz", ""):
            continue
        path = build(route, TABLE[route].args, world)
        run.expect(f"visitor POST {path}", 999, refused, visitor, path)
    run.done()
