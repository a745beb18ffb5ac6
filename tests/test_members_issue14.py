"""Issue 14, defect 12, the members page: a role changes after a confirmation and can be
undone; pending invitations can be revoked, resent, or given a new link to copy."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import AuditEntry, Invitation, Membership, Role


def _members(org):
    return reverse("accounts:members", kwargs={"org_slug": org.slug})


def _role_url(org, membership):
    return reverse("accounts:member_role", kwargs={"org_slug": org.slug, "pk": membership.pk})


def test_role_select_no_longer_submits_on_change(org, admin_user, member, as_user):
    html = as_user(admin_user).get(_members(org)).content.decode()
    assert "data-autosubmit" not in html[html.index("<table"):html.index("</table>")]
    # The confirmation (static/js/members.js) reads who and what from the form.
    assert 'class="inline role-form" data-person="Mia Member" data-current="Member"' in html
    assert 'src="/static/js/members.js"' in html


def test_role_change_can_be_undone_once(org, admin_user, member, as_user):
    client = as_user(admin_user)
    ms = Membership.objects.get(user=member, organization=org)
    page = client.post(_role_url(org, ms), {"role": Role.LEADER}, follow=True).content.decode()
    ms.refresh_from_db()
    assert ms.role == Role.LEADER
    assert "Mia Member is now leader." in page
    assert "Undo: make Mia Member member again" in page
    assert 'name="role" value="member"' in page
    # Shown once: a reload does not offer it again.
    assert "Undo:" not in client.get(_members(org)).content.decode()
    page = client.post(_role_url(org, ms), {"role": Role.MEMBER, "undo": "1"},
                       follow=True).content.decode()
    ms.refresh_from_db()
    assert ms.role == Role.MEMBER
    assert "Undone: Mia Member is member again." in page and "Undo:" not in page
    assert AuditEntry.objects.filter(action="role_changed", object_id=str(ms.pk)).count() == 2


def test_undo_is_not_offered_when_the_role_changed_again(org, admin_user, member, as_user):
    client = as_user(admin_user)
    ms = Membership.objects.get(user=member, organization=org)
    client.post(_role_url(org, ms), {"role": Role.LEADER})
    Membership.objects.filter(pk=ms.pk).update(role=Role.VIEWER)  # someone else, meanwhile
    assert "Undo:" not in client.get(_members(org)).content.decode()


def test_a_refused_role_change_offers_no_undo(org, admin_user, owner, as_user):
    client = as_user(admin_user)
    ms = Membership.objects.get(user=owner, organization=org)
    page = client.post(_role_url(org, ms), {"role": Role.MEMBER}, follow=True).content.decode()
    assert "Only an owner can grant or take away" in page and "Undo:" not in page
    ms.refresh_from_db()
    assert ms.role == Role.OWNER


def _invite(org, admin_user, role=Role.MEMBER):
    return services.invitation_create(organization=org, email="new@example.com", role=role,
                                      invited_by=admin_user)


def _action(org, name, invitation):
    return reverse(f"accounts:invitation_{name}", kwargs={"org_slug": org.slug,
                                                          "pk": invitation.pk})


def _follow(client, raw):
    return client.get(reverse("accounts:invitation", kwargs={"token": raw}))


def test_revoke_stops_the_link(org, admin_user, as_user, client):
    invitation, raw = _invite(org, admin_user)
    page = as_user(admin_user).post(_action(org, "revoke", invitation),
                                    follow=True).content.decode()
    assert "Invitation for new@example.com revoked: its link no longer works." in page
    assert f'id="invitation-{invitation.pk}"' not in page  # no longer listed as pending
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    response = _follow(client, raw)
    assert response.status_code == 410 and "withdrawn" in response.content.decode()
    # Revoking twice says so, and changes nothing.
    page = as_user(admin_user).post(_action(org, "revoke", invitation),
                                    follow=True).content.decode()
    assert "was revoked" in page


def test_resend_mails_a_new_link_and_the_old_one_stops(org, admin_user, as_user, client,
                                                      django_capture_on_commit_callbacks):
    invitation, old_raw = _invite(org, admin_user)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(hours=1))  # expired: resending renews it
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        page = as_user(admin_user).post(_action(org, "resend", invitation),
                                        follow=True).content.decode()
    assert "Invitation sent again to new@example.com" in page
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    new_raw = mail.outbox[0].body.split("/accounts/invitation/")[1].split("/")[0]
    assert new_raw != old_raw
    assert _follow(client, old_raw).status_code == 410
    assert "Join Acme" in _follow(client, new_raw).content.decode()
    invitation.refresh_from_db()
    assert invitation.expires_at > timezone.now() + dt.timedelta(days=6)


def test_new_link_is_shown_once_to_copy_and_works(org, admin_user, as_user, client):
    invitation, old_raw = _invite(org, admin_user)
    admin_client = as_user(admin_user)
    mail.outbox.clear()
    page = admin_client.post(_action(org, "link", invitation), follow=True).content.decode()
    assert "copy it now, it is shown only once" in page
    start = page.index(f'id="link-{invitation.pk}"')
    url = page[start:].split('value="')[1].split('"')[0]
    assert "/accounts/invitation/" in url and 'data-copy="#link-' in page
    assert not mail.outbox  # nothing is sent: the admin passes it on
    raw = url.rstrip("/").rsplit("/", 1)[1]
    assert "Join Acme" in _follow(client, raw).content.decode()
    assert _follow(client, old_raw).status_code == 410
    assert url not in admin_client.get(_members(org)).content.decode()  # shown once


def test_only_an_owner_manages_an_admins_invitation(org, owner, admin_user, as_user):
    invitation, _ = services.invitation_create(organization=org, email="boss@example.com",
                                               role=Role.ADMIN, invited_by=owner)
    page = as_user(admin_user).post(_action(org, "revoke", invitation),
                                    follow=True).content.decode()
    assert "Only an owner can manage an invitation for an admin or owner." in page
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    as_user(owner).post(_action(org, "revoke", invitation))
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_an_accepted_invitation_cannot_be_renewed(org, admin_user, as_user, outsider):
    invitation, raw = _invite(org, admin_user)
    Invitation.objects.filter(pk=invitation.pk).update(email=outsider.email)
    services.invitation_accept(raw_token=raw, user=outsider)
    page = as_user(admin_user).post(_action(org, "link", invitation),
                                    follow=True).content.decode()
    assert "has already been accepted" in page


def test_members_may_not_touch_invitations(org, admin_user, member, as_user):
    invitation, _ = _invite(org, admin_user)
    for name in ("revoke", "resend", "link"):
        assert as_user(member).post(_action(org, name, invitation)).status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
