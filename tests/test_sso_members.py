"""The Members page under SSO: suspended (SCIM-deactivated) members are marked, and the
invitation form is off, with the reason, while SSO is enforced (a POST is refused too)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation, Role, SsoConfig
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    org = OrganizationFactory(name="Acme", slug="acme")
    admin = UserFactory(name="Ada Admin", email="ada@acme.test")
    MembershipFactory(user=admin, organization=org, role=Role.ADMIN)
    client = Client()
    client.force_login(admin)
    return org, client


def test_suspended_members_are_marked(acme):
    org, client = acme
    gone = UserFactory(name="Sam Suspended", email="sam@acme.test")
    MembershipFactory(user=gone, organization=org, role=Role.MEMBER, suspended_at=timezone.now())
    here = UserFactory(name="Hal Here", email="hal@acme.test")
    MembershipFactory(user=here, organization=org, role=Role.MEMBER)
    page = client.get("/o/acme/settings/members/").content.decode()
    assert page.count("member-suspended") == 1
    sam_row = page[page.index("Sam Suspended"):page.index("sam@acme.test")]
    assert "Suspended" in sam_row
    hal_row = page[page.index("Hal Here"):page.index("hal@acme.test")]
    assert "Suspended" not in hal_row
    assert "Deactivated by your identity provider" in page


def test_invitations_are_off_while_sso_is_enforced(acme):
    org, client = acme
    config = SsoConfig.objects.create(organization=org, issuer="https://idp.acme.test",
                                      client_id="h", domains="acme.test", enforce=True)
    page = client.get("/o/acme/settings/members/").content.decode()
    assert "enforces single sign-on, so invitations are off" in page
    assert "Send invitation" not in page and 'name="email"' not in page
    response = client.post("/o/acme/settings/members/", {"email": "new@acme.test",
                                                          "role": Role.MEMBER}, follow=True)
    assert "people join by signing in through your identity provider" in \
        response.content.decode()
    assert not Invitation.objects.filter(organization=org).exists()
    # Not enforced (or the provider switched off): the form is back.
    config.enabled = False
    config.save()
    page = client.get("/o/acme/settings/members/").content.decode()
    assert "Send invitation" in page


def test_sso_settings_and_token_revoke_are_tenant_scoped(acme):
    """Beyond the URL table's rows (outsider 404, member 403, unknown token 404): an
    admin of Acme cannot revoke Globex's real token, nor see Globex's settings."""
    from accounts.sso import services

    org, client = acme
    globex = OrganizationFactory(name="Globex", slug="globex")
    owner = UserFactory(email="root@globex.test")
    MembershipFactory(user=owner, organization=globex, role=Role.OWNER)
    token, _raw = services.scim_token_create(organization=globex, actor=owner, name="Okta")
    response = client.post(f"/o/acme/settings/sso/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    response = client.post(f"/o/globex/settings/sso/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    assert client.get("/o/globex/settings/sso/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    member = UserFactory(email="mo@acme.test")
    MembershipFactory(user=member, organization=org, role=Role.MEMBER)
    as_member = Client()
    as_member.force_login(member)
    assert as_member.get("/o/acme/settings/sso/").status_code == 403
    owner_client = Client()
    owner_client.force_login(owner)
    assert owner_client.post(f"/o/globex/settings/sso/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
