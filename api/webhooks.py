"""The webhook subscription endpoints: what the integrations page does, for admins' tokens.

Owners and admins only, like the page (another role: 403, before any lookup). The URL, the
events and the description are checked by the page's own functions (activity.webhooks: the
outbound guard refuses private and loopback addresses); writes are audited as on the page.
The signing secret is never read back: it is in the answer of the create and of a rotation,
once. A subscription has no version: an update is last-write-wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from accounts.access import get_in_org, has_role
from accounts.audit import audit_record
from accounts.models import Role
from activity import webhooks as svc
from activity.models import DeliveryAttempt, WebhookSubscription
from core.events import PUBLIC_KINDS

from .errors import documented
from .pagination import PageIn, page_of, paginate
from .schemas import Text, id_path

router = Router(tags=["webhook subscriptions"])

EventKind = Literal[*PUBLIC_KINDS]
# The services' bounds, declared; the services still give the message a person can act on.
_URL = Text(svc.URL_MAX_LENGTH, min_length=1)
_DESCRIPTION = Text(svc.DESCRIPTION_MAX_LENGTH)


class SubscriptionOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str
    consecutive_failures: int
    created_at: dt.datetime
    previous_secret_until: dt.datetime | None = Field(
        ..., description="After a rotation the previous secret keeps signing until then")


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(..., description="The signing secret (Standard Webhooks, whsec_…): "
                                         "shown only in this answer, store it now")


class SubscriptionIn(Schema):
    url: _URL
    events: list[EventKind] = Field(..., min_length=1, max_length=len(PUBLIC_KINDS))
    description: _DESCRIPTION = ""


class SubscriptionPatch(Schema):
    url: _URL | None = None
    events: list[EventKind] | None = Field(None, min_length=1, max_length=len(PUBLIC_KINDS))
    description: _DESCRIPTION | None = None
    enabled: bool | None = None


class DeliveryOut(Schema):
    id: int
    at: dt.datetime
    event_id: str
    event: str
    attempt: int
    ok: bool
    status_code: int | None
    response_head: str
    error: str
    duration_ms: int


def _out(sub: WebhookSubscription) -> dict:
    return {
        "id": sub.pk, "url": sub.url, "description": sub.description,
        "events": list(sub.events or []), "enabled": sub.enabled,
        "disabled_reason": sub.disabled_reason,
        "consecutive_failures": sub.consecutive_failures, "created_at": sub.created_at,
        "previous_secret_until": sub.previous_secret_until if (
            sub.previous_secret_encrypted and sub.previous_secret_until
            and sub.previous_secret_until > timezone.now()) else None,  # no decryption
    }


def _admin(request) -> None:
    if not has_role(request, Role.ADMIN):
        raise PermissionDenied("Webhook subscriptions are for owners and admins.")


def _sub(request, webhook_id: int) -> WebhookSubscription:
    _admin(request)
    return get_in_org(request, WebhookSubscription, pk=webhook_id)


def _clean(field: str, clean: Callable, value):
    try:
        return clean(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def _cleaned(payload: Schema, fields=("url", "events", "description")) -> dict:
    cleaners = {"url": svc.clean_url, "events": svc.clean_events,
                "description": svc.clean_description}
    return {f: _clean(f, cleaners[f], getattr(payload, f)) for f in fields
            if getattr(payload, f) is not None}


@router.get("/webhook-subscriptions",
            response=documented({200: page_of(SubscriptionOut)}, 403),
            summary="List the webhook subscriptions (admins; paged, oldest first)",
            operation_id="list_webhook_subscriptions")
def list_subscriptions(request, paging: Query[PageIn]):
    _admin(request)
    qs = WebhookSubscription.objects.filter(organization=request.org).order_by("id")
    return paginate(request, qs, paging, _out)


@router.get("/webhook-subscriptions/{webhook_id}",
            response=documented({200: SubscriptionOut}, 403, 404),
            summary="One webhook subscription (never its secret)",
            operation_id="get_webhook_subscription")
def get_subscription(request, webhook_id: int = id_path()):
    return _out(_sub(request, webhook_id))


@router.post("/webhook-subscriptions",
             response=documented({201: SubscriptionWithSecret}, 400, 403, 413),
             summary="Subscribe a URL to events (admins); the answer holds the secret, once",
             operation_id="create_webhook_subscription")
def create_subscription(request, payload: SubscriptionIn):
    # No Idempotency-Key here: a replay would have to store the secret in clear.
    _admin(request)
    data = _cleaned(payload)
    sub, secret = svc.subscription_create(organization=request.org, actor=request.user,
                                          url=data["url"], events=data["events"],
                                          description=data.get("description", ""))
    audit_record(organization=request.org, actor=request.user, action="webhook created",
                 obj=sub, changes={"url": sub.url, "events": sub.events})
    return Status(201, {**_out(sub), "secret": secret})


@router.patch("/webhook-subscriptions/{webhook_id}",
              response=documented({200: SubscriptionOut}, 400, 403, 404, 413),
              summary="Change a subscription's URL, events, description or enabled "
                      "(admins; last write wins)",
              operation_id="update_webhook_subscription")
def update_subscription(request, payload: SubscriptionPatch, webhook_id: int = id_path()):
    sub = _sub(request, webhook_id)
    data = _cleaned(payload)
    changes = {k: v for k, v in data.items() if v != getattr(sub, k)}
    if changes:
        sub = svc.subscription_update(subscription=sub, **{
            k: data.get(k, getattr(sub, k)) for k in ("url", "events", "description")})
        audit_record(organization=request.org, actor=request.user, action="webhook updated",
                     obj=sub, changes=changes)
    if payload.enabled is not None and payload.enabled != sub.enabled:
        sub = svc.subscription_set_enabled(subscription=sub, enabled=payload.enabled)
        audit_record(organization=request.org, actor=request.user,
                     action="webhook enabled" if payload.enabled else "webhook disabled",
                     obj=sub)
    return _out(sub)


@router.delete("/webhook-subscriptions/{webhook_id}",
               response=documented({204: None}, 403, 404),
               summary="Delete a subscription and its delivery log (admins)",
               operation_id="delete_webhook_subscription")
def delete_subscription(request, webhook_id: int = id_path()):
    sub = _sub(request, webhook_id)
    audit_record(organization=request.org, actor=request.user, action="webhook deleted",
                 obj=sub, changes={"url": sub.url})
    sub.delete()
    return Status(204, None)


@router.post("/webhook-subscriptions/{webhook_id}/rotate-secret",
             response=documented({200: SubscriptionWithSecret}, 403, 404),
             summary="A new signing secret (admins), in this answer only; the previous one "
                     "keeps signing for 24 hours",
             operation_id="rotate_webhook_secret")
def rotate_secret(request, webhook_id: int = id_path()):
    sub = _sub(request, webhook_id)
    sub, secret = svc.subscription_rotate(subscription=sub)
    audit_record(organization=request.org, actor=request.user, action="webhook secret rotated",
                 obj=sub)
    return {**_out(sub), "secret": secret}


def _attempt(a: DeliveryAttempt) -> dict:
    return {"id": a.pk, "at": a.at, "event_id": str(a.delivery.event_id),
            "event": a.delivery.event.kind, "attempt": a.number, "ok": a.ok,
            "status_code": a.status_code, "response_head": a.response_head, "error": a.error,
            "duration_ms": a.duration_ms}


@router.get("/webhook-subscriptions/{webhook_id}/deliveries",
            response=documented({200: page_of(DeliveryOut)}, 403, 404),
            summary="A subscription's delivery log: every try, newest first (admins; paged)",
            operation_id="list_webhook_deliveries")
def list_deliveries(request, paging: Query[PageIn], webhook_id: int = id_path()):
    sub = _sub(request, webhook_id)
    qs = (DeliveryAttempt.objects.filter(delivery__subscription=sub)
          .select_related("delivery__event").order_by("-at", "-id"))
    return paginate(request, qs, paging, _attempt)
