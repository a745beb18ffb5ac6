from __future__ import annotations

from django import forms
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from accounts.models import Organization, User
from core.widgets import DateInput
from initiatives.models import Initiative


class InitiativeForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Initiative
        fields = ["title", "description", "owner", "status", "due_date", "percent_complete"]
        widgets = {"due_date": DateInput(),
                   "description": forms.Textarea(attrs={"rows": 3})}
        labels = {"title": gettext_lazy("Title"), "description": gettext_lazy("Description"),
                  "owner": pgettext_lazy("person responsible", "Owner"), "status": gettext_lazy("Status"),
                  "due_date": gettext_lazy("Due date"),
                  "percent_complete": gettext_lazy("Percent complete")}

    def __init__(self, *args, organization: Organization, can_assign: bool, **kwargs):
        super().__init__(*args, **kwargs)
        people = User.objects.filter(memberships__organization=organization).order_by("name")
        self.fields["owner"].queryset = people
        self.fields["owner"].label_from_instance = lambda u: u.display_name
        if not can_assign:  # members own the initiatives they write
            del self.fields["owner"]
        self.fields["percent_complete"].widget.attrs.update(min=0, max=100)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def clean_percent_complete(self):
        value = self.cleaned_data.get("percent_complete")
        if value is not None and value > 100:
            raise forms.ValidationError(gettext("Between 0 and 100."))
        return value

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields
                if name in self.fields}
