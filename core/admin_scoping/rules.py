"""Who may use the scoped admin, and how a row reaches its organisation.

core knows no model of accounts: accounts fills the :class:`Tenancy` interface in its
AppConfig.ready() (``configure(...)``), so the rules here ask it which organisations a user
administers, who the members are, and which model is the organisation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.http import HttpRequest

_CACHE_ATTR = "_headway_admin_org_roles"


@dataclass(frozen=True)
class Tenancy:
    """What the admin scoping needs to know of organisations and memberships."""

    organization_model: type[models.Model]
    owner_role: str
    # {organization_id: role} for the organisations ``user`` administers (admin or owner).
    admin_roles: Callable[[object], dict[int, str]]
    # A subquery of the user ids that are members of any of ``org_ids``.
    member_user_ids: Callable[[Iterable[int]], models.QuerySet]
    is_member: Callable[[object, int], bool]
    # Record an admin change in an organisation's audit trail.
    audit: Callable[..., None]


_tenancy: Tenancy | None = None


def configure(value: Tenancy) -> None:
    global _tenancy
    _tenancy = value


def tenancy() -> Tenancy:
    if _tenancy is None:
        raise RuntimeError("core.admin_scoping is not configured: the accounts app calls "
                           "configure() in its AppConfig.ready()")
    return _tenancy


_CACHE_ATTR = "_headway_admin_org_roles"

# model -> path from the model to its Organization ("" = the model *is* Organization;
# Organization itself is known through the tenancy, see org_path_for).
_ORG_PATHS: dict[type[models.Model], str] = {}


# --- Who may see what -----------------------------------------------------------------------


def is_superadmin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def admin_org_roles(request: HttpRequest) -> dict[int, str]:
    """``{organization_id: role}`` for the organisations the user administers (cached per
    request): the active admin/owner memberships of an active user. ``is_staff`` plays no
    part: a new organisation's owner is not staff and administers it all the same."""
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            cached = {}
        else:
            cached = tenancy().admin_roles(user)
        setattr(request, _CACHE_ATTR, cached)
    return cached


def admin_org_ids(request: HttpRequest) -> list[int]:
    return sorted(admin_org_roles(request))


def can_enter(request: HttpRequest) -> bool:
    """May this user use the (model part of the) admin at all?"""
    return is_superadmin(request) or bool(admin_org_roles(request))


def is_owner_of(request: HttpRequest, org_id: int | None) -> bool:
    return is_superadmin(request) or admin_org_roles(request).get(org_id) == tenancy().owner_role


# --- How a model reaches its organisation ---------------------------------------------------


def register_org_path(model: type[models.Model], path: str) -> None:
    known = _ORG_PATHS.get(model)
    if known is not None and known != path:
        raise ValueError(f"{model.__name__} reaches its organisation through {known!r}, "
                         f"not {path!r}")
    _ORG_PATHS[model] = path


def org_path_for(model: type[models.Model]) -> str | None:
    """The lookup path to Organization, or None when the model has no organisation."""
    organization = tenancy().organization_model
    if model is organization:
        return ""
    if model in _ORG_PATHS:
        return _ORG_PATHS[model]
    try:
        field = model._meta.get_field("organization")
    except FieldDoesNotExist:
        return None
    if field.is_relation and field.related_model is organization:
        return "organization"
    return None


def _walk(obj, path: str):
    for part in path.split("__"):
        if obj is None:
            return None
        try:
            obj = getattr(obj, part)
        except ObjectDoesNotExist:  # an unsaved row without its parent yet
            return None
    return obj


def org_id_of(obj: models.Model | None) -> int | None:
    """The organisation id a row belongs to (None when unknown)."""
    if obj is None:
        return None
    if isinstance(obj, tenancy().organization_model):
        return obj.pk
    path = org_path_for(type(obj))
    if not path:
        return None
    head, _, rest = path.rpartition("__")
    # "organization" -> read organization_id without a query; "kpi__organization" ->
    # obj.kpi.organization_id.
    holder = _walk(obj, head) if head else obj
    if holder is None:
        return None
    return getattr(holder, f"{rest}_id", None)


def scope_queryset(qs: models.QuerySet, request: HttpRequest) -> models.QuerySet:
    """Limit ``qs`` to the organisations ``request.user`` administers (all for superusers).

    Users are limited to members of those organisations; a model that has no
    organisation at all gives nothing to a non-superuser (safe by default).
    """
    if is_superadmin(request):
        return qs
    ids = admin_org_ids(request)
    if not ids:
        return qs.none()
    model = qs.model
    if model is get_user_model():
        return qs.filter(pk__in=tenancy().member_user_ids(ids))
    path = org_path_for(model)
    if path is None:
        return qs.none()
    return qs.filter(**{f"{path}__in" if path else "pk__in": ids})


def user_is_member(user, org_id: int | None) -> bool:
    return org_id is not None and tenancy().is_member(user, org_id)
