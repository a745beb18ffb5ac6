"""Admin for initiatives (scoped per organisation; the organisation follows the parent)."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_scoping import OrgScopedAdmin
from initiatives.models import Initiative


@admin.register(Initiative)
class InitiativeAdmin(OrgScopedAdmin):
    derive_org_from = ("key_result", "objective")
    list_display = ["title", "organization", "key_result", "objective", "owner", "status",
                    "due_date", "percent_complete"]
    list_filter = ["status", "organization"]
    search_fields = ["title", "description"]
    list_select_related = ["organization", "key_result", "objective", "owner"]
    autocomplete_fields = ["key_result", "objective"]
    fields = ["organization", "key_result", "objective", "title", "description", "owner",
              "status", "due_date", "percent_complete", "order"]
