"""Rate limits and the lockout on the SSO endpoints: sign-ins started and callbacks per
address (429 past the limit), and refused callbacks counted as failures: past
"sso_failure" that address is locked out of SSO (429) while another address is not."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import SsoIdentity
from tests.test_sso import globex, idp, sign_in  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.RATELIMIT_ENABLED = True
    cache.clear()

    def set_limits(**scopes):
        settings.HEADWAY_RATE_LIMITS = scopes
    return set_limits


def test_sso_start_is_rate_limited_per_address(limits, globex):  # noqa: F811
    limits(sso_start=(3, 300))
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(3):
        assert client.post("/accounts/sso/", {"who": "nobody@nowhere.test"}).status_code == 200
    response = client.post("/accounts/sso/", {"who": "nia@globex.test"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many single sign-on attempts" in response.content.decode()
    # Another address is not affected.
    other = Client(REMOTE_ADDR="203.0.113.6")
    assert other.post("/accounts/sso/", {"who": "nia@globex.test"}).status_code == 200


def test_sso_callback_is_rate_limited_per_address(limits, globex):  # noqa: F811
    limits(sso_callback=(2, 300), sso_failure=(100, 900))
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(2):
        assert client.get("/accounts/sso/callback/?state=x&code=y").status_code == 400
    response = client.get("/accounts/sso/callback/?state=x&code=y")
    assert response.status_code == 429 and response["Retry-After"]


def test_refused_callbacks_lock_the_address_out_of_sso(limits, globex, idp):  # noqa: F811
    limits(sso_failure=(2, 900))
    attacker = Client(REMOTE_ADDR="198.51.100.9")
    for _ in range(2):  # forged states: refused, counted; the second locks
        assert attacker.get("/accounts/sso/callback/?state=forged&code=c").status_code == 400
    locked = attacker.get("/accounts/sso/callback/?state=forged&code=c")
    assert locked.status_code == 429
    assert "Too many refused single sign-on attempts" in locked.content.decode()
    # Locked out of starting a sign-in too, with a real provider behind it.
    start = attacker.post("/accounts/sso/", {"who": "nia@globex.test"})
    assert start.status_code == 429 and int(start["Retry-After"]) > 0
    # A person at another address still signs in.
    response, _ = sign_in(Client(REMOTE_ADDR="198.51.100.10"))
    assert response.status_code == 302
    assert SsoIdentity.objects.filter(organization=globex).count() == 1


def test_a_tampered_token_counts_as_a_failure(limits, globex, idp):  # noqa: F811
    limits(sso_failure=(1, 900))
    idp.tamper = {"aud": "someone-else"}
    client = Client(REMOTE_ADDR="198.51.100.11")
    response, _ = sign_in(client)
    assert response.status_code == 400 and "aud" in response.content.decode()
    idp.tamper = {}
    assert client.post("/accounts/sso/", {"who": "nia@globex.test"}).status_code == 429
    assert not SsoIdentity.objects.exists()


def test_successful_sign_ins_are_not_failures(limits, globex, idp):  # noqa: F811
    limits(sso_failure=(1, 900))
    client = Client(REMOTE_ADDR="198.51.100.12")
    for _ in range(3):
        response, _ = sign_in(client)
        assert response.status_code == 302
