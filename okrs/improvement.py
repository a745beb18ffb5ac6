"""okrs' answer to kpis.improvement: a KPI is being improved while a key result of a live
(draft or active) objective tracks it, and that improvement has reached its target when
one of those key results has (kr_reached, below)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from kpis.models import Kpi
from okrs import progress as P
from okrs.models import KeyResult, Objective

LIVE_STATES = (Objective.State.DRAFT, Objective.State.ACTIVE)
REACHED_FIELDS = ("kpi_id", "kind", "guard", "start_value", "target_value", "current_value",
                  "done")


def kr_reached(kr: Mapping, kpi=None) -> bool:
    """Whether a key result has reached its target: the rule that sends an improved KPI
    back to sustain (kpis.health asks through KeyResultTracker).

    ``kr`` holds kind, start_value, target_value, current_value, done and guard (a
    ``values()`` row). The direction comes from start → target; when they are equal, from
    the linked KPI's target rule (``kpi``: its target_rule, target_value, target_upper):
    a KR linked to an "at most" KPI is reached at or below its target.
    """
    if kr["kind"] == P.MILESTONE:
        return bool(kr["done"])
    current = kr["current_value"]
    if current is None:
        return False
    start, target = kr["start_value"], kr["target_value"]
    if kr["kind"] == P.GUARDRAIL:
        return current <= target if kr.get("guard") == P.AT_MOST else current >= target
    if target == start and kpi is not None:
        if kpi.target_rule == Kpi.TargetRule.AT_MOST:
            return current <= target
        if kpi.target_rule == Kpi.TargetRule.BETWEEN and kpi.target_upper is not None:
            return kpi.target_value <= current <= kpi.target_upper
        return current >= target
    return current <= target if target < start else current >= target


def improving_key_results(kpi_ids: Iterable[int]):
    """Alive key results of live objectives that track these KPIs."""
    return KeyResult.objects.alive().filter(
        kpi_id__in=list(kpi_ids), objective__deleted_at__isnull=True,
        objective__state__in=LIVE_STATES)


class KeyResultTracker:
    """Registered in okrs.apps (kpis.improvement.register_improvement_tracker)."""

    def improving(self, kpis: Sequence[Kpi]) -> dict[int, bool]:
        by_id = {kpi.pk: kpi for kpi in kpis}
        reached: dict[int, bool] = {}
        for kr in improving_key_results(by_id.keys()).values(*REACHED_FIELDS):
            kpi_id = kr["kpi_id"]
            reached[kpi_id] = reached.get(kpi_id, False) or kr_reached(kr, by_id[kpi_id])
        return reached

    def linked_to(self, kpi: Kpi) -> list[KeyResult]:
        return list(KeyResult.objects.alive()
                    .filter(kpi=kpi, objective__deleted_at__isnull=True)
                    .select_related("objective", "objective__cycle"))
