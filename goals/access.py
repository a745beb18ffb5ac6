"""Access helpers for goals objects, always inside request.org (404 otherwise)."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.access import get_in_org
from goals.models import Cycle, StrategicPillar


def get_pillar_for_member(request: HttpRequest, pk) -> StrategicPillar:
    return get_in_org(request, StrategicPillar.objects.all(), pk=pk)


def get_cycle_for_member(request: HttpRequest, pk) -> Cycle:
    return get_in_org(request, Cycle.objects.select_related("parent"), pk=pk)
