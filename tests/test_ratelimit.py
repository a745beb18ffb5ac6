"""Abuse limits: sign-up, new organisations and invitations answer 429 with a clear
message once over the limit; the limiter itself; the API helper's JSON answer."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import Invitation, Organization, Role, User
from accounts.services import invitation_create
from core import ratelimit


@pytest.fixture(autouse=True)
def private_cache(settings):
    """A cache of our own: never clear a shared Redis (CI uses it as the broker too)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "ratelimit-tests"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def limits(settings):
    """Turn the limits on (the suite turns them off) with small numbers."""
    settings.RATELIMIT_ENABLED = True
    settings.HEADWAY_RATE_LIMITS = {"signup": (3, 3600), "invitation_send": (2, 3600),
                                    "invitation_accept": (3, 3600), "org_create": (2, 3600),
                                    "api": (2, 60)}
    return settings


def signup_data(n: int) -> dict:
    return {"name": f"User {n}", "email": f"u{n}@example.com",
            "password": "a-long-pass-phrase-9", "org_name": f"Org {n}", "org_slug": ""}


# --- The limiter --------------------------------------------------------------------------

def test_hit_counts_per_scope_and_key_within_a_window():
    now = 1_000_000.0
    assert ratelimit.hit("signup", "ip:1", limit=2, window=60, now=now) is None
    assert ratelimit.hit("signup", "ip:1", limit=2, window=60, now=now + 1) is None
    retry = ratelimit.hit("signup", "ip:1", limit=2, window=60, now=now + 2)
    window_end = (int(now // 60) + 1) * 60
    assert retry == pytest.approx(window_end - (now + 2), abs=1)
    # another key and another scope have their own counts
    assert ratelimit.hit("signup", "ip:2", limit=2, window=60, now=now) is None
    assert ratelimit.hit("api", "ip:1", limit=2, window=60, now=now) is None
    # the next window starts afresh
    assert ratelimit.hit("signup", "ip:1", limit=2, window=60, now=window_end + 1) is None


def test_limits_can_be_overridden_and_unknown_scopes_fail(settings):
    settings.HEADWAY_RATE_LIMITS = {"api": (7, 30)}
    assert ratelimit.limit_for("api") == (7, 30)
    assert ratelimit.limit_for("signup") == ratelimit.RATE_LIMITS["signup"]
    with pytest.raises(KeyError):
        ratelimit.rate_limit("no-such-scope")


def test_disabled_limiter_never_limits(settings):
    settings.RATELIMIT_ENABLED = False
    settings.HEADWAY_RATE_LIMITS = {"api": (1, 60)}
    request = RequestFactory().get("/api/v1/kpis")
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, 10, tzinfo=dt.UTC), tick=False):
        for _ in range(5):
            ratelimit.enforce(request, "api", key="token:abc")  # 5 over a limit of 1
        # Nor were they counted: enabled again in the same window, the first request
        # passes and only the second is limited.
        settings.RATELIMIT_ENABLED = True
        ratelimit.enforce(request, "api", key="token:abc")
        with pytest.raises(ratelimit.RateLimited):
            ratelimit.enforce(request, "api", key="token:abc")


def test_client_ip_uses_the_configured_proxy_header(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1",
                                   HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert ratelimit.client_ip(request) == "10.0.0.1"
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert ratelimit.client_ip(request) == "203.0.113.9"  # the hop our proxy added


def test_api_helper_answers_json_429_with_retry_after(limits):
    """The API (kpis helper) calls enforce() per token and turns RateLimited into JSON."""
    request = RequestFactory().get("/api/v1/kpis")
    ratelimit.enforce(request, "api", key="token:abc")
    ratelimit.enforce(request, "api", key="token:abc")
    with pytest.raises(ratelimit.RateLimited) as info:
        ratelimit.enforce(request, "api", key="token:abc")
    ratelimit.enforce(request, "api", key="token:other")  # per token
    response = ratelimit.too_many_requests(request, info.value)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["detail"].startswith("Too many API requests for this token.")
    assert "try again in" in body["detail"]
    assert 1 <= body["retry_after"] <= 60
    assert response["Retry-After"] == str(body["retry_after"])


def test_decorator_counts_only_the_given_methods(limits, rf):
    calls = []

    @ratelimit.rate_limit("signup", key="ip")
    def view(request):
        calls.append(request.method)
        return HttpResponse("ok")

    for _ in range(5):
        assert view(rf.get("/")).status_code == 200
    statuses = [view(rf.post("/")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert calls.count("POST") == 3


# --- Views --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_signup_is_limited_per_address_with_a_clear_429(client, limits):
    url = reverse("accounts:signup")
    for n in range(3):
        assert client.post(url, signup_data(n)).status_code == 302
        client.logout()
    response = client.post(url, signup_data(99))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Too many sign-ups from your network." in html
    assert "try again in" in html
    assert not User.objects.filter(email="u99@example.com").exists()
    assert not Organization.objects.filter(name="Org 99").exists()
    # the form still shows (GET is never limited), and another address may sign up
    assert client.get(url).status_code == 200
    response = client.post(url, signup_data(100), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302


@pytest.mark.django_db
def test_invitations_are_limited_per_admin_and_organisation(org, owner, admin_user, as_user,
                                                           limits):
    url = reverse("accounts:members", kwargs={"org_slug": org.slug})
    c = as_user(owner)
    for n in range(2):
        response = c.post(url, {"email": f"inv{n}@example.com", "role": Role.MEMBER})
        assert response.status_code == 302
    response = c.post(url, {"email": "inv9@example.com", "role": Role.MEMBER})
    assert response.status_code == 429
    assert "Too many invitations sent in a short time." in response.content.decode()
    assert not Invitation.objects.filter(email="inv9@example.com").exists()
    # another admin has an own allowance
    response = as_user(admin_user).post(url, {"email": "inv10@example.com",
                                              "role": Role.MEMBER})
    assert response.status_code == 302
    # reading the page is never limited
    assert c.get(url).status_code == 200


@pytest.mark.django_db
def test_htmx_request_gets_429_with_a_toast(org, owner, as_user, limits):
    url = reverse("accounts:members", kwargs={"org_slug": org.slug})
    c = as_user(owner)
    for n in range(2):
        c.post(url, {"email": f"inv{n}@example.com", "role": Role.MEMBER})
    response = c.post(url, {"email": "x@example.com", "role": Role.MEMBER},
                      HTTP_HX_REQUEST="true")
    assert response.status_code == 429
    assert json.loads(response["HX-Trigger"])["toast"].startswith("Too many invitations")


@pytest.mark.django_db
def test_invitation_links_are_limited_per_address(client, org, owner, limits):
    _, raw = invitation_create(organization=org, email="new@example.com", role=Role.MEMBER,
                               invited_by=owner)
    url = reverse("accounts:invitation", kwargs={"token": "not-a-token"})
    for _ in range(3):
        client.post(url, {"name": "x", "password": "y"})
    response = client.post(reverse("accounts:invitation", kwargs={"token": raw}),
                           {"name": "New", "password": "a-long-pass-phrase-9"})
    assert response.status_code == 429
    assert "Too many attempts with invitation links." in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
def test_new_organisations_are_limited_per_user(owner, as_user, limits):
    c = as_user(owner)
    url = reverse("accounts:org_create")
    for n in range(2):
        assert c.post(url, {"name": f"Side {n}", "slug": ""}).status_code == 302
    response = c.post(url, {"name": "Side 9", "slug": ""})
    assert response.status_code == 429
    assert not Organization.objects.filter(name="Side 9").exists()


@pytest.mark.django_db
def test_limiter_fails_open_when_the_cache_is_down(client, limits, monkeypatch):
    """Redis down: sign-up still works (no limit rather than no site)."""

    class DownCache:
        def add(self, *args, **kwargs):
            raise ConnectionError("cache down")

        incr = set = add

    monkeypatch.setattr(ratelimit, "cache", DownCache())
    url = reverse("accounts:signup")
    for n in range(5):
        assert client.post(url, signup_data(n)).status_code == 302
        client.logout()


@pytest.mark.django_db
def test_api_is_limited_per_token(org, member, limits):
    """The API is rate-limited by token (ApiRateLimitMiddleware), with a JSON 429."""
    from django.test import Client

    from accounts.models import ApiToken

    tokens = []
    for name in ("a", "b"):
        raw, prefix, hashed = ApiToken.new_token()
        ApiToken.objects.create(organization=org, user=member, name=name, prefix=prefix,
                                token_hash=hashed)
        tokens.append(raw)
    c = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens[0]}"}
    assert [c.get("/api/v1/kpis", **auth).status_code for _ in range(2)] == [200, 200]
    response = c.get("/api/v1/kpis", **auth)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["detail"].startswith("Too many API requests")
    assert int(response["Retry-After"]) > 0
    # another token has its own allowance
    assert c.get("/api/v1/kpis", HTTP_AUTHORIZATION=f"Bearer {tokens[1]}").status_code == 200



@pytest.mark.django_db
def test_api_writes_have_their_own_smaller_limit(org, member, limits):
    from django.test import Client

    from accounts.models import ApiToken
    from tests.factories import KpiFactory

    limits.HEADWAY_RATE_LIMITS = {"api": (100, 60), "api_write": (2, 60)}
    kpi = KpiFactory(organization=org, owner=member)
    raw, prefix, hashed = ApiToken.new_token()
    ApiToken.objects.create(organization=org, user=member, name="w", prefix=prefix,
                            token_hash=hashed)
    c = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    url = f"/api/v1/kpis/{kpi.pk}/points"
    body = json.dumps({"period": "2026-01-05", "value": 3})
    codes = [c.post(url, body, content_type="application/json", **auth).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]
    assert c.get(url, **auth).status_code == 200  # reads still go through


def test_api_requests_without_a_token_count_per_address(rf):
    assert ratelimit.api_key(rf.get("/api/v1/kpis", REMOTE_ADDR="192.0.2.1")) == "ip:192.0.2.1"
    key = ratelimit.api_key(rf.get("/api/v1/kpis", HTTP_AUTHORIZATION="Bearer hw_secret"))
    assert key.startswith("token:") and "hw_secret" not in key


def test_client_ip_is_an_address_or_none(rf, settings):
    from core.ratelimit import client_ip

    assert client_ip(rf.get("/", REMOTE_ADDR="10.1.2.3")) == "10.1.2.3"
    assert client_ip(rf.get("/", REMOTE_ADDR="")) is None
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client_ip(rf.get("/", HTTP_X_FORWARDED_FOR="1.1.1.1, 2001:db8::1")) == "2001:db8::1"
    # A forged, non-address header never reaches axes' IP field.
    assert client_ip(rf.get("/", HTTP_X_FORWARDED_FOR="<script>")) is None
