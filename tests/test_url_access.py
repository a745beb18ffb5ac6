"""Every URL, tried by every kind of visitor, against a table.

The principals: an anonymous visitor, an outsider (owner of another organisation), and
a member of "acme" in each role (viewer, member, leader, admin, owner). Every route of
the URLconf — pages, their htmx partials (the same URL with HX-Request), CSV exports,
the JSON API and the Django admin — must have an entry in TABLE, in tests/url_table.py
(the admin by the rules in ADMIN_RULES, since its routes are generated per model). A route
without an entry fails `test_every_route_is_in_the_table`, so a new URL cannot ship
without deciding who may open it.

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

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from tests.conftest import ROLES, client_for, make_world
from tests.url_table import (
    ADMIN,
    API_ROUTES,
    LOGIN,
    NON_ADMIN,
    ORG_ROUTES,
    PUBLIC_ROUTES,
    RANK,
    TABLE,
    Api,
    Org,
    Public,
    Run,
    admin_rule,
    build,
)


def test_every_route_is_in_the_table():
    missing = [r for r, _ in NON_ADMIN if r not in TABLE]
    assert not missing, ("URLs without an entry in tests/url_table.py TABLE — decide "
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
    if method != "get":
        return getattr(c, method)(path, data=json.dumps(body or {}),
                                  content_type="application/json", **headers)
    return c.get(path, **headers)


def _fill(body: dict, world) -> dict:
    return {k: world[v[1:]] if isinstance(v, str) and v.startswith("@") else v
            for k, v in body.items()}


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
        for w in entry.writes:  # other writes (issue 21): read-only tokens and roles too
            m, wbody = w.method.upper(), _fill(w.body, world)
            run.expect(f"no token {m} {path}", 401, _send, Client(), w.method, path, None,
                       wbody)
            run.expect(f"read-only token {m} {path}", 403, _send, Client(), w.method, path,
                       world["read_only_token"], wbody)
            run.expect(f"viewer token {m} {path}", 403, _send, Client(), w.method, path,
                       tokens["viewer"], wbody)
            if entry.foreign:
                run.expect(f"globex token {m} {path}", 404, _send, Client(), w.method, path,
                           tokens["globex"], wbody)
            run.expect(f"{w.who} token {m} {path}", w.code, _send, Client(), w.method, path,
                       world[f"{w.who}_token"], wbody)
    run.done()


def _admin_path(route: str) -> str:
    path = "/" + route.replace("^", "").replace("$", "")
    path = re.sub(r"<path:object_id>", "1", path)
    path = re.sub(r"<int:[^>]+>", "1", path)
    path = re.sub(r"<[^>]+>", "accounts", path)
    return path


# An admin page as an organisation's owner: answered, never a 5xx, never the login page.
ENTERED = {200, 302, 403, 404, 405}


def test_admin_urls(world, clients):
    run = Run()
    for route, _ in ADMIN:
        rule = admin_rule(route)
        path = _admin_path(route)
        for who in ("anonymous", Role.VIEWER, Role.MEMBER, Role.LEADER):
            run.expect(f"{who} GET {path}", rule.anon if who == "anonymous" else rule.user,
                       clients[who].get, path)
        for who in ("outsider", Role.OWNER):  # they enter (their own organisation's rows)
            run.expect(f"{who} GET {path}", ENTERED, clients[who].get, path)
    for who in ("outsider", Role.ADMIN, Role.OWNER):
        run.expect(f"{who} GET /admin/", 200, clients[who].get, "/admin/")
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
        # SCIM: bearer token, no cookie; a data source's webhook: its secret URL (and HMAC)
        if route in ("healthz", "") or route.startswith(("scim/", "hooks/")):
            continue
        path = build(route, TABLE[route].args, world)
        run.expect(f"visitor POST {path}", 999, refused, visitor, path)
    run.done()
