"""Comments: the writes (create, edit, delete) and the one place that finds a comment's target.

A comment's target (an objective, a key result, a KPI or one KPI data point) is always looked up
inside the organisation: a foreign or missing target is ``Http404`` for the views, so another
organisation's objects and missing ones look the same. The text is plain: it is stored as
typed and escaped when shown (links made clickable by ``render_body``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.template.defaultfilters import linebreaks_filter
from django.template.defaultfilters import urlize as urlize_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.audit import audit_record
from accounts.models import Organization
from activity.mentions import find_mentions, org_members
from activity.models import COMMENT_MAX_LENGTH, Comment, Mention
from core.events import emit
from kpis.models import DataPoint, Kpi
from okrs.models import KeyResult, Objective

EDIT_WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Target:
    kind: str
    id: int
    title: str
    url: str
    organization_id: int


def _org_path(org: Organization, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def find_target(org: Organization, kind: str, pk) -> Target:
    """The commented object of `org` (one query), or Http404 (foreign, missing, deleted)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("Not found.") from None
    if kind == Comment.Target.OBJECTIVE:
        obj = Objective.objects.alive().filter(organization=org, pk=pk).only("title").first()
        if obj:
            return Target(kind, pk, obj.title, _org_path(org, "okrs:objective", pk=pk), org.pk)
    elif kind == Comment.Target.KEY_RESULT:
        kr = (KeyResult.objects.alive().filter(organization=org, pk=pk,
                                               objective__deleted_at__isnull=True)
              .only("title").first())
        if kr:
            return Target(kind, pk, kr.title, _org_path(org, "checkins:kr", pk=pk), org.pk)
    elif kind == Comment.Target.KPI:
        kpi = Kpi.objects.filter(organization=org, pk=pk).only("name").first()
        if kpi:
            return Target(kind, pk, kpi.name, _org_path(org, "kpis:detail", pk=pk), org.pk)
    elif kind == Comment.Target.DATA_POINT:
        point = (DataPoint.objects.filter(kpi__organization=org, pk=pk)
                 .select_related("kpi").only("period_start", "kpi__name", "kpi__frequency")
                 .first())
        if point:
            title = f"{point.kpi.name}, {point.period_start:%-d %b %Y}"
            url = _org_path(org, "kpis:detail", pk=point.kpi_id) + f"#point-{pk}"
            return Target(kind, pk, title, url, org.pk)
    raise Http404("Not found.")


def clean_body(body) -> str:
    """The comment's text, or ValidationError with a message a person can act on."""
    text = (body or "").strip() if isinstance(body, str) else ""
    if "\x00" in text:
        raise ValidationError("The text contains a NUL character (\\0), which cannot be stored: "
                              "remove it and send again.", code="nul")
    if not text:
        raise ValidationError("Write something first: the comment is empty.", code="required")
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            f"A comment can be at most {COMMENT_MAX_LENGTH:,} characters; this one has "
            f"{len(text):,}. Shorten it, or split it into several comments.", code="too_long")
    return text


def render_body(text: str) -> SafeString:
    """The comment as HTML: everything escaped, http(s) links and e-mail addresses clickable
    (rel nofollow), paragraphs and line breaks kept."""
    # Django's own filters: urlize escapes the text and marks it safe, linebreaks keeps it.
    return linebreaks_filter(urlize_filter(text, autoescape=True), autoescape=True)


def can_change(comment: Comment, user, now: dt.datetime | None = None) -> bool:
    """Its author, within 15 minutes of writing it, while it is not deleted."""
    now = now or timezone.now()
    return (comment.deleted_at is None and comment.author_id is not None
            and comment.author_id == user.pk and now - comment.created_at <= EDIT_WINDOW)


def _event_data(comment: Comment, target: Target, mentioned: list[int]) -> dict:
    return {"comment_id": comment.pk, "target_kind": target.kind, "target_id": target.id,
            "author_id": comment.author_id, "mentioned_user_ids": mentioned}


@transaction.atomic
def comment_create(*, organization: Organization, target: Target, author, body) -> Comment:
    """Store a comment and its mentions (members of the organisation only) and write the
    events ``comment.created`` and, when someone is named, ``comment.mentioned`` — the inbox
    entries and e-mails are made from them (activity.notify)."""
    if target.organization_id != organization.pk:
        raise Http404("Not found.")
    text = clean_body(body)
    comment = Comment.objects.create(organization=organization, target_kind=target.kind,
                                     target_id=target.id, author=author, body=text)
    mentioned = [uid for uid in find_mentions(text, org_members(organization.pk))
                 if uid != author.pk]
    Mention.objects.bulk_create([Mention(comment=comment, user_id=uid) for uid in mentioned])
    audit_record(organization=organization, actor=author, action="commented", obj=comment,
                 note=f"On {target.kind} {target.id}")
    emit(organization.pk, "comment.created", _event_data(comment, target, mentioned))
    if mentioned:
        emit(organization.pk, "comment.mentioned", _event_data(comment, target, mentioned))
    return comment


@transaction.atomic
def comment_edit(*, comment: Comment, user, body, now: dt.datetime | None = None) -> Comment:
    """The author changes their comment within 15 minutes; the old text stays in the audit
    trail. Newly named members are mentioned (and notified) once."""
    locked = Comment.objects.select_for_update().get(pk=comment.pk,
                                                     organization_id=comment.organization_id)
    if not can_change(locked, user, now):
        raise PermissionDenied("Only its author can change a comment, within 15 minutes.")
    text = clean_body(body)
    if text == locked.body:
        return locked
    old = locked.body
    locked.body = text
    locked.edited_at = now or timezone.now()
    locked.save(update_fields=["body", "edited_at"])
    audit_record(organization=locked.organization, actor=user, action="comment edited",
                 obj=locked, changes={"body": [old, text]})
    already = set(Mention.objects.filter(comment=locked).values_list("user_id", flat=True))
    new = [uid for uid in find_mentions(text, org_members(locked.organization_id))
           if uid != user.pk and uid not in already]
    if new:
        Mention.objects.bulk_create([Mention(comment=locked, user_id=uid) for uid in new])
        target = Target(locked.target_kind, locked.target_id, "", "", locked.organization_id)
        emit(locked.organization_id, "comment.mentioned", _event_data(locked, target, new))
    return locked


@transaction.atomic
def comment_delete(*, comment: Comment, user, now: dt.datetime | None = None) -> Comment:
    """The author removes their comment within 15 minutes: it is hidden from the thread and
    kept, with its text, in the audit trail."""
    locked = Comment.objects.select_for_update().get(pk=comment.pk,
                                                     organization_id=comment.organization_id)
    if not can_change(locked, user, now):
        raise PermissionDenied("Only its author can delete a comment, within 15 minutes.")
    locked.deleted_at = now or timezone.now()
    locked.save(update_fields=["deleted_at"])
    audit_record(organization=locked.organization, actor=user, action="comment deleted",
                 obj=locked, changes={"body": [locked.body, None]})
    return locked
