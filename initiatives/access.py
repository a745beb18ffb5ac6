"""Access helpers for initiatives: inside request.org (404), and who may edit one (403)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.access import get_in_org, has_role
from accounts.models import Role
from initiatives.models import Initiative


def get_initiative_for_member(request: HttpRequest, pk) -> Initiative:
    return get_in_org(request, Initiative.objects.select_related(
        "key_result__objective__cycle", "objective__cycle", "owner"), pk=pk)


def can_edit_initiative(request: HttpRequest, initiative: Initiative) -> bool:
    """Leaders edit every initiative; members only the ones they own."""
    return has_role(request, Role.LEADER) or (
        has_role(request, Role.MEMBER) and initiative.owner_id == request.user.pk)


def get_initiative_for_editor(request: HttpRequest, pk) -> Initiative:
    initiative = get_initiative_for_member(request, pk)
    if not can_edit_initiative(request, initiative):
        raise PermissionDenied("Only its owner or a leader can change this initiative.")
    return initiative
