"""Admin for initiatives (scoped per organisation; the organisation follows the parent).

Writes go through ``initiatives.services``: one parent (a key result or an objective),
an owner who is a member, closed cycles read-only, audit entries and version bumps.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from core.admin_scoping import VERSION_FIELD, OrgScopedAdmin
from core.versioning import loaded_version
from initiatives import services
from initiatives.models import Initiative
from okrs.services import closed_cycle_message


def _cycle_of(initiative: Initiative):
    parent = initiative.key_result.objective if initiative.key_result_id else initiative.objective
    return parent.cycle


class InitiativeForm(forms.ModelForm):
    class Meta:
        model = Initiative
        fields = ["key_result", "objective", *services.FIELDS]

    def clean(self):
        cleaned = super().clean()
        if self.instance._state.adding:
            kr, objective = cleaned.get("key_result"), cleaned.get("objective")
            if kr is not None and objective is not None:
                raise ValidationError("An initiative hangs under one key result or one "
                                      "objective, not both.")
            parent_cycle = kr.objective.cycle if kr else objective.cycle if objective else None
            if parent_cycle is not None and parent_cycle.is_closed:
                raise ValidationError(closed_cycle_message(parent_cycle))
        pct = cleaned.get("percent_complete")
        if pct is not None and not 0 <= pct <= 100:
            self.add_error("percent_complete", "Between 0 and 100.")
        return cleaned


@admin.register(Initiative)
class InitiativeAdmin(OrgScopedAdmin):
    form = InitiativeForm
    audit = False  # the services record every change
    derive_org_from = ("key_result", "objective")
    list_display = ["title", "organization", "key_result", "objective", "owner", "status",
                    "due_date", "percent_complete"]
    list_filter = ["status", "organization"]
    search_fields = ["title", "description"]
    list_select_related = ["organization", "key_result__objective__cycle", "objective__cycle",
                           "owner"]
    autocomplete_fields = ["key_result", "objective"]
    fields = ["organization", "key_result", "objective", "title", "description", "owner",
              "status", "due_date", "percent_complete", "order"]

    def get_readonly_fields(self, request, obj=None):
        fields = ["order"]
        if obj is not None:
            fields += ["key_result", "objective"]  # an initiative stays under its parent
        return [*super().get_readonly_fields(request, obj), *fields]

    def has_change_permission(self, request, obj=None):
        if obj is not None and _cycle_of(obj).is_closed:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and _cycle_of(obj).is_closed:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        data = {k: cd[k] for k in services.FIELDS if k in cd}
        if not change:
            created = services.initiative_create(actor=request.user, data=data,
                                                 key_result=cd.get("key_result"),
                                                 objective=cd.get("objective"))
            obj.pk = created.pk
            obj._state.adding = False
        else:
            changed = {k: v for k, v in data.items() if k in form.changed_data}
            if changed:
                services.initiative_update(
                    initiative=obj, actor=request.user, data=changed,
                    version=loaded_version(form, obj, field=VERSION_FIELD))
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.initiative_delete(initiative=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            try:
                services.initiative_delete(initiative=obj, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
