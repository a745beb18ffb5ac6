"""Chat connections (Slack, Teams), webhook subscriptions and their deliveries (issue 18).

Every event × destination is one ``Delivery`` (unique on (event, destination): its
idempotency key). Each try is a ``DeliveryAttempt`` — the delivery log a subscription's page
shows (time, event, status code, attempt, the response's first bytes).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core import secrets

__all__ = ["WebhookSubscription", "ChatConnection", "Delivery", "DeliveryAttempt", "MailSend",
           "ChatSummaryLog"]


class WebhookSubscription(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="webhook_subscriptions")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list)  # kinds from core.events.PUBLIC_KINDS
    # "whsec_…" encrypted with core.secrets; after a rotation the previous secret keeps
    # signing (a second signature) until previous_secret_until.
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True, default="")
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(url__regex=r"^https?://"),
                                   name="activity_webhook_url_http"),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def destination(self) -> str:
        return f"webhook:{self.pk}"

    def secret(self) -> str:
        return secrets.decrypt(self.secret_encrypted)

    def signing_secrets(self, now=None) -> list[str]:
        """The secrets a delivery is signed with: the current one, and the previous one
        during its grace period after a rotation."""
        now = now or timezone.now()
        found = [self.secret()]
        if (self.previous_secret_encrypted and self.previous_secret_until
                and self.previous_secret_until > now):
            found.append(secrets.decrypt(self.previous_secret_encrypted))
        return found


class ChatConnection(models.Model):
    SLACK, TEAMS = "slack", "teams"
    PLATFORMS = [(SLACK, "Slack"), (TEAMS, "Microsoft Teams")]
    # What a connection can choose (activity.chat.CHAT_EVENTS maps them to event kinds).
    EVENT_CHOICES = [
        ("candidate", gettext_lazy("New improvement candidate")),
        ("kpi_off", gettext_lazy("KPI off target or with an unfavourable signal")),
        ("digest", gettext_lazy("Weekly digest")),
        ("checkin_summary", gettext_lazy("The team's weekly check-in summary")),
        ("checkins", gettext_lazy("Each check-in as it happens (one message per check-in)")),
    ]

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="chat_connections")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="chat_connections")
    platform = models.CharField(max_length=10, choices=PLATFORMS)
    name = models.CharField(max_length=100)
    # The incoming-webhook URL is a credential (anyone holding it can post): encrypted.
    url_encrypted = models.TextField()
    url_host = models.CharField(max_length=255)  # what the pages show of it
    events = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey("accounts.User", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(platform__in=["slack", "teams"]),
                                   name="activity_chat_platform"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.name}"

    @property
    def destination(self) -> str:
        return f"{self.platform}:{self.pk}"

    def url(self) -> str:
        return secrets.decrypt(self.url_encrypted)


class Delivery(models.Model):
    PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
    # A chat send whose worker died mid-send: it may or may not have been posted. Slack and
    # Teams incoming webhooks take no idempotency key, so it is not resent by itself (at most
    # once); the delivery log shows it with a "Resend" button (activity.dispatch.resend).
    UNKNOWN = "unknown"
    STATUSES = [(PENDING, "Waiting to retry"), (SENDING, "Sending"), (SENT, "Delivered"),
                (FAILED, "Gave up"), (CANCELLED, "Cancelled"),
                (UNKNOWN, "Outcome unknown (not resent)")]

    event = models.ForeignKey("core.OutboxEvent", on_delete=models.CASCADE,
                              related_name="deliveries")
    organization_id = models.BigIntegerField()
    # "webhook:<id>", "slack:<id>", "teams:<id>" or "handler:<dotted name>"
    destination = models.CharField(max_length=255)
    subscription = models.ForeignKey(WebhookSubscription, null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="deliveries")
    chat = models.ForeignKey(ChatConnection, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="deliveries")
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # While SENDING: a worker holds it until then; a worker killed mid-send loses it and the
    # sweep sends it again (same webhook-id) once the lease has passed.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "destination"],
                                    name="activity_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="activity_delivery_due",
                         condition=models.Q(status__in=["pending", "sending"])),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.destination}"

    @property
    def idempotency_key(self) -> str:
        return f"{self.event_id}:{self.destination}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    response_head = models.CharField(max_length=500, blank=True)  # the first bytes, as text
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["delivery", "number"], name="activity_attempt_num")]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"


class MailSend(models.Model):
    """One e-mail an outbox consumer sends to one person for one event, claimed (committed)
    before the send and marked sent after it: a handler run again — a retry, or after a worker
    died — never sends that e-mail twice (at most once; a claim without ``sent_at`` is one
    whose send was cut, and is not repeated)."""

    event_id = models.UUIDField()
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_id", "user", "kind"],
                                               name="activity_mail_once")]
        indexes = [models.Index(fields=["claimed_at"], name="activity_mail_claimed")]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id} → {self.user_id}"


class ChatSummaryLog(models.Model):
    """A team's weekly check-in summary, written once per team and week (the unique key)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()
    event_id = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "week_start"],
                                               name="activity_chat_summary_once")]

    def __str__(self) -> str:
        return f"team {self.team_id}, week of {self.week_start}"
