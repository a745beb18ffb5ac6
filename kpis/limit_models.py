"""Limit periods and excluded points of a KPI's process behaviour chart (kpis.limits).

Kept beside ``kpis.models`` (which imports them) so the chart's own records live together.
Both are keyed by period start date, not by data point: a limit period starts at a date
whether or not a value is recorded for it yet, and an exclusion survives the point's value
being corrected.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy


class LimitPeriod(models.Model):
    """A division of a KPI's history: from ``start`` on, limits come from this period's own
    first points. A declined suggestion is kept (status declined) so it is not suggested
    again."""

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("Active")
        DECLINED = "declined", gettext_lazy("Declined suggestion")

    kpi = models.ForeignKey("kpis.Kpi", on_delete=models.CASCADE, related_name="limit_periods")
    start = models.DateField()
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Locked limits: once set, the period is drawn with these whatever its values become,
    # until someone unlocks or recalculates it (with a reason, an event).
    locked_center = models.FloatField(null=True, blank=True)
    locked_moving_range = models.FloatField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    # The limits lock by themselves once the baseline is complete (kpis.health), unless a
    # person unlocked them: from then on only the button locks them again.
    auto_lock = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kpi", "start"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "start"], name="limitperiod_unique_start"),
            models.CheckConstraint(
                name="limitperiod_lock_complete",
                condition=(models.Q(locked_center__isnull=True, locked_moving_range__isnull=True)
                           | models.Q(locked_center__isnull=False,
                                      locked_moving_range__gte=0)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} from {self.start}"

    @property
    def is_locked(self) -> bool:
        return self.locked_center is not None


class ExcludedPoint(models.Model):
    """A period left out of its limit period's calculation (a known special cause)."""

    kpi = models.ForeignKey("kpis.Kpi", on_delete=models.CASCADE, related_name="excluded_points")
    period_start = models.DateField()
    reason = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kpi", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "period_start"],
                                    name="excludedpoint_unique_period"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.period_start} excluded"
