"""okrs' answer to kpis.improvement: a KPI is being improved while a key result of a live
(draft or active) objective tracks it, and that improvement has reached its target when
one of those key results has (okrs.progress.kr_reached)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kpis.models import Kpi
from okrs import progress as P
from okrs.models import KeyResult, Objective

LIVE_STATES = (Objective.State.DRAFT, Objective.State.ACTIVE)
REACHED_FIELDS = ("kpi_id", "kind", "guard", "start_value", "target_value", "current_value",
                  "done")


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
            reached[kpi_id] = reached.get(kpi_id, False) or P.kr_reached(kr, by_id[kpi_id])
        return reached

    def linked_to(self, kpi: Kpi) -> list[KeyResult]:
        return list(KeyResult.objects.alive()
                    .filter(kpi=kpi, objective__deleted_at__isnull=True)
                    .select_related("objective", "objective__cycle"))
