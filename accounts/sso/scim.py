"""SCIM 2.0 for one organisation: scim2-server speaks the protocol (routing, validation
against the schemas, PATCH, filters, ETags, bulk, error bodies); this storage keeps each
resource as the client sent it and drives Headway's rows from it.

- A User drives a person's membership: created (or linked, see below) on create,
  suspended when `active` is false or the resource is deleted, restored when active
  again. Nothing of the person's history (check-ins, comments, audit entries,
  ownerships) is ever deleted: the account stays, only the membership's access goes.
- An existing account is linked only when this organisation vouches for its e-mail
  domain (its SSO configuration) or it is already a member; otherwise the request is
  refused as a uniqueness conflict, so a SCIM client cannot claim someone else's account.
- A Group drives a team of the same name (created, or an existing one of the name
  linked); its members are the team's members. Deleting the group unlinks the team and
  keeps it (objectives and KPIs may belong to it).
- Searches load this organisation's resources of the type and filter them with
  scim2-server's in-memory evaluation: an organisation has hundreds of people, not millions.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from scim2_models import (
    Meta,
    NotFoundException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    SearchRequest,
    UniquenessException,
)
from scim2_server.handler import ScimHandler
from scim2_server.memory import InMemoryStorage
from scim2_server.service import ScimService
from scim2_server.storage import ScimStorage, SearchPage
from scim2_server.utils import load_default_provider

from accounts.models import Membership, Organization, Role, Team, User
from accounts.sso.models import ScimResource, SsoConfig


def _version(n: int) -> str:
    return f'W/"{n}"'


def _email_of(resource: Resource[Any]) -> str | None:
    emails = getattr(resource, "emails", None) or []
    ordered = sorted(emails, key=lambda e: not getattr(e, "primary", False))
    candidates = [getattr(e, "value", None) for e in ordered] + [getattr(resource, "user_name",
                                                                         None)]
    for value in candidates:
        if not value:
            continue
        try:
            validate_email(str(value))
        except Exception:  # noqa: S112 - not an address: try the next one
            continue
        return str(value).strip().lower()
    return None


class OrgStorage(ScimStorage):
    def __init__(self, organization: Organization, service: ScimService):
        self.org = organization
        self.service = service
        self.config = SsoConfig.objects.filter(organization=organization).first()

    # -- reading ------------------------------------------------------------------------

    def _rows(self, name: str):
        return ScimResource.objects.filter(organization=self.org, resource_type=name)

    def _row(self, resource_type: ResourceType, resource_id: str, *, lock=False) -> ScimResource:
        qs = self._rows(resource_type.name)
        if lock:
            qs = qs.select_for_update()
        row = qs.filter(scim_id=str(resource_id)).first()
        if row is None:
            raise NotFoundException(detail=f"{resource_type.name} {resource_id} not found")
        return row

    def _resource(self, resource_type: ResourceType, row: ScimResource) -> Resource[Any]:
        model = self.service.get_model(resource_type)
        resource = model.model_validate(row.payload)
        resource.id = row.scim_id
        resource.meta = Meta(resource_type=resource_type.name, created=row.created_at,
                             last_modified=row.updated_at, version=_version(row.version))
        if resource_type.name == "Group" and getattr(resource, "members", None):
            for member in resource.members:
                if member.value and not member.ref:
                    member.ref = f"Users/{member.value}"
        return resource

    def get(self, resource_type: ResourceType, resource_id: str, *,
            response_parameters: ResponseParameters[Any] | None = None) -> Resource[Any]:
        return self._resource(resource_type, self._row(resource_type, resource_id))

    def search(self, resource_types: list[ResourceType], search_request: SearchRequest[Any],
               *, position: Any = None) -> SearchPage:
        memory = InMemoryStorage()
        memory.resources = [self._resource(rt, row) for rt in resource_types
                            for row in self._rows(rt.name)]
        return memory.search(resource_types, search_request, position=position)

    # -- writing ------------------------------------------------------------------------

    def _payload(self, resource: Resource[Any]) -> dict:
        data = resource.model_dump(mode="json")
        for key in ("id", "meta"):
            data.pop(key, None)
        return data

    def _check_unique(self, resource_type: ResourceType, resource: Resource[Any],
                      exclude: str | None) -> None:
        attr, value = (("userName", resource.user_name) if resource_type.name == "User"
                       else ("displayName", getattr(resource, "display_name", None)))
        if not value:
            return
        for row in self._rows(resource_type.name).exclude(scim_id=exclude or ""):
            if str(row.payload.get(attr, "")).lower() == str(value).lower():
                raise UniquenessException(detail=f"{attr} {value!r} is already taken")

    def _sync_user(self, row: ScimResource, resource: Resource[Any]) -> None:
        email = _email_of(resource)
        active = resource.active is not False
        if row.user_id is None and email:
            user = User.objects.filter(email__iexact=email).first()
            if user is not None:
                member = Membership.objects.filter(user=user, organization=self.org).exists()
                vouched = self.config is not None and self.config.vouches_for(email)
                if not (member or vouched):
                    raise UniquenessException(
                        detail=f"{email} belongs to an account outside this organisation, and "
                               "its domain is not one this organisation vouches for")
                if ScimResource.objects.filter(organization=self.org, user=user).exclude(
                        pk=row.pk).exists():
                    raise UniquenessException(detail=f"{email} is already provisioned")
            else:
                name = resource.display_name or (resource.name.formatted if resource.name
                                                 else "") or ""
                user = User.objects.create_user(email=email, password=None, name=name[:150])
            row.user = user
        if row.user_id is None:
            return  # no address yet: kept as SCIM data, no account
        role = self.config.default_role if self.config else Role.MEMBER
        membership, _ = Membership.objects.get_or_create(
            user_id=row.user_id, organization=self.org, defaults={"role": role})
        suspended = None if active else (membership.suspended_at or timezone.now())
        if membership.suspended_at != suspended:
            membership.suspended_at = suspended
            membership.save(update_fields=["suspended_at"])
            from accounts.audit import audit_record

            audit_record(organization=self.org, actor=None,
                         action="reactivated" if active else "suspended", obj=membership,
                         note="By the organisation's SCIM client.")

    def _sync_group(self, row: ScimResource, resource: Resource[Any]) -> None:
        from accounts.services import team_save

        name = (resource.display_name or "").strip()[:120]
        member_ids = [m.value for m in (resource.members or []) if m.value]
        users = list(User.objects.filter(
            pk__in=ScimResource.objects.filter(organization=self.org, resource_type="User",
                                               scim_id__in=member_ids, user__isnull=False)
            .values("user_id")))
        team = row.team
        if team is None and name:
            team = Team.objects.filter(organization=self.org, name__iexact=name).first()
            if team is not None and ScimResource.objects.filter(
                    organization=self.org, team=team).exclude(pk=row.pk).exists():
                raise UniquenessException(detail=f"team {name!r} belongs to another group")
        if not name:
            return
        if team is not None and team.name != name and Team.objects.filter(
                organization=self.org, name__iexact=name).exclude(pk=team.pk).exists():
            raise UniquenessException(detail=f"a team named {name!r} already exists")
        row.team = team_save(organization=self.org, actor=None, team=team, name=name,
                             parent=team.parent if team else None,
                             lead=team.lead if team else None, members=users)

    def _save(self, resource_type: ResourceType, row: ScimResource,
              resource: Resource[Any]) -> Resource[Any]:
        row.payload = self._payload(resource)
        row.updated_at = timezone.now()
        if resource_type.name == "User":
            self._sync_user(row, resource)
        else:
            self._sync_group(row, resource)
        row.save()
        return self._resource(resource_type, row)

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        self._check_unique(resource_type, resource, None)
        now = timezone.now()
        row = ScimResource(organization=self.org, resource_type=resource_type.name,
                           scim_id=uuid.uuid4().hex, created_at=now, version=1)
        return self._save(resource_type, row, resource)

    def update(self, resource_type: ResourceType, resource: Resource[Any], *,
               expected_version: str | None = None) -> Resource[Any]:
        row = self._row(resource_type, resource.id, lock=True)
        if expected_version is not None and expected_version != _version(row.version):
            raise PreconditionFailedException(detail="the resource changed meanwhile")
        self._check_unique(resource_type, resource, row.scim_id)
        row.version += 1
        return self._save(resource_type, row, resource)

    def delete(self, resource_type: ResourceType, resource_id: str, *,
               expected_version: str | None = None) -> None:
        row = self._row(resource_type, resource_id, lock=True)
        if expected_version is not None and expected_version != _version(row.version):
            raise PreconditionFailedException(detail="the resource changed meanwhile")
        if resource_type.name == "User" and row.user_id:
            Membership.objects.filter(user_id=row.user_id, organization=self.org,
                                      suspended_at__isnull=True).update(
                suspended_at=timezone.now())
        row.delete()

    def operation(self):
        # A savepoint per operation: one failed operation of a bulk request leaves the
        # others (RFC 7644 §3.7); the view's transaction commits the request.
        return transaction.atomic()


_PROVIDER = None


def handler_for(organization: Organization) -> ScimHandler:
    global _PROVIDER
    if _PROVIDER is None:
        _PROVIDER = load_default_provider()
    service = ScimService(_PROVIDER)
    return ScimHandler(service, OrgStorage(organization, service))


