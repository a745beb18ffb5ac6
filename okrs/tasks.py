"""Celery tasks of okrs: thin wrappers that take ids and call the services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from accounts.models import Organization
from okrs.checkins.reminders import checkin_reminders_send

logger = logging.getLogger(__name__)


@shared_task(name="okrs.tasks.send_checkin_reminders")
def send_checkin_reminders() -> int:
    """Beat runs this every 15 minutes. For each organisation, once its local reminder
    weekday and hour have come this week, each owner with KRs not yet checked in gets one
    email (recorded in ReminderLog, so later runs that week send nothing). Returns the
    number of emails sent."""
    now = timezone.now()
    sent = 0
    for org_id in Organization.objects.order_by("id").values_list("id", flat=True):
        try:
            sent += checkin_reminders_send(organization_id=org_id, now=now)
        except Exception:  # one organisation's trouble must not stop the others
            logger.exception("Check-in reminders failed for organisation %s", org_id)
    return sent


@shared_task(name="okrs.tasks.send_org_checkin_reminders")
def send_org_checkin_reminders(organization_id: int) -> int:
    """The same for one organisation (re-fetched by id)."""
    return checkin_reminders_send(organization_id=organization_id)
