"""Every URL under /o/<org_slug>/ must apply the tenancy rule.

The patterns are discovered from the URLconf, so a view added later without the
`org_view` decorator fails here. For each one: an anonymous visitor is sent to log in,
an outsider gets 404 (the organisation is resolved through the caller's membership
before anything else), and a member below the view's minimum role gets 403.
"""

from __future__ import annotations

import re

import pytest

from accounts.models import ROLE_RANK, Role
from tests.conftest import url_routes

ORG_PREFIX = "o/<slug:org_slug>/"


def org_patterns():
    out = []
    for route, pattern in url_routes():
        if route.startswith(ORG_PREFIX):
            out.append((route, pattern))
    return out


def fill(route: str, slug: str) -> str:
    """Build a concrete path: ids that do not exist are fine, the org check comes first."""
    path = route.replace("<slug:org_slug>", slug)
    path = re.sub(r"<int:[^>]+>", "999999", path)
    path = re.sub(r"<(?:slug|str|path):[^>]+>", "nothing-here", path)
    path = re.sub(r"<uuid:[^>]+>", "00000000-0000-0000-0000-000000000000", path)
    path = re.sub(r"<[^>]+>", "x", path)
    return "/" + path


ROUTES = org_patterns()
IDS = [r for r, _ in ROUTES]


def test_there_are_org_urls():
    assert len(ROUTES) >= 5


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
def test_every_org_view_declares_its_role(route, pattern):
    callback = pattern.callback
    min_role = getattr(callback, "headway_min_role", None)
    assert min_role in Role.values, (
        f"{route} ({callback.__module__}.{callback.__name__}) is not wrapped in "
        "accounts.access.org_view — every organisation page must apply the tenancy rule")


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=IDS)
@pytest.mark.django_db
def test_outsider_gets_404_and_anonymous_logs_in(route, pattern, org, outsider, as_user, client):
    path = fill(route, org.slug)
    for method in ("get", "post"):
        response = getattr(as_user(outsider), method)(path)
        assert response.status_code == 404, f"{method.upper()} {path} → {response.status_code}"
    response = client.get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


RESTRICTED = [(r, p) for r, p in ROUTES
              if getattr(p.callback, "headway_min_role", Role.VIEWER) != Role.VIEWER]


@pytest.mark.parametrize(("route", "pattern"), RESTRICTED, ids=[r for r, _ in RESTRICTED])
@pytest.mark.django_db
def test_lower_role_gets_403(route, pattern, org, member_of, as_user):
    min_role = pattern.callback.headway_min_role
    rank = ROLE_RANK[Role(min_role)]
    below = [r for r, k in ROLE_RANK.items() if k == rank - 1][0]
    user = member_of(below)
    path = fill(route, org.slug)
    for method in ("get", "post"):
        response = getattr(as_user(user), method)(path)
        assert response.status_code == 403, (
            f"{below} {method.upper()} {path} → {response.status_code}, expected 403")
