from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organization


class UltimateGoal(models.Model):
    """Mission and vision: the top of the strategy tree. One active per organisation."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="goals")
    title = models.CharField(max_length=200)
    mission = models.TextField(blank=True)
    vision = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_active", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization"], condition=Q(is_active=True),
                                    name="one_active_goal_per_org"),
        ]

    def __str__(self) -> str:
        return self.title


class StrategicPillar(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="pillars")
    goal = models.ForeignKey(UltimateGoal, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="pillars")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    archived = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="pillar_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Cycle(models.Model):
    class Kind(models.TextChoices):
        YEAR = "year", _("Year")
        QUARTER = "quarter", _("Quarter")
        CUSTOM = "custom", _("Custom")

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("cycle state", "Open")
        CLOSED = "closed", _("Closed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="cycles")
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.QUARTER)
    start = models.DateField()
    end = models.DateField()
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="children", help_text="A quarter may sit in a year.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="cycle_name_unique"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="cycle_end_after_start"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.state == self.State.CLOSED

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


class PillarFigure(models.Model):
    """A pillar's running aggregate for one cycle, kept by okrs.figures in the transaction of
    every write that moves an objective supporting it: the pillar's progress is
    progress_sum / objective_count (0 with none), the goal's the mean of its pillars'."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    pillar = models.ForeignKey(StrategicPillar, on_delete=models.CASCADE, related_name="figures")
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="pillar_figures")
    progress_sum = models.FloatField(default=0)
    objective_count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pillar", "cycle"], name="pillar_figure_once"),
        ]

    def __str__(self) -> str:
        return f"{self.pillar_id} in {self.cycle_id}: {self.progress_sum}/{self.objective_count}"

    @property
    def progress(self) -> float:
        if self.objective_count <= 0:
            return 0.0
        return max(0.0, min(1.0, self.progress_sum / self.objective_count))
