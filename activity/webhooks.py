"""Outgoing webhooks signed by the Standard Webhooks specification.

Each try POSTs ``{"type": <kind>, "timestamp": <event time, ISO 8601>, "data": {...}}`` with the
headers ``webhook-id`` (the event id: the same on every try, receivers de-duplicate on it),
``webhook-timestamp`` (this try's Unix time) and ``webhook-signature`` ("v1,<base64 HMAC-SHA256
of id.timestamp.body>", one per signing secret, space-separated — during a rotation's grace
period both the new and the previous secret sign). Receivers verify with
``standardwebhooks.Webhook(secret).verify(body, headers)``.

Services for the subscription pages live here too: create, update, rotate, enable/disable.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets as random
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from activity.models import Delivery, WebhookSubscription
from core import secrets
from core.events import PUBLIC_KINDS
from core.models import OutboxEvent
from core.outbound import OutboundError, check_url, post

TIMEOUT_SECONDS = 10.0
# After a rotation the previous secret keeps signing (a second signature) this long, so
# receivers can switch to the new one without missing a delivery.
ROTATION_GRACE = dt.timedelta(hours=24)
URL_MAX_LENGTH = 2000
DESCRIPTION_MAX_LENGTH = 200


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(random.token_bytes(32)).decode()


def subscriptions_for(event: OutboxEvent) -> list[WebhookSubscription]:
    if event.kind not in PUBLIC_KINDS:
        return []  # internal kinds never leave Headway by webhook
    return [sub for sub in WebhookSubscription.objects.filter(
        organization_id=event.organization_id, enabled=True).order_by("id")
        if event.kind in (sub.events or [])]


def body_of(event: OutboxEvent) -> str:
    return json.dumps({"type": event.kind, "timestamp": event.created_at.isoformat(),
                       "data": event.data}, cls=DjangoJSONEncoder, separators=(",", ":"),
                      ensure_ascii=False)


def signed_headers(subscription: WebhookSubscription, msg_id: str, body: str,
                   now: dt.datetime | None = None) -> dict[str, str]:
    now = now or timezone.now()
    signatures = [Webhook(secret).sign(msg_id, now, body)
                  for secret in subscription.signing_secrets(now)]
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": " ".join(signatures), "content-type": "application/json"}


def send(delivery: Delivery):
    subscription, event = delivery.subscription, delivery.event
    body = body_of(event)
    headers = signed_headers(subscription, str(event.id), body)
    return post(subscription.url, body.encode(), headers=headers, timeout=TIMEOUT_SECONDS)


# --- Services for the pages --------------------------------------------------------------------

def clean_url(raw) -> str:
    return clean_outbound_url(raw, empty="Enter the URL to send events to.",
                              scheme="Only http:// and https:// URLs can receive events.")


def clean_outbound_url(raw, *, empty: str, scheme: str) -> str:
    """The one check of a URL Headway will post to (webhooks, Slack and Teams): the
    page's words for an empty URL and a wrong scheme, then the SSRF guard."""
    url = str(raw or "").strip()
    if "\x00" in url:
        raise ValidationError("The URL contains a NUL character.")
    if not url:
        raise ValidationError(empty)
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError(f"The URL is longer than {URL_MAX_LENGTH} characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValidationError(scheme)
    if not parts.hostname:
        raise ValidationError("The URL has no host.")
    if parts.username or parts.password:
        raise ValidationError("Put no user name or password in the URL.")
    try:
        check_url(url)
    except (OutboundError, ValueError) as exc:
        raise ValidationError(str(exc))
    return url


def clean_events(raw) -> list[str]:
    chosen = [str(kind) for kind in (raw or [])]
    unknown = [kind for kind in chosen if kind not in PUBLIC_KINDS]
    if unknown:
        raise ValidationError("Unknown event: " + ", ".join(k[:60] for k in unknown[:3]) + ".")
    if not chosen:
        raise ValidationError("Choose at least one event.")
    return [kind for kind in PUBLIC_KINDS if kind in chosen]


def clean_description(raw) -> str:
    text = str(raw or "").strip()
    if "\x00" in text:
        raise ValidationError("The description contains a NUL character.")
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(f"Keep the description under {DESCRIPTION_MAX_LENGTH} characters.")
    return text


@transaction.atomic
def subscription_create(*, organization, actor, url: str, events: list[str],
                        description: str = "") -> tuple[WebhookSubscription, str]:
    """The new subscription and its secret (shown once, stored encrypted)."""
    secret = new_secret()
    sub = WebhookSubscription.objects.create(
        organization=organization, url=url, events=events, description=description,
        secret_encrypted=secrets.encrypt(secret), created_by=actor)
    return sub, secret


@transaction.atomic
def subscription_update(*, subscription: WebhookSubscription, url: str, events: list[str],
                        description: str) -> WebhookSubscription:
    sub = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    sub.url, sub.events, sub.description = url, events, description
    sub.save(update_fields=["url", "events", "description"])
    return sub


@transaction.atomic
def subscription_rotate(*, subscription: WebhookSubscription) -> tuple[WebhookSubscription, str]:
    """A new secret (returned once). The one it replaces keeps signing for ROTATION_GRACE.
    Two rotations at once are serialised by the row lock: each returns the secret it set,
    and the later one's grace secret is the earlier one's."""
    sub = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    secret = new_secret()
    sub.previous_secret_encrypted = sub.secret_encrypted
    sub.previous_secret_until = timezone.now() + ROTATION_GRACE
    sub.secret_encrypted = secrets.encrypt(secret)
    sub.save(update_fields=["previous_secret_encrypted", "previous_secret_until",
                            "secret_encrypted"])
    return sub, secret


@transaction.atomic
def subscription_set_enabled(*, subscription: WebhookSubscription, enabled: bool):
    sub = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    sub.enabled = enabled
    if enabled:
        sub.disabled_reason, sub.consecutive_failures = "", 0
    else:
        sub.disabled_reason = "Disabled by an administrator."
    sub.save(update_fields=["enabled", "disabled_reason", "consecutive_failures"])
    return sub
