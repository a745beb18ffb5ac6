"""Comments, mentions, inbox entries and preferences (issue 18)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["Comment", "Mention", "Notification", "NotificationPreference", "NoChangeUse",
           "DigestSchedule", "DigestLog", "COMMENT_MAX_LENGTH"]

COMMENT_MAX_LENGTH = 10_000


class Comment(models.Model):
    """A plain-text comment on an objective, a key result (its check-in thread), a KPI or one
    KPI data point. The target is named by kind and id (okrs and kpis may not know activity);
    it is always looked up inside the comment's organisation."""

    class Target(models.TextChoices):
        OBJECTIVE = "objective", "Objective"
        KEY_RESULT = "key_result", "Key result"
        KPI = "kpi", "KPI"
        DATA_POINT = "data_point", "KPI data point"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="comments")
    target_kind = models.CharField(max_length=12, choices=Target.choices)
    target_id = models.BigIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="comments")
    body = models.CharField(max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "target_kind", "target_id", "created_at"],
                                name="comment_thread")]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="comment_body_not_empty"),
            models.CheckConstraint(condition=Q(target_kind__in=["objective", "key_result", "kpi",
                                                                "data_point"]),
                                   name="comment_target_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"Comment on {self.get_target_kind_display()} {self.target_id}"


class Mention(models.Model):
    """A member named with @ in a comment (members only: a non-member is never stored)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "user"],
                                               name="mention_once_per_comment")]

    def __str__(self) -> str:
        return f"@{self.user_id} in comment {self.comment_id}"


class Notification(models.Model):
    """One stored inbox entry of a person in an organisation: a mention, a reply, a disabled
    webhook… (what is computed — due check-ins, candidates, stale KPIs — is not stored)."""

    class Kind(models.TextChoices):
        MENTION = "mention", "Mentions of you"
        REPLY = "reply", "Replies on threads you take part in"
        WEBHOOK_DISABLED = "webhook_disabled", "Webhooks disabled after failures (admins)"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="notifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The outbox event that caused it: one entry per person and event, whatever the retries.
    event_id = models.UUIDField(null=True, blank=True)
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "organization", "read_at"],
                                name="notification_unread")]
        constraints = [models.UniqueConstraint(fields=["user", "event_id", "kind"],
                                               name="notification_once_per_event")]

    def __str__(self) -> str:
        return self.text


class NotificationPreference(models.Model):
    """A person's choice for one kind of event in one organisation (no row: the default)."""

    class Kind(models.TextChoices):
        MENTION = "mention", _("Someone mentions you")
        REPLY = "reply", _("Someone comments on a thread you take part in")
        WEBHOOK_DISABLED = "webhook_disabled", _("A webhook is disabled after failures (admins)")
        DIGEST = "digest", _("The weekly leader digest (leaders and above)")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization", "kind"],
                                               name="preference_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind}: in-app {self.in_app}, e-mail {self.email}"


class NoChangeUse(models.Model):
    """A used one-click "no change this week" link: one per key result, person and week, so a
    link (and any copy of it) records at most one check-in."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    key_result = models.ForeignKey("okrs.KeyResult", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    week_start = models.DateField()
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key_result", "user", "week_start"],
                                               name="no_change_link_single_use")]

    def __str__(self) -> str:
        return f"No change on {self.key_result_id} by {self.user_id}, week of {self.week_start}"


class DigestSchedule(models.Model):
    """When an organisation's weekly leader digest goes out (its local time)."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE,
                                        related_name="digest_schedule")
    weekday = models.PositiveSmallIntegerField(default=0, help_text="0 = Monday … 6 = Sunday.")
    hour = models.PositiveSmallIntegerField(default=8, help_text="0–23, the organisation's time.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="digest_weekday_valid"),
            models.CheckConstraint(condition=Q(hour__lte=23), name="digest_hour_valid"),
        ]

    def __str__(self) -> str:
        return f"Digest on day {self.weekday} at {self.hour}:00"


class DigestLog(models.Model):
    """One row per leader and week a digest was handed to the mail backend (idempotent)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    week_start = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user", "week_start"],
                                               name="digest_once_per_week")]

    def __str__(self) -> str:
        return f"Digest to {self.user_id}, week of {self.week_start}"
