"""The scoped admin's forms: every chosen row must belong to the row's own organisation,
a versioned row refuses a stale form, and admin changes are audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth import get_user_model
from django.db import models

from core.admin_scoping.rules import org_id_of, org_path_for, tenancy, user_is_member

if TYPE_CHECKING:
    from core.admin_scoping.admins import OrgScopedAdmin, OrgScopedInlineMixin

def _related_org_error(value, org_id: int, *, user_any_org: bool) -> str | None:
    """An error message when ``value`` (a chosen row) is not of organisation ``org_id``."""
    if isinstance(value, get_user_model()):
        if user_any_org:
            return None
        if not user_is_member(value, org_id):
            return f"{value} is not a member of this organisation."
        return None
    if isinstance(value, tenancy().organization_model):
        return None if value.pk == org_id else "Choose this row's own organisation."
    if org_path_for(type(value)) is None:
        return None
    if org_id_of(value) != org_id:
        return f"“{value}” belongs to another organisation."
    return None


def check_same_org(form: forms.BaseForm, org_id: int | None, *,
                   user_any_org: Iterable[str] = ()) -> None:
    """Add a field error for every chosen row of another organisation than ``org_id``."""
    if org_id is None or not hasattr(form, "cleaned_data"):
        return
    for name, field in list(form.fields.items()):
        if not isinstance(field, forms.ModelChoiceField) or name not in form.cleaned_data:
            continue
        value = form.cleaned_data[name]
        values = list(value) if isinstance(field, forms.ModelMultipleChoiceField) else [value]
        for item in values:
            if item is None:
                continue
            error = _related_org_error(item, org_id, user_any_org=name in user_any_org)
            if error:
                form.add_error(name, error)
                break


VERSION_FIELD = "headway_version"


def _versioned(model) -> bool:
    return any(f.name == "version" for f in model._meta.fields)


class SameOrgFormMixin:
    """Mixed into the admin's ModelForm by :meth:`OrgScopedAdmin.get_form`."""

    _scope_admin: OrgScopedAdmin

    def target_org_id(self) -> int | None:
        admin_ = self._scope_admin
        instance = self.instance
        if instance.pk is not None and not instance._state.adding:
            return org_id_of(instance)  # clean() runs before the instance is updated
        path = org_path_for(type(instance))
        if path == "":
            return None
        cleaned = self.cleaned_data
        for parent in admin_.derive_org_from:
            value = cleaned.get(parent)
            if value is not None:
                return org_id_of(value)
        head, _, rest = path.partition("__")
        if head in cleaned:
            root = cleaned[head]
            if root is None:
                return None
            if not rest:
                return root.pk
            return org_id_of(root) if isinstance(root, models.Model) else None
        return org_id_of(instance)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if VERSION_FIELD in self.fields and self.instance.pk is not None:
            self.fields[VERSION_FIELD].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        loaded = cleaned.get(VERSION_FIELD)
        if loaded is not None and self.instance.pk is not None:
            current = type(self.instance)._default_manager.filter(
                pk=self.instance.pk).values_list("version", flat=True).first()
            if loaded != current:
                raise forms.ValidationError(
                    "Someone else changed this since you opened the page. Reload it to see "
                    "the current values, then make your change again.", code="stale")
        org_id = self.target_org_id()
        admin_ = self._scope_admin
        if org_id is not None:
            check_same_org(self, org_id, user_any_org=admin_.user_fields_any_org)
            if admin_.derive_org_from and hasattr(self.instance, "organization_id"):
                self.instance.organization_id = org_id
        elif (self.instance._state.adding and admin_.derive_org_from
              and not any(self.cleaned_data.get(p) for p in admin_.derive_org_from)):
            parents = " or ".join(f.replace("_", " ") for f in admin_.derive_org_from)
            raise forms.ValidationError(f"Choose the {parents} this belongs to.")
        return cleaned


class SameOrgInlineFormSetMixin:
    """Every inline row must belong to the parent row's organisation."""

    _scope_inline: OrgScopedInlineMixin

    def clean(self):
        super().clean()
        org_id = org_id_of(self.instance)
        if org_id is None:
            return
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.has_changed():
                continue
            check_same_org(form, org_id)
            if hasattr(form.instance, "organization_id") and form.instance._state.adding:
                form.instance.organization_id = org_id


def _plain(value):
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set | models.QuerySet):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def audit_admin_change(request, obj, action: str, changes: dict | None = None) -> None:
    """Record an admin save or deletion in the row's organisation's audit trail."""
    org_id = org_id_of(obj)
    organization = tenancy().organization_model
    if org_id is None or isinstance(obj, organization) and action.startswith("deleted"):
        return
    tenancy().audit(organization_id=org_id, actor=request.user, action=action[:40], obj=obj,
                    changes=changes)
