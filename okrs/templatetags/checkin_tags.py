"""The objective page's confidence trend (issue 19): `{% confidence_trend objective as weeks %}`.

Per week of the objective's cycle that had check-ins with a confidence, the mean confidence
(0–10) of its key results' live check-ins: the last one of each key result that week. One
query, whatever the number of key results.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from okrs.models import CheckIn

register = template.Library()

WEEKS = 13  # a quarter


@dataclass(frozen=True)
class ConfidenceWeek:
    week_start: object
    mean: float
    count: int

    @property
    def pct(self) -> int:
        return max(0, min(100, round(self.mean * 10)))


@register.simple_tag
def confidence_trend(objective) -> list[ConfidenceWeek]:
    rows = (CheckIn.objects.filter(organization_id=objective.organization_id,
                                   key_result__objective_id=objective.pk,
                                   key_result__deleted_at__isnull=True,
                                   replaced_at__isnull=True, confidence__isnull=False)
            .order_by("week_start", "key_result_id", "created_at", "id")
            .values_list("week_start", "key_result_id", "confidence"))
    last: dict[tuple, int] = {}
    for week, kr_id, confidence in rows:
        last[(week, kr_id)] = confidence  # the latest of the week wins (ordered)
    by_week: dict = {}
    for (week, _), confidence in last.items():
        by_week.setdefault(week, []).append(confidence)
    weeks = [ConfidenceWeek(week_start=w, mean=sum(v) / len(v), count=len(v))
             for w, v in sorted(by_week.items())]
    return weeks[-WEEKS:]
