"""Data sources: where a KPI's numbers are read from (a SQL query, a CSV/JSON URL, an
inbound webhook), their feeds (which KPI each result feeds) and the history of runs."""

from __future__ import annotations

import hashlib

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from accounts.models import Organization
from kpis.models import Kpi


class DataSource(models.Model):
    class Kind(models.TextChoices):
        SQL = "sql", gettext_lazy("SQL database")
        HTTP = "http", gettext_lazy("CSV or JSON URL")
        WEBHOOK = "webhook", gettext_lazy("Inbound webhook")

    class Auth(models.TextChoices):
        NONE = "none", gettext_lazy("None")
        BEARER = "bearer", gettext_lazy("Bearer token")
        BASIC = "basic", gettext_lazy("Basic (user and password)")
        HEADER = "header", gettext_lazy("Custom header")

    class Format(models.TextChoices):
        CSV = "csv", gettext_lazy("CSV")
        JSON = "json", gettext_lazy("JSON")

    class Schedule(models.TextChoices):
        MANUAL = "manual", gettext_lazy("Only when run by hand")
        HOURLY = "hourly", gettext_lazy("Every hour")
        DAILY = "daily", gettext_lazy("Daily at a time")
        WEEKLY = "weekly", gettext_lazy("Weekly on a day")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="data_sources")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The connection URL (SQL) or the URL (HTTP), encrypted: both may carry credentials.
    url_encrypted = models.TextField(blank=True)
    url_display = models.CharField(max_length=500, blank=True,
                                   help_text=gettext_lazy("The URL with its password masked."))
    query = models.TextField(blank=True, help_text=gettext_lazy("SQL returning (period, value) or "
                             "(kpi key, period, value) rows."))
    format = models.CharField(max_length=4, choices=Format.choices, default=Format.CSV)
    json_path = models.CharField(max_length=300, blank=True,
                                 help_text=gettext_lazy("JMESPath to a list of objects with period and "
                                           "value (and kpi) keys."))
    auth = models.CharField(max_length=10, choices=Auth.choices, default=Auth.NONE)
    auth_user = models.CharField(max_length=150, blank=True)
    auth_header = models.CharField(max_length=100, blank=True)
    secret_encrypted = models.TextField(blank=True)  # bearer token, password, header value
    hmac_secret_encrypted = models.TextField(blank=True)  # webhook signature key
    webhook_token_encrypted = models.TextField(blank=True)
    webhook_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    schedule = models.CharField(max_length=10, choices=Schedule.choices,
                                default=Schedule.MANUAL)
    run_at = models.TimeField(null=True, blank=True, help_text=gettext_lazy("In the organisation's time zone."))
    weekday = models.PositiveSmallIntegerField(null=True, blank=True,
                                               help_text=gettext_lazy("0 = Monday … 6 = Sunday."))
    timeout_seconds = models.PositiveSmallIntegerField(default=10)
    row_cap = models.PositiveIntegerField(default=10_000)
    active = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The claim: set by the one run allowed at a time (a conditional UPDATE).
    running_since = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"],
                                    name="datasource_name_unique"),
            models.CheckConstraint(name="datasource_timeout_range",
                                   condition=Q(timeout_seconds__gte=1, timeout_seconds__lte=300)),
            models.CheckConstraint(name="datasource_row_cap_range",
                                   condition=Q(row_cap__gte=1, row_cap__lte=1_000_000)),
            models.CheckConstraint(name="datasource_weekday_range",
                                   condition=Q(weekday__isnull=True) | Q(weekday__lte=6)),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_token(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()


class Feed(models.Model):
    """One KPI fed by a source: by its own query (SQL), or by the rows whose key matches."""

    source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="feeds")
    kpi = models.OneToOneField(Kpi, on_delete=models.CASCADE, related_name="feed")
    key = models.CharField(max_length=150, blank=True,
                           help_text=gettext_lazy("The kpi key in (kpi key, period, value) rows."))
    query = models.TextField(blank=True, help_text=gettext_lazy("This KPI's own SQL (period, value)."))

    class Meta:
        ordering = ["kpi__name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "key"], condition=~Q(key=""),
                                    name="feed_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.kpi_id}"


class SourceRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", gettext_lazy("Running")
        OK = "ok", gettext_lazy("Succeeded")
        FAILED = "failed", gettext_lazy("Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", gettext_lazy("Schedule")
        MANUAL = "manual", gettext_lazy("Run now")
        API = "api", gettext_lazy("API")
        WEBHOOK = "webhook", gettext_lazy("Webhook")

    source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    replaced = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    row_errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.source_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
