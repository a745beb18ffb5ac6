"""Admin for objectives, key results and check-ins (scoped per organisation)."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_scoping import OrgScopedAdmin, OrgScopedTabularInline
from okrs.models import CheckIn, KeyResult, Objective


class KeyResultInline(OrgScopedTabularInline):
    model = KeyResult
    fk_name = "objective"
    extra = 0
    # The current value comes from check-ins (or the linked KPI), never typed here.
    fields = ["title", "kind", "unit", "start_value", "target_value", "current_value", "guard",
              "done", "weight", "owner", "kpi", "order"]
    readonly_fields = ["current_value"]
    autocomplete_fields = ["kpi"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deleted_at__isnull=True)


@admin.register(Objective)
class ObjectiveAdmin(OrgScopedAdmin):
    list_display = ["title", "organization", "cycle", "team", "owner", "kind", "state",
                    "deleted"]
    list_filter = ["state", "kind", "cycle", "team", "organization"]
    search_fields = ["title", "description"]
    list_select_related = ["organization", "cycle", "team", "owner"]
    autocomplete_fields = ["cycle", "team", "pillar", "parent"]
    inlines = [KeyResultInline]
    fieldsets = (
        (None, {"fields": ["organization", "cycle", "title", "description", "owner", "team",
                           "pillar", "parent", "kind", "state", "progress_from", "order"]}),
        ("Closing (set when the cycle closes, in the app)", {
            "classes": ["collapse"],
            "fields": ["closing_status", "score", "closing_note", "carried_from", "created_by",
                       "deleted_at"]}),
    )
    readonly_fields = ["closing_status", "score", "closing_note", "carried_from", "created_by",
                       "deleted_at"]

    @admin.display(boolean=True, description="Deleted")
    def deleted(self, obj):
        return obj.deleted_at is not None

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(KeyResult)
class KeyResultAdmin(OrgScopedAdmin):
    derive_org_from = ("objective",)
    list_display = ["title", "objective", "organization", "kind", "current_value",
                    "target_value", "status", "owner", "kpi"]
    list_filter = ["kind", "status", "organization"]
    search_fields = ["title", "objective__title"]
    list_select_related = ["objective", "organization", "owner", "kpi"]
    autocomplete_fields = ["objective", "kpi"]
    fields = ["organization", "objective", "title", "kind", "unit", "start_value",
              "target_value", "current_value", "guard", "done", "weight", "owner", "kpi",
              "status", "last_checkin_at", "final_value", "final_score", "order", "deleted_at"]
    # Values and status come from check-ins (append-only) and the cycle's closing.
    readonly_fields = ["current_value", "status", "last_checkin_at", "final_value", "final_score",
                       "deleted_at"]


@admin.register(CheckIn)
class CheckInAdmin(OrgScopedAdmin):
    """Append-only: a correction is a new check-in, made in the app."""

    read_only = True
    list_display = ["key_result", "organization", "author", "status", "value", "done",
                    "week_start", "created_at"]
    list_filter = ["status", "organization"]
    search_fields = ["key_result__title", "comment"]
    list_select_related = ["key_result", "organization", "author"]
    date_hierarchy = "created_at"
