"""The Django admin, scoped per organisation — written once, applied to every registration.

The admin must not become the hole in the wall. Rules:

- A **superuser** sees and edits everything (Django's usual behaviour).
- A **staff** user who is ``admin`` or ``owner`` of one or more organisations sees only
  those organisations' rows: in changelists, change views (a foreign row is a 404,
  exactly like a missing one), foreign-key and many-to-many choices, autocompletes,
  list filters and actions. Access comes from the membership role, not from Django's
  model permissions, so such a user needs no per-model permission.
- Anybody else (a staff user who is only a viewer/member/leader, a staff user with no
  membership at all) sees nothing: no module, no changelist, no autocomplete (403).
  A user who is not staff cannot enter the admin at all (Django's site check).

Use :class:`OrgScopedAdmin` (``ModelAdmin``) and :class:`OrgScopedInline`
(``TabularInline``/``StackedInline`` via :class:`OrgScopedInlineMixin`) and set
``org_path``: how the model reaches its organisation (``"organization"`` by default,
``"kpi__organization"`` for a data point, ``""`` for :class:`Organization` itself).
``tests/test_admin_scoping.py`` fails for any registered model that is not scoped.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.contrib import admin
from django.contrib.admin.filters import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import flatten, get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.http import Http404, HttpRequest

from accounts.models import Membership, Organization, Role

ADMIN_ROLES = (Role.ADMIN, Role.OWNER)
_CACHE_ATTR = "_headway_admin_org_roles"

# model -> path from the model to its Organization ("" = the model *is* Organization).
_ORG_PATHS: dict[type[models.Model], str] = {Organization: ""}


# --- Who may see what -----------------------------------------------------------------------


def is_superadmin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def admin_org_roles(request: HttpRequest) -> dict[int, str]:
    """``{organization_id: role}`` for the organisations the user administers (cached per
    request). Empty for anybody who is not an active staff user with an admin/owner role."""
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            cached = {}
        else:
            cached = dict(
                Membership.objects.filter(user=user, role__in=ADMIN_ROLES)
                .values_list("organization_id", "role")
            )
        setattr(request, _CACHE_ATTR, cached)
    return cached


def admin_org_ids(request: HttpRequest) -> list[int]:
    return sorted(admin_org_roles(request))


def can_enter(request: HttpRequest) -> bool:
    """May this user use the (model part of the) admin at all?"""
    return is_superadmin(request) or bool(admin_org_roles(request))


def is_owner_of(request: HttpRequest, org_id: int | None) -> bool:
    return is_superadmin(request) or admin_org_roles(request).get(org_id) == Role.OWNER


# --- How a model reaches its organisation ---------------------------------------------------


def register_org_path(model: type[models.Model], path: str) -> None:
    known = _ORG_PATHS.get(model)
    if known is not None and known != path:
        raise ValueError(f"{model.__name__} reaches its organisation through {known!r}, "
                         f"not {path!r}")
    _ORG_PATHS[model] = path


def org_path_for(model: type[models.Model]) -> str | None:
    """The lookup path to Organization, or None when the model has no organisation."""
    if model in _ORG_PATHS:
        return _ORG_PATHS[model]
    try:
        field = model._meta.get_field("organization")
    except FieldDoesNotExist:
        return None
    if field.is_relation and field.related_model is Organization:
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
    if isinstance(obj, Organization):
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
        return qs.filter(
            pk__in=Membership.objects.filter(organization__in=ids).values("user_id"))
    path = org_path_for(model)
    if path is None:
        return qs.none()
    return qs.filter(**{f"{path}__in" if path else "pk__in": ids})


def user_is_member(user, org_id: int | None) -> bool:
    return org_id is not None and Membership.objects.filter(
        user=user, organization_id=org_id).exists()


# --- Forms: every chosen row must belong to the row's own organisation -------------------


def _related_org_error(value, org_id: int, *, user_any_org: bool) -> str | None:
    """An error message when ``value`` (a chosen row) is not of organisation ``org_id``."""
    if isinstance(value, get_user_model()):
        if user_any_org:
            return None
        if not user_is_member(value, org_id):
            return f"{value} is not a member of this organisation."
        return None
    if isinstance(value, Organization):
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
    from accounts.audit import audit_record

    org_id = org_id_of(obj)
    if org_id is None or isinstance(obj, Organization) and action.startswith("deleted"):
        return
    audit_record(organization=Organization(pk=org_id), actor=request.user, action=action[:40],
                 obj=obj, changes=changes)


# --- The ModelAdmin and inline bases ------------------------------------------------------


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
