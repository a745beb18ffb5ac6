"""The event outbox (DESIGN.md, "Events and notifications").

An ``OutboxEvent`` is written by a service in the same transaction as the change it
describes (``core.events.emit``), so it commits or rolls back with it; ``activity`` delivers it
from there (in-process handlers, outgoing webhooks, Slack and Teams). core may not import
accounts, so the organisation is a plain indexed id, not a foreign key.
"""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    # The event id receivers see (the Standard Webhooks ``webhook-id``).
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization_id = models.BigIntegerField(db_index=True)
    kind = models.CharField(max_length=64)
    # The payload: ids and the public fields of the change, never another organisation's data.
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # The sweep's question: what is not dispatched yet, oldest first.
            models.Index(fields=["created_at"], name="core_outbox_undispatched",
                         condition=models.Q(dispatched_at__isnull=True)),
            models.Index(fields=["organization_id", "kind", "created_at"],
                         name="core_outbox_org_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"
