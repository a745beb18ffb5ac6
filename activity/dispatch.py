"""From the outbox to the destinations: fan-out, one try of a delivery, the sweep.

- ``dispatch(event_id)``: the event's destinations — the in-process consumers of its kind
  (``activity.registry``), the enabled webhook subscriptions of its organisation that chose it
  (public kinds only), the Slack/Teams connections that chose it — each become one ``Delivery``
  (unique on (event, destination): a second dispatch of the same event adds nothing), then each
  due delivery is queued.
- ``deliver(delivery_id)``: one try. The delivery is claimed under a row lock (status SENDING
  with a lease), sent outside any transaction, and the outcome recorded: SENT, or PENDING with
  the next try after ``RETRY_DELAYS``, or FAILED after the last try. The webhook-id is the
  event id on every try, so a receiver that saw a try already can tell.
- ``sweep()``: every minute (beat): dispatches events still undispatched (the broker was down
  at commit), and queues deliveries that are due — retries, and SENDING ones whose lease has
  passed (the worker was killed mid-send).

A failing destination never touches the write that caused the event: the write only inserted
the outbox row; everything here runs after its commit, in a worker (or, without REDIS_URL, in
process after the response's transaction, every error caught and logged).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from activity import chat, registry, webhooks
from activity.models import ChatConnection, Delivery, DeliveryAttempt, WebhookSubscription
from core.events import emit, send_after_commit
from core.models import OutboxEvent
from core.outbound import OutboundError

logger = logging.getLogger(__name__)

# Seconds to wait after try 1, 2, … : 6 tries, the last about 62 minutes after the first
# (0, 30 s, 2.5 min, 7.5 min, 22.5 min, 62.5 min), each within a minute of its time (the sweep).
RETRY_DELAYS = (30, 120, 300, 900, 2400)
# A claimed delivery is another worker's until then (longer than any send's timeout).
LEASE_SECONDS = 120
# Sweep: an event not dispatched this long after its creation is dispatched by the sweep.
SWEEP_GRACE_SECONDS = 10
# After a delivery gives up (all tries failed, about an hour) and at least this many tries in
# a row failed, the webhook or chat connection is disabled and the admins told.
DISABLE_AFTER_FAILURES = 6
RESPONSE_HEAD_CHARS = 500
UNKNOWN_NOTE = ("Outcome unknown: the worker stopped during the send, so the message may or may "
                "not have been posted. Not resent automatically (Slack and Teams cannot "
                "de-duplicate); resend it if the channel does not show it.")


def retry_delays() -> tuple[int, ...]:
    return tuple(getattr(settings, "HEADWAY_DELIVERY_RETRY_DELAYS", RETRY_DELAYS))


def max_tries() -> int:
    return len(retry_delays()) + 1


# --- Fan-out ---------------------------------------------------------------------------------

def _planned(event: OutboxEvent) -> list[Delivery]:
    base = {"event": event, "organization_id": event.organization_id}
    rows = [Delivery(destination=f"handler:{name}", **base)
            for name in sorted(registry.handlers_for(event.kind))]
    rows += [Delivery(destination=sub.destination, subscription=sub, **base)
             for sub in webhooks.subscriptions_for(event)]
    rows += [Delivery(destination=conn.destination, chat=conn, **base)
             for conn in chat.connections_for(event)]
    return rows


def dispatch(event_id) -> list[int]:
    """Create the event's deliveries (once) and queue the due ones; their ids."""
    now = timezone.now()
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            return []
        if event.dispatched_at is None:
            Delivery.objects.bulk_create(_planned(event), ignore_conflicts=True)
            event.dispatched_at = now
            event.save(update_fields=["dispatched_at"])
        due = list(Delivery.objects.filter(event=event, status=Delivery.PENDING,
                                           next_attempt_at__lte=timezone.now())
                   .order_by("id").values_list("id", flat=True))
    for delivery_id in due:
        _queue(delivery_id)
    return due


def _queue(delivery_id: int) -> None:
    if _eager() and eager_mode() == "thread":
        transaction.on_commit(lambda: _background().submit(_deliver_in_thread, delivery_id))
        return
    send_after_commit("activity.tasks.deliver", [(delivery_id,)])


# --- Without a broker (eager mode) ------------------------------------------------------------
# Without REDIS_URL every task runs in process, right after the commit of the write that
# caused it, i.e. inside that request. The fan-out (``dispatch``) only writes rows and stays
# there; the sends themselves go to a small pool of background threads
# (HEADWAY_EAGER_DELIVERY = "thread", the default), so a slow or failing receiver never
# slows the response. "inline" sends in the request (the test suite's choice: deterministic);
# each send is still bounded by its timeout (10 s). Retries need beat (`sweep_outbox`), i.e.
# a broker: without one a failed send stays in the log as "waiting to retry".

_pool = None
_pool_lock = __import__("threading").Lock()


def _eager() -> bool:
    from config.celery import app

    return bool(app.conf.task_always_eager)


def eager_mode() -> str:
    return getattr(settings, "HEADWAY_EAGER_DELIVERY", "thread")


def _background():
    global _pool
    with _pool_lock:
        if _pool is None:
            from concurrent.futures import ThreadPoolExecutor

            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="headway-delivery")
    return _pool


def _deliver_in_thread(delivery_id: int) -> str:
    from django.db import connections

    try:
        return deliver(delivery_id)
    except Exception:  # nothing to propagate to: logged, the delivery stays due
        logger.exception("Background delivery %s failed", delivery_id)
        return "error"
    finally:
        connections.close_all()  # this thread's own connections


# --- One try ---------------------------------------------------------------------------------

def _destination_enabled(delivery: Delivery) -> bool:
    if delivery.subscription_id:
        return delivery.subscription.enabled
    if delivery.chat_id:
        return delivery.chat.enabled
    return registry.handler(delivery.destination.removeprefix("handler:")) is not None


def _send(delivery: Delivery):
    """Send one try: a core.outbound.Response (webhooks, chat) or None (a handler ran)."""
    if delivery.subscription_id:
        return webhooks.send(delivery)
    if delivery.chat_id:
        return chat.send(delivery)
    func = registry.handler(delivery.destination.removeprefix("handler:"))
    func(delivery.event)
    return None


def _claim(delivery_id: int, now: dt.datetime) -> tuple[Delivery | None, DeliveryAttempt | None, str]:
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("event", "subscription", "chat")
                    .filter(pk=delivery_id).first())
        if delivery is None:
            return None, None, "locked or gone"
        if delivery.status in (Delivery.SENT, Delivery.FAILED, Delivery.CANCELLED,
                               Delivery.UNKNOWN):
            return None, None, delivery.status
        if delivery.status == Delivery.SENDING and delivery.lease_until and delivery.lease_until > now:
            return None, None, "held by another worker"
        if delivery.status == Delivery.SENDING and delivery.chat_id:
            # The worker that claimed this chat send died before recording its outcome: the
            # message may have been posted. Slack and Teams cannot de-duplicate, so it is not
            # resent by itself (at most once); the log offers a resend by hand.
            delivery.status = Delivery.UNKNOWN
            delivery.lease_until = None
            delivery.last_error = UNKNOWN_NOTE
            delivery.save(update_fields=["status", "lease_until", "last_error"])
            DeliveryAttempt.objects.filter(delivery=delivery, number=delivery.attempts,
                                           ok=False, status_code__isnull=True).update(
                error=UNKNOWN_NOTE)
            return None, None, Delivery.UNKNOWN
        if delivery.status == Delivery.PENDING and delivery.next_attempt_at > now:
            return None, None, "not due"
        if not _destination_enabled(delivery):
            delivery.status = Delivery.CANCELLED
            delivery.last_error = "The destination was disabled or removed."
            delivery.lease_until = None
            delivery.save(update_fields=["status", "last_error", "lease_until"])
            return None, None, Delivery.CANCELLED
        delivery.attempts += 1
        delivery.status = Delivery.SENDING
        delivery.lease_until = now + dt.timedelta(seconds=LEASE_SECONDS)
        delivery.save(update_fields=["attempts", "status", "lease_until"])
        # Written before the send: a worker killed mid-send leaves this row, so the log shows
        # the try that has no answer.
        attempt = DeliveryAttempt.objects.create(
            delivery=delivery, number=delivery.attempts, at=now,
            error="No answer recorded (the worker stopped during the send).")
    return delivery, attempt, "claimed"


def deliver(delivery_id: int) -> str:
    """One try of one delivery; what happened, in a word or two."""
    now = timezone.now()
    delivery, attempt, state = _claim(delivery_id, now)
    if delivery is None:
        return state
    started = time.monotonic()
    status_code, head, error, ok = None, "", "", False
    try:
        response = _send(delivery)
        if response is None:
            ok = True
        else:
            status_code = response.status
            head = response.body[:RESPONSE_HEAD_CHARS * 2].decode("utf-8", "replace")
            ok = 200 <= response.status < 300
            if not ok:
                error = f"The receiver answered {response.status}."
    except OutboundError as exc:
        error = str(exc)
    except Exception as exc:  # a handler's bug or anything else: logged, retried
        logger.exception("Delivery %s to %s failed", delivery.pk, delivery.destination)
        error = f"{type(exc).__name__}: {exc}"
    _record(delivery, attempt, ok=ok, status_code=status_code, head=head, error=error,
            duration_ms=int((time.monotonic() - started) * 1000))
    return Delivery.SENT if ok else "failed try"


def _clean(text: str, limit: int) -> str:
    return text.replace("\x00", "")[:limit]


def _record(delivery: Delivery, attempt: DeliveryAttempt, *, ok: bool, status_code, head: str,
            error: str, duration_ms: int) -> None:
    now = timezone.now()
    head, error = _clean(head, RESPONSE_HEAD_CHARS), _clean(error, 500)
    target_model = (WebhookSubscription if delivery.subscription_id
                    else ChatConnection if delivery.chat_id else None)
    target_id = delivery.subscription_id or delivery.chat_id
    disabled = None
    with transaction.atomic():
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(
            status_code=status_code, ok=ok, response_head=head, error=error,
            duration_ms=duration_ms)
        fields = {"last_status_code": status_code, "last_error": error, "lease_until": None}
        if ok:
            fields.update(status=Delivery.SENT, delivered_at=now)
        elif delivery.attempts >= max_tries():
            fields.update(status=Delivery.FAILED)
        else:
            delays = retry_delays()
            wait = delays[min(delivery.attempts, len(delays)) - 1]
            fields.update(status=Delivery.PENDING,
                          next_attempt_at=now + dt.timedelta(seconds=wait))
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
        if target_model is not None:
            target = target_model.objects.select_for_update().get(pk=target_id)
            if ok:
                target.consecutive_failures = 0
            else:
                target.consecutive_failures += 1
                if (fields["status"] == Delivery.FAILED and target.enabled
                        and target.consecutive_failures >= DISABLE_AFTER_FAILURES):
                    target.enabled = False
                    target.disabled_reason = (
                        f"Disabled on {now:%d %b %Y %H:%M} UTC after "
                        f"{target.consecutive_failures} failed tries in a row: {error}")[:300]
                    disabled = target
            target.save(update_fields=["consecutive_failures", "enabled", "disabled_reason"])
        if disabled is not None:
            kind = "webhook" if target_model is WebhookSubscription else disabled.platform
            emit(delivery.organization_id, "webhook.disabled", {
                "destination": kind, "id": disabled.pk,
                "name": getattr(disabled, "url", None) if kind == "webhook" else disabled.name,
                "reason": disabled.disabled_reason,
            })


# --- The sweep -------------------------------------------------------------------------------

def sweep(now: dt.datetime | None = None, limit: int = 500) -> dict:
    """Dispatch the undispatched, queue the due; counts of each."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=SWEEP_GRACE_SECONDS)
    events = list(OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=stale)
                  .order_by("created_at").values_list("id", flat=True)[:limit])
    for event_id in events:
        try:
            dispatch(event_id)
        except Exception:
            logger.exception("Dispatch of event %s failed", event_id)
    due = list(Delivery.objects.filter(status=Delivery.PENDING, next_attempt_at__lte=now)
               .order_by("next_attempt_at").values_list("id", flat=True)[:limit])
    lost = list(Delivery.objects.filter(status=Delivery.SENDING, lease_until__lte=now)
                .order_by("lease_until").values_list("id", flat=True)[:limit])
    for delivery_id in due + lost:
        _queue(delivery_id)
    return {"dispatched": len(events), "due": len(due), "resumed": len(lost)}


# --- A resend by hand ------------------------------------------------------------------------

RESENDABLE = (Delivery.UNKNOWN, Delivery.FAILED)


def resend(delivery: Delivery) -> bool:
    """An admin's "Resend" of a delivery whose outcome is unknown or that gave up: one more
    try, now (a webhook keeps its webhook-id). False when it is not in such a state (any
    more): two clicks, or two admins, queue one try."""
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status__in=RESENDABLE).update(
            status=Delivery.PENDING, next_attempt_at=timezone.now(), lease_until=None)
        if updated:
            _queue(delivery.pk)
    return bool(updated)


# --- A test event ----------------------------------------------------------------------------

def send_test(subscription: WebhookSubscription | None = None,
              connection: ChatConnection | None = None) -> Delivery:
    """A "webhook.test" event for one destination only, delivered like any other."""
    target = subscription or connection
    event = OutboxEvent.objects.create(
        id=uuid.uuid4(), organization_id=target.organization_id, kind="webhook.test",
        data={"message": "A test event from Headway.", "organization": target.organization.slug},
        dispatched_at=timezone.now())
    delivery = Delivery.objects.create(
        event=event, organization_id=target.organization_id, destination=target.destination,
        subscription=subscription, chat=connection)
    _queue(delivery.pk)
    return delivery
