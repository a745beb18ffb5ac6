"""Access helpers for OKR objects: always looked up inside request.org (404 otherwise)."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.access import get_in_org
from goals.models import Cycle
from okrs.models import KeyResult, Objective


def get_objective_for_member(request: HttpRequest, pk) -> Objective:
    return get_in_org(
        request,
        Objective.objects.alive().select_related("cycle", "owner", "team", "pillar", "parent"),
        pk=pk,
    )


def get_key_result_for_member(request: HttpRequest, pk, *, related: tuple[str, ...] = (),
                              **annotations) -> KeyResult:
    """A live key result of a live objective of request.org (404 otherwise), read in one
    query: ``related`` adds select_related paths, ``annotations`` annotate it (a check-in
    row reads both: okrs.checkins.selectors.get_key_result_for_checkin)."""
    return get_in_org(
        request,
        KeyResult.objects.alive()
        .filter(objective__deleted_at__isnull=True)
        .select_related("objective", "objective__cycle", "owner", "kpi", *related)
        .annotate(**annotations),
        pk=pk,
    )


def get_cycle_for_member(request: HttpRequest, pk) -> Cycle:
    return get_in_org(request, Cycle.objects.all(), pk=pk)
