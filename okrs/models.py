from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, Team
from core.validators import finite_check, validate_finite
from goals.models import Cycle, StrategicPillar
from kpis.models import Kpi
from okrs import progress as P


class Status(models.TextChoices):
    """A KR's status as set by its owner at a check-in."""

    ON_TRACK = "on_track", _("On track")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")
    OFF_TRACK = "off_track", _("Off track")
    ACCOMPLISHED = "accomplished", _("Accomplished")


# What a KR's status reads as on every page: the owner's statuses, the "overdue" that
# okrs.progress derives, and None for a KR never checked in.
STATUS_LABELS: dict[str | None, str] = {**dict(Status.choices), P.OVERDUE: _("Check-in overdue"),
                                        None: _("No check-in yet")}


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status, status or STATUS_LABELS[None])


class ObjectiveQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


class Objective(models.Model):
    class Kind(models.TextChoices):
        COMMITTED = "committed", _("Committed")
        ASPIRATIONAL = "aspirational", _("Aspirational")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    class ProgressFrom(models.TextChoices):
        KRS = "krs", _("Its key results")
        CHILDREN = "children", _("Its aligned objectives")
        BOTH = "both", _("Both")

    class ClosingStatus(models.TextChoices):
        NONE = "", "—"
        ACHIEVED = "achieved", _("Achieved")
        PARTIALLY = "partially", _("Partially achieved")
        MISSED = "missed", _("Missed")
        POSTPONED = "postponed", _("Postponed")
        CANCELLED = "cancelled", _("Cancelled")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="objectives")
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="objectives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="owned_objectives")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="objectives", help_text="Empty for company level.")
    pillar = models.ForeignKey(StrategicPillar, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="objectives")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="children")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.COMMITTED)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    progress_from = models.CharField(max_length=10, choices=ProgressFrom.choices,
                                     default=ProgressFrom.KRS)
    closing_status = models.CharField(max_length=10, choices=ClosingStatus.choices, blank=True,
                                      default="")
    score = models.FloatField(null=True, blank=True)
    closing_note = models.TextField(blank=True)
    carried_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="carried_to")
    order = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Stored figures, kept by okrs.figures in the transaction of every write that moves
    # them (never edited by hand). progress: what pages show (a closed cycle's score);
    # rollup: what the parent's "children" part reads; pillar_ids: the pillars it supports
    # (its own and its ancestors'); figure_cycle and figure_pillars: the pillar figures
    # that hold its contribution (none while a draft); status_summary: per status, the
    # count and newest check-in (or creation) of its KRs, from which the status is derived
    # at read time, when the clock has moved (okrs.figures.objective_status).
    progress = models.FloatField(default=0)
    rollup = models.FloatField(default=0)
    pillar_ids = models.JSONField(default=list, blank=True)
    figure_cycle = models.ForeignKey(Cycle, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    figure_pillars = models.JSONField(default=list, blank=True)
    kr_count = models.PositiveIntegerField(default=0)
    status_summary = models.JSONField(default=dict, blank=True)

    objects = ObjectiveQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["organization", "cycle", "state"])]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")),
                                   name="objective_not_own_parent"),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=1),
                                   name="objective_score_range"),
        ]

    def __str__(self) -> str:
        return self.title


class KeyResultQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


class KeyResult(models.Model):
    class Kind(models.TextChoices):
        METRIC = "metric", _("Metric")
        MILESTONE = "milestone", _("Milestone")
        GUARDRAIL = "guardrail", _("Guardrail")

    class Guard(models.TextChoices):
        AT_LEAST = "at_least", _("Stay at or above")
        AT_MOST = "at_most", _("Stay at or below")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="key_results")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="key_results")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.METRIC)
    unit = models.CharField(max_length=30, blank=True)
    start_value = models.FloatField(default=0, validators=[validate_finite])
    target_value = models.FloatField(default=100, validators=[validate_finite])
    current_value = models.FloatField(null=True, blank=True, validators=[validate_finite])
    guard = models.CharField(max_length=10, choices=Guard.choices, blank=True, default="",
                             help_text="For guardrails: which side of the target must hold.")
    done = models.BooleanField(default=False, help_text="For milestones.")
    weight = models.FloatField(default=1)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="owned_key_results")
    kpi = models.ForeignKey(Kpi, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="key_results")
    status = models.CharField(max_length=16, choices=Status.choices, blank=True, default="")
    last_checkin_at = models.DateTimeField(null=True, blank=True)
    final_value = models.FloatField(null=True, blank=True)
    final_score = models.FloatField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Stored by okrs.figures: the progress pages show (the frozen score once closed).
    progress = models.FloatField(default=0)

    objects = KeyResultQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            finite_check("start_value", "kr_start_finite", nullable=False),
            finite_check("target_value", "kr_target_finite", nullable=False),
            finite_check("current_value", "kr_current_finite"),
            models.CheckConstraint(condition=Q(weight__gte=0, weight__lte=1000),
                                   name="kr_weight_range"),
            models.CheckConstraint(
                condition=Q(final_score__isnull=True) | Q(final_score__gte=0, final_score__lte=1),
                name="kr_final_score_range"),
            # A guardrail holds one side of its threshold: the side is never left to a guess.
            models.CheckConstraint(condition=~Q(kind="guardrail") | Q(guard__in=["at_least",
                                                                                 "at_most"]),
                                   name="kr_guardrail_has_side"),
        ]

    def __str__(self) -> str:
        return self.title


class CheckIn(models.Model):
    """Append-only: a correction is a new check-in. The KR mirrors the latest live one.

    The author may edit or undo their own check-in during its week (okrs.checkins.services):
    the old row stays, marked `replaced_at` (and `undone` for an undo); an edit is a new row
    whose `revision_of` is the one it replaced, so the history shows both.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="checkins")
    key_result = models.ForeignKey(KeyResult, on_delete=models.CASCADE, related_name="checkins")
    value = models.FloatField(null=True, blank=True, validators=[validate_finite])
    done = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="checkins")
    created_at = models.DateTimeField(auto_now_add=True)
    week_start = models.DateField(help_text="Monday of the ISO week, in the org's time zone.")
    revision_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="revisions",
                                    help_text="The check-in this edit replaced.")
    replaced_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When an edit or an undo replaced it.")
    undone = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["key_result", "-created_at"]),
            models.Index(fields=["organization", "week_start"]),
            # The dashboard's feed: an organisation's newest check-ins (issue 16).
            # (With -id, the feed's whole order: no sort step when many share a moment.)
            models.Index(fields=["organization", "-created_at", "-id"],
                         name="okrs_checkin_org_feed2"),
        ]
        constraints = [
            finite_check("value", "checkin_value_finite"),
            models.CheckConstraint(condition=Q(confidence__isnull=True) | Q(confidence__lte=10),
                                   name="checkin_confidence_range"),
            models.CheckConstraint(condition=Q(undone=False) | Q(replaced_at__isnull=False),
                                   name="checkin_undone_is_replaced"),
        ]

    def __str__(self) -> str:
        return f"{self.key_result_id} @ {self.created_at:%Y-%m-%d}: {self.value} ({self.status})"


class ReminderLog(models.Model):
    """One row per person and week a check-in reminder went out: makes the task idempotent."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)
    key_results = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user", "week_start"],
                                    name="reminder_once_per_week"),
        ]

    def __str__(self) -> str:
        return f"Reminder to {self.user_id} for week {self.week_start}"


class WeekCompletion(models.Model):
    """A team's check-in completion for one week that has ended, kept as it was that week
    (issue 14, defect 9): how many key results were due and how many were checked in.

    Written once, the first time the week is read after it ended or before a key result
    or objective of the team is deleted (okrs.checkins.selectors.freeze_past_weeks);
    never recomputed afterwards, so adding, copying or deleting key results, or closing
    the cycle, leaves a past week's figure as it was."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="week_completions")
    week_start = models.DateField()
    total = models.PositiveIntegerField()
    done = models.PositiveIntegerField()
    stored_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "week_start"], name="week_completion_once"),
            models.CheckConstraint(condition=Q(done__lte=models.F("total")),
                                   name="week_completion_done_le_total"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id} week of {self.week_start}: {self.done}/{self.total}"
