"""accounts' answers to the questions core's admin scoping asks (core knows no accounts model)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from accounts.audit import audit_record
from accounts.models import Membership, Organization, Role

ADMIN_ROLES = (Role.ADMIN, Role.OWNER)


def admin_roles(user) -> dict[int, str]:
    return dict(Membership.objects.filter(user=user, role__in=ADMIN_ROLES,
                                          suspended_at__isnull=True)
                .values_list("organization_id", "role"))


def member_user_ids(org_ids: Iterable[int]) -> models.QuerySet:
    return Membership.objects.filter(organization__in=list(org_ids)).values("user_id")


def is_member(user, org_id: int) -> bool:
    return Membership.objects.filter(user=user, organization_id=org_id).exists()


def audit(*, organization_id: int, actor, action: str, obj: models.Model,
          changes: dict | None = None) -> None:
    audit_record(organization=Organization(pk=organization_id), actor=actor, action=action,
                 obj=obj, changes=changes)


def configure_admin_scoping() -> None:
    from core import admin_scoping

    admin_scoping.configure(admin_scoping.Tenancy(
        organization_model=Organization, owner_role=Role.OWNER, admin_roles=admin_roles,
        member_user_ids=member_user_ids, is_member=is_member, audit=audit))
