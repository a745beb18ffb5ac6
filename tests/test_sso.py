"""OpenID Connect sign-in against a real provider on 127.0.0.1 (tests/sso_idp.py)."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import AuditEntry, Membership, Role, SsoConfig, SsoIdentity, User
from accounts.sso import services
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)
from tests.sso_idp import Provider


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _location(url: str) -> str:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url, timeout=5)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302, exc.read()
        return exc.headers["Location"]
    raise AssertionError("the provider did not redirect")


@pytest.fixture
def idp():
    provider = Provider().start()
    cache.clear()
    yield provider
    provider.stop()


@pytest.fixture
def globex(db, idp):
    org = OrganizationFactory(name="Globex", slug="globex")
    admin = UserFactory(email="root@globex.test")
    MembershipFactory(user=admin, organization=org, role=Role.OWNER)
    team = TeamFactory(organization=org, name="Sales", slug="sales")
    services.sso_config_save(
        organization=org, actor=admin, issuer=idp.issuer, client_id=idp.client_id,
        client_secret=idp.client_secret, domains="globex.test", default_role=Role.MEMBER,
        groups_claim="groups", group_map={"leads": {"role": "leader", "team": "sales"}},
        enforce=False, enabled=True)
    org.team = team
    return org


def sign_in(client: Client, who: str = "nia@globex.test"):
    start = client.post("/accounts/sso/", {"who": who})
    # A page that moves on to the provider (a 302 after a form would break form-action).
    assert start.status_code == 200, start.content
    url = html.unescape(re.search(r'class="btn btn-primary sso-continue" href="([^"]+)"',
                                  start.content.decode()).group(1))
    assert f'content="0;url={html.escape(url)}"' in start.content.decode()
    assert url.startswith(start.context["organization"].sso_config.issuer + "/authorize?")
    callback = _location(url)
    parts = urllib.parse.urlsplit(callback)
    assert parts.path == "/accounts/sso/callback/"
    return client.get(parts.path + "?" + parts.query), parts


def test_first_sign_in_creates_member_with_role_team_and_audit(globex, idp):
    idp.user["groups"] = ["leads"]
    client = Client()
    response, _ = sign_in(client)
    assert response.status_code == 302 and response["Location"] == "/o/globex/"
    user = User.objects.get(email="nia@globex.test")
    membership = Membership.objects.get(user=user, organization=globex)
    assert membership.role == Role.LEADER
    assert list(globex.team.members.all()) == [user]
    assert AuditEntry.objects.filter(organization=globex, action="joined",
                                     object_id=str(membership.pk)).exists()
    assert client.get("/o/globex/").status_code == 200
    # The second time the same identity signs in the same account, nothing new.
    response, _ = sign_in(Client())
    assert response.status_code == 302
    assert User.objects.filter(email="nia@globex.test").count() == 1
    assert SsoIdentity.objects.filter(organization=globex).count() == 1


def test_sign_in_by_org_slug(globex, idp):
    response, _ = sign_in(Client(), who="globex")
    assert response.status_code == 302
    assert Membership.objects.filter(user__email="nia@globex.test", role=Role.MEMBER).exists()


@pytest.mark.parametrize("tamper, words", [
    ({"aud": "someone-else"}, "aud"),
    ({"exp": -3600}, "expired"),
    ({"foreign_key": True}, "signature"),
    ({"nonce": None}, "nonce"),
    ({"kid": "unknown"}, "unknown kid"),
    ({"email_verified": False}, "verified"),
])
def test_bad_tokens_are_refused_and_nothing_is_created(globex, idp, tamper, words):
    idp.tamper = tamper
    users = User.objects.count()
    response, _ = sign_in(Client())
    assert response.status_code == 400
    text = response.content.decode()
    assert "Sign-in refused" in text and words in text
    assert User.objects.count() == users
    assert not SsoIdentity.objects.exists()


def test_replayed_callback_is_refused(globex, idp):
    client = Client()
    response, parts = sign_in(client)
    assert response.status_code == 302
    again = client.get(parts.path + "?" + parts.query)
    assert again.status_code == 400 and "not valid any more" in again.content.decode()


def test_forged_state_is_refused(globex, idp):
    response = Client().get("/accounts/sso/callback/?code=x&state=forged")
    assert response.status_code == 400


def test_unvouched_domain_never_links_an_existing_account(globex, idp):
    victim = UserFactory(email="victim@initech.test")
    idp.user.update(email="victim@initech.test", sub="attacker")
    response, _ = sign_in(Client(), who="globex")
    assert response.status_code == 400 and "does not vouch" in response.content.decode()
    assert not Membership.objects.filter(user=victim, organization=globex).exists()
    assert not SsoIdentity.objects.exists()


def test_vouched_domain_links_the_existing_account(globex, idp):
    existing = UserFactory(email="nia@globex.test")
    response, _ = sign_in(Client())
    assert response.status_code == 302
    assert SsoIdentity.objects.get(organization=globex).user == existing


def test_another_orgs_provider_cannot_sign_into_globex(globex, idp, db):
    initech = OrganizationFactory(name="Initech", slug="initech")
    other = Provider().start()
    try:
        SsoConfig.objects.create(organization=initech, issuer=other.issuer, client_id="headway",
                                 domains="initech.test", default_role=Role.ADMIN)
        services.sso_config_save(organization=initech, actor=None, issuer=other.issuer,
                                 client_id="headway", client_secret=other.client_secret,
                                 domains="initech.test", default_role=Role.ADMIN,
                                 groups_claim="", group_map={}, enforce=False, enabled=True)
        other.user.update(email="nia@globex.test", sub="x")
        response, _ = sign_in(Client(), who="initech")
        assert response.status_code == 400
        assert not Membership.objects.filter(organization=globex,
                                             user__email="nia@globex.test").exists()
    finally:
        other.stop()


def test_enforced_sso_refuses_member_passwords_and_audits_owner_break_glass(globex, idp):
    config = globex.sso_config
    config.enforce = True
    config.save()
    member = UserFactory(email="m@globex.test")
    MembershipFactory(user=member, organization=globex, role=Role.MEMBER)
    response = Client().post("/accounts/login/", {"username": "m@globex.test",
                                                  "password": PASSWORD})
    assert response.status_code == 200 and "requires single sign-on" in response.content.decode()
    owner = Client()
    response = owner.post("/accounts/login/", {"username": "root@globex.test",
                                               "password": PASSWORD})
    assert response.status_code == 302
    assert AuditEntry.objects.filter(organization=globex, action="break_glass").count() == 1


def test_logout_ends_the_provider_session(globex, idp):
    client = Client()
    sign_in(client)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"].startswith(f"{idp.issuer}/logout")
    assert "id_token_hint=" in response["Location"]
    assert client.get("/o/globex/").status_code == 302  # logged out of Headway


def test_settings_page_tests_the_connection_and_never_shows_the_secret(globex, idp):
    client = Client()
    client.force_login(User.objects.get(email="root@globex.test"))
    page = client.get("/o/globex/settings/sso/")
    assert page.status_code == 200 and idp.client_secret not in page.content.decode()
    tested = client.post("/o/globex/settings/sso/", {"action": "test"}).content.decode()
    assert "Discovery document found" in tested and "1 signing key(s)" in tested
    assert idp.client_secret not in globex.sso_config.client_secret_encrypted
