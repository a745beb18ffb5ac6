"""Which KPIs are being improved: the question the KPI engine asks of the apps to its right.

``kpis`` never imports ``okrs`` (shared/DESIGN.md), yet the health engine must know which
KPIs an improvement OKR targets (they are "in improvement", not candidates) and whether
it reached its target (then the KPI goes back to sustain), and a KPI's page lists the key
results linked to it. Whoever improves KPIs answers through a tracker it registers here
— okrs does, in its AppConfig.ready() (okrs.improvement). With none registered, no KPI
is being improved.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kpis.models import Kpi


class ImprovementTracker(Protocol):
    def improving(self, kpis: Sequence[Kpi]) -> dict[int, bool]:
        """For each of ``kpis`` that is being improved (by id): whether what improves it
        has reached its target. One query for them all (the sweep asks per chunk)."""

    def linked_to(self, kpi: Kpi) -> list:
        """What tracks this KPI, for its page (one query)."""


_tracker: ImprovementTracker | None = None


def register_improvement_tracker(tracker: ImprovementTracker | None) -> None:
    global _tracker
    _tracker = tracker


def improving(kpis: Sequence[Kpi]) -> dict[int, bool]:
    return _tracker.improving(kpis) if _tracker is not None and kpis else {}


def linked_to(kpi: Kpi) -> list:
    return _tracker.linked_to(kpi) if _tracker is not None else []
