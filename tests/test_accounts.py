"""Sign-up, login, invitations, roles, teams, organisation switching."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import AuditEntry, Invitation, Membership, Organization, Role, Team, User
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- Sign-up and login ------------------------------------------------------------------

def signup_data(**overrides):
    data = {"name": "Nora New", "email": "nora@example.com", "password": "a-long-pass-phrase-9",
            "org_name": "Initech", "org_slug": ""}
    data.update(overrides)
    return data


def test_signup_creates_user_and_org_with_owner(client):
    response = client.post(reverse("accounts:signup"), signup_data())
    org = Organization.objects.get(name="Initech")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/"
    assert org.slug == "initech"
    membership = Membership.objects.get(organization=org)
    assert membership.user.email == "nora@example.com"
    assert membership.role == Role.OWNER
    # Logged in: the organisation page answers.
    assert client.get(response["Location"]).status_code == 200


def test_signup_invalid_email_shows_message(client):
    response = client.post(reverse("accounts:signup"), signup_data(email="not-an-email"))
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not User.objects.exists()


def test_signup_duplicate_slug_shows_message(client, org):
    response = client.post(reverse("accounts:signup"), signup_data(org_slug=org.slug))
    assert response.status_code == 200
    assert "That address is taken" in response.content.decode()
    assert not User.objects.filter(email="nora@example.com").exists()


def test_signup_derives_unique_slug_when_name_taken(client, org):
    client.post(reverse("accounts:signup"), signup_data(org_name="Acme"))
    assert Organization.objects.filter(slug="acme-2").exists()


def test_signup_duplicate_email_and_weak_password(client, owner):
    response = client.post(reverse("accounts:signup"),
                           signup_data(email=owner.email.upper(), password="123"))
    body = response.content.decode()
    assert "already exists" in body
    assert "This password is too short" in body


def test_login_with_email_and_logout(client, owner, org):
    response = client.post(reverse("accounts:login"),
                           {"username": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").url == f"/o/{org.slug}/"
    client.post(reverse("accounts:logout"))
    assert client.get(f"/o/{org.slug}/").status_code == 302


def test_login_wrong_password_shows_message(client, owner):
    response = client.post(reverse("accounts:login"),
                           {"username": owner.email, "password": "nope"})
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


# --- Invitations ------------------------------------------------------------------------

def invite(client, org, email="newbie@example.com", role="member"):
    return client.post(reverse("accounts:members", kwargs={"org_slug": org.slug}),
                       {"email": email, "role": role})


def token_from_mail() -> str:
    body = mail.outbox[-1].body
    return body.split("/accounts/invitation/")[1].split("/")[0]


def test_admin_invites_and_newcomer_accepts(as_user, admin_user, org, client,
                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(as_user(admin_user), org)
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["newbie@example.com"]
    token = token_from_mail()
    inv = Invitation.objects.get()
    assert inv.token_hash != token  # only the hash is stored
    page = client.get(reverse("accounts:invitation", kwargs={"token": token}))
    assert "Join Acme" in page.content.decode()
    response = client.post(reverse("accounts:invitation", kwargs={"token": token}),
                           {"name": "Newbie", "password": "a-long-pass-phrase-9"})
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="newbie@example.com")
    assert membership.organization == org and membership.role == Role.MEMBER
    # Reusing the link is refused with a message.
    again = client.get(reverse("accounts:invitation", kwargs={"token": token}))
    assert again.status_code == 410
    assert "already been used" in again.content.decode()


def test_existing_user_accepts_when_logged_in(as_user, admin_user, org, outsider,
                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(as_user(admin_user), org, email=outsider.email, role="viewer")
    token = token_from_mail()
    c = as_user(outsider)
    response = c.post(reverse("accounts:invitation", kwargs={"token": token}))
    assert response.status_code == 302
    assert Membership.objects.get(user=outsider, organization=org).role == Role.VIEWER
    # The outsider can now read, and the org appears in the switcher.
    assert c.get(f"/o/{org.slug}/").status_code == 200


def test_expired_invitation_shows_message(client, org, admin_user):
    inv, raw = services.invitation_create(organization=org, email="late@example.com",
                                          role=Role.MEMBER, invited_by=admin_user)
    Invitation.objects.filter(pk=inv.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    response = client.get(reverse("accounts:invitation", kwargs={"token": raw}))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    response = client.post(reverse("accounts:invitation", kwargs={"token": raw}),
                           {"name": "Late", "password": "a-long-pass-phrase-9"})
    assert response.status_code == 410
    assert not User.objects.filter(email="late@example.com").exists()


def test_bogus_invitation_token(client):
    response = client.get(reverse("accounts:invitation", kwargs={"token": "made-up"}))
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_invite_bad_email_and_existing_member(as_user, admin_user, org, member):
    response = invite(as_user(admin_user), org, email="nope")
    assert "Enter a valid email address." in response.content.decode()
    response = invite(as_user(admin_user), org, email=member.email)
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_only_owner_invites_admins(as_user, admin_user, owner, org):
    response = invite(as_user(admin_user), org, role="admin")
    assert "Only an owner" in response.content.decode()
    assert not Invitation.objects.exists()
    assert invite(as_user(owner), org, role="admin").status_code == 302


def test_leader_cannot_invite(as_user, leader, org):
    assert invite(as_user(leader), org).status_code == 403
    assert not Invitation.objects.exists()


# --- Roles --------------------------------------------------------------------------------

def change_role(client, org, membership, role):
    return client.post(reverse("accounts:member_role",
                               kwargs={"org_slug": org.slug, "pk": membership.pk}),
                       {"role": role}, follow=True)


def test_owner_changes_role_and_it_is_audited(as_user, owner, member, org):
    m = Membership.objects.get(user=member, organization=org)
    change_role(as_user(owner), org, m, "leader")
    m.refresh_from_db()
    assert m.role == Role.LEADER
    entry = AuditEntry.objects.get(action="role_changed")
    assert entry.changes == {"role": ["member", "leader"]} and entry.actor == owner


def test_admin_cannot_make_owner_or_touch_admins(as_user, admin_user, member, org, member_of):
    other_admin = member_of(Role.ADMIN)
    m = Membership.objects.get(user=member, organization=org)
    response = change_role(as_user(admin_user), org, m, "owner")
    assert "Only an owner" in response.content.decode()
    m.refresh_from_db()
    assert m.role == Role.MEMBER
    am = Membership.objects.get(user=other_admin, organization=org)
    change_role(as_user(admin_user), org, am, "viewer")
    am.refresh_from_db()
    assert am.role == Role.ADMIN


def test_admin_changes_member_to_viewer(as_user, admin_user, member, org):
    m = Membership.objects.get(user=member, organization=org)
    change_role(as_user(admin_user), org, m, "viewer")
    m.refresh_from_db()
    assert m.role == Role.VIEWER


def test_last_owner_cannot_be_demoted(owner, org):
    m = Membership.objects.get(user=owner, organization=org)
    with pytest.raises(Exception, match="last owner"):
        services.membership_change_role(membership=m, role=Role.ADMIN, actor=m)
    m.refresh_from_db()
    assert m.role == Role.OWNER


def test_second_owner_allows_demotion(as_user, owner, org, member_of):
    other = member_of(Role.OWNER)
    m = Membership.objects.get(user=other, organization=org)
    change_role(as_user(owner), org, m, "admin")
    m.refresh_from_db()
    assert m.role == Role.ADMIN


def test_member_cannot_change_roles(as_user, member, viewer, org):
    m = Membership.objects.get(user=viewer, organization=org)
    response = as_user(member).post(reverse("accounts:member_role",
                                            kwargs={"org_slug": org.slug, "pk": m.pk}),
                                    {"role": "owner"})
    assert response.status_code == 403
    m.refresh_from_db()
    assert m.role == Role.VIEWER


def test_role_change_of_foreign_membership_is_404(as_user, owner, org, outsider):
    foreign = Membership.objects.get(user=outsider)
    response = as_user(owner).post(reverse("accounts:member_role",
                                           kwargs={"org_slug": org.slug, "pk": foreign.pk}),
                                   {"role": "viewer"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Role.OWNER


def test_bad_role_value_is_a_message(as_user, owner, member, org):
    m = Membership.objects.get(user=member, organization=org)
    response = change_role(as_user(owner), org, m, "emperor")
    assert "Choose a valid role" in response.content.decode()


def test_remove_member(as_user, owner, member, org):
    m = Membership.objects.get(user=member, organization=org)
    as_user(owner).post(reverse("accounts:member_remove",
                                kwargs={"org_slug": org.slug, "pk": m.pk}))
    assert not Membership.objects.filter(pk=m.pk).exists()


# --- Teams, settings, switching ----------------------------------------------------------

def test_admin_creates_team_with_members(as_user, admin_user, member, org):
    response = as_user(admin_user).post(
        reverse("accounts:team_create", kwargs={"org_slug": org.slug}),
        {"name": "Support", "members": [member.pk], "lead": member.pk})
    assert response.status_code == 302
    team = Team.objects.get(organization=org)
    assert team.slug == "support" and list(team.members.all()) == [member]


def test_team_form_refuses_foreign_people_and_duplicates(as_user, admin_user, org, outsider):
    c = as_user(admin_user)
    url = reverse("accounts:team_create", kwargs={"org_slug": org.slug})
    response = c.post(url, {"name": "Support", "members": [outsider.pk]})
    assert "Select a valid choice" in response.content.decode()
    c.post(url, {"name": "Support"})
    response = c.post(url, {"name": "support"})
    assert "already exists" in response.content.decode()
    assert Team.objects.filter(organization=org).count() == 1


def test_team_cannot_sit_under_itself(as_user, admin_user, org):
    parent = Team.objects.create(organization=org, name="A", slug="a")
    child = Team.objects.create(organization=org, name="B", slug="b", parent=parent)
    response = as_user(admin_user).post(
        reverse("accounts:team_edit", kwargs={"org_slug": org.slug, "slug": "a"}),
        {"name": "A", "parent": child.pk})
    assert "cannot sit under itself" in response.content.decode()
    parent.refresh_from_db()
    assert parent.parent is None


def test_settings_time_zone_validation(as_user, admin_user, viewer, org):
    url = reverse("accounts:settings", kwargs={"org_slug": org.slug})
    data = {"name": "Acme", "time_zone": "Mars/Olympus", "reminder_weekday": 0,
            "reminder_hour": 9}
    response = as_user(admin_user).post(url, data)
    assert "Select a valid choice" in response.content.decode()
    data["time_zone"] = "Europe/Paris"
    as_user(admin_user).post(url, data)
    org.refresh_from_db()
    assert org.time_zone == "Europe/Paris"
    assert as_user(viewer).post(url, data).status_code == 403
    assert as_user(viewer).get(url).status_code == 200


def test_user_in_two_orgs_switches(as_user, owner, org):
    other = OrganizationFactory(name="Second", slug="second")
    MembershipFactory(user=owner, organization=other, role=Role.VIEWER)
    c = as_user(owner)
    page = c.get(f"/o/{org.slug}/").content.decode()
    assert "/o/second/switch/" in page
    response = c.get("/o/second/switch/")
    assert response.url == "/o/second/"
    assert c.get("/").url == "/o/second/"


def test_anonymous_home_goes_to_login(client):
    assert client.get("/").url == reverse("accounts:login")


def test_user_without_org_is_sent_to_create_one(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/").url == reverse("accounts:org_create")
    response = client.post(reverse("accounts:org_create"), {"name": "Solo", "slug": ""})
    assert response.status_code == 302
    assert Membership.objects.get(user=user).role == Role.OWNER
