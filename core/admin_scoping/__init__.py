"""The Django admin, scoped per organisation — written once, applied to every registration.

The admin must not become the hole in the wall. Rules:

- A **superuser** sees and edits everything (Django's usual behaviour).
- A user who is ``admin`` or ``owner`` of one or more organisations (an active
  membership; ``is_staff`` is not needed, see ``site``) sees only
  those organisations' rows: in changelists, change views (a foreign row is a 404,
  exactly like a missing one), foreign-key and many-to-many choices, autocompletes,
  list filters and actions. Access comes from the membership role, not from Django's
  model permissions, so such a user needs no per-model permission.
- Anybody else (a viewer/member/leader, a user with no membership at all, staff or not)
  cannot enter the admin (``site.HeadwayAdminSite.has_permission``: the login page) and
  sees nothing: no module, no changelist, no autocomplete.

Use :class:`OrgScopedAdmin` (``ModelAdmin``) and :class:`OrgScopedInline`
(``TabularInline``/``StackedInline`` via :class:`OrgScopedInlineMixin`) and set
``org_path``: how the model reaches its organisation (``"organization"`` by default,
``"kpi__organization"`` for a data point, ``""`` for :class:`Organization` itself).
``tests/test_admin_scoping.py`` fails for any registered model that is not scoped.

The rules are in ``rules`` (who may see what; the :class:`Tenancy` interface that accounts
fills), the form checks in ``forms``, the bases in ``admins``; this module re-exports them.
"""

from core.admin_scoping.admins import (
    OrgScopedAdmin,
    OrgScopedInlineMixin,
    OrgScopedStackedInline,
    OrgScopedTabularInline,
    ReadOnlyInlineMixin,
)
from core.admin_scoping.forms import VERSION_FIELD, audit_admin_change, check_same_org
from core.admin_scoping.rules import (
    Tenancy,
    admin_org_ids,
    admin_org_roles,
    can_enter,
    configure,
    is_owner_of,
    is_superadmin,
    org_id_of,
    org_path_for,
    register_org_path,
    scope_queryset,
    tenancy,
    user_is_member,
)

__all__ = [
    "VERSION_FIELD", "OrgScopedAdmin", "OrgScopedInlineMixin", "OrgScopedStackedInline",
    "OrgScopedTabularInline", "ReadOnlyInlineMixin", "Tenancy", "admin_org_ids",
    "admin_org_roles", "audit_admin_change", "can_enter", "check_same_org", "configure",
    "is_owner_of", "is_superadmin", "org_id_of", "org_path_for", "register_org_path",
    "scope_queryset", "tenancy", "user_is_member",
]
