"""The tenancy rule, written once.

Every view under /o/<org_slug>/ is wrapped in `org_view(min_role)`: it resolves the
organisation *through the caller's membership* (an outsider gets 404: a foreign
organisation and a missing one look the same), then checks the role (403).
Objects are then looked up with `get_in_org` — never `Model.objects.get(pk=...)`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from accounts.locale import apply_organization_default
from accounts.models import Membership, Role, Team

M = TypeVar("M", bound=models.Model)


def membership_for(user, org_slug: str) -> Membership | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("organization", "user")
        .filter(user=user, organization__slug=org_slug, suspended_at__isnull=True)
        .first()
    )


def org_view(min_role: str = Role.VIEWER) -> Callable:
    """Decorate a view that lives under /o/<org_slug>/.

    The view is called without `org_slug`; it finds `request.org` and
    `request.membership` instead. Anonymous → login; outsider → 404; role too low → 403.
    """
    Role(min_role)  # fail at import time on a typo

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, org_slug: str, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_for(request.user, org_slug)
            if membership is None:
                raise Http404("No such organisation.")
            request.org = membership.organization
            request.membership = membership
            apply_organization_default(request, membership.organization)
            if not membership.has_role(min_role):
                raise PermissionDenied(
                    _("This needs the %(role)s role or higher.") % {"role": Role(min_role).label})
            return view(request, *args, **kwargs)

        wrapper.headway_min_role = min_role  # read by the URL-access tests
        return wrapper

    return decorator


def has_role(request: HttpRequest, minimum: str) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.has_role(minimum)


def require_role(request: HttpRequest, minimum: str) -> None:
    if not has_role(request, minimum):
        raise PermissionDenied(
            _("This needs the %(role)s role or higher.") % {"role": Role(minimum).label})


def get_in_org(request: HttpRequest, model_or_qs: type[M] | models.QuerySet, *,
               org_path: str = "organization", **lookup) -> M:
    """Fetch one object inside request.org, or 404 (foreign and missing look the same).

    `org_path` names how the model reaches its organisation ("kpi__organization" for a
    data point). Non-numeric ids also give 404.
    """
    qs = model_or_qs if isinstance(model_or_qs, models.QuerySet) else model_or_qs._default_manager
    try:
        return qs.get(**{org_path: request.org}, **lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found.")


def org_url(name: str, request: HttpRequest, **kwargs) -> str:
    """reverse() for a page of the current organisation."""
    from django.urls import reverse

    return reverse(name, kwargs={"org_slug": request.org.slug, **kwargs})


def get_team_for_member(request: HttpRequest, slug: str) -> Team:
    return get_in_org(request, Team.objects.all(), slug=slug)


def get_membership_for_admin(request: HttpRequest, pk: int) -> Membership:
    require_role(request, Role.ADMIN)
    return get_in_org(request, Membership.objects.select_related("user"), pk=pk)


def get_invitation_for_admin(request: HttpRequest, pk: int):
    """A pending, accepted or revoked invitation of request.org (404 otherwise); admins."""
    from accounts.models import Invitation

    require_role(request, Role.ADMIN)
    return get_in_org(request, Invitation.objects.all(), pk=pk)
