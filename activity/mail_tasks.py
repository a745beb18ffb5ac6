"""Celery tasks of the inbox side (thin: ids in, services do the work)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from accounts.models import Organization
from activity.digest import digests_send

logger = logging.getLogger(__name__)


@shared_task(name="activity.tasks.send_digests", ignore_result=True)
def send_digests() -> int:
    """Beat runs this every 15 minutes: each organisation whose digest moment of the week has
    come sends it to the leaders who have not had it yet."""
    now, sent = timezone.now(), 0
    for org_id in Organization.objects.values_list("id", flat=True):
        try:
            sent += digests_send(organization_id=org_id, now=now)
        except Exception:
            logger.exception("Digests failed for organisation %s", org_id)
    return sent
