"""Pruning the outbox and the delivery log (beat: ``activity.tasks.prune_outbox``, daily).

Settings (documented in the README, "Integrations"):

- ``HEADWAY_OUTBOX_RETENTION_DAYS`` (default 30, at least 8): an outbox event older than this
  is deleted once it was dispatched and none of its deliveries is still waiting or sending —
  with its deliveries and their tries (the delivery log). Undispatched events, and events
  with a delivery still to do, are never deleted: nothing is lost.
- ``HEADWAY_DELIVERY_LOG_KEEP`` (default 50, what the pages show): the last this many
  deliveries of each webhook subscription and chat connection are kept whatever their age, so
  a quiet subscription's page still shows its recent history.

At least 8 days, because the weekly chat digest's once-a-week check reads this week's
``digest.weekly`` event. Each run deletes at most ``batch`` events (a backlog is worked off
over a few nights, never one long transaction).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from activity.models import Delivery, MailSend
from core.models import OutboxEvent

MIN_RETENTION_DAYS = 8


def retention_days() -> int:
    return max(MIN_RETENTION_DAYS, int(getattr(settings, "HEADWAY_OUTBOX_RETENTION_DAYS", 30)))


def log_keep() -> int:
    return max(0, int(getattr(settings, "HEADWAY_DELIVERY_LOG_KEEP", 50)))


def _kept_event_ids(keep: int) -> set:
    """The events of the last ``keep`` deliveries of every webhook and chat destination."""
    if not keep:
        return set()
    ranked = (Delivery.objects.exclude(destination__startswith="handler:")
              .annotate(rank=Window(RowNumber(), partition_by=[F("destination")],
                                    order_by=[F("created_at").desc(), F("id").desc()]))
              .filter(rank__lte=keep).values_list("event_id", flat=True))
    return set(ranked)


def prune(now: dt.datetime | None = None, batch: int = 5000) -> dict:
    """Delete what the retention allows; counts of what went."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=retention_days())
    kept = _kept_event_ids(log_keep())
    open_events = Delivery.objects.filter(status__in=[Delivery.PENDING, Delivery.SENDING]
                                          ).values("event_id")
    ids = list(OutboxEvent.objects.filter(dispatched_at__isnull=False, created_at__lt=cutoff)
               .exclude(pk__in=open_events).exclude(pk__in=kept)
               .order_by("created_at").values_list("id", flat=True)[:batch])
    counts = {"events": 0, "deliveries": 0, "tries": 0, "mail_claims": 0}
    if ids:
        _total, by_model = OutboxEvent.objects.filter(pk__in=ids).delete()
        counts["events"] = by_model.get("core.OutboxEvent", 0)
        counts["deliveries"] = by_model.get("activity.Delivery", 0)
        counts["tries"] = by_model.get("activity.DeliveryAttempt", 0)
    # An e-mail claim outlives nothing it guards: its event is past every retry by now.
    counts["mail_claims"] = MailSend.objects.filter(claimed_at__lt=cutoff).delete()[0]
    return counts
