"""Invitations addressed to the person are inbox entries (issue 18): pending ones to their
address, to organisations they are not in, in each of their inboxes; the action e-mails a
fresh link to the invited address (the inbox never accepts by itself: account addresses are
not verified, the link is the mailbox's proof); someone else's invitation is a 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from accounts.models import AuditEntry, Invitation, Role
from tests.conftest import url
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def invite(org, email, role=Role.MEMBER, days=7, inviter=None, **fields):
    return Invitation.objects.create(organization=org, email=email, role=role,
                                     token_hash=Invitation.new_token()[1], invited_by=inviter,
                                     expires_at=timezone.now() + dt.timedelta(days=days),
                                     **fields)


def test_pending_invitations_to_me_are_listed_with_their_action(as_user, org, member):
    globex = OrganizationFactory(name="Globex")
    olivia = UserFactory(name="Olivia Owner")
    pending = invite(globex, member.email.upper(), role=Role.LEADER, inviter=olivia)
    invite(OrganizationFactory(name="Gone"), member.email, days=-1)           # expired
    invite(OrganizationFactory(name="Withdrawn"), member.email, revoked_at=timezone.now())
    invite(OrganizationFactory(name="Other person"), "someone@example.com")
    invite(org, member.email)  # to an organisation they are already in
    client = as_user(member)
    html = client.get(url("activity:inbox")).content.decode()
    assert "Olivia Owner invited you to join Globex as leader" in html
    for name in ("Gone", "Withdrawn", "Other person"):
        assert name not in html
    assert html.count("invited you to join") == 1
    send = url("activity:invitation_send", pk=pending.pk)
    assert send in html and "Send me the link again" in html


def test_send_me_the_link_again_mails_a_fresh_link_once_per_gap(as_user, org, member):
    globex = OrganizationFactory(name="Globex")
    inv = invite(globex, member.email)
    # Made an hour ago (the gap has passed).
    Invitation.objects.filter(pk=inv.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=7, hours=-1))
    old_hash = Invitation.objects.get(pk=inv.pk).token_hash
    client = as_user(member)
    send = url("activity:invitation_send", pk=inv.pk)
    assert client.get(send).status_code == 405
    with TestCase.captureOnCommitCallbacks(execute=True):
        page = client.post(send, follow=True).content.decode()
    assert "A new link to join Globex was sent" in page
    [message] = mail.outbox
    assert message.to == [member.email] and "/accounts/invitation/" in message.body
    inv.refresh_from_db()
    assert inv.token_hash != old_hash and inv.accepted_at is None  # not accepted by itself
    assert AuditEntry.objects.filter(organization=globex,
                                     action="invitation link sent to the invitee").exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        again = client.post(send, follow=True).content.decode()
    assert "sent a few minutes ago" in again and len(mail.outbox) == 1


def test_someone_elses_invitation_is_404(as_user, org, member, member_of):
    theirs = invite(OrganizationFactory(), "someone@example.com")
    assert as_user(member).post(url("activity:invitation_send", pk=theirs.pk)).status_code == 404
    accepted = invite(OrganizationFactory(), member.email, accepted_at=timezone.now())
    assert as_user(member).post(url("activity:invitation_send", pk=accepted.pk)).status_code == 404
    assert not mail.outbox


def test_a_viewer_sees_and_may_use_their_own(as_user, org, viewer):
    inv = invite(OrganizationFactory(name="Globex"), viewer.email)
    Invitation.objects.filter(pk=inv.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=6))
    client = as_user(viewer)
    assert "invited you to join Globex" in client.get(url("activity:inbox")).content.decode()
    assert client.post(url("activity:invitation_send", pk=inv.pk)).status_code == 302
