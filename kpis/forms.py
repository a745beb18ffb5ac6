"""Forms for KPI pages. Thin: validation that matters lives in kpis.services (shared with
CSV import and the API), and the database constraints back it."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.models import Membership, Team, User
from core.fields import NumberField
from core.forms import apply_errors
from core.validators import validate_finite
from core.widgets import DateInput

from . import services
from .models import Kpi

DATE = DateInput()


class ValueForm(forms.Form):
    period = forms.CharField(label=gettext_lazy("Period (any day in it)"), widget=DATE)
    value = forms.CharField(label=gettext_lazy("Value"),
                            widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=services.MAX_NOTE)

    def __init__(self, *args, kpi: Kpi, **kwargs):
        self.kpi = kpi
        super().__init__(*args, **kwargs)

    def clean_period(self):
        try:
            return services.clean_period(self.kpi, self.cleaned_data["period"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["period"])

    def clean_value(self):
        try:
            return services.clean_value(self.cleaned_data["value"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["value"])


def _check_target(form: forms.Form, data: dict) -> None:
    """The target as services.clean_target will take it: its errors on the form's fields."""
    try:
        services.clean_target(data.get("target_rule"), data.get("target_value"),
                              data.get("target_upper"))
    except ValidationError as exc:
        apply_errors(form, exc)


class TargetForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    target_rule = forms.ChoiceField(label=gettext_lazy("Target"), choices=Kpi.TargetRule.choices)
    target_value = NumberField(label=gettext_lazy("Value (low end for between)"), required=False,
                                    validators=[validate_finite])
    target_upper = NumberField(label=gettext_lazy("High end (between only)"), required=False,
                                    validators=[validate_finite])
    reason = forms.CharField(label=gettext_lazy("Why does the target change?"), widget=forms.Textarea(
        attrs={"rows": 2}), max_length=1000)

    def clean(self):
        data = super().clean()
        if not self.errors:
            _check_target(self, data)
        return data


class RebaseForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    rebase_date = forms.DateField(label=gettext_lazy("Compute the limits from"), required=False,
                                  widget=DATE, help_text=gettext_lazy(
                                      "After a known change to the process. Leave empty to use "
                                      "the first points again."))
    note = forms.CharField(label=gettext_lazy("What changed?"), required=False, max_length=500)


class DismissForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Why no improvement OKR now?"), max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class KpiForm(forms.ModelForm):
    """Create (with its first target) or edit (without: the target has its own form)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    formula = forms.CharField(
        label=gettext_lazy("Computed from other KPIs"), required=False, max_length=500,
        help_text=gettext_lazy(
            "A derived KPI: its values are computed, never entered. Put each KPI's name in "
            "square brackets, with numbers, + − × / and parentheses: [Resolved first time] / "
            "[Tickets] × 100. The KPIs must have the same frequency. A period with no value of "
            "one of them stays empty."),
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("[Complaints] / [Orders] × 1000"),
                                      "autocomplete": "off", "spellcheck": "false"}))

    field_order = ["name", "description", "unit", "decimals", "owner", "team", "frequency",
                   "formula"]

    class Meta:
        model = Kpi
        # No "intent": the loop owns it (kpis.loop keeps it in step with the loop state), so
        # the page shows it read-only instead of a choice a person could contradict.
        fields = ["name", "description", "unit", "decimals", "owner", "team", "frequency",
                  "target_rule", "target_value", "target_upper", "baseline_size", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"name": gettext_lazy("Name"), "description": gettext_lazy("Description"),
                  "unit": gettext_lazy("Unit"), "decimals": gettext_lazy("Decimals"),
                  "owner": pgettext_lazy("person responsible", "Owner"),
                  "team": gettext_lazy("Team"), "frequency": gettext_lazy("Frequency"),
                  "target_rule": gettext_lazy("Target"), "active": gettext_lazy("Active"),
                  "target_value": gettext_lazy("Target value (low end for between)"),
                  "target_upper": gettext_lazy("High end (between only)"),
                  "baseline_size": gettext_lazy("Points in the XmR baseline")}

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        members = Membership.objects.filter(organization=organization).values("user_id")
        self.fields["owner"].queryset = User.objects.filter(pk__in=members).order_by("name")
        self.fields["team"].queryset = Team.objects.filter(organization=organization)
        self.fields["decimals"].validators.append(_max(6))
        self.fields["baseline_size"].validators.append(_range(6, 200))
        if self.instance.pk and self.instance.formula and not self.is_bound:
            from .derived import named

            self.initial["formula"] = named(self.instance)
        if self.instance.pk:
            for name in ("target_rule", "target_value", "target_upper"):
                del self.fields[name]
            self.fields["version"].initial = self.instance.version
        else:
            del self.fields["version"]
            del self.fields["active"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and not self.errors:
            _check_target(self, data)
        return data

    def _post_clean(self):
        # The instance is saved by the service, not by ModelForm; skip its model checks
        # that would need organization (unique name is checked by the service).
        pass


def _max(n):
    def check(value):
        if value is not None and value > n:
            raise ValidationError(_("At most %(n)s.") % {"n": n})

    return check


def _range(lo, hi):
    def check(value):
        if value is not None and not lo <= value <= hi:
            raise ValidationError(_("Between %(low)s and %(high)s (or empty for all points).")
                                  % {"low": lo, "high": hi})

    return check


class CsvForm(forms.Form):
    MAX_BYTES = 2 * 1024 * 1024

    file = forms.FileField(label=gettext_lazy("CSV file"), required=False,
                           error_messages={"required": gettext_lazy("Choose a CSV file.")})
    content = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, kpi: Kpi | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The columns said once, the same as the page's heading and kpis.imports.parse:
        # one KPI's page takes period,value[,note]; the bulk page names the KPI first.
        self.fields["file"].help_text = (
            _("Columns: period, value and an optional note. A header row is allowed.")
            if kpi is not None else
            _("Columns: kpi (its name), period, value and an optional note. A header row is "
              "allowed."))
        # A file is needed, except when the preview's confirmation sends its content back.
        self.fields["file"].required = not (self.data and self.data.get("content"))

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > self.MAX_BYTES:
                raise ValidationError(_("The file is too large (2 MB at most)."))
            raw = upload.read()
            try:
                data["text"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError(_("The file is not UTF-8 text. Save it as CSV (UTF-8)."))
        elif data.get("content"):
            if len(data["content"]) > self.MAX_BYTES:
                raise ValidationError(_("The file is too large (2 MB at most)."))
            data["text"] = data["content"]
        else:
            raise ValidationError(_("Choose a CSV file."))
        return data
