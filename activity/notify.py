"""The inbox's consumers of outbox events: mentions, replies and disabled webhooks become
inbox entries and e-mails, each as the person chose (activity.preferences).

Each handler re-reads what it needs inside the event's organisation and only ever addresses
people who are members of it at that moment. Entries carry the event id under a unique key
(person, event, kind), so a handler run again after a crash adds nothing twice.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Membership, Organization, Role
from activity import mail
from activity.comments import find_target
from activity.models import Comment, MailSend, Notification
from activity.preferences import Kind, choices_of_many
from activity.registry import consumer

logger = logging.getLogger(__name__)


def _members(organization_id: int, user_ids) -> list:
    """The given people who are (still) active members of the organisation, with users."""
    return [m.user for m in Membership.objects.filter(
        organization_id=organization_id, user_id__in=list(user_ids), suspended_at__isnull=True,
        user__is_active=True).select_related("user")]


def _deliver(*, event, org: Organization, kind: str, users: list, comment: Comment | None,
             text: str, url: str, send_mail) -> None:
    if not users:
        return
    prefs = choices_of_many([u.pk for u in users], org.pk, kind)
    Notification.objects.bulk_create(
        [Notification(organization=org, user=u, kind=kind, event_id=event.id, comment=comment,
                      text=text[:300], url=url[:300]) for u in users if prefs[u.pk][0]],
        ignore_conflicts=True)
    for user in users:
        if prefs[user.pk][1]:
            send_once(event_id=event.id, user=user, kind=kind, send=send_mail)


def send_once(*, event_id, user, kind: str, send) -> bool:
    """Send one person's e-mail for one event at most once, whatever the retries.

    The claim (a ``MailSend`` row, unique on event × person × kind) is committed before the
    send and marked sent after it. A handler run again — a retry after another recipient's
    failure, or after a worker was killed — finds the claim and sends nothing. A send that
    raised is known not to have gone: its claim is released so the retry sends it. A worker
    killed between the claim and the mark leaves a claim without ``sent_at``: that e-mail may
    be lost, never doubled (the inbox entry, written before, still tells the person)."""
    try:
        with transaction.atomic():  # its own savepoint: a conflict leaves the caller usable
            MailSend.objects.create(event_id=event_id, user=user, kind=kind)
    except IntegrityError:  # claimed before: sent, or cut mid-send (not repeated)
        return False
    try:
        send(user)
    except Exception:
        MailSend.objects.filter(event_id=event_id, user=user, kind=kind,
                                sent_at__isnull=True).delete()
        raise
    MailSend.objects.filter(event_id=event_id, user=user, kind=kind).update(
        sent_at=timezone.now())
    return True


def _comment_and_target(event):
    org = Organization.objects.filter(pk=event.organization_id).first()
    comment = (Comment.objects.filter(organization_id=event.organization_id,
                                      pk=event.data.get("comment_id"), deleted_at__isnull=True)
               .select_related("author").first())
    if org is None or comment is None:
        return None, None, None
    try:
        target = find_target(org, comment.target_kind, comment.target_id)
    except Exception:  # the target was deleted meanwhile: nothing to point at
        return None, None, None
    return org, comment, target


@consumer("comment.mentioned")
def notify_mentioned(event) -> None:
    org, comment, target = _comment_and_target(event)
    if comment is None:
        return
    users = [u for u in _members(org.pk, event.data.get("mentioned_user_ids") or [])
             if u.pk != comment.author_id]
    who = comment.author.display_name if comment.author else "Someone"
    _deliver(event=event, org=org, kind=Kind.MENTION, users=users, comment=comment,
             text=f"{who} mentioned you on {target.title}", url=target.url,
             send_mail=lambda user: mail.send_mention(org=org, comment=comment, target=target,
                                                      user=user))


@consumer("comment.created")
def notify_replied(event) -> None:
    """Everyone who wrote in the thread before (not the author, not those mentioned in this
    comment: they are told by the mention) is told of the reply."""
    org, comment, target = _comment_and_target(event)
    if comment is None:
        return
    earlier = set(Comment.objects.filter(
        organization=org, target_kind=comment.target_kind, target_id=comment.target_id,
        created_at__lte=comment.created_at, deleted_at__isnull=True, author__isnull=False)
        .exclude(pk=comment.pk).values_list("author_id", flat=True))
    earlier -= {comment.author_id, *(event.data.get("mentioned_user_ids") or [])}
    users = _members(org.pk, earlier)
    who = comment.author.display_name if comment.author else "Someone"
    _deliver(event=event, org=org, kind=Kind.REPLY, users=users, comment=comment,
             text=f"{who} replied on {target.title}", url=target.url,
             send_mail=lambda user: mail.send_reply(org=org, comment=comment, target=target,
                                                    user=user))


@consumer("webhook.disabled")
def notify_webhook_disabled(event) -> None:
    """The organisation's admins and owners are told that a webhook (or chat connection) was
    switched off after a run of failures."""
    org = Organization.objects.filter(pk=event.organization_id).first()
    if org is None:
        return
    admins = [m.user for m in Membership.objects.filter(
        organization=org, role__in=[Role.ADMIN, Role.OWNER], suspended_at__isnull=True,
        user__is_active=True).select_related("user")]
    data = event.data or {}
    name = str(data.get("name") or "")[:120]
    # The disabled subscription's or connection's own page (its log, the switch to enable it).
    page = "activity:chat" if data.get("destination") == "chat" else "activity:webhook"
    try:
        url = reverse(page, kwargs={"org_slug": org.slug, "pk": int(data["id"])})
    except (KeyError, TypeError, ValueError, NoReverseMatch):
        url = reverse("activity:integrations", kwargs={"org_slug": org.slug})
    what = "The chat connection" if data.get("destination") == "chat" else "The webhook"
    text = (f"{what} {name} was disabled after repeated failures" if name
            else f"{what} was disabled after repeated failures")
    if data.get("reason"):
        text += f": {data['reason']}"
    _deliver(event=event, org=org, kind=Kind.WEBHOOK_DISABLED, users=admins, comment=None,
             text=text, url=url,
             send_mail=lambda user: mail.send_notice(org=org, user=user, text=text, url=url))
