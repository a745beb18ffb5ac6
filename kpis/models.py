from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy

from accounts.models import Organization, Team
from core.validators import finite_check, validate_finite


class Kpi(models.Model):
    """An ongoing measure with a target: the car's dashboard."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", gettext_lazy("Weekly")
        MONTHLY = "monthly", gettext_lazy("Monthly")
        QUARTERLY = "quarterly", gettext_lazy("Quarterly")

    class Intent(models.TextChoices):
        SUSTAIN = "sustain", gettext_lazy("Sustain")
        IMPROVE = "improve", gettext_lazy("Improve")

    class TargetRule(models.TextChoices):
        NONE = "none", gettext_lazy("No target")
        AT_LEAST = "at_least", gettext_lazy("At least")
        AT_MOST = "at_most", gettext_lazy("At most")
        BETWEEN = "between", gettext_lazy("Between")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="kpis")
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=30, blank=True)
    decimals = models.PositiveSmallIntegerField(default=1)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="owned_kpis")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="kpis")
    frequency = models.CharField(max_length=10, choices=Frequency.choices,
                                 default=Frequency.MONTHLY)
    intent = models.CharField(max_length=10, choices=Intent.choices, default=Intent.SUSTAIN)
    target_rule = models.CharField(max_length=10, choices=TargetRule.choices,
                                   default=TargetRule.NONE)
    target_value = models.FloatField(null=True, blank=True, validators=[validate_finite],
                                     help_text=gettext_lazy("The bound (or the low end for between)."))
    target_upper = models.FloatField(null=True, blank=True, validators=[validate_finite],
                                     help_text=gettext_lazy("The high end, for between."))
    baseline_size = models.PositiveSmallIntegerField(
        null=True, blank=True, default=20,
        help_text=gettext_lazy("Points in the XmR baseline (empty = all points)."))
    rebase_date = models.DateField(null=True, blank=True,
                                   help_text=gettext_lazy("Limits are computed from this period on."))
    limit_method = models.CharField(
        max_length=10, choices=[("average", "Average moving range"),
                                ("median", "Median moving range")], default="average",
        help_text=gettext_lazy("The median moving range suits a series with occasional spikes."))
    # A derived KPI's formula, stored with its inputs' ids ("{12} / {13} * 100"; shown
    # with their names): its values are computed by kpis.derived, never entered.
    formula = models.CharField(max_length=600, blank=True, default="")
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    # Set by every change that affects health (points, target, rebase); the health is
    # "pending" while it is newer than KpiHealth.evaluated_at.
    data_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name, verbose_name_plural = "KPI", "KPIs"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="kpi_name_unique"),
            finite_check("target_value", "kpi_target_value_finite"),
            finite_check("target_upper", "kpi_target_upper_finite"),
            models.CheckConstraint(
                name="kpi_target_rule_values",
                condition=(
                    Q(target_rule="none")
                    | Q(target_rule__in=["at_least", "at_most"], target_value__isnull=False)
                    | Q(target_rule="between", target_value__isnull=False,
                        target_upper__isnull=False, target_value__lte=F("target_upper"))
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DataPoint(models.Model):
    """One value per KPI and period (period_start is normalised to the period's start)."""

    class Source(models.TextChoices):
        MANUAL = "manual", gettext_lazy("Manual")
        CSV = "csv", gettext_lazy("CSV")
        API = "api", gettext_lazy("API")
        SQL = "sql", gettext_lazy("SQL source")
        HTTP = "http", gettext_lazy("HTTP source")
        WEBHOOK = "webhook", gettext_lazy("Webhook")
        FORMULA = "formula", gettext_lazy("Formula")

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="points")
    period_start = models.DateField()
    value = models.FloatField(validators=[validate_finite])
    note = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    # Which data source run wrote it ("source 3, run 41"): kpis cannot point at sources'
    # rows (sources is to its right), so the run is named, not linked.
    source_ref = models.CharField(max_length=60, blank=True, default="")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kpi", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "period_start"], name="datapoint_unique_period"),
            finite_check("value", "datapoint_value_finite", nullable=False),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.period_start}: {self.value}"


class DataPointRevision(models.Model):
    """The value a data point had before it was replaced."""

    point = models.ForeignKey(DataPoint, on_delete=models.CASCADE, related_name="revisions")
    old_value = models.FloatField()
    new_value = models.FloatField()
    old_note = models.CharField(max_length=500, blank=True)
    old_source = models.CharField(max_length=10, blank=True)
    old_source_ref = models.CharField(max_length=60, blank=True, default="")
    new_source = models.CharField(max_length=10, blank=True, default="")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.point_id}: {self.old_value} → {self.new_value}"


class TargetChange(models.Model):
    """Every change of a KPI's target rule, with who, when and why."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="target_changes")
    old_rule = models.CharField(max_length=10)
    old_value = models.FloatField(null=True)
    old_upper = models.FloatField(null=True)
    new_rule = models.CharField(max_length=10)
    new_value = models.FloatField(null=True)
    new_upper = models.FloatField(null=True)
    reason = models.TextField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.old_text} → {self.new_text}"

    def _text(self, rule, value, upper) -> str:
        from .rules import bounds
        from .words import target_text

        low, high = bounds(rule, value, upper)
        return target_text(rule, low, high, self.kpi.unit, self.kpi.decimals)

    @property
    def old_text(self) -> str:
        """The old target in words ("at most 60 min"), not its codes ("at_most 60.0")."""
        return self._text(self.old_rule, self.old_value, self.old_upper)

    @property
    def new_text(self) -> str:
        return self._text(self.new_rule, self.new_value, self.new_upper)


class KpiHealth(models.Model):
    """The latest evaluation of one KPI, written by kpis.health (one row per KPI)."""

    class Status(models.TextChoices):
        ON_TARGET = "on_target", gettext_lazy("On target")
        OFF_TARGET = "off_target", gettext_lazy("Off target")
        NO_TARGET = "no_target", gettext_lazy("No target")
        NO_DATA = "no_data", gettext_lazy("No data")

    class Capability(models.TextChoices):
        UNKNOWN = "", gettext_lazy("Unknown")
        MET = "met", gettext_lazy("Consistently met")
        HIT_AND_MISS = "hit_and_miss", gettext_lazy("Hit and miss")
        MISSED = "missed", gettext_lazy("Consistently missed")

    class Candidate(models.TextChoices):
        # The KPI's loop state (kpis.loop: its one rule, its one writer, its labels).
        NONE = "none", gettext_lazy("Sustain")
        CANDIDATE = "candidate", gettext_lazy("Improvement candidate")
        DISMISSED = "dismissed", gettext_lazy("Dismissed candidate")
        IN_IMPROVEMENT = "in_improvement", gettext_lazy("In improvement")

    kpi = models.OneToOneField(Kpi, on_delete=models.CASCADE, related_name="health",
                               primary_key=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NO_DATA)
    is_stale = models.BooleanField(default=False)
    latest_value = models.FloatField(null=True, blank=True)
    latest_period = models.DateField(null=True, blank=True)
    points_count = models.PositiveIntegerField(default=0)
    center = models.FloatField(null=True, blank=True)
    lower_limit = models.FloatField(null=True, blank=True)
    upper_limit = models.FloatField(null=True, blank=True)
    upper_range_limit = models.FloatField(null=True, blank=True)
    signals = models.JSONField(default=list, blank=True)
    has_unfavourable_signal = models.BooleanField(default=False)
    capability = models.CharField(max_length=12, choices=Capability.choices, blank=True,
                                  default="")
    candidate = models.CharField(max_length=16, choices=Candidate.choices, default=Candidate.NONE)
    candidate_reason = models.TextField(blank=True)
    reason_keys = models.JSONField(default=list, blank=True)
    dismissed_keys = models.JSONField(default=list, blank=True,
                                      help_text=gettext_lazy("The reasons present when it was dismissed."))
    dismissed_note = models.TextField(blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = gettext_lazy("KPI health")
        indexes = [models.Index(fields=["status"]), models.Index(fields=["candidate"])]

    def __str__(self) -> str:
        # What the admin lists ("Reply time: On target"), not "6: on_target".
        return f"{self.kpi.name}: {self.get_status_display()}"

    @property
    def loop_state(self) -> str:
        return self.candidate

    @property
    def loop_label(self) -> str:
        from .loop import label

        return label(self.candidate)


# What a KPI's status reads as on every page: the health statuses, and the two states the
# board and the dashboards show beside them (no value for the last period; evaluation
# queued).
STATUS_LABELS: dict[str, str] = {**dict(KpiHealth.Status.choices), "stale": gettext_lazy("Stale"),
                                 "pending": gettext_lazy("Pending")}


class HealthEvent(models.Model):
    """Every change of a KPI's status or candidacy, and the loop's steps."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)  # status, candidate, dismissed, promoted, sustain, ...
    old = models.CharField(max_length=30, blank=True)
    new = models.CharField(max_length=30, blank=True)
    message = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.kind}: {self.old} → {self.new}"


class EvaluationLock(models.Model):
    """A database claim so that one health sweep runs at a time (beat may fire twice)."""

    name = models.CharField(max_length=50, primary_key=True)
    owner = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_count = models.PositiveIntegerField(default=0)
    # The run in progress (kpis.sweep): when it started and the last KPI id whose chunk is
    # committed, advanced in the chunk's own transaction, so a killed run's successor
    # resumes after it and evaluates nothing twice. Null when no run is unfinished.
    run_started = models.DateTimeField(null=True, blank=True)
    cursor = models.BigIntegerField(default=0)
    run_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


from .derived_models import KpiInput  # noqa: E402, F401 (the app's models)
from .limit_models import ExcludedPoint, LimitPeriod  # noqa: E402, F401 (the app's models)
from .status_counts import KpiStatusCount  # noqa: E402, F401 (the app's models)
