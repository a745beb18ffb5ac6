from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from core.widgets import DateInput
from goals.models import Cycle, StrategicPillar, UltimateGoal


class VersionedForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class GoalForm(VersionedForm):
    class Meta:
        model = UltimateGoal
        fields = ["title", "mission", "vision"]
        labels = {"title": _("Ultimate goal"), "mission": _("Mission"), "vision": _("Vision")}
        help_texts = {"mission": _("Why we exist: what we do, for whom."),
                      "vision": _("Where we will be when we succeed.")}


class PillarForm(VersionedForm):
    class Meta:
        model = StrategicPillar
        fields = ["name", "description", "order", "archived"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"name": _("Name"), "description": _("Description"), "order": _("Order"),
                  "archived": _("Archived")}
        help_texts = {"archived": _("Archived pillars no longer appear on the goal page.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].required = False
        self.fields["order"].help_text = _("Pillars are shown in this order; empty puts it last.")
        if not self.instance.pk:
            del self.fields["archived"]
            self.fields["order"].initial = None

    def validate_unique(self):  # the service checks names within the organisation
        pass


class CycleForm(VersionedForm):
    class Meta:
        model = Cycle
        fields = ["name", "kind", "start", "end", "parent"]
        widgets = {"start": DateInput(), "end": DateInput()}
        labels = {"name": _("Name"), "kind": _("Kind"), "start": _("Start"), "end": _("End"),
                  "parent": _("Inside (for a quarter of a year)")}
        help_texts = {"parent": _("A quarter may sit in a year.")}

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        qs = Cycle.objects.filter(organization=organization, kind=Cycle.Kind.YEAR)
        if self.instance.pk:
            qs = qs.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = qs
        self.fields["parent"].empty_label = "—"

    def validate_unique(self):
        pass

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", _("The end must come after the start."))
        return data
