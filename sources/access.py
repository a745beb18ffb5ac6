"""Access helpers for data sources: admins only, always inside request.org (404 otherwise)."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.access import get_in_org, require_role
from accounts.models import Role

from .models import DataSource, Feed


def get_source_for_admin(request: HttpRequest, pk) -> DataSource:
    require_role(request, Role.ADMIN)
    return get_in_org(request, DataSource.objects.select_related("organization"), pk=pk)


def get_feed_for_admin(request: HttpRequest, source: DataSource, pk) -> Feed:
    require_role(request, Role.ADMIN)
    return get_in_org(request, Feed.objects.filter(source=source).select_related("kpi"),
                      org_path="source__organization", pk=pk)
