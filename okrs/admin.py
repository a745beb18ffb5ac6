"""Admin for objectives, key results and check-ins (scoped per organisation).

Writes go through ``okrs.services`` like the app's pages: the same checks (closed cycles
are read-only, no alignment loop, milestones normalised, a KR linked to a KPI takes its
value), audit entries and version bumps. A closed cycle's objectives show read-only here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction

from core.admin_scoping import VERSION_FIELD, OrgScopedAdmin, OrgScopedTabularInline
from core.forms import apply_errors
from core.versioning import loaded_version
from okrs import services
from okrs.models import CheckIn, KeyResult, Objective


def _kr_history_reason(kr: KeyResult) -> str:
    if kr.checkins.exists():
        return "it has check-ins (set its weight to 0 instead)"
    if kr.initiatives.exists():
        return "it has initiatives (move or delete them first)"
    return ""


# --- Key results inline under their objective ----------------------------------------------


class KeyResultInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        problems = [f"“{form.instance}” cannot be deleted: {reason}."
                    for form in self.deleted_forms
                    if form.instance.pk and (reason := _kr_history_reason(form.instance))]
        if problems:
            raise ValidationError(problems)


class KeyResultInline(OrgScopedTabularInline):
    model = KeyResult
    fk_name = "objective"
    formset = KeyResultInlineFormSet
    extra = 0
    # The current value comes from check-ins (or the linked KPI), never typed here.
    fields = ["title", "kind", "unit", "start_value", "target_value", "current_value", "guard",
              "done", "weight", "owner", "kpi"]
    readonly_fields = ["current_value"]
    autocomplete_fields = ["kpi"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    def _open(self, obj) -> bool:
        return obj is None or not obj.cycle.is_closed

    def has_add_permission(self, request, obj=None):
        return self._open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._open(obj) and super().has_delete_permission(request, obj)


# --- Objectives ------------------------------------------------------------------------------


class ObjectiveForm(forms.ModelForm):
    class Meta:
        model = Objective
        fields = ["organization", *services.OBJECTIVE_FIELDS]

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        adding = instance._state.adding
        cycle = cleaned.get("cycle")
        if cycle is not None and cycle.is_closed and (adding or cycle.pk != instance.cycle_id):
            self.add_error("cycle", services.closed_cycle_message(cycle))
        organization = cleaned.get("organization") if adding else instance.organization
        parent = cleaned.get("parent")
        if organization is not None and parent is not None and "parent" in self.changed_data:
            try:
                services.validate_alignment(organization=organization,
                                            objective_id=instance.pk, parent=parent)
            except ValidationError as exc:
                apply_errors(self, exc)
        return cleaned


@admin.register(Objective)
class ObjectiveAdmin(OrgScopedAdmin):
    form = ObjectiveForm
    audit = False  # the services record every change
    list_display = ["title", "organization", "cycle", "team", "owner", "kind", "state",
                    "deleted"]
    list_filter = ["state", "kind", "cycle", "team", "organization"]
    search_fields = ["title", "description"]
    list_select_related = ["organization", "cycle", "team", "owner"]
    autocomplete_fields = ["cycle", "team", "pillar", "parent"]
    inlines = [KeyResultInline]
    fieldsets = (
        (None, {"fields": ["organization", "cycle", "title", "description", "owner", "team",
                           "pillar", "parent", "kind", "state", "progress_from"]}),
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

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.cycle.is_closed:
            return False  # a closed cycle is read-only (shown, not editable)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.cycle.is_closed or services.objective_history_reason(obj)):
            return False  # close it with a closing status in the app instead
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in services.OBJECTIVE_FIELDS
                if k in form.cleaned_data}
        if not change:
            created = services.objective_create(
                organization=form.cleaned_data["organization"], actor=request.user, data=data)
            obj.pk = created.pk
            obj._state.adding = False
        else:
            changed = {k: v for k, v in data.items() if k in form.changed_data}
            if changed:
                services.objective_update(
                    objective=obj, actor=request.user, data=changed,
                    version=loaded_version(form, obj, field=VERSION_FIELD))
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not KeyResult:
            return super().save_formset(request, form, formset, change)
        objective = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for f in formset.deleted_forms:
            if f.instance.pk:
                services.key_result_delete(key_result=f.instance, actor=request.user)
                formset.deleted_objects.append(f.instance)
        for f in formset.forms:
            if f in formset.deleted_forms or not f.has_changed():
                continue
            data = {k: f.cleaned_data[k] for k in services.KR_FIELDS if k in f.cleaned_data}
            if f.instance.pk is None:
                kr = services.key_result_create(objective=objective, actor=request.user,
                                                data=data)
                formset.new_objects.append(kr)
            else:
                current = KeyResult.objects.get(pk=f.instance.pk)
                changed = {k: v for k, v in data.items() if k in f.changed_data}
                kr = services.key_result_update(key_result=current, actor=request.user,
                                                version=current.version, data=changed)
                formset.changed_objects.append((kr, f.changed_data))
        return None

    def delete_model(self, request, obj):
        services.objective_delete(objective=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("cycle"):
            try:
                services.objective_delete(objective=obj, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)


# --- Key results -----------------------------------------------------------------------------


class KeyResultForm(forms.ModelForm):
    class Meta:
        model = KeyResult
        fields = ["objective", *services.KR_FIELDS]

    def clean(self):
        cleaned = super().clean()
        objective = cleaned.get("objective")
        if objective is not None and objective.cycle.is_closed:
            self.add_error("objective", services.closed_cycle_message(objective.cycle))
        weight = cleaned.get("weight")
        if weight is not None and not 0 <= weight <= 1000:
            self.add_error("weight", "A weight lies between 0 and 1000.")
        return cleaned


@admin.register(KeyResult)
class KeyResultAdmin(OrgScopedAdmin):
    form = KeyResultForm
    audit = False  # the services record every change
    derive_org_from = ("objective",)
    list_display = ["title", "objective", "organization", "kind", "current_value",
                    "target_value", "status", "owner", "kpi"]
    list_filter = ["kind", "status", "organization"]
    search_fields = ["title", "objective__title"]
    list_select_related = ["objective__cycle", "organization", "owner", "kpi"]
    autocomplete_fields = ["objective", "kpi"]
    fields = ["organization", "objective", "title", "kind", "unit", "start_value",
              "target_value", "current_value", "guard", "done", "weight", "owner", "kpi",
              "status", "last_checkin_at", "final_value", "final_score", "order", "deleted_at"]

    def get_readonly_fields(self, request, obj=None):
        # Values and status come from check-ins (append-only) and the cycle's closing; a
        # key result stays under its objective.
        fields = ["current_value", "status", "last_checkin_at", "final_value", "final_score",
                  "order", "deleted_at"]
        if obj is not None:
            fields.append("objective")
        return [*super().get_readonly_fields(request, obj), *fields]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.objective.cycle.is_closed:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.objective.cycle.is_closed or _kr_history_reason(obj)):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in services.KR_FIELDS if k in form.cleaned_data}
        if not change:
            created = services.key_result_create(objective=form.cleaned_data["objective"],
                                                 actor=request.user, data=data)
            obj.pk = created.pk
            obj._state.adding = False
        else:
            changed = {k: v for k, v in data.items() if k in form.changed_data}
            if changed:
                services.key_result_update(
                    key_result=obj, actor=request.user, data=changed,
                    version=loaded_version(form, obj, field=VERSION_FIELD))
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.key_result_delete(key_result=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset.select_related("objective__cycle"):
                try:
                    services.key_result_delete(key_result=obj, actor=request.user)
                except ValidationError as exc:
                    self.message_user(request, " ".join(exc.messages), messages.ERROR)


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
