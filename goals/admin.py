"""Admin for the strategy frame: the ultimate goal, pillars and cycles (scoped per org).

Writes go through ``goals.services`` like the app's pages: the same checks (cycle dates
inside their parent, unique names, one active goal), audit entries and version bumps.
Closing a cycle freezes every key result's score: that is done in the app, so a closed
cycle shows read-only here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.admin_scoping import VERSION_FIELD, OrgScopedAdmin
from core.forms import apply_errors
from core.versioning import loaded_version
from goals import services
from goals.models import Cycle, StrategicPillar, UltimateGoal


def _org(form):
    return form.cleaned_data.get("organization") if form.instance._state.adding \
        else form.instance.organization


class _ServiceSaved(OrgScopedAdmin):
    audit = False  # the services record every change

    def create(self, request, organization, data):  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, request, obj, version, data):  # pragma: no cover - abstract
        raise NotImplementedError

    fields_for_service: list[str] = []

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in self.fields_for_service
                if k in form.cleaned_data}
        if not change:
            created = self.create(request, form.cleaned_data["organization"], data)
            obj.pk = created.pk
            obj._state.adding = False
        else:
            changed = {k: v for k, v in data.items() if k in form.changed_data}
            if changed:
                self.update(request, obj, loaded_version(form, obj, field=VERSION_FIELD),
                            changed)
        obj.refresh_from_db()


# --- The ultimate goal ------------------------------------------------------------------------


class GoalForm(forms.ModelForm):
    class Meta:
        model = UltimateGoal
        fields = ["organization", *services.GOAL_FIELDS]

    def clean(self):
        cleaned = super().clean()
        org = _org(self)
        if self.instance._state.adding and org is not None and UltimateGoal.objects.filter(
                organization=org, is_active=True).exists():
            raise ValidationError("This organisation already has its ultimate goal: change "
                                  "that one.")
        return cleaned


@admin.register(UltimateGoal)
class UltimateGoalAdmin(_ServiceSaved):
    form = GoalForm
    fields_for_service = services.GOAL_FIELDS
    list_display = ["title", "organization", "is_active", "updated_at"]
    list_filter = ["is_active", "organization"]
    search_fields = ["title", "mission", "vision"]
    list_select_related = ["organization"]
    fields = ["organization", "title", "mission", "vision", "is_active"]
    readonly_fields = ["is_active"]

    def create(self, request, organization, data):
        return services.goal_save(organization=organization, actor=request.user, data=data)

    def update(self, request, obj, version, data):
        return services.goal_save(organization=obj.organization, actor=request.user,
                                  data=data, goal=obj, version=version)


# --- Pillars -----------------------------------------------------------------------------------


class PillarForm(forms.ModelForm):
    class Meta:
        model = StrategicPillar
        fields = ["organization", *services.PILLAR_FIELDS]

    def clean(self):
        cleaned = super().clean()
        org, name = _org(self), cleaned.get("name")
        if org is not None and name:
            try:
                services._check_pillar_name(org, name, self.instance.pk)
            except ValidationError as exc:
                apply_errors(self, exc)
        return cleaned


@admin.register(StrategicPillar)
class StrategicPillarAdmin(_ServiceSaved):
    form = PillarForm
    fields_for_service = services.PILLAR_FIELDS
    list_display = ["name", "organization", "goal", "order", "archived"]
    list_filter = ["archived", "organization"]
    search_fields = ["name", "description"]
    list_select_related = ["organization", "goal"]
    fields = ["organization", "goal", "name", "description", "order", "archived"]
    readonly_fields = ["goal"]  # pillars hang from the organisation's active goal

    def create(self, request, organization, data):
        return services.pillar_create(organization=organization, actor=request.user, data=data)

    def update(self, request, obj, version, data):
        return services.pillar_update(pillar=obj, actor=request.user, version=version,
                                      data=data)


# --- Cycles ------------------------------------------------------------------------------------


class CycleForm(forms.ModelForm):
    class Meta:
        model = Cycle
        fields = ["organization", *services.CYCLE_FIELDS]

    def clean(self):
        cleaned = super().clean()
        org = _org(self)
        if org is not None:
            data = {k: cleaned.get(k) for k in services.CYCLE_FIELDS}
            try:
                services._check_cycle(org, data, exclude_pk=self.instance.pk)
            except ValidationError as exc:
                apply_errors(self, exc)
        return cleaned


@admin.register(Cycle)
class CycleAdmin(_ServiceSaved):
    form = CycleForm
    fields_for_service = services.CYCLE_FIELDS
    list_display = ["name", "organization", "kind", "start", "end", "state"]
    list_filter = ["kind", "state", "organization"]
    search_fields = ["name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["parent"]
    fields = ["organization", "name", "kind", "start", "end", "parent", "state", "closed_at",
              "closed_by"]
    readonly_fields = ["state", "closed_at", "closed_by"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_closed:
            return False  # a closed cycle is read-only
        return super().has_change_permission(request, obj)

    def create(self, request, organization, data):
        return services.cycle_create(organization=organization, actor=request.user, data=data)

    def update(self, request, obj, version, data):
        return services.cycle_update(cycle=obj, actor=request.user, version=version, data=data)
