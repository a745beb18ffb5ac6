"""Accounts admin: API tokens (shown once, hash stored, revoke), memberships (the app's role
rules), organisations (owner deletes), invitations (revoke), audit of admin edits."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken, AuditEntry, Invitation, Membership, Role, Team
from tests.factories import MembershipFactory, TeamFactory, UserFactory


def staff(org, role):
    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, organization=org, role=role)
    return user


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def admin_client(org):
    return _client_for(staff(org, Role.ADMIN))


@pytest.fixture
def owner_client(org):
    return _client_for(staff(org, Role.OWNER))


# --- API tokens -------------------------------------------------------------------------------


def test_token_is_shown_once_and_only_its_hash_is_stored(admin_client, org, owner):
    # A crafted user (here the owner's) is ignored: an admin's token acts as the admin.
    response = admin_client.post(reverse("admin:accounts_apitoken_add"), {
        "organization": org.pk, "user": owner.pk, "name": "Warehouse sync"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = re.search(r'<code id="raw-token"[^>]*>([^<]+)</code>', response.content.decode())[1]
    token = ApiToken.objects.get(name="Warehouse sync")
    assert token.user == admin_client.user
    assert token.token_hash == ApiToken.hash(raw)
    assert raw not in (token.token_hash, token.prefix) and raw.startswith(token.prefix)
    # Never shown again.
    page = admin_client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert raw not in page.content.decode()
    listing = admin_client.get(reverse("admin:accounts_apitoken_changelist"))
    assert raw not in listing.content.decode()
    assert AuditEntry.objects.filter(object_type="accounts.apitoken",
                                     action="token created").exists()


def test_token_user_must_be_a_member_of_the_token_organisation(org):
    stranger = UserFactory()
    superuser = _client_for(UserFactory(is_staff=True, is_superuser=True))
    response = superuser.post(reverse("admin:accounts_apitoken_add"), {
        "organization": org.pk, "user": stranger.pk, "name": "x"})
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_revoke_action(admin_client, org, member):
    raw, prefix, digest = ApiToken.new_token()
    token = ApiToken.objects.create(organization=org, user=member, name="t", prefix=prefix,
                                    token_hash=digest)
    response = admin_client.post(reverse("admin:accounts_apitoken_changelist"), {
        "action": "revoke", "index": 0, "_selected_action": [token.pk]}, follow=True)
    assert b"1 token(s) revoked" in response.content
    token.refresh_from_db()
    assert token.revoked_at is not None
    # Tokens are revoked, not deleted.
    assert admin_client.get(reverse("admin:accounts_apitoken_delete",
                                    args=[token.pk])).status_code == 403


# --- Memberships: the app's role rules --------------------------------------------------------


def change_role(client, membership, role):
    return client.post(reverse("admin:accounts_membership_change", args=[membership.pk]),
                       {"role": role})


def test_admin_changes_roles_below_admin(admin_client, org, member):
    membership = Membership.objects.get(user=member, organization=org)
    assert change_role(admin_client, membership, Role.LEADER).status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.LEADER
    assert AuditEntry.objects.filter(action="role_changed", object_id=str(membership.pk)).exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
def test_only_an_owner_grants_admin_or_owner(admin_client, org, member, role):
    membership = Membership.objects.get(user=member, organization=org)
    response = change_role(admin_client, membership, role)
    assert response.status_code == 200
    assert "Only an owner" in str(response.context["adminform"].form.errors)
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER


def test_owner_grants_admin(owner_client, org, member):
    membership = Membership.objects.get(user=member, organization=org)
    assert change_role(owner_client, membership, Role.ADMIN).status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_last_owner_cannot_be_demoted(owner_client, org):
    membership = Membership.objects.get(user=owner_client.user, organization=org)
    response = change_role(owner_client, membership, Role.ADMIN)
    assert response.status_code == 200
    assert "last owner" in str(response.context["adminform"].form.errors)


def test_admin_cannot_remove_an_owner_but_removes_a_member(admin_client, org, owner, member):
    owner_ms = Membership.objects.get(user=owner, organization=org)
    assert admin_client.post(reverse("admin:accounts_membership_delete", args=[owner_ms.pk]),
                             {"post": "yes"}).status_code == 403
    assert Membership.objects.filter(pk=owner_ms.pk).exists()
    team = TeamFactory(organization=org)
    team.members.add(member)
    member_ms = Membership.objects.get(user=member, organization=org)
    response = admin_client.post(reverse("admin:accounts_membership_delete",
                                         args=[member_ms.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=member_ms.pk).exists()
    assert not team.members.filter(pk=member.pk).exists()  # the service's clean-up
    assert AuditEntry.objects.filter(action="removed").exists()


# --- Organisations ----------------------------------------------------------------------------


def test_admin_edits_the_organisation_but_only_an_owner_deletes_it(
        admin_client, owner_client, org):
    url = reverse("admin:accounts_organization_change", args=[org.pk])
    response = admin_client.post(url, {"name": "Acme Corp", "time_zone": "Europe/Paris",
                                       "reminder_weekday": 0, "reminder_hour": 9})
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.slug, org.time_zone) == ("Acme Corp", "acme", "Europe/Paris")
    assert AuditEntry.objects.filter(organization=org, object_type="accounts.organization",
                                     action="updated (admin)").exists()
    delete = reverse("admin:accounts_organization_delete", args=[org.pk])
    assert admin_client.get(delete).status_code == 403
    assert admin_client.get(reverse("admin:accounts_organization_add")).status_code == 403


def test_owner_may_open_the_delete_page(owner_client, org):
    response = owner_client.get(reverse("admin:accounts_organization_delete", args=[org.pk]))
    assert response.status_code == 200


def test_bad_time_zone_is_a_form_error(admin_client, org):
    response = admin_client.post(reverse("admin:accounts_organization_change", args=[org.pk]),
                                 {"name": "Acme", "time_zone": "Mars/Olympus",
                                  "reminder_weekday": 0, "reminder_hour": 9})
    assert response.status_code == 200
    assert "time_zone" in response.context["adminform"].form.errors


# --- Teams, invitations, audit -----------------------------------------------------------------


def test_team_cannot_sit_under_itself(admin_client, org):
    parent = TeamFactory(organization=org, name="Parent", slug="parent")
    child = TeamFactory(organization=org, name="Child", slug="child", parent=parent)
    response = admin_client.post(reverse("admin:accounts_team_change", args=[parent.pk]),
                                 {"name": "Parent", "slug": "parent", "parent": child.pk})
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert Team.objects.get(pk=parent.pk).parent is None


def test_admin_edits_are_audited(admin_client, org):
    team = TeamFactory(organization=org, name="Ops", slug="ops")
    response = admin_client.post(reverse("admin:accounts_team_change", args=[team.pk]),
                                 {"name": "Operations", "slug": "ops"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_type="accounts.team", object_id=str(team.pk))
    assert entry.changes["name"] == ["Ops", "Operations"]
    assert entry.actor == admin_client.user
    # The trail itself is read-only, even here.
    assert admin_client.get(reverse("admin:accounts_auditentry_add")).status_code == 403
    assert admin_client.get(reverse("admin:accounts_auditentry_delete",
                                    args=[entry.pk])).status_code == 403


def test_invitations_are_revoked_not_edited(admin_client, org, owner):
    from django.utils import timezone

    invitation = Invitation.objects.create(
        organization=org, email="new@example.com", token_hash=Invitation.new_token()[1],
        invited_by=owner, expires_at=timezone.now() + timezone.timedelta(days=3))
    assert admin_client.get(reverse("admin:accounts_invitation_add")).status_code == 403
    page = admin_client.get(reverse("admin:accounts_invitation_change", args=[invitation.pk]))
    assert page.status_code == 200 and invitation.token_hash not in page.content.decode()
    admin_client.post(reverse("admin:accounts_invitation_changelist"), {
        "action": "revoke", "index": 0, "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.state == "revoked"


def test_owner_deletes_the_whole_organisation(owner_client, org):
    from accounts.models import Organization
    from kpis.models import HealthEvent, KpiHealth
    from tests.factories import KpiFactory

    kpi = KpiFactory(organization=org)  # with its read-only history: it goes along
    KpiHealth.objects.create(kpi=kpi)
    HealthEvent.objects.create(kpi=kpi, kind="status")
    other = staff(org, Role.MEMBER)  # other members go with it; their accounts stay
    response = owner_client.post(reverse("admin:accounts_organization_delete", args=[org.pk]),
                                 {"post": "yes"})
    assert response.status_code == 302
    assert not Organization.objects.filter(pk=org.pk).exists()
    other.refresh_from_db()
