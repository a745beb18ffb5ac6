"""The ModelAdmin and inline bases every registration uses (see the package docstring)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.filters import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import flatten, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import Http404

from core.admin_scoping.forms import (
    VERSION_FIELD,
    SameOrgFormMixin,
    SameOrgInlineFormSetMixin,
    _plain,
    _versioned,
    audit_admin_change,
)
from core.admin_scoping.rules import (
    admin_org_ids,
    admin_org_roles,
    can_enter,
    is_superadmin,
    org_id_of,
    register_org_path,
    scope_queryset,
)
from core.fields import NumberField, WholeNumberField


def _scoped_formfield_kwargs(admin_obj, db_field, request, kwargs):
    if "queryset" not in kwargs:
        db = kwargs.get("using")
        qs = admin_obj.get_field_queryset(db, db_field, request)
        if qs is None:
            qs = db_field.remote_field.model._default_manager.using(db).all()
        kwargs["queryset"] = scope_queryset(qs, request)
    else:
        kwargs["queryset"] = scope_queryset(kwargs["queryset"], request)
    return kwargs


class _ScopedPermissions:
    """Membership-based permissions shared by model admins and inlines."""

    read_only = False  # True: view only, even for superusers (logs, append-only rows)
    # Numbers typed in the admin are read by core.numbers, as on the pages (the reader's
    # locale; no "1_000", no digits other than 0–9, no NaN), not by Django's float()/int().
    formfield_overrides = {models.FloatField: {"form_class": NumberField},
                           models.IntegerField: {"form_class": WholeNumberField}}

    def _may_see(self, request, obj=None) -> bool:
        if is_superadmin(request):
            return True
        roles = admin_org_roles(request)
        if not roles:
            return False
        if obj is None:
            return True
        return org_id_of(obj) in roles

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = _scoped_formfield_kwargs(self, db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = _scoped_formfield_kwargs(self, db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None):
        return self._may_see(request, obj)


class OrgScopedAdmin(_ScopedPermissions, admin.ModelAdmin):
    """A ModelAdmin that shows and accepts only rows of the user's organisations."""

    org_path = "organization"
    # Fields naming the parent the organisation is taken from on add (the organization
    # field is then left out of the form), e.g. ("objective",) for a key result.
    derive_org_from: tuple[str, ...] = ()
    # User fields that may name a member of *any* administered organisation (not only the
    # row's own), e.g. the user of a new membership.
    user_fields_any_org: tuple[str, ...] = ()
    addable = True  # False: rows are created by the app, never in the admin
    deletable = True
    audit = True  # record admin saves and deletions in the organisation's audit trail

    def __init__(self, model, admin_site):
        register_org_path(model, self.org_path)
        super().__init__(model, admin_site)

    # Permissions from membership roles ------------------------------------------------

    def has_module_permission(self, request):
        return can_enter(request)

    def has_add_permission(self, request):
        return not self.read_only and self.addable and self._may_see(request)

    def has_change_permission(self, request, obj=None):
        return not self.read_only and self._may_see(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.read_only and self.deletable and self._may_see(request, obj)

    # A foreign row looks exactly like a missing one --------------------------------------

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("Not found.")
        return obj

    def get_search_results(self, request, queryset, search_term):
        queryset = scope_queryset(queryset, request)
        return super().get_search_results(request, queryset, search_term)

    def _single_org(self, request) -> bool:
        return not is_superadmin(request) and len(admin_org_roles(request)) == 1

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if self._single_org(request) and len(columns) > 1:
            columns = [c for c in columns if c != "organization"]  # always the same one
        return columns

    def get_list_filter(self, request):
        """Relation filters list only related rows present in the (scoped) changelist."""
        out = []
        for item in super().get_list_filter(request):
            if item == "organization" and self._single_org(request):
                continue
            if isinstance(item, str):
                try:
                    field = get_fields_from_path(self.model, item)[-1]
                except (FieldDoesNotExist, Exception):  # noqa: BLE001 - checked by Django
                    field = None
                if field is not None and field.is_relation:
                    item = (item, RelatedOnlyFieldListFilter)
            out.append(item)
        return out

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and self.org_path == "organization" and "organization" not in fields:
            fields.append("organization")  # a row never moves to another organisation
        return fields

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if self.derive_org_from and "organization" not in exclude:
            exclude.append("organization")
        return exclude

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if self.derive_org_from and obj is None and "organization" in fields:
            fields.remove("organization")
        return fields

    # Editable definitions carry a version: a form opened before someone else's change is
    # refused, never silently overwriting it (a hidden field, added to every versioned form).
    check_version = True

    def _checks_version(self, obj) -> bool:
        return self.check_version and obj is not None and _versioned(self.model)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._checks_version(obj):
            return fieldsets
        names = [name for _, opts in fieldsets for name in flatten(opts["fields"])]
        if VERSION_FIELD in names:
            return fieldsets
        (title, opts), *rest = fieldsets
        return [(title, {**opts, "fields": [*opts["fields"], VERSION_FIELD]}), *rest]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._checks_version(obj):
            base = kwargs.get("form", self.form)
            kwargs["form"] = type(base.__name__, (base,), {
                VERSION_FIELD: forms.IntegerField(widget=forms.HiddenInput, required=False)})
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (SameOrgFormMixin, form), {"_scope_admin": self})

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        ids = admin_org_ids(request)
        if self.org_path == "organization" and len(ids) == 1:
            initial.setdefault("organization", ids[0])
        return initial

    def get_deleted_objects(self, objs, request):
        """Rows that are history (read-only admins) go with their parent: deleting a KPI
        takes its health and events along without needing a right on them."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        history = {
            str(model._meta.verbose_name)
            for model, model_admin in self.admin_site._registry.items()
            if getattr(model_admin, "read_only", False)
        }
        return deleted, counts, {p for p in perms_needed if str(p) not in history}, protected

    # Saving: bump the version (a form opened in the app before is refused as stale) and
    # leave a trace in the audit trail -------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if change and any(f.name == "version" for f in self.model._meta.fields):
            obj.version = (obj.version or 0) + 1
        super().save_model(request, obj, form, change)
        if self.audit:
            changes = {}
            if change:
                for name in form.changed_data:
                    if name in form.initial and name in form.cleaned_data:
                        changes[name] = [_plain(form.initial[name]),
                                         _plain(form.cleaned_data[name])]
            audit_admin_change(request, obj, "updated (admin)" if change else "created (admin)", changes)

    def delete_model(self, request, obj):
        if self.audit:
            audit_admin_change(request, obj, "deleted (admin)")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        if self.audit:
            for obj in queryset:
                audit_admin_change(request, obj, "deleted (admin)")
        super().delete_queryset(request, queryset)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.deletable or self.read_only:
            actions.pop("delete_selected", None)
        return actions


class OrgScopedInlineMixin(_ScopedPermissions):
    """Inline rows follow their parent: visible and editable where the parent is."""

    org_path: str | None = None  # None: the model has an ``organization`` field

    def __init__(self, parent_model, admin_site):
        if self.org_path is not None:
            register_org_path(self.model, self.org_path)
        super().__init__(parent_model, admin_site)

    def has_add_permission(self, request, obj=None):
        return not self.read_only and self._may_see(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self.read_only and self._may_see(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.read_only and self._may_see(request, obj)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (SameOrgInlineFormSetMixin, formset),
                    {"_scope_inline": self})


class OrgScopedTabularInline(OrgScopedInlineMixin, admin.TabularInline):
    pass


class OrgScopedStackedInline(OrgScopedInlineMixin, admin.StackedInline):
    pass


class ReadOnlyInlineMixin:
    """An inline that only shows rows (history, health)."""

    read_only = True
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return list(self.fields or [f.name for f in self.model._meta.fields])
