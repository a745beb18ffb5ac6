"""Admin for the strategy frame: the ultimate goal, pillars and cycles (scoped per org)."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_scoping import OrgScopedAdmin
from goals.models import Cycle, StrategicPillar, UltimateGoal


@admin.register(UltimateGoal)
class UltimateGoalAdmin(OrgScopedAdmin):
    list_display = ["title", "organization", "is_active", "updated_at"]
    list_filter = ["is_active", "organization"]
    search_fields = ["title", "mission", "vision"]
    list_select_related = ["organization"]
    fields = ["organization", "title", "mission", "vision", "is_active"]


@admin.register(StrategicPillar)
class StrategicPillarAdmin(OrgScopedAdmin):
    list_display = ["name", "organization", "goal", "order", "archived"]
    list_filter = ["archived", "organization"]
    search_fields = ["name", "description"]
    list_select_related = ["organization", "goal"]
    fields = ["organization", "goal", "name", "description", "order", "archived"]


@admin.register(Cycle)
class CycleAdmin(OrgScopedAdmin):
    list_display = ["name", "organization", "kind", "start", "end", "state"]
    list_filter = ["kind", "state", "organization"]
    search_fields = ["name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["parent"]
    fields = ["organization", "name", "kind", "start", "end", "parent", "state", "closed_at",
              "closed_by"]
    # Closing a cycle freezes every key result's score: that is done in the app.
    readonly_fields = ["state", "closed_at", "closed_by"]
