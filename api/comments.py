"""The comment endpoints: the threads on objectives, key results, KPIs and KPI data points.

The pages' rule (issue 18): every member of the organisation, viewers included, reads and
writes comments; only its author changes or deletes a comment, within 15 minutes of writing
it. Writes go through activity.comments (the same text rules, the same ``@`` mentions, which
notify, the same audit entries). A target of another organisation is a 404, like a missing one.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from accounts.access import get_in_org
from activity import comments as svc
from activity.models import COMMENT_MAX_LENGTH, Comment

from .errors import documented
from .idempotency import KEY_HEADER, run_once
from .pagination import PageIn, page_of, paginate
from .schemas import MAX_ID, Text, id_path

router = Router(tags=["comments"])

_ID = {"ge": 1, "le": MAX_ID}
# The query parameter (and the body's `target`) → the stored target kind.
TARGETS = {"objective": Comment.Target.OBJECTIVE, "key_result": Comment.Target.KEY_RESULT,
           "kpi": Comment.Target.KPI, "point": Comment.Target.DATA_POINT}


class CommentOut(Schema):
    id: int
    target: Literal[*TARGETS]
    target_id: int
    author_id: int | None
    author: str | None = Field(..., description="The author's e-mail (null once they left)")
    text: str
    mentioned_user_ids: list[int]
    created_at: dt.datetime
    edited_at: dt.datetime | None
    can_change: bool = Field(..., description="Whether you may still edit or delete it "
                                              "(its author, within 15 minutes)")


class CommentFilters(PageIn):
    objective: int | None = Field(None, **_ID, description="An objective's thread")
    key_result: int | None = Field(None, **_ID, description="A key result's thread")
    kpi: int | None = Field(None, **_ID, description="A KPI's thread")
    point: int | None = Field(None, **_ID, description="A KPI data point's thread")


class CommentIn(Schema):
    target: Literal[*TARGETS] = Field(..., description="What the comment is on")
    target_id: int = Field(..., **_ID)
    text: Text(COMMENT_MAX_LENGTH, min_length=1) = Field(
        ..., description="Plain text; name members with @ and their name or e-mail, as on "
                         "the pages (they are notified)")


class CommentPatch(Schema):
    text: Text(COMMENT_MAX_LENGTH, min_length=1)


_KIND_NAME = {kind: name for name, kind in TARGETS.items()}


def _out(c: Comment, user, now: dt.datetime) -> dict:
    return {
        "id": c.pk, "target": _KIND_NAME[c.target_kind], "target_id": c.target_id,
        "author_id": c.author_id, "author": c.author.email if c.author_id else None,
        "text": c.body, "mentioned_user_ids": sorted(m.user_id for m in c.mentions.all()),
        "created_at": c.created_at, "edited_at": c.edited_at,
        "can_change": svc.can_change(c, user, now),
    }


def _comments(request):
    return (Comment.objects.filter(organization=request.org, deleted_at__isnull=True)
            .select_related("author").prefetch_related("mentions"))


def _one(request, comment_id: int) -> dict:
    return _out(get_in_org(request, _comments(request), pk=comment_id), request.user,
                timezone.now())


@router.get("/comments", response=documented({200: page_of(CommentOut)}, 404),
            summary="A thread's comments (paged, newest last; name one target: objective, "
                    "key_result, kpi or point)",
            operation_id="list_comments")
def list_comments(request, filters: Query[CommentFilters]):
    chosen = [(name, getattr(filters, name)) for name in TARGETS
              if getattr(filters, name) is not None]
    if len(chosen) != 1:
        raise ValidationError({"objective": [
            "Name one target: objective, key_result, kpi or point (exactly one)."]})
    name, pk = chosen[0]
    target = svc.find_target(request.org, TARGETS[name], pk)  # 404 when foreign or missing
    qs = _comments(request).filter(target_kind=target.kind, target_id=target.id
                                   ).order_by("created_at", "id")
    now = timezone.now()
    return paginate(request, qs, filters, lambda c: _out(c, request.user, now))


@router.get("/comments/{comment_id}", response=documented({200: CommentOut}, 404),
            summary="One comment", operation_id="get_comment")
def get_comment(request, comment_id: int = id_path()):
    return _one(request, comment_id)


@router.post("/comments", response=documented({201: CommentOut}, 400, 403, 404, 413),
             summary="Comment on an objective, a key result, a KPI or a data point (every "
                     "role, viewers too; @mentions notify)",
             operation_id="create_comment")
def create_comment(request, payload: CommentIn, idempotency_key: str | None = KEY_HEADER):
    return run_once(request, idempotency_key, lambda: _create(request, payload))


def _create(request, payload: CommentIn):
    target = svc.find_target(request.org, TARGETS[payload.target], payload.target_id)
    try:
        comment = svc.comment_create(organization=request.org, target=target,
                                     author=request.user, body=payload.text)
    except ValidationError as exc:
        raise ValidationError({"text": exc.messages}) from None
    return Status(201, _one(request, comment.pk))


def _own(request, comment_id: int) -> Comment:
    """The caller's comment while they may change it: another's is 403, too late is 409."""
    comment = get_in_org(request, Comment.objects.filter(deleted_at__isnull=True),
                         pk=comment_id)
    if comment.author_id is None or comment.author_id != request.user.pk:
        raise PermissionDenied("Only its author can change a comment.")
    if not svc.can_change(comment, request.user):
        raise HttpError(409, "A comment can be changed only within 15 minutes of writing it.")
    return comment


@router.patch("/comments/{comment_id}",
              response=documented({200: CommentOut}, 400, 403, 404, 409, 413),
              summary="Change your comment's text (its author, within 15 minutes)",
              operation_id="update_comment")
def update_comment(request, payload: CommentPatch, comment_id: int = id_path()):
    comment = _own(request, comment_id)
    try:
        svc.comment_edit(comment=comment, user=request.user, body=payload.text)
    except ValidationError as exc:
        raise ValidationError({"text": exc.messages}) from None
    return _one(request, comment_id)


@router.delete("/comments/{comment_id}", response=documented({204: None}, 403, 404, 409),
               summary="Delete your comment (its author, within 15 minutes)",
               operation_id="delete_comment")
def delete_comment(request, comment_id: int = id_path()):
    comment = _own(request, comment_id)
    svc.comment_delete(comment=comment, user=request.user)
    return Status(204, None)

