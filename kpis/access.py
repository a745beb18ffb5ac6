"""Access helpers for KPI objects, always inside request.org (404 otherwise)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.access import get_in_org, has_role
from accounts.models import Role

from .models import Kpi


def get_kpi_for_member(request: HttpRequest, pk) -> Kpi:
    return get_in_org(request, Kpi.objects.select_related("health", "team", "owner"), pk=pk)


def can_add_data(request: HttpRequest, kpi: Kpi) -> bool:
    """Admins add data to any KPI; members to the KPIs they own or their team owns."""
    if has_role(request, Role.ADMIN):
        return True
    if not has_role(request, Role.MEMBER):
        return False
    user = request.user
    if kpi.owner_id == user.pk:
        return True
    return bool(kpi.team_id and kpi.team.members.filter(pk=user.pk).exists())


def get_kpi_for_data_entry(request: HttpRequest, pk) -> Kpi:
    kpi = get_kpi_for_member(request, pk)
    if not can_add_data(request, kpi):
        raise PermissionDenied("Only the KPI's owner, its team or an admin can add data.")
    return kpi
