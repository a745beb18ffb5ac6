"""Access helpers for the API token pages, always inside request.org (404 otherwise)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.access import get_in_org, has_role
from accounts.models import ApiToken, Role


def get_api_token_for_admin(request: HttpRequest, pk) -> ApiToken:
    if not has_role(request, Role.ADMIN):
        raise PermissionDenied
    return get_in_org(request, ApiToken.objects.select_related("user"), pk=pk)
