"""Who may open every URL: the table tests/test_url_access.py checks every route against.

Every route of the URLconf — pages, their htmx partials, CSV exports, the JSON API and the
Django admin — has an entry in TABLE (the admin by the rules in ADMIN_RULES, since its
routes are generated per model); test_url_access fails for a route without one, so a new
URL cannot ship without deciding who may open it. tests/test_faults.py and the browser
tests (tests/e2e/test_pages_e2e.py) visit the same pages from this table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from accounts.models import Role
from tests.conftest import ROLES, url_routes

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
    writes: tuple[Write, ...] = ()


@dataclass
class Write:
    """A write operation of an API route other than the KPI pushes (`post`): no token →
    401, a read-only token → 403, the viewer's token → 403, `who`'s token ("member" owns
    the world's KR and KPI, "leader" edits OKRs) → `code`, another organisation's → 404.
    `body` values "@name" are filled from the world."""

    method: str
    who: str
    code: int | set[int]
    body: dict = field(default_factory=dict)


GET_ONLY = None  # post=None: POST is not tried by the minimum role (GET-only page)

TABLE: dict[str, object] = {
    # --- Outside the organisations ---------------------------------------------------------
    "": Public(anon=LOGIN, user=302),
    "healthz": Public(anon=200, user=200),
    "favicon.ico": Public(anon=301, user=301),
    "jsi18n/<str:lang>.js": Public(anon=200, user=200, args={"lang": "=de"}),  # JS catalogue
    "hooks/sources/<str:token>/": Public(anon=405, user=405, args={"token": "=no-such-token"}),
    "accounts/login/": Public(anon=200, user=302),
    "accounts/logout/": Public(anon=302, user=302),
    "accounts/signup/": Public(anon=200, user=302),
    "accounts/new-organisation/": Public(anon=LOGIN, user=200),
    "accounts/invitation/<str:token>/": Public(anon=200, user=200, args={"token": "invitation"}),
    "accounts/sso/": Public(anon=200, user=200),
    "accounts/sso/callback/": Public(anon=400, user=400),  # no pending sign-in: refused page
    # SCIM: the bearer token names the organisation; cookies never count (401 without one).
    "scim/v2/": Public(anon=401, user=401),
    "scim/v2/<path:path>": Public(anon=401, user=401, args={"path": "=Users"}),
    # --- API --------------------------------------------------------------------------------
    "api/v1/": Api(public=True, get=404, foreign=False),  # no root resource
    "api/v1/openapi.json": Api(public=True, foreign=False),
    "api/v1/docs": Api(public=True, foreign=False),
    "api/v1/sources": Api(get=403, foreign=False),  # admins' tokens only (tests/sources)
    "api/v1/sources/<source_id>/runs": Api(args={"source_id": "source"}, get=403),
    "api/v1/sources/<source_id>/run": Api(args={"source_id": "source"}, get=None,
                                          writes=(Write("post", "leader", 403),)),
    "api/v1/kpis": Api(foreign=False, writes=(
        Write("post", "admin", 201, {"name": "Via API"}),)),
    "api/v1/kpis/<kpi_id>": Api(args={"kpi_id": "kpi"}, writes=(
        Write("patch", "admin", 200, {"version": 1}),)),
    "api/v1/kpis/<kpi_id>/definition": Api(args={"kpi_id": "kpi"}),
    "api/v1/kpis/<kpi_id>/points": Api(args={"kpi_id": "kpi"}, post=200),
    "api/v1/kpis/<kpi_id>/points/batch": Api(args={"kpi_id": "kpi"}, get=None, post=200),
    "api/v1/cycles": Api(foreign=False),
    "api/v1/cycles/<cycle_id>": Api(args={"cycle_id": "cycle"}),
    "api/v1/cycles/<cycle_id>/objectives": Api(args={"cycle_id": "cycle"}),
    "api/v1/objectives": Api(foreign=False, writes=(
        Write("post", "leader", 201, {"title": "Via API", "cycle_id": "@cycle"}),)),
    "api/v1/objectives/<objective_id>": Api(args={"objective_id": "objective"}, writes=(
        Write("patch", "leader", 200, {"version": 1}),
        Write("delete", "leader", 400),  # refused: the world's objective has initiatives
    )),
    "api/v1/objectives/<objective_id>/key-results": Api(
        args={"objective_id": "objective"}, get=None,
        writes=(Write("post", "leader", 201, {"title": "Via API"}),)),
    "api/v1/key-results/<kr_id>": Api(args={"kr_id": "kr"}, writes=(
        Write("patch", "leader", 200, {"version": 1}),
        Write("delete", "leader", 400),  # refused: it has an initiative
    )),
    "api/v1/key-results/<kr_id>/check-ins": Api(args={"kr_id": "kr"}, writes=(
        Write("post", "member", 201, {"value": 3, "status": "on_track"}),)),
    "api/v1/teams": Api(foreign=False),
    "api/v1/teams/<team_id>": Api(args={"team_id": "team"}),
    "api/v1/members": Api(foreign=False),
    "api/v1/improvement-candidates": Api(foreign=False),
    # the world's KPI is no candidate: the leader's answer is refused (400), after the
    # role and tenancy checks
    "api/v1/improvement-candidates/<kpi_id>/promote": Api(
        args={"kpi_id": "kpi"}, get=None, writes=(Write("post", "leader", {201, 400}),)),
    "api/v1/improvement-candidates/<kpi_id>/dismiss": Api(
        args={"kpi_id": "kpi"}, get=None,
        writes=(Write("post", "leader", 400, {"note": "Seasonal"}),)),
    # the member owns the world's initiative: members write initiatives, edit their own
    "api/v1/initiatives": Api(foreign=False, writes=(
        Write("post", "member", 201, {"title": "Via API", "key_result_id": "@kr"}),)),
    "api/v1/initiatives/<initiative_id>": Api(args={"initiative_id": "initiative"}, writes=(
        Write("patch", "member", 200, {"version": 1}),
        Write("delete", "member", 204),
    )),
    # Comments (every role writes them, so POST is not in the table: tests/test_api_comments.py
    # checks viewers' writes, authors only, foreign targets). No target named → 400.
    "api/v1/comments": Api(get=400, foreign=False),
    "api/v1/comments/<comment_id>": Api(args={"comment_id": "=1"}, get=404),  # none in the world
    # Webhook subscriptions: admins' tokens only (role before lookup); the world has none, and
    # the loopback URL is refused by the outbound guard (400). tests/test_api_webhooks.py.
    "api/v1/webhook-subscriptions": Api(get=403, foreign=False, writes=(
        Write("post", "admin", 400, {"url": "http://127.0.0.1/hook",
                                     "events": ["checkin.created"]}),)),
    "api/v1/webhook-subscriptions/<webhook_id>": Api(args={"webhook_id": "=1"}, get=403, writes=(
        Write("patch", "admin", 404, {"enabled": False}),
        Write("delete", "admin", 404),
    )),
    "api/v1/webhook-subscriptions/<webhook_id>/rotate-secret": Api(
        args={"webhook_id": "=1"}, get=None, writes=(Write("post", "admin", 404),)),
    "api/v1/webhook-subscriptions/<webhook_id>/deliveries": Api(args={"webhook_id": "=1"},
                                                               get=403),
    # --- accounts ---------------------------------------------------------------------------
    "o/<slug:org_slug>/switch/": Org(Role.VIEWER, get=302, post=GET_ONLY),
    "o/<slug:org_slug>/settings/": Org(Role.VIEWER, post_role=Role.ADMIN),
    "o/<slug:org_slug>/settings/language/": Org(Role.VIEWER, get=405),  # each their own
    "o/<slug:org_slug>/settings/members/": Org(Role.VIEWER, post_role=Role.ADMIN),
    "o/<slug:org_slug>/settings/members/<int:pk>/role/": Org(Role.ADMIN, {"pk": "viewer_ms"},
                                                             get=405),
    "o/<slug:org_slug>/settings/members/<int:pk>/remove/": Org(Role.ADMIN, {"pk": "viewer_ms"},
                                                               get=405),
    "o/<slug:org_slug>/settings/members/invitations/<int:pk>/revoke/": Org(
        Role.ADMIN, {"pk": "invitation_pk"}, get=405),
    "o/<slug:org_slug>/settings/members/invitations/<int:pk>/resend/": Org(
        Role.ADMIN, {"pk": "invitation_pk"}, get=405),
    "o/<slug:org_slug>/settings/members/invitations/<int:pk>/link/": Org(
        Role.ADMIN, {"pk": "invitation_pk"}, get=405),
    "o/<slug:org_slug>/settings/sso/": Org(Role.ADMIN),
    "o/<slug:org_slug>/settings/sso/tokens/<int:pk>/revoke/": Org(Role.ADMIN, {"pk": "=999999"},
                                                                  get=405, post={404}),
    "o/<slug:org_slug>/teams/": Org(Role.VIEWER),
    "o/<slug:org_slug>/teams/new/": Org(Role.ADMIN),
    "o/<slug:org_slug>/teams/<slug:slug>/edit/": Org(Role.ADMIN, {"slug": "team_slug"}),
    # --- dashboards ---------------------------------------------------------------------------
    "o/<slug:org_slug>/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/dashboard.csv": Org(Role.VIEWER, post=GET_ONLY),
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
    # a bare POST shows the confirmation again (the form's "confirm" field deletes)
    "o/<slug:org_slug>/strategy/goal/pillars/<int:pk>/delete/": Org(Role.ADMIN,
                                                                    {"pk": "pillar"}),
    "o/<slug:org_slug>/cycles/": Org(Role.ADMIN),
    "o/<slug:org_slug>/cycles/new/": Org(Role.ADMIN),
    "o/<slug:org_slug>/cycles/<int:pk>/edit/": Org(Role.ADMIN, {"pk": "cycle"}),
    # --- okrs -------------------------------------------------------------------------------
    "o/<slug:org_slug>/okrs/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/okrs/owners/": Org(Role.VIEWER, query="?owner=a", post=GET_ONLY),
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
    "o/<slug:org_slug>/teams/<slug:team>/check-in/all/": Org(Role.MEMBER, {"team": "team_slug"},
                                                             get=405),
    "o/<slug:org_slug>/check-ins/mine/all/": Org(Role.MEMBER, get=405),
    "o/<slug:org_slug>/check-ins/kr/<int:pk>/edit/": Org(Role.MEMBER, {"pk": "kr"}, get=405),
    "o/<slug:org_slug>/check-ins/kr/<int:pk>/undo/": Org(Role.MEMBER, {"pk": "kr"}, get=405),
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
    # --- sources (admins only) ----------------------------------------------------------------
    "o/<slug:org_slug>/sources/": Org(Role.ADMIN, post=GET_ONLY),
    "o/<slug:org_slug>/sources/new/": Org(Role.ADMIN),
    "o/<slug:org_slug>/sources/<int:pk>/": Org(Role.ADMIN, {"pk": "source"}, post=GET_ONLY),
    "o/<slug:org_slug>/sources/<int:pk>/edit/": Org(Role.ADMIN, {"pk": "source"}),
    "o/<slug:org_slug>/sources/<int:pk>/run/": Org(Role.ADMIN, {"pk": "source"}, get=405),
    "o/<slug:org_slug>/sources/<int:pk>/delete/": Org(Role.ADMIN, {"pk": "source"}, get=405),
    "o/<slug:org_slug>/sources/<int:pk>/feeds/": Org(Role.ADMIN, {"pk": "source"}, get=405),
    "o/<slug:org_slug>/sources/<int:pk>/feeds/<int:feed_pk>/remove/": Org(
        Role.ADMIN, {"pk": "source", "feed_pk": "feed"}, get=405),
    # Issue 20: the chart's limit periods, locks, exclusions and method (leaders and admins),
    # its data as CSV and the legend of the verdicts (everyone).
    "o/<slug:org_slug>/kpis/legend/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/kpis/<int:pk>/chart.csv": Org(Role.VIEWER, {"pk": "kpi"}, post=GET_ONLY),
    "o/<slug:org_slug>/kpis/<int:pk>/limits/periods/": Org(Role.LEADER, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/limits/periods/decline/": Org(Role.LEADER, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/limits/periods/remove/": Org(Role.LEADER, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/limits/periods/lock/": Org(Role.LEADER, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/limits/periods/unlock/": Org(Role.LEADER, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/limits/exclude/": Org(Role.LEADER, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/limits/include/": Org(Role.LEADER, {"pk": "kpi"}, get=405),
    "o/<slug:org_slug>/kpis/<int:pk>/limits/method/": Org(Role.LEADER, {"pk": "kpi"}, get=405),
    # --- activity, the inbox side (issue 18): viewers read, comment and choose; no world row
    # is a notification or comment (999999: 404 inside the organisation, like a foreign one)
    "o/<slug:org_slug>/inbox/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/inbox/count/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/inbox/<int:pk>/read/": Org(Role.VIEWER, {"pk": "=999999"}, get=405,
                                                  post={404}),
    "o/<slug:org_slug>/inbox/read-all/": Org(Role.VIEWER, get=405),
    "o/<slug:org_slug>/inbox/invitations/<int:pk>/send/": Org(Role.VIEWER, {"pk": "=999999"}, get=405, post={404}),
    "o/<slug:org_slug>/comments/<slug:kind>/<int:pk>/": Org(
        Role.VIEWER, {"kind": "=objective", "pk": "objective"}),
    "o/<slug:org_slug>/comments/<int:pk>/edit/": Org(Role.VIEWER, {"pk": "=999999"}, get=404,
                                                     post={404}),
    "o/<slug:org_slug>/comments/<int:pk>/delete/": Org(Role.VIEWER, {"pk": "=999999"}, get=405,
                                                       post={404}),
    "o/<slug:org_slug>/members/mentions/": Org(Role.VIEWER, post=GET_ONLY),
    "o/<slug:org_slug>/preferences/": Org(Role.VIEWER),
    "o/<slug:org_slug>/preferences/digest/": Org(Role.ADMIN, get=405),
    "o/<slug:org_slug>/digest/preview/": Org(Role.LEADER, post=GET_ONLY),
    # the reminder's signed one-click link: a forged token is refused (400) for everybody
    "check-ins/no-change/<str:token>/": Public(anon=400, user=400, args={"token": "=forged"}),
    # --- activity, the outgoing side (issue 18): owners and admins; no world row is a webhook
    # or chat connection (999999: 404 inside the organisation, like a foreign one)
    "o/<slug:org_slug>/integrations/": Org(Role.ADMIN, post=GET_ONLY),
    "o/<slug:org_slug>/integrations/webhooks/new/": Org(Role.ADMIN),
    "o/<slug:org_slug>/integrations/webhooks/<int:pk>/": Org(Role.ADMIN, {"pk": "=999999"}, get=404, post={404}),
    "o/<slug:org_slug>/integrations/webhooks/<int:pk>/rotate/": Org(Role.ADMIN, {"pk": "=999999"}, get=405, post={404}),
    "o/<slug:org_slug>/integrations/webhooks/<int:pk>/enabled/": Org(Role.ADMIN, {"pk": "=999999"}, get=405, post={404}),
    "o/<slug:org_slug>/integrations/webhooks/<int:pk>/test/": Org(Role.ADMIN, {"pk": "=999999"}, get=405, post={404}),
    "o/<slug:org_slug>/integrations/webhooks/<int:pk>/delete/": Org(Role.ADMIN, {"pk": "=999999"}, get=405, post={404}),
    "o/<slug:org_slug>/integrations/chat/new/": Org(Role.ADMIN),
    "o/<slug:org_slug>/integrations/chat/<int:pk>/": Org(Role.ADMIN, {"pk": "=999999"}, get=404, post={404}),
    "o/<slug:org_slug>/integrations/chat/<int:pk>/enabled/": Org(Role.ADMIN, {"pk": "=999999"}, get=405, post={404}),
    "o/<slug:org_slug>/integrations/chat/<int:pk>/test/": Org(Role.ADMIN, {"pk": "=999999"}, get=405, post={404}),
    "o/<slug:org_slug>/integrations/chat/<int:pk>/delete/": Org(Role.ADMIN, {"pk": "=999999"}, get=405, post={404}),
    "o/<slug:org_slug>/integrations/deliveries/<int:pk>/resend/": Org(Role.ADMIN, {"pk": "=999999"}, get=405, post={404}),
}

# The admin's routes are generated per registered model; rules by regular expression.
# Admins and owners of an organisation enter the admin (core.admin_scoping.site, staff or
# not); `user` is what everybody else gets (a viewer, member or leader): every admin page
# sends them (and anonymous visitors) to the admin login. What an admin or owner sees
# there, scoped to their organisations, is tested in the admin's own tests.
ADMIN_RULES: list[tuple[str, Public]] = [
    (r"^admin/login/$", Public(anon=200, user=200)),
    (r"^admin/logout/$", Public(anon=302, user=302)),  # GET: back to the admin index
    (r"^admin/.*$", Public(anon=ADMIN_LOGIN, user=ADMIN_LOGIN)),
]


# --- Discovery ------------------------------------------------------------------------------

ROUTES = sorted(dict(url_routes()).items())
NON_ADMIN = [(r, p) for r, p in ROUTES if not r.startswith("admin/")]
ADMIN = [(r, p) for r, p in ROUTES if r.startswith("admin/")]


def admin_rule(route: str) -> Public:
    for regex, rule in ADMIN_RULES:
        if re.match(regex, route):
            return rule
    raise KeyError(route)


def build(route: str, args: dict[str, str], world, query: str = "") -> str:
    path = route.replace("<slug:org_slug>", world["org"].slug)
    for name, source in args.items():
        value = source[1:] if source.startswith("=") else world[source]
        path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
    assert "<" not in path, f"{route}: fill {path}"
    return "/" + path + query.format(**{k: v for k, v in world.items() if isinstance(v, int)})


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


ORG_ROUTES = [r for r, _ in NON_ADMIN if isinstance(TABLE.get(r), Org)]
PUBLIC_ROUTES = [r for r, _ in NON_ADMIN if isinstance(TABLE.get(r), Public)]
API_ROUTES = [r for r, _ in NON_ADMIN if isinstance(TABLE.get(r), Api)]
