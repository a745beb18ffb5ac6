"""Promotion of a KPI improvement candidate into an OKR, and linked key results' values.

``okrs`` may import ``kpis`` (never the reverse). Promotion creates a *draft* objective in
the current cycle, aligned to the KPI's team, with one metric key result linked to the KPI:
start = the KPI's current level (``kpis.loop.kpi_current_level``: after a sustained shift
the mean of the shifted run, else the latest value), target = the KPI's target. The KPI's
loop state becomes "in improvement" (``kpis.loop.transition``).

A key result linked to a KPI takes its value from the KPI's data: the receiver below keeps
``current_value`` equal to the KPI's latest point whenever points change.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.dispatch import receiver
from django.utils import timezone

from accounts.audit import audit_record
from goals.models import Cycle
from goals.selectors import current_cycle
from kpis import loop
from kpis import rules as R
from kpis.models import DataPoint, Kpi, KpiHealth
from kpis.signals import points_changed
from okrs import figures
from okrs.improvement import LIVE_STATES, improving_key_results
from okrs.models import KeyResult, Objective


def start_and_target(kpi: Kpi, health: KpiHealth | None) -> tuple[float, float]:
    level = loop.kpi_current_level(kpi, health)
    if level is None and health is not None:
        level = health.latest_value
    if level is None:
        raise ValidationError("This KPI has no data yet: there is no level to start from.")
    rule = kpi.target_rule
    if rule == Kpi.TargetRule.NONE:
        raise ValidationError("This KPI has no target: set one before promoting it.")
    if rule == Kpi.TargetRule.BETWEEN:
        low, high = kpi.target_value, kpi.target_upper
        target = high if level > high else low if level < low else (low + high) / 2
    else:
        target = kpi.target_value
    # The current level in the KPI's own precision (a centre line of 35.35 min reads 35 min).
    start = round(float(level), kpi.decimals)
    if start == target and level != target:  # do not round the gap away
        start = round(float(level), kpi.decimals + 2)
    return start, float(target)


@transaction.atomic
def kpi_promote(*, kpi: Kpi, actor, cycle: Cycle | None = None) -> tuple[Objective, KeyResult]:
    """Turn an improvement candidate into a draft improvement OKR."""
    kpi = Kpi.objects.select_for_update().get(pk=kpi.pk)
    health = KpiHealth.objects.filter(kpi=kpi).first()
    if improving_key_results([kpi.pk]).exists():
        raise ValidationError("An improvement OKR already targets this KPI.")
    if health is None or health.candidate not in (KpiHealth.Candidate.CANDIDATE,
                                                  KpiHealth.Candidate.DISMISSED):
        raise ValidationError("This KPI is not an improvement candidate.")
    cycle = cycle or current_cycle(kpi.organization, open_only=True)
    if cycle is None or cycle.is_closed:
        raise ValidationError("There is no open cycle for today: create one first.")
    start, target = start_and_target(kpi, health)
    low, high = R.bounds(kpi.target_rule, kpi.target_value, kpi.target_upper)
    target_text = R.describe_target(kpi.target_rule, low, high, kpi.unit, kpi.decimals)
    objective = Objective.objects.create(
        organization=kpi.organization,
        cycle=cycle,
        title=f"Bring {kpi.name} back on target"[:200],
        description=f"Promoted from the KPI “{kpi.name}”. {health.candidate_reason}".strip(),
        owner=kpi.owner or actor,
        team=kpi.team,
        state=Objective.State.DRAFT,
        created_by=actor,
    )
    kr = KeyResult.objects.create(
        organization=kpi.organization,
        objective=objective,
        title=f"{kpi.name}: from {R.format_value(start, kpi.unit, kpi.decimals)} to "
              f"{target_text}"[:200],
        kind=KeyResult.Kind.METRIC,
        unit=kpi.unit,
        start_value=start,
        target_value=target,
        current_value=health.latest_value if health.latest_value is not None else start,
        owner=kpi.owner or actor,
        kpi=kpi,
    )
    audit_record(organization=kpi.organization, actor=actor, action="created", obj=objective,
                 note=f"Promoted from KPI {kpi.name}")
    loop.transition(kpi=kpi, to=loop.IN_IMPROVEMENT, actor=actor,
                    why=f"promoted into the draft objective “{objective.title}” ({cycle.name})")
    return objective, kr


@receiver(points_changed, dispatch_uid="okrs.sync_linked_key_results")
def sync_linked_key_results(sender, kpi_ids, **kwargs) -> int:
    """Set linked key results' current value to their KPI's latest point (one UPDATE)."""
    latest = (
        DataPoint.objects.filter(kpi_id=OuterRef("kpi_id"))
        .order_by("-period_start")
        .values("value")[:1]
    )
    kpi_ids = list(kpi_ids)
    linked = (KeyResult.objects.alive()
              .filter(kpi_id__in=kpi_ids, objective__state__in=LIVE_STATES)
              .exclude(kind=KeyResult.Kind.MILESTONE))
    objective_ids = set(linked.values_list("objective_id", flat=True))
    count = linked.update(current_value=Subquery(latest), updated_at=timezone.now())
    if count:  # an UPDATE sends no post_save: the stored figures are refreshed here
        figures.refresh(objective_ids)  # the linked KRs' objectives, parents and pillars
    return count
