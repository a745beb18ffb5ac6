"""Admin for KPIs: definitions and targets, data points, health (scoped per organisation).

Writes go through ``kpis.services`` exactly as in the app: the same validation of targets
and values, a reason for every target change (kept as a TargetChange), revision history for
replaced values, and health re-evaluated after commit.
"""

from __future__ import annotations

import csv
import io

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from config.celery import enqueue_on_commit
from core.admin_scoping import (
    OrgScopedAdmin,
    OrgScopedStackedInline,
    OrgScopedTabularInline,
    ReadOnlyInlineMixin,
    audit_admin_change,
)
from core.forms import apply_errors
from core.versioning import StaleVersion
from kpis import rules as R
from kpis import services
from kpis.forms import CsvForm
from kpis.models import DataPoint, HealthEvent, Kpi, KpiHealth, TargetChange

LATEST_POINTS_INLINE = 12
TARGET_FIELDS = ("target_rule", "target_value", "target_upper")


# --- Inlines on the KPI page (all read-only: values come in through the services) -------


def _fmt(kpi: Kpi, value) -> str:
    return "—" if value is None else R.format_value(value, kpi.unit, kpi.decimals + 1)


class KpiHealthInline(ReadOnlyInlineMixin, OrgScopedStackedInline):
    model = KpiHealth
    org_path = "kpi__organization"
    verbose_name = gettext_lazy("health")
    verbose_name_plural = gettext_lazy("Health (computed after every change)")
    fields = ["status", "is_stale", "latest", "points_count", "limits", "capability",
              "candidate", "candidate_reason", "evaluated_at"]

    @admin.display(description="Latest value")
    def latest(self, obj):
        if obj.latest_value is None:
            return "—"
        return f"{_fmt(obj.kpi, obj.latest_value)} ({obj.latest_period})"

    @admin.display(description="Process limits (XmR)")
    def limits(self, obj):
        if obj.center is None:
            return "Fewer than 6 points: no limits yet."
        return (f"centre {_fmt(obj.kpi, obj.center)}, limits {_fmt(obj.kpi, obj.lower_limit)} "
                f"to {_fmt(obj.kpi, obj.upper_limit)}, moving range up to "
                f"{_fmt(obj.kpi, obj.upper_range_limit)}")


class LatestPointsFormSet(BaseInlineFormSet):
    """Only the newest points: a KPI may have years of them (the link shows them all)."""

    def get_queryset(self):
        if not hasattr(self, "_latest"):
            qs = super().get_queryset()
            ids = list(qs.order_by("-period_start").values_list("pk", flat=True)
                       [:LATEST_POINTS_INLINE])
            self._latest = qs.filter(pk__in=ids).order_by("-period_start")
        return self._latest


class LatestPointsInline(ReadOnlyInlineMixin, OrgScopedTabularInline):
    model = DataPoint
    org_path = "kpi__organization"
    formset = LatestPointsFormSet
    verbose_name_plural = f"Latest {LATEST_POINTS_INLINE} data points"
    fields = ["period_start", "value", "note", "source", "author", "updated_at"]
    show_change_link = True


class TargetChangeInline(ReadOnlyInlineMixin, OrgScopedTabularInline):
    model = TargetChange
    org_path = "kpi__organization"
    verbose_name_plural = gettext_lazy("Target changes (history)")
    fields = ["changed_at", "changed_by", "old_rule", "old_value", "old_upper", "new_rule",
              "new_value", "new_upper", "reason"]


# --- The KPI form: same target validation as the app, a reason when the target changes ---


class KpiAdminForm(forms.ModelForm):
    target_change_reason = forms.CharField(
        label="Why does the target change?", required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Required when the target changes; kept in the KPI's history.",
    )
    # A derived KPI's formula, typed with the inputs' names (the app's form and the API do
    # the same: kpis.derived.clean_formula, then kpis.services stores it with ids).
    formula = forms.CharField(
        label=gettext_lazy("Computed from other KPIs"), required=False, max_length=500,
        widget=forms.TextInput(attrs={"size": 60, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "A derived KPI: its values are computed, never entered. Put each KPI's name in "
            "square brackets, with numbers, + − × / and parentheses: [Resolved first time] / "
            "[Tickets] × 100. The KPIs must have the same frequency. Empty: an ordinary KPI."))

    class Meta:
        model = Kpi
        fields = ["organization", "name", "description", "unit", "decimals", "owner", "team",
                  "frequency", "active", "version", *TARGET_FIELDS, "baseline_size",
                  "rebase_date"]
        widgets = {"version": forms.HiddenInput}

    target_did_change = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.formula and not self.is_bound:
            from .derived import named

            self.initial["formula"] = named(self.instance)

    def _clean_formula(self, cleaned, org, adding: bool) -> None:
        from .derived import clean_formula

        if org is None or ("formula" not in self.changed_data and not adding):
            return
        try:
            clean_formula(organization=org, text=cleaned.get("formula") or "",
                          frequency=cleaned.get("frequency") or self.instance.frequency,
                          kpi=None if adding else self.instance)
        except ValidationError as exc:
            self.add_error("formula", exc.message_dict.get("formula"))

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        adding = instance._state.adding
        if not adding and "version" in self.fields:
            current = Kpi.objects.filter(pk=instance.pk).values_list("version", flat=True).first()
            if cleaned.get("version") != current:
                raise ValidationError(
                    "This KPI was changed by someone else since you opened this page. "
                    "Reload it to see the current values, then make your change again.",
                    code="stale")
        # The target: services.clean_target is what the app's forms, the API and CSV use.
        if all(f in cleaned for f in TARGET_FIELDS if f in self.fields) and \
                "target_rule" in self.fields:
            try:
                rule, value, upper = services.clean_target(
                    cleaned.get("target_rule"), cleaned.get("target_value"),
                    cleaned.get("target_upper"))
            except ValidationError as exc:
                apply_errors(self, exc)
            else:
                cleaned["target_value"], cleaned["target_upper"] = value, upper
                if not adding:
                    self.target_did_change = (rule, value, upper) != (
                        instance.target_rule, instance.target_value, instance.target_upper)
                    if self.target_did_change and not cleaned.get(
                            "target_change_reason", "").strip():
                        self.add_error("target_change_reason",
                                       "Say why the target changes: it is kept in the history.")
        name = (cleaned.get("name") or "").strip()
        org = cleaned.get("organization") if adding else instance.organization
        if name and org is not None and Kpi.objects.filter(
                organization=org, name__iexact=name).exclude(pk=instance.pk).exists():
            self.add_error("name", "A KPI with this name already exists.")
        self._clean_formula(cleaned, org, adding)
        rebase = cleaned.get("rebase_date")
        frequency = cleaned.get("frequency") or instance.frequency
        if rebase and frequency and "rebase_date" in self.changed_data:
            try:
                cleaned["rebase_date"] = services.clean_period(
                    Kpi(frequency=frequency), rebase, field="rebase_date")
            except ValidationError as exc:
                self.add_error("rebase_date", exc.message_dict.get("rebase_date"))
        return cleaned


class CsvImportForm(CsvForm):
    """The app's upload form (size and encoding checks), with this page's help text."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = ("Columns: period, value, note (optional); or the "
                                         "export's kpi, period, value, note.")
        del self.fields["content"]


def _csv_safe(text: str) -> str:
    """Keep spreadsheet formulas out of exported text cells."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@admin.register(Kpi)
class KpiAdmin(OrgScopedAdmin):
    form = KpiAdminForm
    audit = False  # the services record every change
    check_version = False  # the form carries the model's own version (services check it)
    list_display = ["name", "organization", "team", "intent", "frequency", "target",
                    "health_status", "latest_value", "active"]
    list_filter = ["team", "intent", "health__status", "frequency", "active", "organization"]
    search_fields = ["name", "description", "unit"]
    list_select_related = ["organization", "team", "health"]
    autocomplete_fields = ["team"]
    inlines = [KpiHealthInline, TargetChangeInline, LatestPointsInline]
    actions = ["reevaluate_health", "export_points_csv", "import_points_csv"]
    readonly_fields = ["intent", "data_points", "updated_at"]
    fieldsets = (
        (None, {"fields": ["organization", "name", "description", "unit", "decimals", "owner",
                           "team", "frequency", "formula", "intent", "active", "version"],
                "description": "Intent is set by the loop (improve while an improvement "
                               "objective follows the KPI, sustain otherwise), not by hand."}),
        ("Target", {
            "fields": ["target_rule", "target_value", "target_upper", "target_change_reason"],
            "description": "At least / at most use the first value; between uses both (low, "
                           "high). Changing the target asks for a reason.",
        }),
        ("Process behaviour chart", {"fields": ["baseline_size", "rebase_date"]}),
        ("Data", {"fields": ["data_points", "updated_at"]}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # no reason and no data on a new KPI
            fieldsets = [
                (name, {**opts, "fields": [f for f in opts["fields"]
                                           if f not in ("target_change_reason", "data_points",
                                                        "updated_at")]})
                for name, opts in fieldsets if name != "Data"
            ]
        return fieldsets

    # --- Columns ---------------------------------------------------------------------------

    @admin.display(description="Target")
    def target(self, obj):
        low, high = R.bounds(obj.target_rule, obj.target_value, obj.target_upper)
        return R.describe_target(obj.target_rule, low, high, obj.unit, obj.decimals)

    def _health(self, obj):
        try:
            return obj.health
        except KpiHealth.DoesNotExist:
            return None

    @admin.display(description="Health", ordering="health__status")
    def health_status(self, obj):
        health = self._health(obj)
        if health is None:
            return "pending"
        label = health.get_status_display()
        return f"{label} (stale)" if health.is_stale else label

    @admin.display(description="Latest value", ordering="health__latest_value")
    def latest_value(self, obj):
        health = self._health(obj)
        if health is None or health.latest_value is None:
            return "—"
        value = R.format_value(health.latest_value, obj.unit, obj.decimals)
        return f"{value} ({health.latest_period:%Y-%m-%d})" if health.latest_period else value

    @admin.display(description="Data points")
    def data_points(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        count = obj.points.count()
        url = reverse("admin:kpis_datapoint_changelist") + f"?kpi__id__exact={obj.pk}"
        return format_html('{} point(s). <a href="{}">See and edit all data points</a>',
                           count, url)

    # --- Saving through the services ----------------------------------------------------

    def save_model(self, request, obj, form, change):
        cd = form.cleaned_data
        definition = {name: cd[name] for name in services.DEFINITION_FIELDS if name in cd}
        if not change:
            name = definition.pop("name")
            kpi = services.kpi_create(
                organization=cd["organization"], actor=request.user, name=name,
                target_rule=cd["target_rule"], target_value=cd.get("target_value"),
                target_upper=cd.get("target_upper"), rebase_date=cd.get("rebase_date"),
                formula=cd.get("formula") or "", **definition)
            obj.pk = kpi.pk
            obj._state.adding = False
            obj.refresh_from_db()
            return
        kpi = Kpi.objects.get(pk=obj.pk)
        version = cd["version"]
        try:
            changed = {k: v for k, v in definition.items() if k in form.changed_data}
            if "formula" in form.changed_data:
                changed["formula"] = cd.get("formula") or ""
            if changed:
                kpi = services.kpi_update(kpi=kpi, actor=request.user, version=version,
                                          **changed)
                version = kpi.version
            if form.target_did_change:
                services.kpi_change_target(
                    kpi=kpi, actor=request.user, version=version,
                    target_rule=cd["target_rule"], target_value=cd.get("target_value"),
                    target_upper=cd.get("target_upper"), reason=cd["target_change_reason"])
                version = kpi.version
            if "rebase_date" in form.changed_data:
                services.kpi_rebase(kpi=kpi, actor=request.user, version=version,
                                    rebase_date=cd.get("rebase_date"))
        except StaleVersion:  # a race after the form's own check
            transaction.set_rollback(True)
            self.message_user(request, "Not saved: this KPI was changed by someone else at the "
                                       "same moment. Reload and try again.", messages.ERROR)
        obj.refresh_from_db()

    # --- Actions ---------------------------------------------------------------------------

    @admin.action(description="Re-evaluate health now")
    def reevaluate_health(self, request, queryset):
        from kpis import health

        ids = list(queryset.values_list("pk", flat=True))
        if not ids:
            self.message_user(request, "No KPI selected.", messages.WARNING)
            return
        outcome = health.evaluate_kpis(ids)
        self.message_user(request, f"Health re-evaluated for {outcome.evaluated} KPI(s).",
                          messages.SUCCESS)

    @admin.action(description="Export data points as CSV")
    def export_points_csv(self, request, queryset):
        points = (DataPoint.objects.filter(kpi__in=queryset)
                  .select_related("kpi").order_by("kpi__name", "period_start"))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="kpi-data-points.csv"'
        writer = csv.writer(response)
        # The KPI importer's bulk format, so an export can be edited and imported again.
        writer.writerow(["kpi", "period", "value", "note"])
        for point in points.iterator(chunk_size=2000):
            writer.writerow([_csv_safe(point.kpi.name), point.period_start.isoformat(),
                             repr(point.value), _csv_safe(point.note)])
        return response

    @admin.action(description="Import data points from CSV")
    def import_points_csv(self, request, queryset):
        kpis = list(queryset[:2])
        if len(kpis) != 1:
            self.message_user(request, "Select exactly one KPI to import data points into.",
                              messages.WARNING)
            return None
        kpi = kpis[0]
        errors: list[str] = []
        if "apply" in request.POST:
            form = CsvImportForm(request.POST, request.FILES)
            if not form.is_valid():
                errors = form.non_field_errors()
            else:
                try:
                    count = import_points(kpi=kpi, text=form.cleaned_data["text"],
                                          author=request.user)
                except ValidationError as exc:
                    errors = exc.messages
                else:
                    self.message_user(
                        request, f"Imported {count} data point(s) into “{kpi}”. Health is "
                                 "being re-evaluated.", messages.SUCCESS)
                    return None
        else:
            form = CsvImportForm()
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import data points into “{kpi}”",
            "opts": self.opts,
            "kpi": kpi,
            "form": form,
            "errors": errors,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/kpis/kpi/import_points.html", context)


def _first_cells(text: str) -> list[str]:
    for cells in csv.reader(io.StringIO(text)):
        if any(c.strip() for c in cells):
            return [c.strip().lower() for c in cells]
    return []


def import_points(*, kpi: Kpi, text: str, author) -> int:
    """Import a CSV into one KPI with the KPI importer (kpis.imports): the same checks as
    the app, all or nothing. ``period,value[,note]``, or the export's ``kpi,period,value,
    note`` naming this KPI. Raises ValidationError listing every bad row."""
    from kpis import imports

    header = _first_cells(text)
    bulk = bool(header) and header[0] in ("kpi", "name")
    preview = imports.parse(text, organization=kpi.organization, kpi=None if bulk else kpi)
    problems = list(preview.errors)
    for row in preview.rows:
        if bulk and row.kpi is not None and row.kpi.pk != kpi.pk:
            row.errors.append(f"This row is for “{row.kpi}”, not “{kpi}”.")
        if row.errors:
            problems.append(f"Line {row.line}: " + " ".join(row.errors))
    if problems:
        raise ValidationError(problems)
    return imports.run(preview, author=author)


# --- Data points: one value per period; a replaced value goes to its revision history ----


class DataPointForm(forms.ModelForm):
    class Meta:
        model = DataPoint
        fields = ["kpi", "period_start", "value", "note"]

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        kpi = cleaned.get("kpi") if instance._state.adding else instance.kpi
        period = cleaned.get("period_start")
        if kpi is not None and period is not None and instance._state.adding:
            try:
                start = services.clean_period(kpi, period, field="period_start")
            except ValidationError as exc:
                self.add_error("period_start", exc.message_dict.get("period_start"))
            else:
                cleaned["period_start"] = start
                if DataPoint.objects.filter(kpi=kpi, period_start=start).exists():
                    self.add_error("period_start",
                                   f"There is already a value for the period starting {start}: "
                                   "change that one (its old value is kept in its history).")
        if "value" in cleaned:
            try:
                cleaned["value"] = services.clean_value(cleaned["value"])
            except ValidationError as exc:
                self.add_error("value", exc.message_dict.get("value"))
        return cleaned


@admin.register(DataPoint)
class DataPointAdmin(OrgScopedAdmin):
    org_path = "kpi__organization"
    form = DataPointForm
    audit = False  # values have their own revision history
    list_display = ["kpi", "period_start", "value", "source", "author", "updated_at"]
    list_filter = ["kpi", "source"]
    search_fields = ["kpi__name", "note"]
    list_select_related = ["kpi", "author"]
    autocomplete_fields = ["kpi"]
    date_hierarchy = "period_start"
    ordering = ["kpi__name", "-period_start"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["source", "author"]
        return ["kpi", "period_start", "source", "author", "created_at", "updated_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["kpi", "period_start", "value", "note"]
        return ["kpi", "period_start", "value", "note", "source", "author", "created_at",
                "updated_at"]

    def save_model(self, request, obj, form, change):
        outcome = services.kpi_record_value(
            kpi=obj.kpi, period=obj.period_start, value=obj.value, note=obj.note,
            source=DataPoint.Source.MANUAL, author=request.user)
        obj.pk = outcome.point.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def _reevaluate(self, kpi_ids):
        from kpis.tasks import evaluate_kpi

        for kpi_id in sorted(set(kpi_ids)):
            enqueue_on_commit(evaluate_kpi, kpi_id)

    def delete_model(self, request, obj):
        audit_admin_change(request, obj, "deleted (admin)")
        super().delete_model(request, obj)
        self._reevaluate([obj.kpi_id])

    def delete_queryset(self, request, queryset):
        rows = list(queryset.select_related("kpi"))
        for obj in rows:
            audit_admin_change(request, obj, "deleted (admin)")
        super().delete_queryset(request, queryset)
        self._reevaluate(obj.kpi_id for obj in rows)


# --- Health and its history: computed, never edited -----------------------------------------


@admin.register(KpiHealth)
class KpiHealthAdmin(OrgScopedAdmin):
    org_path = "kpi__organization"
    read_only = True
    list_display = ["kpi", "status", "is_stale", "latest_value", "latest_period", "capability",
                    "candidate", "evaluated_at"]
    list_filter = ["status", "is_stale", "capability", "candidate"]
    search_fields = ["kpi__name", "candidate_reason"]
    list_select_related = ["kpi"]


@admin.register(HealthEvent)
class HealthEventAdmin(OrgScopedAdmin):
    org_path = "kpi__organization"
    read_only = True
    list_display = ["created_at", "kpi", "kind", "old", "new", "actor", "message"]
    list_filter = ["kind"]
    search_fields = ["kpi__name", "message"]
    list_select_related = ["kpi", "actor"]
    date_hierarchy = "created_at"

