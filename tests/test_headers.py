"""Headers (issue 15, defect 6): a Permissions-Policy on every response; organisation pages
and API responses are private and never stored by a shared cache; the CSP allows nothing
unsafe."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts.models import ApiToken
from tests.conftest import url

pytestmark = pytest.mark.django_db


def test_every_response_has_a_permissions_policy(client, org, owner, as_user):
    for response in (client.get("/accounts/login/"), as_user(owner).get(url("kpis:list", org)),
                     client.get("/api/v1/openapi.json")):
        policy = response.headers.get("Permissions-Policy", "")
        assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


def test_organisation_pages_and_the_api_are_private_no_store(org, owner, as_user, client):
    page = as_user(owner).get(url("kpis:list", org))
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    raw, prefix, hashed = ApiToken.new_token()
    ApiToken.objects.create(organization=org, user=owner, name="h", prefix=prefix,
                            token_hash=hashed)
    api = client.get("/api/v1/kpis", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 200
    assert api.headers["Cache-Control"] == "private, no-store"
    refused = client.get("/api/v1/kpis")  # even the 401 names no one else's data to cache
    assert "no-store" in refused.headers.get("Cache-Control", "")


def test_public_static_files_stay_cacheable(client):
    response = client.get("/static/css/app.css")
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_the_csp_allows_nothing_unsafe(client, org, owner, as_user):
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert not [d for d, values in directives.items() if any("unsafe" in str(v) for v in values)]
    assert directives["style-src"] == ["'self'"]
    for response in (client.get("/accounts/login/"), as_user(owner).get(url("kpis:list", org))):
        header = response.headers["Content-Security-Policy"]
        assert "style-src 'self'" in header and "unsafe" not in header
