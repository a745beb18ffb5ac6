from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from accounts.models import Organization
from okrs.models import KeyResult, Objective


class Initiative(models.Model):
    """The work that should move a key result (or an objective)."""

    class Status(models.TextChoices):
        PLANNED = "planned", gettext_lazy("Planned")
        IN_PROGRESS = "in_progress", gettext_lazy("In progress")
        DONE = "done", gettext_lazy("Done")
        BLOCKED = "blocked", gettext_lazy("Blocked")
        CANCELLED = "cancelled", gettext_lazy("Cancelled")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="initiatives")
    key_result = models.ForeignKey(KeyResult, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="initiatives")
    objective = models.ForeignKey(Objective, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="initiatives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="owned_initiatives")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    due_date = models.DateField(null=True, blank=True)
    percent_complete = models.PositiveSmallIntegerField(default=0)
    order = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(percent_complete__lte=100),
                                   name="initiative_percent_range"),
            models.CheckConstraint(
                condition=Q(key_result__isnull=False) | Q(objective__isnull=False),
                name="initiative_has_parent"),
        ]

    def __str__(self) -> str:
        return self.title
